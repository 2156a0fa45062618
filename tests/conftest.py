"""A real, throwaway PostgreSQL server for the in-database isolation tests.

One cluster per test session (initdb + pg_ctl, ~1 s); each module works in its
own database and with its own tenant ids, because roles are cluster-wide.
Tests log in *as* the tenant and app roles (trust auth on 127.0.0.1), so every
probe meets the same privilege checks production would.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator

import psycopg
import pytest
from hypothesis import settings

from components.model.audit import ServerAudit, postgres_settings
from components.postgres.apply import ApplyReport, apply_plan
from components.postgres.sqlplan import SqlPlan, TenantDb, build_plan
from tests.support.pgserver import (
    MIN_VERSION,
    PgServer,
    has_pgaudit,
    pgaudit_settings,
    start_server,
)

# Property tests: no wall-clock deadline (timing belongs in benchmarks, and a loaded CI
# machine would fail them at random); in CI, a fixed example sequence so a red run is
# reproducible and a green one cannot turn red by chance.
settings.register_profile("tenancy", deadline=None)
settings.register_profile("ci", deadline=None, derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "tenancy")

_names = itertools.count(1)


def _audited_settings() -> dict[str, str]:
    """Like a cloud server: the user and database on each log line (Aurora's prefix has them
    too), so an audit record says who did it."""
    settings = {**postgres_settings(ServerAudit()), "log_line_prefix": "%t:%u@%d:%p:"}
    return pgaudit_settings(settings)


@pytest.fixture(scope="session")
def pg() -> Iterator[PgServer]:
    audit = has_pgaudit()
    # Logs like a cloud server of a default tier: pgaudit's classes, connections, lock waits.
    server = start_server(_audited_settings() if audit else None)
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as conn:
            version = conn.info.server_version
            if audit:
                # The clouds let their admin role create pgaudit (it is on their allow-lists);
                # local PostgreSQL lets only a superuser create an untrusted extension. So
                # the superuser creates it in template1, as the cloud's admin would: every
                # database created afterwards has it, and the plan finds it done.
                conn.execute("CREATE EXTENSION IF NOT EXISTS pgaudit")
                with psycopg.connect(server.dsn("template1"), autocommit=True) as template:
                    template.execute("CREATE EXTENSION IF NOT EXISTS pgaudit")
        if version < MIN_VERSION * 10_000:
            pytest.fail(f"PostgreSQL {MIN_VERSION}+ required, found {version}")
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def new_database(pg: PgServer) -> Callable[[str], str]:
    """Create a uniquely named database; returns its admin DSN."""

    def create(prefix: str) -> str:
        name = f"{prefix}_{next(_names)}"
        with psycopg.connect(pg.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return pg.dsn(name)

    return create


@pytest.fixture(scope="session")
def apply() -> Callable[..., ApplyReport]:
    """apply(dsn, server, isolation, *tenant_ids_or_specs) -> ApplyReport."""

    def run(dsn: str, server: str, isolation: str, *tenants: str | TenantDb) -> ApplyReport:
        specs = [t if isinstance(t, TenantDb) else TenantDb(t) for t in tenants]
        return apply_plan(dsn, make_plan(server, isolation, specs))

    return run


def make_plan(server: str, isolation: str, specs: list[TenantDb]) -> SqlPlan:
    return build_plan(server, isolation, specs)  # type: ignore[arg-type]


def dsn_as(admin_dsn: str, user: str, dbname: str | None = None) -> str:
    return psycopg.conninfo.make_conninfo(
        admin_dsn, user=user, **({"dbname": dbname} if dbname else {})
    )


@pytest.fixture(scope="session")
def login() -> Callable[..., psycopg.Connection]:
    """login(admin_dsn, role, dbname=None) -> a connection authenticated as ``role``."""

    def connect(admin_dsn: str, role: str, dbname: str | None = None) -> psycopg.Connection:
        return psycopg.connect(dsn_as(admin_dsn, role, dbname))

    return connect
