"""``tenancy tenant move``: the four moves with writers, rollback, crashes, bad input.

Two real PostgreSQL 15 servers (wal_level=logical). Server A: pool shard
free-01 (database pooldb) and a silo server for brs. Server B: bridge shard
standard-01 (bridgedb) and silo servers for pos and sip. The catalog gives
each tenant its NEW tier, as it reads while the tenant is in motion.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import errors

from components.postgres.datamodel import DEFAULT_MODEL, home_of
from components.postgres.session import tenant_session
from components.postgres.sqlplan import create_table_sql
from tenancy.tenant import replication
from tenancy.tenant.rows import Place
from tests.support.pgserver import PgServer, start_server
from tests.tenancy.tenant.movekit import (
    LOGICAL,
    STACK,
    Writer,
    add_admin,
    cli,
    doc_ids,
    lay_out,
    replication_leftovers,
    run_cli,
    seed,
    superuser_dsn,
    tenant_dsn,
    tenant_sums,
    write_catalog,
)

pytestmark = pytest.mark.postgres

CRASH_PHASES = ("prepare", "copy", "freeze", "verify", "switching", "switched")
CRASHERS = {f"k-{phase}": phase for phase in CRASH_PHASES}
TIERS = {
    "pob": "standard",  # pool -> bridge
    "brs": "enterprise",  # bridge -> silo
    "pos": "enterprise",  # pool -> silo
    "sip": "free",  # silo -> pool
    "rbk": "standard",  # pool -> bridge, then --rollback
    "npo": "free",  # pool neighbour, writes during moves
    "nbr": "standard",  # bridge neighbour at the target
    "dup": "standard",  # rows on both sides
    "gone": "free",  # suspended
    "emc": "standard",  # the silent-empty-copy pitfall
    **{tid: "standard" for tid in CRASHERS},
    "k-failover": "standard",
    "vfy": "free",  # bridge -> pool, loses a row on the way: verification fails
}


@dataclass
class Cells:
    a: PgServer
    b: PgServer
    pool: str
    bridge: str
    silo_brs: str
    silo_pos: str
    silo_sip: str
    catalog: Path

    def sub(self, target: PgServer, dbname: str) -> str:
        # PostgreSQL 15 reserves CREATE SUBSCRIPTION for superusers: only this step runs as one.
        return superuser_dsn(target, dbname)


@pytest.fixture(scope="module")
def cells(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cells]:
    a = start_server(LOGICAL)
    b = start_server(LOGICAL)
    try:
        for server in (a, b):
            add_admin(server)
        pool_tenants = ["pob", "pos", "rbk", "npo", "dup", "gone", "emc", "k-failover", *CRASHERS]
        pool = lay_out(a, "pooldb", "free-01", "pool", pool_tenants)
        bridge = lay_out(b, "bridgedb", "standard-01", "bridge", ["brs", "nbr", "dup", "vfy"])
        silo_brs = lay_out(a, "silo_brs", "brs", "silo", ["brs"])
        silo_pos = lay_out(b, "silo_pos", "pos", "silo", ["pos"])
        silo_sip = lay_out(b, "silo_sip", "sip", "silo", ["sip"])
        for tid in pool_tenants:
            seed(pool, "pool", tid)
        for tid in ("brs", "nbr", "dup", "vfy"):
            seed(bridge, "bridge", tid)
        seed(silo_sip, "silo", "sip")
        catalog = write_catalog(
            tmp_path_factory.mktemp("move") / "tenants.yaml", TIERS, {"gone": "suspended"}
        )
        yield Cells(a, b, pool, bridge, silo_brs, silo_pos, silo_sip, catalog)
    finally:
        a.stop()
        b.stop()


def _move(cells: Cells, tid: str, source: str, target: str, sub: str, *extra: str, env=None):  # type: ignore[no-untyped-def]
    # In this process unless the run is to be killed (no interpreter start-up per move).
    return (cli if env else run_cli)(
        "tenant", "move", tid, "--stack", STACK, "--catalog", str(cells.catalog),
        "--source-dsn", source, "--target-dsn", target, "--subscription-dsn", sub, *extra,
        **({"env": env} if env else {}),
    )  # fmt: skip


def _moved_with_writers(
    cells: Cells,
    tid: str,
    src: tuple[str, str],
    tgt: tuple[str, str],
    sub: str,
    tmp: Path,
    login: str | None = None,
) -> dict[str, Any]:
    """Move ``tid`` while it and pool neighbour npo write; assert the common guarantees."""
    (src_dsn, src_iso), (tgt_dsn, tgt_iso) = src, tgt
    neighbours_at_target = {
        "pool": ("npo",) if tgt_iso == "pool" else (),
        "bridge": ("nbr",) if tgt_iso == "bridge" else (),
    }.get(tgt_iso, ())
    before = {n: tenant_sums(tgt_dsn, tgt_iso, n) for n in neighbours_at_target if n != "npo"}
    mover = Writer(src_dsn, src_iso, tid, user=login).start(doc_ids(src_dsn, src_iso, tid))
    neighbour = Writer(cells.pool, "pool", "npo").start(doc_ids(cells.pool, "pool", "npo"))
    deadline = time.monotonic() + 10
    while min(mover.writes, neighbour.writes) < 20 and time.monotonic() < deadline:
        time.sleep(0.05)  # both are writing before the move starts
    report = tmp / f"{tid}.json"
    result = _move(cells, tid, src_dsn, tgt_dsn, sub, "--report", str(report))
    mover.finish()
    neighbour.finish()
    assert result.returncode == 0, result.stderr
    assert mover.writes >= 20 and neighbour.writes >= 20
    # The target holds exactly what the writer committed, and equals the frozen source.
    moved = doc_ids(tgt_dsn, tgt_iso, tid)
    assert moved - mover.unsure == mover.committed - mover.unsure
    assert tenant_sums(tgt_dsn, tgt_iso, tid) == tenant_sums(src_dsn, src_iso, tid)
    # The neighbour kept writing on the source and lost nothing.
    assert (
        doc_ids(cells.pool, "pool", "npo") - neighbour.unsure
        == neighbour.committed - neighbour.unsure
    )
    for name, sums in before.items():
        assert tenant_sums(tgt_dsn, tgt_iso, name) == sums
    assert (
        replication_leftovers(
            superuser_dsn(cells.a, "postgres"), superuser_dsn(cells.b, "postgres")
        )
        == []
    )
    data = json.loads(report.read_text())
    assert data["outcome"] == "moved and verified" and data["rows"] > 0
    return data  # type: ignore[no-any-return]


def test_pool_to_bridge_with_writers(cells: Cells, tmp_path: Path) -> None:
    # The writer uses the pool's shared service login: the freeze triggers must stop it.
    data = _moved_with_writers(
        cells, "pob", (cells.pool, "pool"), (cells.bridge, "bridge"),
        cells.sub(cells.b, "bridgedb"), tmp_path, login="tenancy_app_login",
    )  # fmt: skip
    assert data["connection"]["schema"] == "tenant_pob"
    # At its new home the tenant reads its rows unqualified; its neighbour cannot.
    with psycopg.connect(tenant_dsn(cells.bridge, "bridge", "pob")) as conn:
        assert conn.execute("SELECT count(*) FROM documents").fetchone()[0] > 0  # type: ignore[index]
        with pytest.raises(errors.CheckViolation):
            conn.execute("INSERT INTO documents (tenant_id, title) VALUES ('nbr', 'forged')")
    with (
        psycopg.connect(tenant_dsn(cells.bridge, "bridge", "nbr")) as conn,
        pytest.raises(errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT * FROM tenant_pob.documents")
    # The old home is frozen: the tenant can no longer log in there, and the shared
    # login cannot write its stale rows (nor insert new ones) until the purge.
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(tenant_dsn(cells.pool, "pool", "pob")).close()
    shared = psycopg.conninfo.make_conninfo(cells.pool, user="tenancy_app_login")
    with (
        psycopg.connect(shared) as conn,
        pytest.raises(errors.ObjectNotInPrerequisiteState, match="tenant pob is frozen"),
        tenant_session(conn, "pob"),
    ):
        conn.execute("INSERT INTO app.documents (title) VALUES ('late')")


def test_bridge_to_silo_with_writers(cells: Cells, tmp_path: Path) -> None:
    _moved_with_writers(
        cells, "brs", (cells.bridge, "bridge"), (cells.silo_brs, "silo"),
        cells.sub(cells.a, "tenant_brs"), tmp_path,
    )  # fmt: skip
    with psycopg.connect(tenant_dsn(cells.silo_brs, "silo", "brs")) as conn:
        assert conn.execute("SHOW search_path").fetchone() == ("app",)
        fks = conn.execute(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND convalidated"
        ).fetchone()
        assert fks == (1,)
    with pytest.raises(psycopg.OperationalError):  # no CONNECT for anyone else
        psycopg.connect(
            tenant_dsn(cells.silo_brs, "silo", "brs").replace("user=tenant_brs", "user=admin2")
        ).close()


def test_pool_to_silo_with_writers(cells: Cells, tmp_path: Path) -> None:
    _moved_with_writers(
        cells, "pos", (cells.pool, "pool"), (cells.silo_pos, "silo"),
        cells.sub(cells.b, "tenant_pos"), tmp_path,
    )  # fmt: skip
    with (
        psycopg.connect(tenant_dsn(cells.silo_pos, "silo", "pos")) as conn,
        pytest.raises(errors.CheckViolation),
    ):
        conn.execute("INSERT INTO documents (tenant_id, title) VALUES ('npo', 'forged')")


def test_silo_to_pool_with_writers(cells: Cells, tmp_path: Path) -> None:
    _moved_with_writers(
        cells, "sip", (cells.silo_sip, "silo"), (cells.pool, "pool"),
        cells.sub(cells.a, "pooldb"), tmp_path,
    )  # fmt: skip
    # RLS at the target: sip's login acting as npo sees nothing, and cannot write npo rows.
    with psycopg.connect(tenant_dsn(cells.pool, "pool", "sip")) as conn:
        conn.execute("BEGIN")
        conn.execute("SELECT set_config('tenancy.tenant_id', 'npo', true)")
        assert conn.execute("SELECT count(*) FROM app.documents").fetchone() == (0,)
        conn.execute("ROLLBACK")
        conn.execute("BEGIN")
        conn.execute("SELECT set_config('tenancy.tenant_id', 'sip', true)")
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("INSERT INTO app.documents (tenant_id, title) VALUES ('npo', 'forged')")


def test_rollback_brings_back_rows_written_at_the_new_home(cells: Cells) -> None:
    sub = cells.sub(cells.b, "bridgedb")
    assert _move(cells, "rbk", cells.pool, cells.bridge, sub).returncode == 0
    seed(cells.bridge, "bridge", "rbk", documents=3)  # written at the new home after the switch
    at_bridge = tenant_sums(cells.bridge, "bridge", "rbk")
    back = _move(cells, "rbk", cells.pool, cells.bridge, sub, "--rollback")
    assert back.returncode == 0, back.stderr
    assert tenant_sums(cells.pool, "pool", "rbk") == at_bridge
    with psycopg.connect(tenant_dsn(cells.pool, "pool", "rbk")) as conn:  # home again: LOGIN
        assert conn.execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("tid", sorted(CRASHERS))
def test_kill_at_each_phase_then_rerun_completes(cells: Cells, tid: str) -> None:
    sub = cells.sub(cells.b, "bridgedb")
    source = tenant_sums(cells.pool, "pool", tid)
    killed = _move(
        cells, tid, cells.pool, cells.bridge, sub, env={"TENANCY_MOVE_CRASH_AT": CRASHERS[tid]}
    )
    assert killed.returncode == -9
    rerun = _move(cells, tid, cells.pool, cells.bridge, sub)
    assert rerun.returncode == 0, rerun.stderr
    assert tenant_sums(cells.bridge, "bridge", tid) == source
    assert (
        replication_leftovers(superuser_dsn(cells.a, "pooldb"), superuser_dsn(cells.b, "bridgedb"))
        == []
    )


def test_uncovered_replication_role_copies_nothing(cells: Cells) -> None:
    """The pitfall the copy policy exists for: without it, 0 rows and no error."""
    with psycopg.connect(superuser_dsn(cells.b, "postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE emptycopy")
    target = superuser_dsn(cells.b, "emptycopy")
    home = home_of("pool", "emc")
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA app")
        for table in DEFAULT_MODEL:
            conn.execute(create_table_sql(home, table, foreign_keys=False))
    place = Place(home, "app")
    with psycopg.connect(cells.pool, autocommit=True) as conn:  # the admin, no policy for it
        replication.create_publication(conn, place, "emc", DEFAULT_MODEL)
    try:
        replication.create_subscription(target, cells.pool, "emc")
        with psycopg.connect(cells.pool, autocommit=True) as source:
            replication.wait_for_initial_copy(source, target, "emc", 60)
        with psycopg.connect(target) as conn:
            copied = conn.execute("SELECT count(*) FROM app.documents").fetchone()
        assert copied == (0,) and tenant_sums(cells.pool, "pool", "emc")["documents"][0] == 20
    finally:
        replication.drop_subscription(target, "emc")
        with psycopg.connect(cells.pool, autocommit=True) as conn:
            replication.drop_source_objects(conn, place, "emc", DEFAULT_MODEL)


def test_slot_lost_in_a_failover_then_rerun_restarts_and_completes(cells: Cells) -> None:
    """Before PostgreSQL 17 a failover loses the slot: the rerun must start over cleanly."""
    tid, sub = "k-failover", cells.sub(cells.b, "bridgedb")
    source = tenant_sums(cells.pool, "pool", tid)
    killed = _move(
        cells, tid, cells.pool, cells.bridge, sub, env={"TENANCY_MOVE_CRASH_AT": "freeze"}
    )
    assert killed.returncode == -9
    with psycopg.connect(superuser_dsn(cells.a, "pooldb"), autocommit=True) as conn:
        # What the promoted standby looks like: no slot (walsender ended, slot dropped).
        replication.drop_slot(conn, tid)  # ends the walsender until the drop wins the race
    rerun = _move(cells, tid, cells.pool, cells.bridge, sub)
    assert rerun.returncode == 0, rerun.stderr
    assert tenant_sums(cells.bridge, "bridge", tid) == source
    assert (
        replication_leftovers(superuser_dsn(cells.a, "pooldb"), superuser_dsn(cells.b, "bridgedb"))
        == []
    )


def test_verification_failure_rolls_back_and_exits_1(cells: Cells) -> None:
    """A row silently lost on the way is caught; the tenant stays home, the target is clean."""
    with psycopg.connect(superuser_dsn(cells.b, "bridgedb")) as conn:
        lost = conn.execute("SELECT min(id::text) FROM tenant_vfy.comments").fetchone()[0]  # type: ignore[index]
    swallow = (
        "CREATE FUNCTION public.swallow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        f" IF NEW.id = '{lost}' THEN RETURN NULL; END IF;"
        " RETURN NEW; END $$;"
        " CREATE TRIGGER swallow BEFORE INSERT ON app.comments FOR EACH ROW"
        " EXECUTE FUNCTION public.swallow()"
    )
    with psycopg.connect(superuser_dsn(cells.a, "pooldb"), autocommit=True) as conn:
        conn.execute(swallow)
    source = tenant_sums(cells.bridge, "bridge", "vfy")
    try:
        result = _move(cells, "vfy", cells.bridge, cells.pool, cells.sub(cells.a, "pooldb"))
    finally:
        with psycopg.connect(superuser_dsn(cells.a, "pooldb"), autocommit=True) as conn:
            conn.execute("DROP TRIGGER swallow ON app.comments; DROP FUNCTION public.swallow()")
    assert result.returncode == 1
    assert "verification failed: comments: source 20 rows, target 19 rows" in result.stderr
    assert tenant_sums(cells.bridge, "bridge", "vfy") == source
    assert tenant_sums(cells.pool, "pool", "vfy")["documents"] == (0, "0")
    with psycopg.connect(tenant_dsn(cells.bridge, "bridge", "vfy")) as conn:  # LOGIN again
        assert conn.execute("SELECT count(*) FROM documents").fetchone() == (20,)
    with psycopg.connect(cells.pool) as conn:
        assert conn.execute(
            "SELECT count(*) FROM tenancy_meta.moves WHERE tenant_id = 'vfy'"
        ).fetchone() == (0,)
