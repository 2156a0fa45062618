"""The README's cost and SLO tables are the generated ones (``tenancy docs``)."""

from __future__ import annotations

from pathlib import Path

from components.model.cost import cost_of_plan
from components.model.slo import slo_table_markdown
from components.model.validation import parse_catalog
from tenancy.alarmdoc import alarm_table_markdown
from tenancy.cost import cost_table_markdown, load_prices
from tenancy.stackfiles import known_stacks
from tests.support.planview import CATALOG, planned

README = Path(__file__).resolve().parents[2] / "README.md"


def _section(name: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(f"<!-- {name}:start -->\n") + len(f"<!-- {name}:start -->\n")
    return text[start : text.index(f"<!-- {name}:end -->")]


def test_readme_cost_table_is_the_generated_one():
    reports = [cost_of_plan(planned(stack).data, load_prices()) for stack in known_stacks()]
    assert _section("cost-table") == cost_table_markdown(reports), "run: tenancy docs"


def test_readme_slo_table_is_the_generated_one():
    catalog = parse_catalog(CATALOG.read_text(encoding="utf-8"), str(CATALOG))
    assert _section("slo-table") == slo_table_markdown(catalog.tiers), "run: tenancy docs"


def test_readme_alarm_table_is_the_generated_one():
    catalog = parse_catalog(CATALOG.read_text(encoding="utf-8"), str(CATALOG))
    assert _section("alarm-table") == alarm_table_markdown(catalog.tiers), "run: tenancy docs"


def test_alarm_table_shows_the_tiers_thresholds_in_each_clouds_units():
    catalog = parse_catalog(CATALOG.read_text(encoding="utf-8"), str(CATALOG))
    cpu = {
        row.split(" | ")[0].strip("| "): row
        for row in alarm_table_markdown(catalog.tiers).splitlines()
        if "| CPU |" in row
    }
    for tier, profile in catalog.tiers.items():
        percent = profile.database.monitoring.cpu_percent
        assert f"`CPUUtilization` > {percent} " in cpu[tier]
        assert f"`cpu_percent` > {percent} " in cpu[tier]
        assert f"`cpu/utilization` > {percent / 100:g} " in cpu[tier]
