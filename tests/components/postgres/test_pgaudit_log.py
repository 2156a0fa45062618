"""Audit logging on a real PostgreSQL: after ``tenancy db apply``, what a tenant role does
to its schema and to roles is in the server log with pgaudit's prefix.

The suite's server loads pgaudit and logs like a default tier's cloud server
(tests/conftest.py, components/model/audit.py). The plan is applied by an admin role
imitating rds_superuser/azure_pg_admin/cloudsqlsuperuser (LOGIN CREATEDB CREATEROLE).
"""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from components.model.audit import AURORA_PGAUDIT_ROLE
from components.postgres.audit import audit_shared_statements
from tenancy.cli import main
from tests.conftest import dsn_as
from tests.support.pgserver import PgServer, has_pgaudit, start_server

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(
        not has_pgaudit(), reason="pgaudit not installed: run .ci/ensure-postgres.sh"
    ),
]

STACK = "dev-aws-eu-west-1"
CATALOG = """
version: 1
residency_zones:
  eu: {aws: [eu-west-1]}
tiers:
  standard:
    isolation: bridge
    database: {min_capacity: 1, max_capacity: 16, backup_retention_days: 14}
tenants:
  - {id: audit-ta, name: A, tier: standard, cloud: aws, region: eu-west-1, residency: eu}
"""
_numbers = itertools.count(1)


def _admin_database(pg: PgServer) -> str:
    """A database owned by a fresh non-superuser admin; returns the admin's DSN to it."""
    number = next(_numbers)
    admin, database = f"audit_admin_{number}", f"audit_db_{number}"
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        su.execute(
            sql.SQL("CREATE ROLE {} LOGIN CREATEDB CREATEROLE").format(sql.Identifier(admin))
        )
        su.execute(
            sql.SQL("CREATE DATABASE {} OWNER {}").format(
                sql.Identifier(database), sql.Identifier(admin)
            )
        )
    return dsn_as(pg.dsn(), admin, database)


def _apply(tmp_path: Path, dsn: str) -> int:
    catalog = tmp_path / "tenants.yaml"
    catalog.write_text(CATALOG)
    argv = ["db", "apply", "--dsn", dsn, "--stack", STACK, "--shard", "standard-01"]
    return main([*argv, "--catalog", str(catalog)])


def _audit_lines(pg: PgServer, needle: str) -> list[str]:
    """Lines of the server log with pgaudit's prefix that mention ``needle`` (the log is
    written asynchronously by the server, so wait a moment for it)."""
    log = pg.base_dir / "server.log"
    for _ in range(50):
        lines = [
            line
            for line in log.read_text(errors="replace").splitlines()
            if "AUDIT: SESSION," in line and needle in line
        ]
        if lines:
            return lines
        time.sleep(0.1)
    return []


def test_tenant_ddl_and_role_change_are_in_the_log_with_the_pgaudit_prefix(
    pg: PgServer, tmp_path: Path
) -> None:
    dsn = _admin_database(pg)
    assert _apply(tmp_path, dsn) == 0
    with psycopg.connect(dsn_as(dsn, "tenant_audit_ta"), autocommit=True) as tenant:
        tenant.execute("CREATE TABLE tenant_audit_ta.audit_probe_ddl (id int)")
        tenant.execute("ALTER ROLE tenant_audit_ta SET work_mem = '8MB'")
    ddl = _audit_lines(pg, "audit_probe_ddl")
    role = _audit_lines(pg, "ALTER ROLE tenant_audit_ta SET work_mem")
    assert ddl and re.search(r"AUDIT: SESSION,\d+,\d+,DDL,CREATE TABLE,", ddl[0])
    assert role and re.search(r"AUDIT: SESSION,\d+,\d+,ROLE,ALTER ROLE,", role[0])
    # Who did it: the log line prefix names the tenant's login role.
    assert ":tenant_audit_ta@audit_db_" in ddl[0] and ":tenant_audit_ta@audit_db_" in role[0]


def test_default_tier_does_not_record_tenant_reads(pg: PgServer) -> None:
    """``ddl, role`` (an unregulated tier): a SELECT leaves no audit record."""
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute("SELECT 'audit_probe_read_marker'")
    time.sleep(0.3)
    log = (pg.base_dir / "server.log").read_text(errors="replace")
    assert "audit_probe_read_marker" not in log


def test_plan_creates_the_object_audit_role_the_server_names(pg: PgServer) -> None:
    dsn = _admin_database(pg)
    database = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        # Stands in for Aurora's cluster parameter pgaudit.role=rds_pgaudit (a server
        # setting, which only a superuser may set locally).
        su.execute(
            sql.SQL("ALTER DATABASE {} SET pgaudit.role = {}").format(
                sql.Identifier(str(database)), sql.Literal(AURORA_PGAUDIT_ROLE)
            )
        )
        su.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(AURORA_PGAUDIT_ROLE)))
    role_statement, _extension = audit_shared_statements()
    with psycopg.connect(dsn, autocommit=True) as admin:
        assert admin.execute(role_statement.done).fetchone() == (False,)
        admin.execute(role_statement.sql)
        assert admin.execute(role_statement.done).fetchone() == (True,)
        login = admin.execute(
            "SELECT rolcanlogin FROM pg_roles WHERE rolname = %s", [AURORA_PGAUDIT_ROLE]
        ).fetchone()
    assert login == (False,)


def test_extension_is_pending_where_missing_and_done_where_present(pg: PgServer) -> None:
    _role, extension = audit_shared_statements()
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        su.execute("DROP DATABASE IF EXISTS audit_bare")
        su.execute("CREATE DATABASE audit_bare TEMPLATE template0")
    with psycopg.connect(pg.dsn("audit_bare"), autocommit=True) as bare:
        assert bare.execute(extension.done).fetchone() == (False,)
    with psycopg.connect(pg.dsn(), autocommit=True) as present:
        assert present.execute(extension.done).fetchone() == (True,)


def test_extension_waits_while_the_server_has_not_loaded_the_library() -> None:
    """Before the restart that loads pgaudit, the plan leaves it alone instead of failing."""
    _role, extension = audit_shared_statements()
    with start_server() as plain, psycopg.connect(plain.dsn(), autocommit=True) as conn:
        assert conn.execute(extension.done).fetchone() == (True,)
        assert conn.execute(
            "SELECT count(*) FROM pg_extension WHERE extname = 'pgaudit'"
        ).fetchone() == (0,)
