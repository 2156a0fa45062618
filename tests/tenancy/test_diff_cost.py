"""The diff's cost line: monthly delta per stack and per changed tenant, from real plans."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tenancy.cli import main
from tenancy.cost import load_prices
from tenancy.diff import diff_plans, render
from tenancy.diff.cost import cost_delta, cost_lines
from tenancy.plan import plan_stack

ROOT = Path(__file__).resolve().parents[2]
STACK = "dev-gcp-us-central1"  # Cloud SQL compute is priced: the deltas are non-zero
CATALOG = yaml.safe_load((ROOT / "stacks" / "tenants.yaml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    directory = tmp_path_factory.mktemp("catalogs")

    def plan(mutate: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        catalog = copy.deepcopy(CATALOG)
        if mutate:
            mutate(catalog)
        path = directory / f"c{abs(hash(json.dumps(catalog, sort_keys=True)))}.yaml"
        path.write_text(yaml.safe_dump(catalog), encoding="utf-8")
        return plan_stack(STACK, catalog=str(path))

    return plan


def _delta(base: dict[str, Any], head: dict[str, Any]):
    diff = diff_plans(base, head)
    changed = diff.touched_tenants() | {c.tenant for c in diff.tenant_changes}
    return diff, cost_delta(base, head, load_prices(), changed)


def _add_silo(catalog: dict[str, Any]) -> None:
    catalog["tenants"].append(
        {
            "id": "newco",
            "name": "NewCo",
            "tier": "enterprise",
            "cloud": "gcp",
            "region": "us-central1",
            "residency": "us",
        }
    )


def test_adding_a_silo_tenant_adds_exactly_its_own_server_to_the_stack(planned):
    base, head = planned(), planned(_add_silo)
    _, delta = _delta(base, head)
    (row,) = delta.tenants
    assert row.tenant == "newco" and row.before is None
    own = delta.head.servers["silo:newco"]
    assert row.after == (pytest.approx(own.low), pytest.approx(own.high))
    assert own.low > 0  # the Cloud SQL compute is priced
    assert delta.delta == (pytest.approx(own.low), pytest.approx(own.high))
    assert row.where == "enterprise, own server"


def test_retiering_pool_to_silo_shows_the_tenant_cost_after_the_move(planned):
    def retier(catalog: dict[str, Any]) -> None:
        next(t for t in catalog["tenants"] if t["id"] == "soylent")["tier"] = "enterprise"

    base, head = planned(), planned(retier)
    _, delta = _delta(base, head)
    (row,) = delta.tenants
    assert row.tenant == "soylent"
    assert row.before == (
        pytest.approx(delta.base.tenants["soylent"].low),
        pytest.approx(delta.base.tenants["soylent"].high),
    )
    assert delta.base.tenants["soylent"].share == "1/1 of shard free-01"
    after = delta.head.servers["silo:soylent"]
    assert row.after == (pytest.approx(after.low), pytest.approx(after.high))
    assert row.where == "enterprise, own server"
    # soylent was the shard's only tenant: the shard goes, its own server comes.
    gone = delta.base.servers["shard:free-01"]
    assert delta.delta[0] == pytest.approx(after.low - gone.low)


def test_comment_carries_the_cost_line_and_the_tenant_rows(planned):
    base, head = planned(), planned(_add_silo)
    diff, delta = _delta(base, head)
    comment = render(diff, cost=cost_lines(delta))
    assert "💰 **Monthly cost**" in comment
    assert "| `newco` | — |" in comment
    assert "unpriced" in comment  # storage is not priced on GCP: said, not hidden


def test_diff_cli_json_has_the_cost_delta(planned, tmp_path):
    base, head = planned(), planned(_add_silo)
    (tmp_path / "b.json").write_text(json.dumps(base), encoding="utf-8")
    (tmp_path / "h.json").write_text(json.dumps(head), encoding="utf-8")
    out = tmp_path / "d.json"
    main(["diff", str(tmp_path / "b.json"), str(tmp_path / "h.json"), "--json", str(out)])
    cost = json.loads(out.read_text(encoding="utf-8"))["cost"]
    assert [t["tenant"] for t in cost["tenants"]] == ["newco"]
    assert cost["monthly_usd"]["delta"]["min"] > 0


def test_cost_cli_reports_tenants_and_unpriced(tmp_path, capsys):
    out = tmp_path / "cost.json"
    assert main(["cost", STACK, "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "by tenant" in text and "NOT included in the totals" in text
    report = json.loads(out.read_text(encoding="utf-8"))
    assert {t["tenant"] for t in report["tenants"]} == {"cyberdyne", "tyrell", "soylent"}
    assert report["unpriced"], "storage and pods are unpriced and must be listed"
