"""Every bad input of ``tenancy tenant move|restore`` exits 2 and changes nothing; restore works.

Nothing changed is checked on the servers themselves: roles (and their LOGIN),
schemas, databases, publications, subscriptions, slots, journal rows and every
tenant's row checksums are identical before and after each refused command.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from tests.support.pgserver import PgServer, start_server
from tests.tenancy.tenant.movekit import (
    LOGICAL,
    STACK,
    add_admin,
    lay_out,
    run_cli,
    seed,
    superuser_dsn,
    tenant_dsn,
    tenant_sums,
    write_catalog,
)

pytestmark = pytest.mark.postgres

TIERS = {"alpha": "standard", "beta": "free", "twin": "standard", "sleepy": "standard",
         "retired": "standard", "outsider": "standard", "nolog": "standard", "fixme": "free",
         "elsewhere": "standard"}  # fmt: skip
STATUS = {"sleepy": "suspended", "retired": "offboarded"}


@dataclass
class Servers:
    a: PgServer
    b: PgServer
    c: PgServer  # wal_level=replica: no logical decoding
    pool: str
    bridge: str
    plain: str
    catalog: Path


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    a, b, c = start_server(LOGICAL), start_server(LOGICAL), start_server({"wal_level": "replica"})
    try:
        for server in (a, b, c):
            add_admin(server)
        pool_ids = ["alpha", "beta", "twin", "sleepy", "retired", "fixme", "elsewhere"]
        pool = lay_out(a, "pooldb", "free-01", "pool", pool_ids)
        bridge = lay_out(b, "bridgedb", "standard-01", "bridge", ["twin", "outsider"])
        plain = lay_out(c, "pooldb", "free-02", "pool", ["nolog"])
        for tid in pool_ids:
            seed(pool, "pool", tid, documents=5)
        seed(bridge, "bridge", "twin", documents=2)
        seed(plain, "pool", "nolog", documents=2)
        catalog = write_catalog(
            tmp_path_factory.mktemp("bad") / "t.yaml",
            TIERS,
            STATUS,
            moving_from={"elsewhere": "enterprise"},  # says silo, but it lives in the pool
        )
        yield Servers(a, b, c, pool, bridge, plain, catalog)
    finally:
        for server in (a, b, c):
            server.stop()


def _state(server: PgServer, dbname: str, tenants: list[str], isolation: str) -> dict[str, object]:
    with psycopg.connect(superuser_dsn(server, dbname), autocommit=True) as conn:
        facts: dict[str, object] = {
            name: conn.execute(query).fetchall()
            for name, query in {
                "roles": "SELECT rolname, rolcanlogin FROM pg_roles ORDER BY 1",
                "schemas": "SELECT nspname FROM pg_namespace ORDER BY 1",
                "databases": "SELECT datname FROM pg_database ORDER BY 1",
                "publications": "SELECT pubname FROM pg_publication",
                "subscriptions": "SELECT subname FROM pg_subscription",
                "slots": "SELECT slot_name FROM pg_replication_slots",
                "journal": "SELECT * FROM tenancy_meta.moves",
                "homes": "SELECT tenant_id, state FROM tenancy_meta.homes ORDER BY 1",
            }.items()
        }
    dsn = server.dsn(dbname, user="admin")
    facts["rows"] = {t: tenant_sums(dsn, isolation, t) for t in tenants}
    return facts


def _snapshot(s: Servers) -> list[dict[str, object]]:
    return [
        _state(s.a, "pooldb", ["alpha", "beta", "twin", "sleepy", "retired"], "pool"),
        _state(s.b, "bridgedb", ["twin", "outsider"], "bridge"),
        _state(s.c, "pooldb", ["nolog"], "pool"),
    ]


def _move(s: Servers, tid: str, source: str, target: str) -> tuple[int, str]:
    result = run_cli(
        "tenant", "move", tid, "--stack", STACK, "--catalog", str(s.catalog),
        "--source-dsn", source, "--target-dsn", target,
        "--subscription-dsn", superuser_dsn(s.b, "bridgedb"),
    )  # fmt: skip
    return result.returncode, result.stderr


@pytest.mark.parametrize(
    ("tid", "source", "target", "message"),
    [
        ("nobody", "pool", "bridge", "tenant 'nobody' is not in the catalog"),
        ("outsider", "pool", "bridge", "tenant outsider is not on it"),
        ("twin", "pool", "bridge", "the target already holds 4 rows of twin"),
        ("alpha", "pool", "pool", "source and target are the same server (free-01)"),
        ("nolog", "plain", "bridge", "Set rds.logical_replication=1"),
        ("sleepy", "pool", "bridge", "tenant sleepy is suspended"),
        ("retired", "pool", "bridge", "tenant retired is offboarded"),
        ("beta", "pool", "bridge", "the catalog puts beta in tier free (pool)"),
        (
            "elsewhere",
            "pool",
            "bridge",
            "moves from tier enterprise (silo), but the source is a pool",
        ),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(
    servers: Servers, tid: str, source: str, target: str, message: str
) -> None:
    before = _snapshot(servers)
    code, err = _move(servers, tid, getattr(servers, source), getattr(servers, target))
    assert code == 2 and message in err and "Traceback" not in err
    assert _snapshot(servers) == before


def test_restore_puts_back_one_tenants_rows_from_a_clone(servers: Servers) -> None:
    # The "point-in-time clone": a copy of the pool database taken now, on the same server.
    with psycopg.connect(superuser_dsn(servers.a, "postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE clonedb TEMPLATE pooldb")
    clone = servers.a.dsn("clonedb", user="admin")
    good = tenant_sums(clone, "pool", "fixme")
    # Damage: fixme loses and garbles rows; its neighbour alpha keeps writing.
    with psycopg.connect(tenant_dsn(servers.pool, "pool", "fixme")) as conn, conn.transaction():
        conn.execute("SELECT set_config('tenancy.tenant_id', 'fixme', true)")
        conn.execute("DELETE FROM app.documents WHERE title = 'doc 1'")
        conn.execute("UPDATE app.documents SET title = 'garbled'")
    seed(servers.pool, "pool", "alpha", documents=2)
    neighbours = {t: tenant_sums(servers.pool, "pool", t) for t in ("alpha", "beta", "twin")}
    assert tenant_sums(servers.pool, "pool", "fixme") != good
    result = run_cli(
        "tenant", "restore", "fixme", "--stack", STACK, "--catalog", str(servers.catalog),
        "--from-dsn", clone, "--to-dsn", servers.pool,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert tenant_sums(servers.pool, "pool", "fixme") == good
    assert {t: tenant_sums(servers.pool, "pool", t) for t in neighbours} == neighbours
    with psycopg.connect(tenant_dsn(servers.pool, "pool", "fixme")) as conn:  # LOGIN again
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_restore_refuses_a_clone_of_another_server(servers: Servers) -> None:
    result = run_cli(
        "tenant", "restore", "alpha", "--stack", STACK, "--catalog", str(servers.catalog),
        "--from-dsn", servers.bridge, "--to-dsn", servers.pool,
    )  # fmt: skip
    assert result.returncode == 2 and "the clone is of server standard-01" in result.stderr
