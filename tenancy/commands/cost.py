"""``tenancy cost STACK``: monthly cost per tier, server and tenant from the stack's plan.

Registered in ``tenancy/commands/__init__.py``.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from tenancy.errors import EXIT_OK
from tenancy.files import write_output


def cmd_cost(args: argparse.Namespace) -> int:
    from components.model.cost import cost_of_plan
    from tenancy.cost import load_prices, render_text, stale_prices
    from tenancy.plan import plan_stack

    prices = load_prices()
    for price in stale_prices(prices, date.today()):
        print(
            f"warning: the {price.cloud} price of {price.sku} was read on {price.read}, "
            "over 180 days ago: refresh components/model/prices/",
            file=sys.stderr,
        )
    plan = plan_stack(args.stack, catalog=args.catalog)
    report = cost_of_plan(plan, prices)
    write_output(args.json, json.dumps(report.to_json(), indent=2) + "\n")
    sys.stdout.write(render_text(report))
    return EXIT_OK


def register(commands: Any) -> None:
    cost = commands.add_parser("cost", help="monthly cost per tier, server and tenant of a stack")
    cost.add_argument("stack", help="stack name, e.g. dev-aws-eu-central-1")
    cost.add_argument("--catalog", help="catalog file instead of the stack's tenancy:catalog")
    cost.add_argument("--json", help="write the cost report as JSON here")
    cost.set_defaults(handler=cmd_cost)
