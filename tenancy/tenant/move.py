"""``tenancy tenant move``: one tenant's rows to its new home while it keeps writing.

Phases (docs/tenant-moves.md): prepare, copy + catch up, freeze, verify,
switch, clean up. Into a bridge schema or a silo database the rows stream by
logical replication into a staging schema named like the source's (logical
replication matches schema-qualified names), renamed into place at the
switch. Into the pool, rows never go through the apply worker (it cannot
write FORCE-RLS tables without BYPASSRLS, which no managed cloud grants):
the tenant is frozen first and its rows are copied through the app role with
the tenant set, so the policy's WITH CHECK guards every row.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import psycopg
from psycopg import sql

from components.model.catalog import Catalog
from components.postgres.apply import _run as run_statement
from components.postgres.datamodel import TenantHome, TenantTable, parents_first, tenant_role
from components.postgres.sqlplan import (
    APP_ROLE,
    OWNER_ROLE,
    TenantDb,
    create_index_sql,
    create_table_sql,
    foreign_key_sql,
    tenant_statements,
)
from tenancy.tenant import journal, replication
from tenancy.tenant.errors import MoveInputError, VerificationFailed
from tenancy.tenant.freeze import (
    drop_pool_triggers,
    freeze_tenant,
    join,
    set_login,
    unfreeze_tenant,
)
from tenancy.tenant.rows import (
    Checksums,
    Place,
    checksums_at_once,
    copy_rows,
    delete_rows,
    row_count,
)
from tenancy.tenant.site import Site, open_admin, read_site

COPY_TIMEOUT_S = 600.0
LAG_TIMEOUT_S = 60.0
VERIFY_RETRY_S = 5.0
# Fault injection for the crash tests: SIGKILL this process when a phase starts.
CRASH_ENV = "TENANCY_MOVE_CRASH_AT"

Say = Callable[[str], None]


@dataclass(frozen=True)
class MoveRequest:
    tenant_id: str
    stack: str
    catalog: Catalog
    source_dsn: str
    target_dsn: str
    subscription_dsn: str | None = None  # CREATE/DROP SUBSCRIPTION; default: target's DSN
    rollback: bool = False


@dataclass
class MoveReport:
    tenant: str
    source: str = ""
    target: str = ""
    outcome: str = ""
    rows: int = 0
    checksums: Checksums = field(default_factory=dict)
    phases_s: dict[str, float] = field(default_factory=dict)
    freeze_window_s: float = 0.0
    total_s: float = 0.0
    connection: dict[str, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "tenant": self.tenant,
            "source": self.source,
            "target": self.target,
            "outcome": self.outcome,
            "rows": self.rows,
            "checksums": {k: {"rows": c, "sum": s} for k, (c, s) in self.checksums.items()},
            "phases_s": {k: round(v, 3) for k, v in self.phases_s.items()},
            "freeze_window_s": round(self.freeze_window_s, 3),
            "total_s": round(self.total_s, 3),
            "connection": self.connection,
        }


@dataclass
class _Move:
    """Everything one run knows; methods are the phases."""

    request: MoveRequest
    source: Site
    target: Site
    tenant: TenantDb
    say: Say
    report: MoveReport
    tables: tuple[TenantTable, ...] = ()
    frozen_at: float | None = None

    @property
    def tid(self) -> str:
        return self.tenant.id

    @property
    def src_home(self) -> TenantHome:
        return self.source.home(self.tid)

    @property
    def tgt_home(self) -> TenantHome:
        return self.target.home(self.tid)

    @property
    def streaming(self) -> bool:
        return self.target.isolation != "pool"

    @property
    def src_place(self) -> Place:
        return Place(self.src_home, self.src_home.schema)

    @property
    def tgt_place(self) -> Place:
        return Place(self.tgt_home, self.tgt_home.schema)

    @property
    def staging(self) -> Place:
        """Where rows stream to: a schema named like the source's, in the target home's db."""
        return Place(self.tgt_home, self.src_home.schema)

    @property
    def sub_dsn(self) -> str:
        base = self.request.subscription_dsn or self.target.dsn
        return psycopg.conninfo.make_conninfo(base, dbname=self._tgt_db)

    @property
    def _tgt_db(self) -> str:
        return self.tgt_home.database or self.target.admin_database

    def entry(self, phase: str) -> journal.Entry:
        return journal.Entry(
            self.tid,
            self.source.server,
            self.source.isolation,
            self.target.isolation,
            phase,
            {"rollback": self.request.rollback, "source_server": self.source.server},
        )

    def enter(self, phase: str) -> None:
        with self.target.session() as conn:
            journal.write(conn, self.entry(phase))
        self.say(f"phase {phase}")
        if os.environ.get(CRASH_ENV) == phase:
            os.kill(os.getpid(), signal.SIGKILL)

    def _pool_tables(self, site: Site) -> tuple[TenantTable, ...]:
        return self.tables if site.isolation == "pool" else ()

    # --- prepare ------------------------------------------------------------------------

    def prepare(self) -> None:
        self.enter("prepare")
        with self.target.session() as conn:
            for statement in tenant_statements(self.target.isolation, self.tenant, self.tables):
                db = statement.database
                if db is None:
                    run_statement(conn, statement)
                else:
                    with self.target.session(db) as other:
                        run_statement(other, statement)
            # Until the switch the tenant must not reach its half-filled new home.
            set_login(conn, self.tid, False)
            if self.target.isolation == "pool":
                join(conn, APP_ROLE)
                # Rolling back into the pool: its freeze triggers guarded the stale rows.
                drop_pool_triggers(conn, self.tid, self.tables)
        if self.source.isolation == "pool":
            with self.source.session() as conn:
                join(conn, APP_ROLE)
        if self.streaming:
            self._prepare_streaming()

    def _prepare_streaming(self) -> None:
        staging = self.staging
        with self.target.session(self.tgt_home.database) as conn, conn.transaction():
            if staging.schema == self.tgt_home.schema:
                # Same name (pool -> silo): the staging tables replace the empty final ones.
                for table in reversed(parents_first(self.tables)):
                    conn.execute(
                        sql.SQL("DROP TABLE IF EXISTS {}").format(self.tgt_place.table(table))
                    )
            else:
                # Owned like the final tables will be: ALTER TABLE ... OWNER needs CREATE here.
                owner = tenant_role(self.tid) if self.target.isolation == "silo" else OWNER_ROLE
                conn.execute(
                    sql.SQL("CREATE SCHEMA IF NOT EXISTS {} AUTHORIZATION {}").format(
                        sql.Identifier(staging.schema), sql.Identifier(owner)
                    )
                )
            for table in self.tables:
                conn.execute(create_table_sql(self.tgt_home, table, staging.schema, False))
                self._own_like_final(conn, table)
        with self.source.session(self.src_home.database) as conn:
            replication.grant_copy_policy(conn, self.src_place, self.tid, self.tables)
            replication.create_publication(conn, self.src_place, self.tid, self.tables)

    def _own_like_final(self, conn: psycopg.Connection, table: TenantTable) -> None:
        """Owner and grants of the final table already at prepare: the switch stays short."""
        role = tenant_role(self.tid)
        staged = self.staging.table(table)
        if self.target.isolation == "silo":
            conn.execute(sql.SQL("ALTER TABLE {} OWNER TO {}").format(staged, sql.Identifier(role)))
            return
        conn.execute(
            sql.SQL("ALTER TABLE {} OWNER TO {}").format(staged, sql.Identifier(OWNER_ROLE))
        )
        conn.execute(
            sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON {} TO {}").format(
                staged, sql.Identifier(role)
            )
        )

    # --- copy, freeze, verify ---------------------------------------------------------------

    def copy_streaming(self) -> None:
        self.enter("copy")
        source_conninfo = self.source.dsn_for(self.src_home.database)
        replication.create_subscription(self.sub_dsn, source_conninfo, self.tid)
        with self.source.session(self.src_home.database) as conn:
            replication.wait_for_initial_copy(conn, self.sub_dsn, self.tid, COPY_TIMEOUT_S)

    def catch_up(self) -> None:
        # Secondary indexes after the initial copy (cheaper than maintaining them row by
        # row); the primary key existed from the start: the apply worker finds rows by it.
        with self.target.session(self.tgt_home.database) as conn:
            for table in self.tables:
                for columns in table.indexes:
                    conn.execute(create_index_sql(self.staging.schema, table, columns))
        with self.source.session(self.src_home.database) as conn:
            lsn = replication.source_lsn(conn)
            replication.wait_for_lsn(conn, self.sub_dsn, self.tid, lsn, LAG_TIMEOUT_S)

    def freeze(self) -> None:
        self.enter("freeze")
        self.frozen_at = time.monotonic()
        with self.source.session() as conn:
            freeze_tenant(conn, self.tid, self._pool_tables(self.source))
        if self.streaming:
            with self.source.session(self.src_home.database) as conn:
                lsn = replication.source_lsn(conn)
                replication.wait_for_lsn(conn, self.sub_dsn, self.tid, lsn, LAG_TIMEOUT_S)

    def copy_frozen(self) -> None:
        self.enter("copy")
        with (
            self.source.session(self.src_home.database) as src,
            self.target.session(self.tgt_home.database) as tgt,
        ):
            self.report.rows = copy_rows(
                src,
                self.src_place,
                tgt,
                self.tgt_place,
                self.tid,
                self.tables,
                replace=self.request.rollback,
            )

    def verify(self) -> None:
        self.enter("verify")
        where = self.staging if self.streaming else self.tgt_place
        deadline = time.monotonic() + VERIFY_RETRY_S
        source = (partial(self.source.connect, self.src_home.database), self.src_place)
        target = (partial(self.target.connect, self.tgt_home.database), where)
        expected, got = checksums_at_once([source, target], self.tid, self.tables)
        while got != expected:
            if time.monotonic() > deadline:
                raise VerificationFailed(_mismatch(expected, got))
            time.sleep(0.2)
            (got,) = checksums_at_once([target], self.tid, self.tables)
        self.report.checksums = expected
        self.report.rows = sum(count for count, _ in expected.values())

    # --- switch, clean up -------------------------------------------------------------------

    def switch(self) -> None:
        self.enter("switching")
        if self.streaming:
            replication.drop_subscription(self.sub_dsn, self.tid)
            self._move_staging_into_place()
        else:
            with self.target.session() as conn:
                set_login(conn, self.tid, True)
        # The tenant can write again, at its new home: the freeze window ends here.
        if self.frozen_at is not None:
            self.report.freeze_window_s = time.monotonic() - self.frozen_at
        with self.target.session() as conn:  # converge on the plan (owner, grants, limits)
            for statement in tenant_statements(self.target.isolation, self.tenant, self.tables):
                if statement.database is None:
                    run_statement(conn, statement)
                else:
                    with self.target.session(statement.database) as other:
                        run_statement(other, statement)
            conn.execute(
                "UPDATE tenancy_meta.homes SET state = 'home', since = now() WHERE tenant_id = %s",
                [self.tid],
            )
        with self.source.session() as conn:
            conn.execute(
                "UPDATE tenancy_meta.homes SET state = 'moved-out', since = now()"
                " WHERE tenant_id = %s",
                [self.tid],
            )
        self.enter("switched")

    def _move_staging_into_place(self) -> None:
        staging, final = self.staging, self.tgt_place
        with self.target.session(self.tgt_home.database) as conn, conn.transaction():
            if staging.schema != final.schema:
                present = conn.execute(
                    "SELECT 1 FROM pg_namespace WHERE nspname = %s", [staging.schema]
                ).fetchone()
                if present:  # a rerun of a switch that died after this transaction skips it
                    for table in reversed(parents_first(self.tables)):
                        conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(final.table(table)))
                    for table in self.tables:
                        conn.execute(
                            sql.SQL("ALTER TABLE {} SET SCHEMA {}").format(
                                staging.table(table), sql.Identifier(final.schema)
                            )
                        )
                    conn.execute(sql.SQL("DROP SCHEMA {}").format(sql.Identifier(staging.schema)))
            # In the same transaction as the rename: the tenant may log in once its tables are there.
            set_login(conn, self.tid, True)
            # NOT VALID keeps the switch short; VALIDATE runs after the tenant is back.
            for table in self.tables:
                for index, fk in enumerate(table.foreign_keys):
                    name = fk.constraint_name(table.name)
                    exists = conn.execute(
                        "SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass(%s) AND conname = %s",
                        [f"{final.schema}.{table.name}", name],
                    ).fetchone()
                    if not exists:
                        conn.execute(
                            sql.SQL("ALTER TABLE {} ADD {} NOT VALID").format(
                                final.table(table), foreign_key_sql(final.schema, table, index)
                            )
                        )

    def cleanup(self) -> None:
        if self.streaming:
            replication.drop_subscription(self.sub_dsn, self.tid)
            with self.source.session(self.src_home.database) as conn:
                replication.drop_source_objects(conn, self.src_place, self.tid, self.tables)
            with self.target.session(self.tgt_home.database) as conn:
                for table in self.tables:
                    for fk in table.foreign_keys:
                        conn.execute(
                            sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
                                self.tgt_place.table(table),
                                sql.Identifier(fk.constraint_name(table.name)),
                            )
                        )
        if self.request.rollback:
            # The forward move is undone: forget its journal so the tenant can move again.
            with self.source.session() as conn:
                journal.delete(conn, self.tid)
        self.enter("done")

    # --- abort ----------------------------------------------------------------------------

    def abort(self) -> None:
        """Undo a move that has not switched: the source holds every row and gets them back."""
        self.say("rolling back to the source")
        replication.drop_subscription(self.sub_dsn, self.tid)
        with self.source.session(self.src_home.database) as conn:
            replication.drop_source_objects(conn, self.src_place, self.tid, self.tables)
        if self.streaming:
            self._drop_staging()
        else:
            with self.target.session(self.tgt_home.database) as conn:
                if not self.request.rollback:
                    delete_rows(conn, self.tgt_place, self.tid, self.tables)
        with self.source.session() as conn:
            unfreeze_tenant(conn, self.tid, self._pool_tables(self.source))
        with self.target.session() as conn:
            journal.delete(conn, self.tid)

    def _drop_staging(self) -> None:
        staging = self.staging
        with self.target.session(self.tgt_home.database) as conn:
            if staging.schema != self.tgt_home.schema:
                conn.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                        sql.Identifier(staging.schema)
                    )
                )
                return
            for table in reversed(parents_first(self.tables)):
                conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(staging.table(table)))
        with self.target.session() as conn:  # re-create the empty final tables
            for statement in tenant_statements(self.target.isolation, self.tenant, self.tables):
                with self.target.session(statement.database) as other:
                    run_statement(other, statement)


def _mismatch(expected: Checksums, got: Checksums) -> str:
    parts = []
    for table, (count, total) in expected.items():
        other = got.get(table, (0, "0"))
        if (count, total) != other:
            parts.append(
                f"{table}: source {count} rows, target {other[0]} rows"
                + (" (checksums differ)" if count == other[0] else "")
            )
    return "verification failed: " + "; ".join(parts)


# --- entry -------------------------------------------------------------------------------


def run_move(request: MoveRequest, say: Say) -> MoveReport:
    """Run (or resume) a move; raises MoveInputError (nothing changed) or VerificationFailed."""
    started = time.monotonic()
    tenant = _catalog_tenant(request)
    first, second = read_site(request.source_dsn, "source"), read_site(request.target_dsn, "target")
    source, target = (second, first) if request.rollback else (first, second)
    if source.server == target.server:
        raise MoveInputError(
            f"source and target are the same server ({source.server}): a move needs two servers"
        )
    report = MoveReport(tenant.id, source.where, target.where)
    move = _Move(request, source, target, tenant, say, report, _common_model(source, target))
    with target.session() as conn:
        entry = journal.read(conn, tenant.id)
    if entry is not None and entry.phase == "done" and entry.peer_server == source.server:
        report.outcome = "already moved" if not request.rollback else "already rolled back"
        say(f"{tenant.id}: {report.outcome}; nothing to do")
        return report
    if entry is not None and entry.phase in journal.RESUMABLE:
        say(f"resuming the move of {tenant.id} from phase {entry.phase}")
        if entry.phase == "switching":
            move.frozen_at = time.monotonic()
            move.switch()
        move.cleanup()
        return _finish(move, started, "moved (resumed)")
    if entry is not None:
        say(f"an earlier run of this move stopped in phase {entry.phase}")
        move.abort()
    _preflight(move)
    try:
        return _phases(move, started)
    except VerificationFailed:
        move.abort()
        raise
    except (psycopg.Error, TimeoutError):
        # Failover mid-move, a lost slot, a timeout: roll back cleanly, a rerun restarts.
        move.abort()
        raise


def _phases(move: _Move, started: float) -> MoveReport:
    timings = move.report.phases_s
    clock = time.monotonic()

    def lap(name: str) -> None:
        nonlocal clock
        now = time.monotonic()
        timings[name] = now - clock
        clock = now

    move.prepare()
    lap("prepare")
    if move.streaming:
        move.copy_streaming()
        lap("copy")
        move.catch_up()
        lap("catch_up")
        move.freeze()
        lap("freeze")
    else:
        move.freeze()
        lap("freeze")
        move.copy_frozen()
        lap("copy")
    move.verify()
    lap("verify")
    move.switch()
    lap("switch")
    move.cleanup()
    lap("cleanup")
    return _finish(move, started, "moved and verified")


def _finish(move: _Move, started: float, outcome: str) -> MoveReport:
    report = move.report
    report.outcome = "rolled back and verified" if move.request.rollback else outcome
    report.total_s = time.monotonic() - started
    home = move.tgt_home
    report.connection = {
        "server": move.target.server,
        "isolation": move.target.isolation,
        "database": home.database or move.target.admin_database,
        "schema": home.schema,
        "login_role": tenant_role(move.tid),
    }
    move.say(
        f"{move.tid} now lives on server {move.target.server} ({move.target.isolation}):"
        f" database {report.connection['database']}, schema {home.schema},"
        f" login role {tenant_role(move.tid)}; source rows stay until"
        " `tenancy tenant move ... --purge-source`"
    )
    return report


def _catalog_tenant(request: MoveRequest) -> TenantDb:
    tenant = next((t for t in request.catalog.tenants if t.id == request.tenant_id), None)
    if tenant is None:
        raise MoveInputError(f"tenant {request.tenant_id!r} is not in the catalog")
    if tenant.status != "active":
        raise MoveInputError(
            f"tenant {tenant.id} is {tenant.status}: only active tenants move"
            " (reactivate it in the catalog first)"
        )
    return TenantDb(tenant.id)


def moving_from(tenant: Any) -> Any:
    """The catalog's ``moving_from`` (part B of issue 11), read defensively."""
    return getattr(tenant, "moving_from", None)


