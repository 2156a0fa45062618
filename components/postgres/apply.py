"""Apply a ``SqlPlan`` to a live server with psycopg 3; the one code path shared by
``tenancy db apply`` and the Pulumi ``DatabaseIsolation`` provider.

Each statement runs only when its ``done`` query says it is not in effect yet, and
is then recorded as a change. Statements run in transactions that never split one
owner's (a tenant's, or the shared objects') consecutive statements, so a failure
leaves no half-built tenant behind and earlier transactions stay applied (a re-run
continues where it stopped). CREATE DATABASE runs in autocommit because PostgreSQL
forbids it in a transaction.

At fleet size (a shard of 1,000 tenants has tens of thousands of statements) one
round trip per check and per change is what makes an apply slow, so a batch goes
in two steps:

1. one query answers the ``done`` checks of up to ``CHECKS_PER_QUERY`` statements
   at once (``SELECT ARRAY[(check), ...]``). An owner (a tenant, or the shared
   objects) whose checks all say done is skipped: a no-op apply is a handful of
   round trips. A check that cannot run yet (its table does not exist) counts as
   not done.
2. every owner with work left runs *all* its statements, each still guarded by its
   own check, evaluated server-side in a DO block right before the statement (so
   a check that was only vacuously true before an earlier statement created its
   object is asked again at the right moment), ``STATEMENTS_PER_BLOCK`` per round
   trip and transaction. The block records which statements ran, so the change
   report stays exact. If a block fails, its transaction rolls back and the same
   statements are replayed one at a time, which names the statement the server
   refused (and stops the apply there). Within a block every owner's role changes
   run first (``_role_changes_first``), and each kind of check is one expression
   over arrays (``_Guards``): both keep PostgreSQL from redoing work per tenant.
3. a run of tenants may spread its blocks over ``connections`` sessions
   (``_run_blocks``); shared objects always run on one, before and after them.

Why skipping a whole owner is safe: plan statements only ever add or tighten their
owner's objects, so one owner's statements never undo another's (the tests compare
the batched answers with the per-statement ones on partial states).

Nothing here ever drops anything. Tenants that left the catalog are reported as
orphans; deciding what happens to their data is an explicit, human step.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field

import psycopg
import psycopg.errors
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from components.postgres import sqlchecks as chk
from components.postgres.datamodel import destructive_changes, table_from_dict
from components.postgres.sqlplan import APP_ROLE, META_SCHEMA, SqlPlan, Statement, tenant_of

CHECKS_PER_QUERY = 1_000  # bounds one query's size; planning cost grows with it
STATEMENTS_PER_BLOCK = 250  # per DO block: a failure replays at most one transaction
# Sessions per database that run tenants' blocks side by side (``--connections``). Two
# by default: while one session's DDL waits on the server's files, the other computes.
# More is not better on a small server: each session's role changes invalidate the
# others' membership caches, so a 1,000-tenant bridge shard took 8.4 s of server CPU
# with two sessions and 11.6 s with four, on 2 cores (benchmarks/bench_db_apply.py).
# Only a run of tenants with several blocks uses the second: adding one tenant does not.
CONNECTIONS = 2
LOCK_TIMEOUT_MS = 10_000  # never queue forever behind an application's long transaction
SERVER_TAG = "tenancy:server="
# Key of the session-level advisory lock that serialises concurrent applies on one server.
_ADVISORY_LOCK_KEY = 0x7E9A9C1


class ApplyError(Exception):
    """The server refused a statement, or the DSN points at another server's database."""


@dataclass(frozen=True)
class Orphan:
    kind: str  # role | schema | database
    name: str
    tenant_id: str

    def render(self) -> str:
        return f"{self.kind} {self.name} (tenant {self.tenant_id})"


@dataclass
class ApplyReport:
    plan: SqlPlan
    changed: list[Statement] = field(default_factory=list)
    unchanged: int = 0
    orphans: list[Orphan] = field(default_factory=list)
    round_trips: int = 0  # queries sent for the plan's statements (checks and changes)


