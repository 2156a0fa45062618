"""``tenancy policy-config``: regenerate (or ``--check``) the policy pack's config defaults.

The pack stands alone (it runs inside ``pulumi preview`` without this repository's
model), so its defaults -- residency zones, region pairs, tenants per stack -- are
generated from the catalog into ``policies/config.generated.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from policies.config import GENERATED_FILE
from tenancy.errors import EXIT_FINDINGS, EXIT_OK


def cmd_policy_config(args: argparse.Namespace) -> int:
    from tenancy.policyconfig import render

    text = render()
    path = Path(args.output)
    if args.check:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            print(f"{path} is stale: run tenancy policy-config", file=sys.stderr)
            return EXIT_FINDINGS
        return EXIT_OK
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path}")
    return EXIT_OK


def register(commands: Any) -> None:
    config = commands.add_parser(
        "policy-config", help="regenerate the policy pack's config defaults from the catalog"
    )
    config.add_argument("--check", action="store_true", help="exit 1 when the file is stale")
    config.add_argument("--output", default=str(GENERATED_FILE), help="file to write")
    config.set_defaults(handler=cmd_policy_config)
