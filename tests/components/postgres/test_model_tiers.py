"""The tenant data model in every tier, on a real server, applied by a non-superuser admin.

Pool: ``app.<t>`` with RLS; bridge: ``tenant_<id>.<t>``; silo: ``app.<t>`` in
``tenant_<id>``. Same columns and keys everywhere; bridge and silo pin
tenant_id with a CHECK and default it. Additive model changes reach every
copy; destructive ones are refused before anything runs.
"""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors

from components.postgres.apply import ApplyError, apply_plan
from components.postgres.datamodel import DEFAULT_MODEL, Column, TenantTable, model_version
from components.postgres.sqlplan import TenantDb, build_plan
from tests.support.pgserver import PgServer, admin_databases

pytestmark = pytest.mark.postgres

ADMIN = "model_admin"

NOTES = TenantTable("notes", (Column("id", "uuid", "gen_random_uuid()"), Column("text", "text")))
GROWN = (
    TenantTable(
        DEFAULT_MODEL[0].name,
        (*DEFAULT_MODEL[0].columns, Column("tags", "text[]", not_null=False)),
        indexes=(*DEFAULT_MODEL[0].indexes, ("tenant_id", "title")),
    ),
    DEFAULT_MODEL[1],
    NOTES,
)


@pytest.fixture(scope="module")
def admin_db(pg: PgServer) -> Callable[[str], str]:
    return admin_databases(pg, ADMIN)


def _columns(dsn: str, schema: str, table: str) -> list[tuple[str, str, bool]]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT attname::text, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute"
            " WHERE attrelid = to_regclass(%s) AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
            [f"{schema}.{table}"],
        ).fetchall()


def test_same_columns_in_pool_bridge_and_silo(admin_db: Callable[[str], str]) -> None:
    pool, bridge, silo = admin_db("m_pool"), admin_db("m_bridge"), admin_db("m_silo")
    apply_plan(pool, build_plan("free-01", "pool", [TenantDb("mpa")]))
    apply_plan(bridge, build_plan("standard-01", "bridge", [TenantDb("mba")]))
    apply_plan(silo, build_plan("msa", "silo", [TenantDb("msa")]))
    silo_db = psycopg.conninfo.make_conninfo(silo, dbname="tenant_msa")
    for table in ("documents", "comments"):
        expected = _columns(pool, "app", table)
        assert expected[0] == ("tenant_id", "text", True)
        assert _columns(bridge, "tenant_mba", table) == expected
        assert _columns(silo_db, "app", table) == expected


def test_bridge_and_silo_pin_tenant_id(
    admin_db: Callable[[str], str], login: Callable[..., psycopg.Connection]
) -> None:
    bridge, silo = admin_db("p_bridge"), admin_db("p_silo")
    apply_plan(bridge, build_plan("standard-01", "bridge", [TenantDb("pba")]))
    apply_plan(silo, build_plan("psa", "silo", [TenantDb("psa")]))
    for dsn, role, db in ((bridge, "tenant_pba", None), (silo, "tenant_psa", "tenant_psa")):
        with login(dsn, role, db) as conn:
            # Unqualified, no tenant_id: the default is the tenant's own id.
            row = conn.execute("INSERT INTO documents (title) VALUES ('t') RETURNING tenant_id")
            assert row.fetchone() == (role.removeprefix("tenant_"),)
            with pytest.raises(errors.CheckViolation):
                conn.execute("INSERT INTO documents (tenant_id, title) VALUES ('other', 't')")


def test_bridge_tenant_cannot_drop_its_pin(
    admin_db: Callable[[str], str], login: Callable[..., psycopg.Connection]
) -> None:
    bridge = admin_db("d_bridge")
    apply_plan(bridge, build_plan("standard-01", "bridge", [TenantDb("dpb")]))
    with login(bridge, "tenant_dpb") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute("ALTER TABLE documents DROP CONSTRAINT documents_tenant_pinned")


@pytest.mark.parametrize("isolation", ["pool", "bridge", "silo"])
def test_additive_change_reaches_every_copy(admin_db: Callable[[str], str], isolation: str) -> None:
    dsn = admin_db(f"a_{isolation}")
    tenants = [TenantDb(f"a{isolation[0]}x"), TenantDb(f"a{isolation[0]}y")]
    server = "aax" if isolation == "silo" else "shard-01"
    tenants = tenants[:1] if isolation == "silo" else tenants
    apply_plan(dsn, build_plan(server, isolation, tenants))  # type: ignore[arg-type]
    report = apply_plan(dsn, build_plan(server, isolation, tenants, GROWN))  # type: ignore[arg-type]
    assert any("columns of" in s.summary for s in report.changed)
    homes = {
        "pool": [(dsn, "app")],
        "bridge": [(dsn, f"tenant_{t.id}") for t in tenants],
        "silo": [(psycopg.conninfo.make_conninfo(dsn, dbname=f"tenant_{tenants[0].id}"), "app")],
    }[isolation]
    for where, schema in homes:
        assert ("tags", "text[]", False) in _columns(where, schema, "documents")
        assert _columns(where, schema, "notes")[0] == ("tenant_id", "text", True)
        with psycopg.connect(where) as conn:
            index = conn.execute(
                "SELECT to_regclass(%s) IS NOT NULL", [f"{schema}.documents_tenant_id_title_idx"]
            )
            assert index.fetchone() == (True,)
    with psycopg.connect(dsn) as conn:
        assert conn.execute("SELECT model_version FROM tenancy_meta.server").fetchone() == (
            model_version(GROWN),
        )
    # Applying the same model again changes nothing.
    assert apply_plan(dsn, build_plan(server, isolation, tenants, GROWN)).changed == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("model", "named"),
    [
        ((DEFAULT_MODEL[0],), "table comments dropped"),
        (
            (
                TenantTable("documents", DEFAULT_MODEL[0].columns[:2], indexes=()),
                DEFAULT_MODEL[1],
            ),
            "column documents.body dropped",
        ),
        (
            (
                TenantTable(
                    "documents",
                    tuple(
                        Column(c.name, "varchar(10)") if c.name == "title" else c
                        for c in DEFAULT_MODEL[0].columns
                    ),
                ),
                DEFAULT_MODEL[1],
            ),
            "column documents.title type changed from text to varchar(10)",
        ),
        (
            (
                TenantTable("documents", (*DEFAULT_MODEL[0].columns, Column("owner", "text"))),
                DEFAULT_MODEL[1],
            ),
            "new column documents.owner is NOT NULL without a default",
        ),
    ],
)
def test_destructive_change_is_refused_and_nothing_changes(
    admin_db: Callable[[str], str], model: tuple[TenantTable, ...], named: str
) -> None:
    dsn = admin_db("destroy")
    plan = build_plan("standard-01", "bridge", [TenantDb("dzb")])
    apply_plan(dsn, plan)
    columns = _columns(dsn, "tenant_dzb", "documents")
    with pytest.raises(ApplyError, match="destructive and was refused") as refused:
        apply_plan(dsn, build_plan("standard-01", "bridge", [TenantDb("dzb")], model))
    assert named in str(refused.value)
    assert _columns(dsn, "tenant_dzb", "documents") == columns
    with psycopg.connect(dsn) as conn:
        recorded = conn.execute("SELECT model_version FROM tenancy_meta.server").fetchone()
    assert recorded == (model_version(DEFAULT_MODEL),)