def describe(conninfo: str) -> str:
    """``user@host:port/dbname`` for messages; never echoes a password."""
    parts = conninfo_to_dict(conninfo)
    host = parts.get("host") or parts.get("hostaddr") or "localhost"
    return f"{parts.get('user', '')}@{host}:{parts.get('port', 5432)}/{parts.get('dbname', '')}".lstrip(
        "@"
    )


def connect(conninfo: str, dbname: str | None = None) -> psycopg.Connection:
    target = make_conninfo(conninfo, dbname=dbname) if dbname else conninfo
    conn = psycopg.connect(target, autocommit=True)
    conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(LOCK_TIMEOUT_MS)))
    return conn


def _batches(statements: tuple[Statement, ...]) -> Iterator[list[Statement]]:
    for _, group in itertools.groupby(statements, key=lambda s: (s.database, s.transactional)):
        yield list(group)


def _run(conn: psycopg.Connection, statement: Statement) -> bool:
    """Run ``statement`` unless already in effect; True when it changed something."""
    try:
        row = conn.execute(statement.done).fetchone()
        if row is not None and row[0]:
            return False
        conn.execute(statement.sql)
    except psycopg.Error as error:
        raise _refused(statement, error) from error
    return True


def _refused(statement: Statement, error: psycopg.Error) -> ApplyError:
    owner = "shared objects" if statement.owner == "shared" else f"tenant {statement.owner}"
    return ApplyError(f"{statement.summary} ({owner}) failed: {error}".strip())


def check_all(
    conn: psycopg.Connection, statements: Sequence[Statement], report: ApplyReport | None = None
) -> list[bool | None]:
    """Every statement's ``done`` answer, in a few round trips.

    Checks of one kind (a ``sqlchecks.Check`` template) are asked together, one
    query per kind; any other check joins ``SELECT ARRAY[(check), ...]`` queries.
    None where a query failed (e.g. a check reads a table that an earlier
    statement has yet to create): unknown, which never counts as done.
    """
    answers: list[bool | None] = [None] * len(statements)
    kinds: dict[tuple[object, ...], list[int]] = {}
    loose: list[int] = []
    for index, statement in enumerate(statements):
        key = _bulk_key(statement.done)
        if key is None:
            loose.append(index)
        else:
            kinds.setdefault(key, []).append(index)
    for indexes in kinds.values():
        for start in range(0, len(indexes), CHECKS_PER_QUERY * 10):
            chunk = indexes[start : start + CHECKS_PER_QUERY * 10]
            checks = [statements[i].done for i in chunk]
            _count(report)
            error = _answer(conn, chunk, _bulk_query(checks), answers)  # type: ignore[arg-type]
            if error is not None and not _template_cannot_run(error):
                _answer_each(conn, statements, chunk, answers, report)
    for start in range(0, len(loose), CHECKS_PER_QUERY):
        chunk = loose[start : start + CHECKS_PER_QUERY]
        query = sql.SQL("SELECT unnest(ARRAY[{}]::boolean[])").format(
            sql.SQL(", ").join(sql.SQL("({})").format(statements[i].done) for i in chunk)
        )
        _count(report)
        if _answer(conn, chunk, (query, []), answers) is not None:
            _answer_each(conn, statements, chunk, answers, report)
    return answers


def _count(report: ApplyReport | None) -> None:
    if report is not None:
        report.round_trips += 1


def _answer_each(
    conn: psycopg.Connection,
    statements: Sequence[Statement],
    indexes: Sequence[int],
    answers: list[bool | None],
    report: ApplyReport | None,
) -> None:
    """A query of many checks failed: ask each on its own, so only those that
    cannot run yet stay unknown (a fresh server, where the marker tables are missing)."""
    for index in indexes:
        _count(report)
        query = sql.SQL("SELECT ({})").format(statements[index].done)
        _answer(conn, [index], (query, []), answers)


def _answer(
    conn: psycopg.Connection,
    indexes: Sequence[int],
    query: tuple[sql.Composed, list[object]],
    answers: list[bool | None],
) -> psycopg.Error | None:
    """Fill ``answers`` at ``indexes`` from ``query``; the error (answers left None) if it failed."""
    try:
        with conn.transaction():  # a failed query must not abort an outer transaction
            rows = conn.execute(query[0], query[1]).fetchall()
    except psycopg.Error as error:
        return error
    for index, row in zip(indexes, rows, strict=True):
        answers[index] = row[0]
    return None


