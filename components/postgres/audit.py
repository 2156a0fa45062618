"""The in-database half of audit logging: the pgaudit extension and its object-audit role.

The server's parameters load the library (``shared_preload_libraries``) and choose what
it records (``pgaudit.log``); those take effect at the server's next restart, which the
clouds do not do at once (Aurora: pending-reboot). So each statement here is "done" while
the library is not loaded yet, and the next ``tenancy db apply`` (or ``pulumi up``) after
the restart creates what is missing: idempotent, and never failing a deploy that merely
waits for a reboot.
"""

from __future__ import annotations

from psycopg import sql

from components.model.audit import PGAUDIT

from .sqlplan import SHARED, Statement

# The library registers its settings when the server loads it; until then pgaudit.log is
# at most a placeholder, which pg_settings does not show. (shared_preload_libraries itself
# is unreadable to the clouds' admin roles: it needs pg_read_all_settings.)
_LOADED = sql.SQL("EXISTS (SELECT 1 FROM pg_settings WHERE name = {setting})").format(
    setting=sql.Literal(f"{PGAUDIT}.log")
)


def _extension(owner: str, database: str | None) -> Statement:
    return Statement(
        owner,
        f"create extension {PGAUDIT} (once the server has loaded it)",
        sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(PGAUDIT)),
        sql.SQL(
            "SELECT NOT {loaded} OR EXISTS (SELECT 1 FROM pg_extension WHERE extname = {name})"
        ).format(loaded=_LOADED, name=sql.Literal(PGAUDIT)),
        database=database,
    )


def _audit_role() -> Statement:
    """The role ``pgaudit.role`` names (Aurora: rds_pgaudit), NOLOGIN: object auditing logs
    what that role is granted. Only where the server sets pgaudit.role."""
    role = sql.SQL("current_setting('pgaudit.role', true)")
    return Statement(
        SHARED,
        "create the role pgaudit.role names, where the server sets one (Aurora: rds_pgaudit)",
        sql.SQL("DO $$ BEGIN EXECUTE format('CREATE ROLE %I NOLOGIN', {role}); END $$").format(
            role=role
        ),
        sql.SQL(
            "SELECT coalesce({role}, '') = '' OR EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {role})"
        ).format(role=role),
    )


def audit_shared_statements() -> list[Statement]:
    """The object-audit role and the extension in the connection's database."""
    return [_audit_role(), _extension(SHARED, None)]


def audit_tenant_database(tenant_id: str, database: str) -> list[Statement]:
    """The extension in a silo tenant's own database (after the plan creates it)."""
    return [_extension(tenant_id, database)]
