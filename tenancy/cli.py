"""The ``tenancy`` command line. Every command exits 0 ok, 1 findings, 2 bad input.

This module owns the exit codes and the error printing; the commands live in
``tenancy/commands/``, one module per command group, each registering its own
sub-parsers (see ``tenancy/commands/__init__.py``). Unexpected internal errors
exit 3 with a one-line message (set TENANCY_DEBUG=1 for the traceback); users
never see a traceback for their own mistakes.
"""

from __future__ import annotations

import argparse
import os
import sys

from components.model.errors import InputError
from tenancy.errors import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, CommandError, UsageError


def build_parser() -> argparse.ArgumentParser:
    from tenancy.commands import COMMANDS

    parser = argparse.ArgumentParser(
        prog="tenancy", description="Multi-tenant data tier: plan, check and operate."
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except InputError as error:
        for issue in error.issues:
            print(f"error: {issue.render()}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except CommandError as error:
        print(f"tenancy {error.command}: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except UsageError as error:
        parser.error(str(error))  # exits 2 with usage
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("TENANCY_DEBUG"):
            raise
        print(
            f"internal error: {type(error).__name__}: {error} (set TENANCY_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