def _catalog_isolation_check(move: _Move) -> None:
    catalog, tid = move.request.catalog, move.tid
    tenant = next(t for t in catalog.tenants if t.id == tid)
    tier = catalog.tiers[tenant.tier].isolation
    if move.request.rollback:
        return
    if tier != move.target.isolation:
        raise MoveInputError(
            f"the catalog puts {tid} in tier {tenant.tier} ({tier}), but the target is a"
            f" {move.target.isolation} server: point --target-dsn at its new home"
        )
    origin = moving_from(tenant)
    if origin is not None:
        origin_tier = getattr(origin, "tier", None)
        expected = catalog.tiers[origin_tier].isolation if origin_tier in catalog.tiers else None
        if expected is not None and expected != move.source.isolation:
            raise MoveInputError(
                f"the catalog says {tid} moves from tier {origin_tier} ({expected}), but the"
                f" source is a {move.source.isolation} server"
            )


def _preflight(move: _Move) -> None:
    """Every check that can fail before anything changes."""
    _catalog_isolation_check(move)
    tid = move.tid
    with move.source.session() as conn:
        home = conn.execute(
            "SELECT state FROM tenancy_meta.homes WHERE tenant_id = %s", [tid]
        ).fetchone()
    if home is None or home[0] != "home":
        state = "moved out" if home else "not on it"
        raise MoveInputError(f"tenant {tid} is {state}: {move.source.where}")
    if move.request.rollback:
        with move.source.session() as conn:
            forward = journal.read(conn, tid)
        if forward is None or forward.phase != "done" or forward.peer_server != move.target.server:
            raise MoveInputError(
                f"no completed move of {tid} from {move.target.server} to {move.source.server}"
                " to roll back"
            )
    if move.streaming:
        cloud = move.request.stack.split("-")[1] if "-" in move.request.stack else ""
        replication.require_logical_decoding(move.source, cloud)
        with move.source.session(move.src_home.database) as conn:
            if move.src_home.rls:
                replication.require_tenant_in_replica_identity(conn, move.src_place, move.tables)
        _require_free_staging(move)
    if not move.request.rollback:
        held = _rows_at_target(move)
        if held:
            raise MoveInputError(
                f"the target already holds {held} rows of {tid} ({move.target.where}):"
                " a move never overwrites; purge them or pick another target"
            )


