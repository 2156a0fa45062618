"""The cost line of ``tenancy diff``: monthly delta at min and max, per stack and per changed
tenant (a re-tiered tenant shows what it costs after the move). Pure: two plans and a
price table in, lines and JSON out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.model.cost import CostReport, PriceTable, cost_of_plan, money, money_range


@dataclass(frozen=True)
class TenantDelta:
    tenant: str
    before: tuple[float, float] | None  # (min, max) per month; None: not in the base plan
    after: tuple[float, float] | None
    where: str  # the head placement, e.g. "own server" or "1/2 of shard free-01"


@dataclass(frozen=True)
class CostDelta:
    base: CostReport
    head: CostReport
    tenants: list[TenantDelta]

    @property
    def delta(self) -> tuple[float, float]:
        return self.head.low - self.base.low, self.head.high - self.base.high

    @property
    def unpriced(self) -> int:
        return len(self.head.unpriced())

    def to_json(self) -> dict[str, Any]:
        def pair(value: tuple[float, float] | None) -> dict[str, float] | None:
            return None if value is None else {"min": round(value[0], 2), "max": round(value[1], 2)}

        return {
            "monthly_usd": {
                "before": pair((self.base.low, self.base.high)),
                "after": pair((self.head.low, self.head.high)),
                "delta": pair(self.delta),
            },
            "unpriced_in_head": self.unpriced,
            "tenants": [
                {
                    "tenant": t.tenant,
                    "before": pair(t.before),
                    "after": pair(t.after),
                    "delta": pair(_minus(t.after, t.before)),
                    "after_share": t.where,
                }
                for t in self.tenants
            ],
        }


def _minus(a: tuple[float, float] | None, b: tuple[float, float] | None) -> tuple[float, float]:
    a, b = a or (0.0, 0.0), b or (0.0, 0.0)
    return a[0] - b[0], a[1] - b[1]


def _signed(value: float) -> str:
    return ("+" if value >= 0.005 else "−" if value <= -0.005 else "±") + money(abs(value))


def signed_range(delta: tuple[float, float]) -> str:
    low, high = delta
    return _signed(low) if round(low, 2) == round(high, 2) else f"{_signed(low)} … {_signed(high)}"


def cost_delta(
    base: dict[str, Any], head: dict[str, Any], prices: PriceTable, tenants: set[str]
) -> CostDelta:
    """The cost of both plans and, for each tenant in ``tenants``, its share before and after."""
    before, after = cost_of_plan(base, prices), cost_of_plan(head, prices)
    rows = []
    for tenant in sorted(tenants):
        old, new = before.tenants.get(tenant), after.tenants.get(tenant)
        rows.append(
            TenantDelta(
                tenant,
                None if old is None else (old.low, old.high),
                None if new is None else (new.low, new.high),
                "removed" if new is None else f"{new.tier}, {new.share}",
            )
        )
    return CostDelta(before, after, rows)


def cost_lines(delta: CostDelta) -> list[str]:
    """Markdown for the PR comment: one headline and a row per changed tenant."""
    base, head = delta.base, delta.head
    unpriced = (
        f"; {delta.unpriced} resources unpriced (not in these figures, see `tenancy cost`)"
        if delta.unpriced
        else ""
    )
    lines = [
        f"💰 **Monthly cost** (list prices, min … max of every autoscaling range): "
        f"{money_range(base.low, base.high)} → {money_range(head.low, head.high)} "
        f"(**{signed_range(delta.delta)}**){unpriced}.",
    ]
    if delta.tenants:
        lines += ["", "| tenant | before | after | Δ per month | pays |", "|---|---|---|---|---|"]
        for t in delta.tenants:
            before = "—" if t.before is None else money_range(*t.before)
            after = "—" if t.after is None else money_range(*t.after)
            change = signed_range(_minus(t.after, t.before))
            lines.append(f"| `{t.tenant}` | {before} | {after} | {change} | {t.where} |")
    return lines
