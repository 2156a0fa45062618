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

from components.postgres import apply as apply_module
from components.postgres import sqlchecks as chk
from components.postgres.apply import ApplyError, apply_plan, check_all
from components.postgres.sqlplan import Statement, TenantDb, build_plan
from tests.support.pgserver import PgServer, admin_databases

pytestmark = pytest.mark.postgres

ADMIN = "batch_admin"
_names = itertools.count(1)


@pytest.fixture(scope="module")
def admin_db(pg: PgServer) -> Callable[[str], str]:
    return admin_databases(pg, ADMIN)


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


# --- fleet size: role changes first, several sessions ------------------------------------

# What a tenant's objects look like on the server, its id written as "<id>" so two
# tenants built differently can be compared: roles, settings, memberships, schema,
# tables, indexes, ACLs and default privileges.
_SNAPSHOT = """
SELECT 'role', r.rolname, concat_ws(' ', r.rolcanlogin, r.rolconnlimit, r.rolsuper,
       r.rolcreaterole, r.rolcreatedb, r.rolbypassrls,
       (SELECT array_agg(c ORDER BY c) FROM pg_db_role_setting s, unnest(s.setconfig) c
         WHERE s.setrole = r.oid),
       (SELECT array_agg(g.rolname::text ORDER BY g.rolname) FROM pg_auth_members m
         JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid),
       (SELECT array_agg(u.rolname::text ORDER BY u.rolname) FROM pg_auth_members m
         JOIN pg_roles u ON u.oid = m.member WHERE m.roleid = r.oid),
       (SELECT array_agg(d.defaclobjtype::text || ':' || d.defaclacl::text ORDER BY d.defaclobjtype)
         FROM pg_default_acl d WHERE d.defaclrole = r.oid))
  FROM pg_roles r WHERE r.rolname LIKE %(like)s
UNION ALL
SELECT 'schema', n.nspname, concat_ws(' ', n.nspowner::regrole, n.nspacl::text)
  FROM pg_namespace n WHERE n.nspname LIKE %(like)s
UNION ALL
SELECT 'relation', n.nspname || '.' || c.relname,
       concat_ws(' ', c.relkind, c.relowner::regrole, c.relacl::text,
                 pg_get_indexdef(c.oid), c.relrowsecurity)
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname LIKE %(like)s
UNION ALL
SELECT 'home', h.tenant_id, h.location FROM tenancy_meta.homes h WHERE h.tenant_id LIKE %(id)s
"""