def _template_cannot_run(error: psycopg.Error) -> bool:
    """A table or schema the template itself names is missing (a fresh server's marker):
    every check of that template fails alike, so asking each on its own is wasted."""
    return isinstance(error, (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName))


def _bulk_key(check: object) -> tuple[object, ...] | None:
    if not isinstance(check, chk.Check) or not check.params:
        return None
    types = tuple((name, _array_type(value)) for name, value in sorted(check.params.items()))
    return (check.template, *types)


def _array_type(value: object) -> str:
    # bool before int: bool is an int in Python. Lists travel as array-literal text.
    for kind, pg_type in ((bool, "boolean"), (int, "bigint"), (str, "text"), (list, "text")):
        if isinstance(value, kind):
            return pg_type
    raise TypeError(f"no array type for check parameter {value!r}")


def _array_literal(values: list[str]) -> str:
    quoted = ('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
    return "{" + ",".join(quoted) + "}"


def _bulk_query(checks: Sequence[chk.Check]) -> tuple[sql.Composed, list[object]]:
    """``checks`` (one template) as one query: a row per check, in order."""
    names = sorted(checks[0].params)
    columns = {name: sql.Identifier("u", f"p_{name}") for name in names}
    arrays: list[object] = []
    for name in names:
        values = [check.params[name] for check in checks]
        arrays.append([_array_literal(v) if isinstance(v, list) else v for v in values])
    types = [_array_type(checks[0].params[name]) for name in names]
    query = sql.SQL(
        "SELECT ({check}) FROM unnest({arrays}) WITH ORDINALITY AS u({columns}, i) ORDER BY i"
    ).format(
        check=sql.SQL(checks[0].template).format(**columns),
        arrays=sql.SQL(", ").join(sql.SQL(f"%s::{t}[]") for t in types),
        columns=sql.SQL(", ").join(sql.Identifier(f"p_{name}") for name in names),
    )
    return query, arrays


def _owners_with_work(batch: Sequence[Statement], answers: Sequence[bool | None]) -> set[str]:
    return {s.owner for s, done in zip(batch, answers, strict=True) if not done}


_CHANGED = "tenancy.apply_changed"  # transaction-local: which statements of a block ran


@dataclass
class _Guards:
    """A block's checks as a loop: one guard expression per check *kind*, not per statement.

    Each distinct expression in a PL/pgSQL block is parsed and planned on its own, so
    a block of 250 literal checks cost 250 plannings (a quarter of a bridge shard's first
    apply). Here each kind's template reads its values from arrays by position, so it
    is planned a few times per block and then runs from PL/pgSQL's cached plan. Checks
    without a template (a handful per plan) keep their own expression as a kind of one.
    """

    expressions: list[sql.Composable] = field(default_factory=list)
    arrays: list[tuple[str, str, list[str]]] = field(default_factory=list)  # name, type, values
    kind_of: list[int] = field(default_factory=list)  # per statement: index into expressions
    position: list[int] = field(default_factory=list)  # per statement: 1-based row in its arrays
    _kinds: dict[tuple[object, ...], tuple[int, dict[str, list[str]]]] = field(default_factory=dict)

    def add(self, check: sql.Composable) -> None:
        key = _bulk_key(check)
        if key is None:
            self.kind_of.append(len(self.expressions))
            self.position.append(1)
            self.expressions.append(check)
            return
        assert isinstance(check, chk.Check)
        if key not in self._kinds:
            self._kinds[key] = (len(self.expressions), self._declare(check))
        kind, columns = self._kinds[key]
        for name, values in columns.items():
            value = check.params[name]
            values.append(_array_literal(value) if isinstance(value, list) else str(value))
        self.kind_of.append(kind)
        self.position.append(len(next(iter(columns.values()))))

    def _declare(self, check: chk.Check) -> dict[str, list[str]]:
        kind = len(self.expressions)
        columns: dict[str, list[str]] = {}
        references = {}
        for name in sorted(check.params):
            variable = f"tenancy_k{kind}_{name}"
            columns[name] = []
            self.arrays.append((variable, _array_type(check.params[name]), columns[name]))
            references[name] = sql.SQL(f"{variable}[tenancy_at[tenancy_i]]")
        self.expressions.append(sql.SQL(check.template).format(**references))
        return columns


def _array_declaration(name: str, pg_type: str, values: list[str]) -> sql.Composed:
    return sql.SQL("{} {}[] := {}::{}[];").format(
        sql.SQL(name), sql.SQL(pg_type), sql.Literal(_array_literal(values)), sql.SQL(pg_type)
    )


def _guarded_block(conn: psycopg.Connection, statements: Sequence[Statement]) -> sql.Composed:
    """One DO block: for each statement, ``IF NOT (done) THEN EXECUTE sql`` and note its index."""
    guards = _Guards()
    for statement in statements:
        guards.add(statement.done)
    texts = [statement.sql.as_string(conn) for statement in statements]
    declarations = [
        _array_declaration("tenancy_sql", "text", texts),
        _array_declaration("tenancy_kind", "int", [str(k) for k in guards.kind_of]),
        _array_declaration("tenancy_at", "int", [str(p) for p in guards.position]),
        *(_array_declaration(*array) for array in guards.arrays),
    ]
    cases = [
        sql.SQL("WHEN {} THEN tenancy_done := ({});").format(sql.Literal(kind), expression)
        for kind, expression in enumerate(guards.expressions)
    ]
    return sql.SQL(
        "DO $tenancy_apply$ DECLARE {declarations} tenancy_ran text := ''; tenancy_done boolean;"
        " BEGIN FOR tenancy_i IN 1 .. cardinality(tenancy_sql) LOOP"
        " CASE tenancy_kind[tenancy_i] {cases} END CASE;"
        " IF NOT coalesce(tenancy_done, false) THEN EXECUTE tenancy_sql[tenancy_i];"
        " tenancy_ran := tenancy_ran || (tenancy_i - 1) || ','; END IF; END LOOP;"
        " PERFORM set_config({key}, tenancy_ran, true); END $tenancy_apply$;"
        " SELECT current_setting({key})"
    ).format(
        declarations=sql.SQL(" ").join(declarations),
        cases=sql.SQL(" ").join(cases),
        key=sql.Literal(_CHANGED),
    )


def _owner_blocks(statements: Sequence[Statement]) -> Iterator[list[Statement]]:
    """Consecutive statements cut into blocks of about ``STATEMENTS_PER_BLOCK``, never
    splitting one owner's run of statements (an owner's objects commit together)."""
    block: list[Statement] = []
    for _, group in itertools.groupby(statements, key=lambda s: s.owner):
        run = list(group)
        if block and len(block) + len(run) > STATEMENTS_PER_BLOCK:
            yield block
            block = []
        block += run
    if block:
        yield block


def _role_changes_first(block: Sequence[Statement]) -> list[int]:
    """The order a block runs in: every owner's role changes, then everything else, each
    in plan order (so each owner's own order holds within both parts).

    Why: PostgreSQL 15 recomputes the admin's role memberships after any change to a
    role, walking every role the admin belongs to (one per tenant: it must be a member
    to set default privileges). Interleaved, that is a full walk per tenant -- quadratic,
    40% of a 1,000-tenant bridge shard's first apply. Grouped, it is one walk per block.
    Safe because a role change never needs an object a non-role statement creates.
    """
    roles = [i for i, statement in enumerate(block) if statement.role_change]
    rest = [i for i, statement in enumerate(block) if not statement.role_change]
    return roles + rest


def _run_block(conn: psycopg.Connection, block: Sequence[Statement]) -> list[Statement]:
    """One round trip: the guarded DO block, then which of its statements ran (in plan order)."""
    order = _role_changes_first(block)
    cursor = conn.execute(_guarded_block(conn, [block[i] for i in order]))
    cursor.nextset()
    row = cursor.fetchone()
    ran = {order[int(i)] for i in (row[0] if row else "").split(",") if i}
    return [s for i, s in enumerate(block) if i in ran]


def _run_one_by_one(
    conn: psycopg.Connection, statements: Sequence[Statement], report: ApplyReport
) -> None:
    for statement in statements:
        report.round_trips += 1
        if _run(conn, statement):
            report.round_trips += 1
            report.changed.append(statement)
        else:
            report.unchanged += 1


def _segments(statements: Sequence[Statement]) -> Iterator[tuple[bool, list[Statement]]]:
    """Consecutive runs of shared objects and of tenants: (is_shared, statements).

    Shared runs are barriers (tenants build on them, the closing marker follows them);
    a run of tenants holds independent owners, so its blocks may run side by side.
    """
    for shared, group in itertools.groupby(statements, key=lambda s: s.owner == "shared"):
        yield shared, list(group)


def _apply_batch(
    sessions: _Sessions, database: str | None, batch: Sequence[Statement], report: ApplyReport
) -> None:
    """Consecutive statements for one database: checked in bulk, then run block by block."""
    conn = sessions.primary(database)
    answers = check_all(conn, batch, report)
    busy = _owners_with_work(batch, answers)
    todo = [s for s in batch if s.owner in busy]
    report.unchanged += len(batch) - len(todo)
    if not todo:
        return
    if not batch[0].transactional:  # CREATE DATABASE: no transaction, so no DO block either
        _run_one_by_one(conn, todo, report)
        return
    # A transaction per block, not per batch: a 1,000-tenant first apply in one
    # transaction would hold a lock on every table it creates until the end.
    for shared, segment in _segments(todo):
        blocks = list(_owner_blocks(segment))
        conns = [conn] if shared else sessions.up_to(database, len(blocks))
        _run_blocks(conns, blocks, report)


def _run_guarded(conn: psycopg.Connection, block: Sequence[Statement], report: ApplyReport) -> None:
    """One block in one transaction; if the server refuses it, replay it statement by
    statement (in a new transaction), which names the statement it refuses."""
    try:
        with conn.transaction():
            report.round_trips += 1
            changed = _run_block(conn, block)
    except psycopg.Error:
        with conn.transaction():
            _run_one_by_one(conn, block, report)
        return
    report.changed += changed
    report.unchanged += len(block) - len(changed)


def _run_blocks(
    conns: Sequence[psycopg.Connection], blocks: Sequence[list[Statement]], report: ApplyReport
) -> None:
    """Run ``blocks`` on ``conns``, one worker per connection taking the next block.

    The report lists changes in plan order whichever connection made them. After a
    failure no new block starts (blocks already running finish and commit, which a
    re-run would have done anyway) and the first failing block's error is raised.
    """
    parts: list[ApplyReport | None] = [None] * len(blocks)
    failures: list[tuple[int, Exception]] = []
    queue = iter(enumerate(blocks))
    lock = threading.Lock()

    def work(conn: psycopg.Connection) -> None:
        while True:
            with lock:
                item = None if failures else next(queue, None)
            if item is None:
                return
            index, block = item
            parts[index] = part = ApplyReport(report.plan)
            try:
                _run_guarded(conn, block, part)
            except Exception as error:  # noqa: BLE001 -- re-raised below, in plan order
                with lock:
                    failures.append((index, error))

    if len(conns) == 1:
        work(conns[0])
    else:
        with ThreadPoolExecutor(len(conns), thread_name_prefix="tenancy-apply") as pool:
            list(pool.map(work, conns))
    for part in parts:
        if part is not None:
            report.changed += part.changed
            report.unchanged += part.unchanged
            report.round_trips += part.round_trips
    if failures:
        raise min(failures, key=lambda failure: failure[0])[1]


class _Sessions:
    """The apply's connections: per database, a primary plus up to ``limit - 1`` more,
    opened only when a run of tenants has blocks to spread over them."""

    def __init__(self, stack: ExitStack, conninfo: str, limit: int) -> None:
        self._stack, self._conninfo, self._limit = stack, conninfo, limit
        self._open: dict[str | None, list[psycopg.Connection]] = {}

    def primary(self, database: str | None) -> psycopg.Connection:
        return self.up_to(database, 1)[0]

    def up_to(self, database: str | None, wanted: int) -> list[psycopg.Connection]:
        conns = self._open.setdefault(database, [])
        while len(conns) < min(wanted, self._limit):
            conns.append(self._stack.enter_context(connect(self._conninfo, database)))
        return conns[: max(1, min(wanted, self._limit))]


def _claim_server(conn: psycopg.Connection, plan: SqlPlan, report: ApplyReport) -> None:
    """Refuse to apply free-01's plan to free-02: every tenant of free-02 would look orphaned.

    The database records which server it is in its comment the first time.
    """
    row = conn.execute(
        "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()"
    ).fetchone()
    comment = (row[0] if row else None) or ""
    tag = f"{SERVER_TAG}{plan.server}"
    if comment.startswith(SERVER_TAG) and comment != tag:
        claimed = comment[len(SERVER_TAG) :]
        raise ApplyError(
            f"this database belongs to server {claimed!r}, not {plan.server!r}: check --dsn/--shard"
            f" (to re-home it deliberately: COMMENT ON DATABASE ... IS NULL)"
        )
    if comment != tag:
        dbname = conn.info.dbname
        conn.execute(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(sql.Identifier(dbname), sql.Literal(tag))
        )
        report.changed.append(
            Statement(
                "shared", f"tag database {dbname} as server {plan.server}", sql.SQL(""), sql.SQL("")
            )
        )


def _refuse_destructive_model_change(conn: psycopg.Connection, plan: SqlPlan) -> None:
    """Compare the model the server last recorded with the plan's; refuse anything lossy.

    ``db apply`` only ever adds (tables, columns, indexes); a dropped column or
    a type change must be a hand-written migration, never a side effect.
    """
    if not plan.tables:
        return
    row = conn.execute(
        sql.SQL("SELECT to_regclass({}) IS NOT NULL").format(sql.Literal(f"{META_SCHEMA}.server"))
    ).fetchone()
    if not (row and row[0]):
        return
    recorded = conn.execute(sql.SQL("SELECT model FROM tenancy_meta.server")).fetchone()
    if recorded is None:
        return
    old = [table_from_dict(table) for table in recorded[0]]
    changes = destructive_changes(old, plan.tables)
    if changes:
        raise ApplyError(
            f"the tenant data model change is destructive and was refused: {'; '.join(changes)}."
            " db apply only adds tables, nullable (or defaulted) columns and indexes; migrate"
            " existing rows by hand first, or restore the previous definition"
        )


def apply_plan(conninfo: str, plan: SqlPlan, connections: int = CONNECTIONS) -> ApplyReport:
    """Bring the server to ``plan``; raises ``ApplyError`` or ``psycopg.OperationalError``.

    ``connections``: how many sessions per database may run tenants' blocks at once.
    """
    if connections < 1:
        raise ValueError(f"connections must be at least 1, not {connections}")
    report = ApplyReport(plan)
    with ExitStack() as stack:
        sessions = _Sessions(stack, conninfo, connections)
        admin = sessions.primary(None)
        admin.execute("SELECT pg_advisory_lock(%s)", [_ADVISORY_LOCK_KEY])
        _claim_server(admin, plan, report)
        _refuse_destructive_model_change(admin, plan)
        for batch in _batches(plan.statements):
            _apply_batch(sessions, batch[0].database, batch, report)
        report.orphans = find_orphans(admin, plan)
    return report


_ORPHAN_QUERIES = {
    # Pool tenants are known by their membership in the app role (roles are cluster-wide).
    "pool": (
        "role",
        "SELECT u.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
        " JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = {app} AND u.rolname LIKE 'tenant\\_%'",
    ),
    "bridge": ("schema", "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenant\\_%'"),
    "silo": ("database", "SELECT datname FROM pg_database WHERE datname LIKE 'tenant\\_%'"),
}


def find_orphans(conn: psycopg.Connection, plan: SqlPlan) -> list[Orphan]:
    """Tenant objects on this server whose tenant is not in the plan (kept, never dropped)."""
    kind, query = _ORPHAN_QUERIES[plan.isolation]
    names = [row[0] for row in conn.execute(sql.SQL(query).format(app=sql.Literal(APP_ROLE)))]
    orphans = []
    for name in sorted(names):
        tenant_id = tenant_of(name)
        if tenant_id is not None and tenant_id not in plan.tenants:
            orphans.append(Orphan(kind, name, tenant_id))
    return orphans
