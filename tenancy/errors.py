"""Exit codes and the errors commands raise; ``tenancy/cli.py`` turns them into output.

Kept apart from ``cli.py`` so ``python -m tenancy.cli`` (where cli runs as
``__main__``) still catches the very classes the commands raise.
"""

from __future__ import annotations

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


class UsageError(Exception):
    """Wrong combination of arguments; argparse reports it with the usage line (exit 2)."""


class CommandError(Exception):
    """Bad input a command found itself (a file, a DSN, a server); one line, exit 2.

    ``command`` names the command group for the ``tenancy <command>:`` prefix.
    """

    def __init__(self, command: str, message: str):
        super().__init__(message)
        self.command = command
