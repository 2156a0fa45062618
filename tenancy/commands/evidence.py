"""``tenancy evidence verify [--chain FILE]``: is the evidence chain intact?

Exit 0: every entry follows the one before it and hashes to what it says;
the head (count, last hash) is printed, to be recorded outside the chain
(truncating the newest entries cannot be seen from the chain alone).
Exit 1: the first bad entry is named (edited, removed, reordered), or an
evidence file the chain points at no longer matches its hash.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tenancy.errors import EXIT_FINDINGS, EXIT_OK
from tenancy.tenant import chain, evidence


def register(subparsers: Any) -> None:
    group = subparsers.add_parser("evidence", help="check the offboarding evidence chain")
    commands = group.add_subparsers(dest="evidence_command", required=True)
    verify = commands.add_parser("verify", help="detect edited, removed or reordered entries")
    verify.add_argument(
        "--chain", type=Path, default=chain.DEFAULT_CHAIN, help=f"default {chain.DEFAULT_CHAIN}"
    )
    group.set_defaults(handler=run_evidence)


def run_evidence(args: argparse.Namespace) -> int:
    if not args.chain.exists():
        print(f"tenancy evidence: {args.chain}: no such chain", file=sys.stderr)
        return EXIT_FINDINGS
    try:
        entries = chain.read_entries(args.chain)
    except chain.ChainError as error:
        print(f"tenancy evidence: BROKEN: {error}", file=sys.stderr)
        return EXIT_FINDINGS
    bad_files = [problem for entry in entries if (problem := _file_problem(entry, args.chain))]
    for problem in bad_files:
        print(f"tenancy evidence: BROKEN: {problem}", file=sys.stderr)
    head = entries[-1]["hash"] if entries else chain.GENESIS
    print(json.dumps({"chain": str(args.chain), "entries": len(entries), "head": head}))
    return EXIT_FINDINGS if bad_files else EXIT_OK


def _file_problem(entry: dict[str, Any], chain_path: Path) -> str | None:
    """An erasure entry's evidence file, where it can be found, must hash to the entry."""
    name = entry.get("file")
    if not name:
        return None
    path = Path(name)
    if not path.exists():
        return None  # archived elsewhere: the chain entry alone still holds its hash
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{path} (chain entry {entry['seq']}) is not readable JSON"
    if (
        evidence.content_sha256(data) != entry["content_sha256"]
        or data.get("content_sha256") != entry["content_sha256"]
    ):
        return f"{path} (chain entry {entry['seq']}) was edited: its content no longer hashes to the entry"
    return None