def _require_free_staging(move: _Move) -> None:
    staging = move.staging
    if staging.schema == move.tgt_home.schema:
        return
    try:
        with move.target.session(move.tgt_home.database) as conn:
            taken = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", [staging.schema]
            ).fetchone()
    except psycopg.OperationalError:
        return  # the silo database does not exist yet: prepare creates it
    if taken:
        raise MoveInputError(
            f"schema {staging.schema} already exists at the target ({move.target.where}):"
            " another move into this server is under way, or the schema is foreign"
        )


def _rows_at_target(move: _Move) -> int:
    try:
        with move.target.session(move.tgt_home.database) as conn:
            present = [
                t
                for t in move.tables
                if conn.execute(
                    "SELECT to_regclass(%s) IS NOT NULL", [f"{move.tgt_home.schema}.{t.name}"]
                ).fetchone()[0]  # type: ignore[index]
            ]
            if not present:
                return 0
            if move.tgt_home.rls:
                join(conn, APP_ROLE)
            return row_count(conn, move.tgt_place, move.tid, present)
    except psycopg.OperationalError:
        return 0  # no silo database yet


def _common_model(source: Site, target: Site) -> tuple[TenantTable, ...]:
    if source.model != target.model:
        raise MoveInputError(
            f"the tenant data model differs between {source.where} and {target.where}:"
            " run `tenancy db apply` with the same tenancy version on both first"
        )
    return source.model


def purge_source(request: MoveRequest, say: Say) -> int:
    """Delete the moved tenant's rows at the old home, once the move is done."""
    tenant = _catalog_tenant(request)
    source, target = (
        read_site(request.source_dsn, "source"),
        read_site(request.target_dsn, "target"),
    )
    with target.session() as conn:
        entry = journal.read(conn, tenant.id)
    if entry is None or entry.phase != "done" or entry.peer_server != source.server:
        raise MoveInputError(
            f"no completed move of {tenant.id} from {source.server} to {target.server}:"
            " purge only follows a verified move"
        )
    home = source.home(tenant.id)
    place = Place(home, home.schema)
    with source.session(home.database) as conn:
        if home.rls:
            join(conn, APP_ROLE)
        count = row_count(conn, place, tenant.id, source.model)
        delete_rows(conn, place, tenant.id, source.model)
        if home.rls:  # nothing left to guard
            drop_pool_triggers(conn, tenant.id, source.model)
    say(f"purged {count} rows of {tenant.id} from {source.where}")
    return count


__all__: Sequence[str] = ("MoveRequest", "MoveReport", "run_move", "purge_source", "open_admin")