def _snapshot(dsn: str, prefix: str) -> list[tuple[str, ...]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(
            _SNAPSHOT, {"like": f"tenant\\_{prefix}%", "id": f"{prefix}%"}
        ).fetchall()
    # Oids differ between servers and runs; names do not once the prefix is neutral.
    return sorted(tuple(str(v).replace(prefix, "<id>") for v in row) for row in rows)


def _spread(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """Small blocks, so a dozen tenants make several; returns the databases connected to."""
    monkeypatch.setattr(apply_module, "STATEMENTS_PER_BLOCK", 40)
    opened: list[str | None] = []
    real_connect = apply_module.connect

    def counting(conninfo: str, dbname: str | None = None) -> psycopg.Connection:
        opened.append(dbname)
        return real_connect(conninfo, dbname)

    monkeypatch.setattr(apply_module, "connect", counting)
    return opened


@pytest.mark.parametrize("isolation", ["pool", "bridge"])
def test_tenants_built_over_three_sessions_match_those_built_over_one(
    isolation: str, admin_db: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = _spread(monkeypatch)
    reports, snapshots = [], []
    for connections, prefix in ((1, f"cs{isolation[0]}"), (3, f"cp{isolation[0]}")):
        dsn = admin_db(f"spread_{isolation}_{connections}")
        tenants = [TenantDb(f"{prefix}{i:02d}") for i in range(16)]  # 3+ blocks of 40
        plan = build_plan(f"{isolation}-s1", isolation, tenants)  # type: ignore[arg-type]
        opened.clear()
        report = apply_plan(dsn, plan, connections)
        assert len(opened) == connections  # the admin session, plus two for tenants' blocks
        again = apply_plan(dsn, plan, connections)
        assert again.changed == [] and again.unchanged == len(plan.statements)
        # Tenants' changes only: cluster-wide shared roles exist by the second run.
        tenant_changes = [s for s in report.changed if s.owner != "shared"]
        reports.append([f"{s.owner}: {s.summary}".replace(prefix, "<id>") for s in tenant_changes])
        snapshots.append(_snapshot(dsn, prefix))
    assert reports[0] == reports[1]  # the same changes, reported in plan order
    assert snapshots[0] == snapshots[1] and len(snapshots[0]) >= 16


def test_a_refusal_among_parallel_blocks_is_named_and_leaves_no_tenant_half_built(
    pg: PgServer, admin_db: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _spread(monkeypatch)
    dsn = admin_db("spread_refused")
    with psycopg.connect(pg.dsn(str(psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]))) as su:
        su.execute("CREATE SCHEMA tenant_prz")  # the admin cannot take it over
    tenants = [TenantDb(f"pra{i:02d}") for i in range(6)] + [TenantDb("prz")]
    tenants += [TenantDb(f"prb{i:02d}") for i in range(6)]
    with pytest.raises(
        ApplyError, match=r"schema tenant_prz owned by tenancy_owner \(tenant prz\)"
    ):
        apply_plan(dsn, build_plan("bridge-s3", "bridge", tenants), 3)
    with psycopg.connect(dsn) as conn:
        built: dict[str, int] = dict(
            conn.execute(
                "SELECT r.rolname, (SELECT count(*) FROM pg_tables t"
                " WHERE t.schemaname = r.rolname) FROM pg_roles r WHERE r.rolname LIKE 'tenant_pr%'"
            ).fetchall()
        )
    assert "tenant_prz" not in built and "tenant_pra00" in built
    assert set(built.values()) == {2}  # every tenant whose role exists has both its tables


def test_a_tenant_built_in_parallel_cannot_reach_its_neighbour(
    admin_db: Callable[[str], str],
    login: Callable[..., psycopg.Connection],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _spread(monkeypatch)
    dsn = admin_db("spread_attack")
    tenants = [TenantDb(f"pat{i:02d}") for i in range(8)]
    apply_plan(dsn, build_plan("bridge-s4", "bridge", tenants), 3)
    with login(dsn, "tenant_pat00") as owner:
        owner.execute("INSERT INTO documents (title) VALUES ('pat00 secret')")
    for statement in (
        "SELECT title FROM tenant_pat00.documents",
        "INSERT INTO tenant_pat00.documents (title) VALUES ('planted')",
        "UPDATE tenant_pat00.documents SET title = 'x'",
        "DELETE FROM tenant_pat00.documents",
    ):
        with (
            login(dsn, "tenant_pat07") as attacker,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            attacker.execute(statement)
    with login(dsn, "tenant_pat00") as owner:
        assert owner.execute("SELECT title FROM documents").fetchall() == [("pat00 secret",)]


def test_role_changes_run_first_in_each_owners_own_order() -> None:
    plan = build_plan("bridge-s5", "bridge", [TenantDb("rfa"), TenantDb("rfb")])
    block = [s for s in plan.statements if s.owner != "shared"]
    order = apply_module._role_changes_first(block)
    ran = [block[i] for i in order]
    assert sorted(order) == list(range(len(block)))
    first_other = next(i for i, s in enumerate(ran) if not s.role_change)
    assert all(s.role_change for s in ran[:first_other])
    assert not any(s.role_change for s in ran[first_other:])
    for owner in ("rfa", "rfb"):
        mine = [s for s in ran if s.owner == owner]
        plan_order = [s for s in block if s.owner == owner]
        assert [s for s in mine if s.role_change] == [s for s in plan_order if s.role_change]
        assert [s for s in mine if not s.role_change] == [
            s for s in plan_order if not s.role_change
        ]


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        ("", False),  # not a member
        ("GRANT {role} TO batch_admin", True),  # a direct member
        (
            "GRANT {role} TO mid_{role}; GRANT mid_{role} TO batch_admin",
            False,
        ),  # only through another
    ],
)
def test_the_admins_membership_is_read_from_the_catalogs(
    setup: str, expected: bool, pg: PgServer, admin_db: Callable[[str], str]
) -> None:
    # Indirect membership does not count: the apply then grants the role directly, so the
    # admin's rights never hang on another grant staying in place.
    dsn = admin_db("member_check")
    role = f"mc_{next(_names)}"
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        su.execute(f"CREATE ROLE {role}; CREATE ROLE mid_{role}")
        if setup:
            su.execute(setup.format(role=role))
    check = chk.current_user_member_of(role)
    with psycopg.connect(dsn) as admin:
        assert admin.execute(check).fetchone() == (expected,)
        assert admin.execute(chk.current_user_member_of("no_such_role")).fetchone() == (False,)
    with psycopg.connect(pg.dsn()) as superuser:  # a superuser holds every role
        assert superuser.execute(check).fetchone() == (True,)
