"""The price tables (``components/model/prices/<cloud>.yaml``) and the cost report's text.

The tables are data with a schema: every entry names its SKU, region, unit, USD figure,
the public page it was read from and the date it was read. ``load_prices`` validates
them (exit 2 with file, path and fix on a bad entry); the arithmetic is in the pure
``components.model.cost``.
"""

from __future__ import annotations

import functools
from datetime import date
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from components.model.cost import CostReport, Price, PriceTable, money, money_range
from components.model.errors import InputError, Issue, format_path
from components.model.yamlsource import line_of, load_yaml

PRICES_DIR = Path(__file__).resolve().parents[1] / "components" / "model" / "prices"
CLOUDS = ("aws", "azure", "gcp")
MAX_AGE_DAYS = 180  # a table older than this is stale (tests fail; `tenancy cost` warns)


class PriceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sku: str = Field(pattern=r"^[a-z0-9][a-zA-Z0-9_.-]+$")
    region: str = Field(pattern=r"^(global|[a-z]+[a-z0-9-]*[0-9]?)$")
    unit: str = Field(min_length=1)
    usd: Annotated[float, Field(gt=0)]
    source: str = Field(pattern=r"^https://[^\s]+$")
    read: date
    quote: str = Field(min_length=10, description="What the page says, so a reader can check it.")
    note: str = ""


class PriceFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    cloud: Literal["aws", "azure", "gcp"]
    currency: Literal["USD"]
    hours_per_month: Annotated[float, Field(gt=0, le=744)]
    entries: list[PriceEntry]


def parse_price_file(text: str, file: str) -> PriceFile:
    data, lines = load_yaml(text, file)
    try:
        parsed = PriceFile.model_validate(data)
    except ValidationError as error:
        raise InputError(
            [
                Issue(
                    file,
                    format_path(tuple(item["loc"])),
                    f"{item['msg']} (got {item.get('input')!r})",
                    "each entry needs sku, region, unit, usd > 0, an https source, the date read "
                    "and a quote of the page (see components/model/prices/aws.yaml)",
                    line_of(lines, tuple(item["loc"])),
                )
                for item in error.errors(include_url=False)
            ]
        ) from None
    seen: set[tuple[str, str]] = set()
    issues = []
    for index, entry in enumerate(parsed.entries):
        if (entry.sku, entry.region) in seen:
            issues.append(
                Issue(
                    file,
                    f"entries[{index}]",
                    f"duplicate price for {entry.sku} in {entry.region}",
                    "keep one entry per SKU and region",
                    line_of(lines, ("entries", index)),
                )
            )
        seen.add((entry.sku, entry.region))
    if issues:
        raise InputError(issues)
    return parsed


@functools.cache
def load_prices(directory: Path = PRICES_DIR) -> PriceTable:
    prices: list[Price] = []
    hours = 730.0
    for cloud in CLOUDS:
        path = directory / f"{cloud}.yaml"
        parsed = parse_price_file(path.read_text(encoding="utf-8"), str(path))
        hours = parsed.hours_per_month
        prices += [
            Price(cloud, e.sku, e.region, e.unit, e.usd, e.source, e.read, e.note)
            for e in parsed.entries
        ]
    return PriceTable(prices, hours)


def stale_prices(table: PriceTable, today: date) -> list[Price]:
    return [p for p in table.prices if (today - p.read).days > MAX_AGE_DAYS]


