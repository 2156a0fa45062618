"""``db apply`` at fleet size: checks asked in bulk, statements run in guarded blocks.

The bulk answers must be the per-statement answers, on every state a server can be
in (fresh, partly applied, tampered with); a no-op apply must cost the same few
round trips whatever the tenant count; a refused statement is still named, and
tenants committed before it stay applied. All as a non-superuser admin
(LOGIN CREATEDB CREATEROLE), like rds_superuser / azure_pg_admin / cloudsqlsuperuser.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

import psycopg
import pytest

from components.postgres.apply import ApplyError, apply_plan, check_all
from components.postgres.sqlplan import Statement, TenantDb, build_plan
from tests.support.pgserver import PgServer

pytestmark = pytest.mark.postgres

ADMIN = "batch_admin"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def admin_db(pg: PgServer) -> Callable[[str], str]:
    with psycopg.connect(pg.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE")

    def create(prefix: str) -> str:
        name = f"{prefix}_{next(_names)}"
        with psycopg.connect(pg.dsn(user=ADMIN), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return pg.dsn(name, user=ADMIN)

    return create


def _one_by_one(conn: psycopg.Connection, statements: Sequence[Statement]) -> list[bool | None]:
    answers: list[bool | None] = []
    for statement in statements:
        try:
            with conn.transaction():
                row = conn.execute(statement.done).fetchone()
        except psycopg.Error:
            answers.append(None)  # the check cannot run yet (a table it reads is missing)
            continue
        answers.append(bool(row[0]) if row else None)
    return answers


def _in_admin_database(statements: Sequence[Statement]) -> list[Statement]:
    return [s for s in statements if s.database is None]


def _assert_bulk_agrees(dsn: str, statements: Sequence[Statement]) -> list[bool | None]:
    with psycopg.connect(dsn, autocommit=True) as conn:
        bulk = check_all(conn, statements)
        assert bulk == _one_by_one(conn, statements)
    return bulk


@pytest.mark.parametrize("isolation", ["pool", "bridge", "silo"])
def test_bulk_checks_agree_with_per_statement_checks_on_a_fresh_server(
    isolation: str, admin_db: Callable[[str], str]
) -> None:
    dsn = admin_db(f"bulk_fresh_{isolation}")
    plan = build_plan(f"{isolation}-b1", isolation, [TenantDb(f"bf{isolation[0]}a")])  # type: ignore[arg-type]
    answers = _assert_bulk_agrees(dsn, _in_admin_database(plan.statements))
    assert False in answers  # nothing is in place yet
    assert None in answers  # the marker's checks read tables that do not exist yet


@pytest.mark.parametrize("isolation", ["pool", "bridge"])
def test_bulk_checks_agree_with_per_statement_checks_on_a_partial_and_tampered_server(
    isolation: str, admin_db: Callable[[str], str]
) -> None:
    dsn = admin_db(f"bulk_partial_{isolation}")
    p = isolation[0]
    applied = [TenantDb(f"bp{p}a"), TenantDb(f"bp{p}b"), TenantDb(f"bp{p}c")]
    apply_plan(dsn, build_plan(f"{isolation}-b2", isolation, applied))  # type: ignore[arg-type]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"ALTER ROLE tenant_bp{p}b CONNECTION LIMIT 3")
        conn.execute(f"ALTER ROLE tenant_bp{p}c RESET statement_timeout")
        if isolation == "bridge":
            conn.execute(f"GRANT USAGE ON SCHEMA tenant_bp{p}b TO PUBLIC")
            conn.execute(f"DROP INDEX tenant_bp{p}c.documents_tenant_id_created_at_idx")
        else:
            conn.execute(f"REVOKE tenancy_app FROM tenant_bp{p}c")
    # The plan now also has a tenant the server has never seen, and a suspended one.
    wanted = [*applied, TenantDb(f"bp{p}d"), TenantDb(f"bp{p}e", active=False)]
    plan = build_plan(f"{isolation}-b2", isolation, wanted)  # type: ignore[arg-type]
    answers = _assert_bulk_agrees(dsn, plan.statements)
    assert True in answers and False in answers
    untouched = [
        done for s, done in zip(plan.statements, answers, strict=True) if s.owner == f"bp{p}a"
    ]
    assert untouched and all(untouched)


def test_bulk_checks_agree_inside_a_silo_tenants_database(
    admin_db: Callable[[str], str],
) -> None:
    dsn = admin_db("bulk_silo")
    plan = build_plan("silo-b3", "silo", [TenantDb("bsa")])
    apply_plan(dsn, plan)
    in_tenant_db = [s for s in plan.statements if s.database == "tenant_bsa"]
    tenant_dsn = psycopg.conninfo.make_conninfo(dsn, dbname="tenant_bsa")
    with psycopg.connect(tenant_dsn, autocommit=True) as conn:
        conn.execute("ALTER TABLE app.documents OWNER TO batch_admin")
    answers = _assert_bulk_agrees(tenant_dsn, in_tenant_db)
    assert answers.count(False) == 1


def test_a_no_op_apply_takes_the_same_round_trips_for_3_and_30_tenants(
    admin_db: Callable[[str], str],
) -> None:
    trips = []
    for count in (3, 30):
        dsn = admin_db(f"bulk_trips_{count}")
        plan = build_plan("bridge-b4", "bridge", [TenantDb(f"bt{count}x{i}") for i in range(count)])
        first = apply_plan(dsn, plan)
        again = apply_plan(dsn, plan)
        assert again.changed == [] and again.unchanged == len(plan.statements)
        assert first.round_trips < len(plan.statements)  # blocks, not a round trip each
        trips.append(again.round_trips)
    assert trips[0] == trips[1]


def test_a_first_apply_reports_exactly_what_one_by_one_checks_would(
    admin_db: Callable[[str], str],
) -> None:
    # CREATE ROLE already sets the connection limit, so the separate ALTER ROLE is
    # asked again right before it runs and is not reported as a change.
    dsn = admin_db("bulk_exact")
    plan = build_plan("pool-b5", "pool", [TenantDb("bxa"), TenantDb("bxb")])
    report = apply_plan(dsn, plan)
    summaries = [s.summary for s in report.changed if s.owner == "bxa"]
    assert summaries == [
        "create role tenant_bxa",
        "set statement_timeout 30000 ms on tenant_bxa",
        "grant tenancy_app to tenant_bxa",
        "marker: home of bxa is app",
    ]


def test_a_refused_statement_is_named_and_tenants_before_it_stay_applied(
    pg: PgServer, admin_db: Callable[[str], str]
) -> None:
    dsn = admin_db("bulk_refused")
    # A schema the admin does not own and cannot take over: ALTER SCHEMA ... OWNER fails.
    with psycopg.connect(pg.dsn(str(psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]))) as su:
        su.execute("CREATE SCHEMA tenant_brz")
    tenants = [TenantDb(f"bra{i}") for i in range(30)] + [TenantDb("brz")]
    with pytest.raises(
        ApplyError, match=r"schema tenant_brz owned by tenancy_owner \(tenant brz\)"
    ):
        apply_plan(dsn, build_plan("bridge-b6", "bridge", tenants))
    with psycopg.connect(dsn) as conn:
        roles = {
            r[0]
            for r in conn.execute("SELECT rolname FROM pg_roles WHERE rolname LIKE 'tenant_br%'")
        }
    # Tenants of earlier blocks stay committed; the refused tenant's block rolled back
    # whole (with the tenants sharing it), so no tenant is left half-built.
    assert "tenant_bra0" in roles and "tenant_brz" not in roles
    applied = sorted(t.id for t in tenants if f"tenant_{t.id}" in roles)
    assert applied == sorted(t.id for t in tenants)[: len(applied)]
    with psycopg.connect(dsn) as conn:
        schemas = {
            r[0]
            for r in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant_br%'"
            )
        }
    assert schemas == {f"tenant_{t}" for t in applied} | {"tenant_brz"}