def render_text(report: CostReport) -> str:
    """The human report: totals, tiers, servers, tenants, unpriced."""
    out = [
        f"{report.stack}: {money_range(report.low, report.high)} per month "
        f"(list prices, {report.hours_per_month:g} h; min = every range at its floor, "
        "max = at its ceiling)",
        "",
        "by tier:",
    ]
    for tier, (low, high, count) in report.tiers().items():
        out.append(f"  {tier:<12} {money_range(low, high):>24}  ({count} server(s))")
    out += ["", "by server:"]
    for bucket in [*report.servers.values(), report.cell]:
        label = (
            "cell (shared by the whole cell, not attributed)"
            if bucket.key == "cell"
            else bucket.key
        )
        out.append(
            f"  {label:<28} {money_range(bucket.low, bucket.high):>24}"
            f"  tenants: {', '.join(bucket.tenants) or '-'}"
        )
        for item in bucket.items:
            out.append(f"      {item.what}: {money_range(item.low, item.high)}  [{item.basis}]")
        for metered in bucket.metered:
            out.append(f"      {metered.what}: metered, {metered.rate}")
        if bucket.unpriced:
            out.append(f"      + {len(bucket.unpriced)} unpriced item(s), listed below")
    out += ["", "by tenant (a silo tenant pays its own server; a shard is split equally):"]
    for cost in report.tenants.values():
        extra = f"  (+{cost.unpriced} unpriced on its server)" if cost.unpriced else ""
        out.append(
            f"  {cost.tenant:<20} {cost.tier:<12} {money_range(cost.low, cost.high):>24}"
            f"  {cost.share}{extra}"
        )
    unpriced = report.unpriced()
    out += ["", f"unpriced ({len(unpriced)}; NOT included in the totals above):"]
    for owner, entry in unpriced:
        out.append(f"  {owner:<20} {entry.resource} ({entry.what}): {entry.reason}")
    free = sum(report.free.values())
    out += ["", f"{free} resources carry no direct charge (configuration, identity, SQL objects)."]
    return "\n".join(out) + "\n"


__all__ = [
    "MAX_AGE_DAYS",
    "load_prices",
    "money",
    "parse_price_file",
    "render_text",
    "stale_prices",
]


def cost_table_markdown(reports: list[CostReport]) -> str:
    """README table: per stack and tier, the monthly cost at min and max and what is unpriced."""
    rows = [
        "| stack | tier | servers | per month (min – max) | per tenant | unpriced items |",
        "|---|---|---|---|---|---|",
    ]

    def shown(low: float, high: float, unpriced: int) -> str:
        # A figure of $0 with unpriced parts would read as free: say what it is.
        return "unpriced" if unpriced and high == 0 else money_range(low, high)

    for report in reports:
        for tier, (low, high, count) in report.tiers().items():
            tenants = [t for t in report.tenants.values() if t.tier == tier]
            shares = ", ".join(f"{t.tenant} {shown(t.low, t.high, t.unpriced)}" for t in tenants)
            unpriced = sum(len(b.unpriced) for b in report.servers.values() if b.tier == tier)
            rows.append(
                f"| {report.stack} | {tier} | {count} | {shown(low, high, unpriced)} | {shares} | {unpriced} |"
            )
        rows.append(
            f"| {report.stack} | **total** (+ cell) | {len(report.servers)} | "
            f"**{shown(report.low, report.high, len(report.unpriced()))}** | | {len(report.unpriced())} |"
        )
    return "\n".join(rows) + "\n"


def replace_section(text: str, name: str, body: str) -> str:
    start, end = f"<!-- {name}:start -->\n", f"<!-- {name}:end -->"
    head, rest = text.split(start, 1)
    return head + start + body + end + rest.split(end, 1)[1]


def readme_tables() -> dict[str, str]:
    """The generated README sections (``tenancy docs`` rewrites them)."""
    from components.model.cost import cost_of_plan
    from components.model.slo import slo_table_markdown
    from components.model.validation import parse_catalog
    from tenancy.alarmdoc import alarm_table_markdown
    from tenancy.plan import plan_stack
    from tenancy.stackfiles import known_stacks

    prices = load_prices()
    reports = [cost_of_plan(plan_stack(stack), prices) for stack in known_stacks()]
    catalog_path = Path(__file__).resolve().parents[1] / "stacks" / "tenants.yaml"
    catalog = parse_catalog(catalog_path.read_text(encoding="utf-8"), str(catalog_path))
    return {
        "cost-table": cost_table_markdown(reports),
        "slo-table": slo_table_markdown(catalog.tiers),
        "alarm-table": alarm_table_markdown(catalog.tiers),
    }


def readme_with_tables(current: str) -> str:
    """The README with fresh cost and SLO tables (``tenancy docs`` writes it)."""
    for section, body in readme_tables().items():
        current = replace_section(current, section, body)
    return current
