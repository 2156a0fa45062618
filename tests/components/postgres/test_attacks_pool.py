"""Pool isolation under attack: every cross-tenant attempt must fail on a real server.

Tenants alpha and bravo share app.documents; the attacker is usually the
shared service login (tenancy_app_login) with alpha's context set, or a
per-tenant login. Writes that RLS filters silently (UPDATE/DELETE) are checked
both by rowcount and by re-reading as the superuser, who bypasses RLS.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest
from psycopg import errors

from components.postgres.session import tenant_session
from components.postgres.sqlplan import APP_LOGIN_ROLE, TenantDb

pytestmark = pytest.mark.postgres

ROWS_PER_TENANT = 3
# With no tenant, the tenant_id default is NULL: WITH CHECK (or else NOT NULL) rejects the row.
FAILS_CLOSED = (errors.InsufficientPrivilege, errors.NotNullViolation)


@pytest.fixture(scope="module")
def db(new_database: Callable[[str], str], apply: Callable[..., object]) -> str:
    dsn = new_database("pool_attacks")
    # alpha: tight guardrails so the noisy-neighbour tests run fast.
    apply(
        dsn,
        "free-01",
        "pool",
        TenantDb("alpha", connection_limit=2, statement_timeout_ms=300),
        "bravo",
    )
    with psycopg.connect(dsn) as admin:  # superuser: seeds both tenants past RLS
        for tenant in ("alpha", "bravo"):
            for n in range(ROWS_PER_TENANT):
                admin.execute(
                    "INSERT INTO app.documents (tenant_id, title) VALUES (%s, %s)",
                    [tenant, f"{tenant}-{n}"],
                )
    return dsn


@pytest.fixture
def app(db: str, login: Callable[..., psycopg.Connection]) -> Iterator[psycopg.Connection]:
    with login(db, APP_LOGIN_ROLE) as conn:
        yield conn


def _bravo_titles(db: str) -> list[str]:
    with psycopg.connect(db) as admin:
        rows = admin.execute(
            "SELECT title FROM app.documents WHERE tenant_id = 'bravo' ORDER BY title"
        )
        return [row[0] for row in rows]


def _a_bravo_document_id(db: str) -> str:
    with psycopg.connect(db) as admin:
        row = admin.execute(
            "SELECT id FROM app.documents WHERE tenant_id = 'bravo' LIMIT 1"
        ).fetchone()
    assert row is not None
    return str(row[0])


def test_pool_tenant_reads_only_its_own_rows(app: psycopg.Connection) -> None:
    with tenant_session(app, "alpha"):
        tenants = [row[0] for row in app.execute("SELECT tenant_id FROM app.documents")]
    assert tenants == ["alpha"] * ROWS_PER_TENANT


def test_pool_tenant_cannot_read_other_tenants_rows_even_by_asking(
    app: psycopg.Connection, db: str
) -> None:
    bravo_id = _a_bravo_document_id(db)
    with tenant_session(app, "alpha"):
        by_tenant = app.execute(
            "SELECT count(*) FROM app.documents WHERE tenant_id = 'bravo'"
        ).fetchone()
        by_id = app.execute(
            "SELECT count(*) FROM app.documents WHERE id = %s", [bravo_id]
        ).fetchone()
    assert by_tenant == (0,) and by_id == (0,)


def test_pool_tenant_cannot_update_other_tenants_rows(app: psycopg.Connection, db: str) -> None:
    with tenant_session(app, "alpha"):
        cursor = app.execute("UPDATE app.documents SET title = 'pwned' WHERE tenant_id = 'bravo'")
    assert cursor.rowcount == 0
    assert "pwned" not in _bravo_titles(db)


def test_pool_tenant_cannot_delete_other_tenants_rows(app: psycopg.Connection, db: str) -> None:
    with tenant_session(app, "alpha"):
        cursor = app.execute("DELETE FROM app.documents WHERE tenant_id = 'bravo'")
    assert cursor.rowcount == 0
    assert len(_bravo_titles(db)) == ROWS_PER_TENANT


def test_pool_tenant_cannot_insert_row_with_other_tenants_id(
    app: psycopg.Connection, db: str
) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege, match="row-level security"),
        tenant_session(app, "alpha"),
    ):
        app.execute("INSERT INTO app.documents (tenant_id, title) VALUES ('bravo', 'planted')")
    assert "planted" not in _bravo_titles(db)


def test_pool_tenant_cannot_move_its_row_to_other_tenant(app: psycopg.Connection, db: str) -> None:
    with (
        pytest.raises(errors.InsufficientPrivilege, match="row-level security"),
        tenant_session(app, "alpha"),
    ):
        app.execute("UPDATE app.documents SET tenant_id = 'bravo', title = 'moved'")
    assert "moved" not in _bravo_titles(db)


def test_pool_tenant_cannot_reference_other_tenants_row(app: psycopg.Connection, db: str) -> None:
    # Foreign keys are checked without RLS; the composite (tenant_id, document_id) key saves us.
    bravo_id = _a_bravo_document_id(db)
    with pytest.raises(errors.ForeignKeyViolation), tenant_session(app, "alpha"):
        app.execute(
            "INSERT INTO app.comments (document_id, author, body) VALUES (%s, 'eve', 'hi')",
            [bravo_id],
        )


def test_pool_insert_defaults_tenant_id_from_the_session(app: psycopg.Connection) -> None:
    with tenant_session(app, "alpha"):
        row = app.execute(
            "INSERT INTO app.documents (title) VALUES ('mine') RETURNING tenant_id"
        ).fetchone()
        app.execute("DELETE FROM app.documents WHERE title = 'mine'")
    assert row == ("alpha",)


def test_pool_access_without_tenant_reads_nothing(app: psycopg.Connection) -> None:
    with app.transaction():
        count = app.execute("SELECT count(*) FROM app.documents").fetchone()
    assert count == (0,)


def test_pool_access_without_tenant_cannot_write(app: psycopg.Connection) -> None:
    with app.transaction():
        updated = app.execute("UPDATE app.documents SET title = 'x'").rowcount
        deleted = app.execute("DELETE FROM app.documents").rowcount
    assert (updated, deleted) == (0, 0)
    with pytest.raises(FAILS_CLOSED), app.transaction():
        app.execute("INSERT INTO app.documents (title) VALUES ('orphan row')")
    with pytest.raises(errors.InsufficientPrivilege), app.transaction():
        app.execute("INSERT INTO app.documents (tenant_id, title) VALUES ('alpha', 'forged')")


def test_pool_empty_tenant_setting_counts_as_unset(app: psycopg.Connection) -> None:
    with pytest.raises(FAILS_CLOSED), app.transaction():
        app.execute("SELECT set_config('tenancy.tenant_id', '', true)")
        assert app.execute("SELECT count(*) FROM app.documents").fetchone() == (0,)
        app.execute("INSERT INTO app.documents (title) VALUES ('blank tenant')")


def test_pool_tenant_context_does_not_survive_commit(app: psycopg.Connection) -> None:
    with tenant_session(app, "alpha"):
        assert app.execute("SELECT count(*) FROM app.documents").fetchone() == (ROWS_PER_TENANT,)
    with app.transaction():  # the next request on the same pooled connection
        leaked = app.execute("SELECT count(*) FROM app.documents").fetchone()
        setting = app.execute("SELECT current_setting('tenancy.tenant_id', true)").fetchone()
    assert leaked == (0,) and setting in (("",), (None,))


def test_pool_tenant_context_does_not_survive_rollback(app: psycopg.Connection) -> None:
    with pytest.raises(RuntimeError), tenant_session(app, "alpha"):
        raise RuntimeError("request failed")
    with app.transaction():
        assert app.execute("SELECT count(*) FROM app.documents").fetchone() == (0,)


def test_set_session_is_the_leak_tenant_session_avoids(app: psycopg.Connection) -> None:
    # Documents the hazard: a plain SET outlives COMMIT and serves the next request.
    app.execute("SET tenancy.tenant_id = 'alpha'")
    app.commit()
    leaked = app.execute("SELECT count(*) FROM app.documents").fetchone()
    app.execute("RESET tenancy.tenant_id")
    app.commit()
    assert leaked == (ROWS_PER_TENANT,)


def test_pool_table_owner_cannot_bypass_rls(db: str) -> None:
    # FORCE makes RLS apply to the owner; the policies name only tenancy_app, so
    # for the owner no policy applies and RLS denies everything (default deny).
    with psycopg.connect(db) as conn:
        conn.execute("SET ROLE tenancy_owner")  # the superuser steps down to the owner
        unset = conn.execute("SELECT count(*) FROM app.documents").fetchone()
        conn.execute("SELECT set_config('tenancy.tenant_id', 'alpha', true)")
        scoped = conn.execute("SELECT count(*) FROM app.documents").fetchone()
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute("INSERT INTO app.documents (title) VALUES ('owner write')")
    assert unset == (0,) and scoped == (0,)


def test_app_role_cannot_disable_rls(app: psycopg.Connection) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="must be owner"):
        app.execute("ALTER TABLE app.documents DISABLE ROW LEVEL SECURITY")


def test_app_role_cannot_unforce_rls(app: psycopg.Connection) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="must be owner"):
        app.execute("ALTER TABLE app.documents NO FORCE ROW LEVEL SECURITY")


@pytest.mark.parametrize(
    "statement",
    [
        "DROP POLICY tenant_isolation ON app.documents",
        "ALTER POLICY tenant_isolation ON app.documents USING (true)",
        "CREATE POLICY open_door ON app.documents USING (true)",
    ],
)
def test_app_role_cannot_alter_policies(app: psycopg.Connection, statement: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege, match="must be owner"):
        app.execute(statement)


def test_app_role_cannot_switch_row_security_off(app: psycopg.Connection) -> None:
    app.execute("SET row_security = off")
    with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
        app.execute("SELECT count(*) FROM app.documents")


def test_app_role_cannot_truncate(app: psycopg.Connection, db: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege), tenant_session(app, "alpha"):
        app.execute("TRUNCATE app.documents")
    assert len(_bravo_titles(db)) == ROWS_PER_TENANT


def test_app_role_cannot_create_objects_in_shared_schemas(app: psycopg.Connection) -> None:
    for schema in ("app", "public"):
        with pytest.raises(errors.InsufficientPrivilege), app.transaction():
            app.execute(f"CREATE TABLE {schema}.shadow (tenant_id text)")


@pytest.mark.parametrize("target", ["tenancy_owner", "tenant_bravo", "postgres"])
def test_app_role_cannot_set_role_to_escalate(app: psycopg.Connection, target: str) -> None:
    with pytest.raises(errors.InsufficientPrivilege):
        app.execute(f'SET ROLE "{target}"')


@pytest.mark.parametrize("target", ["tenant_bravo", "tenancy_owner"])
def test_pool_tenant_role_cannot_set_role_to_escalate(
    db: str, login: Callable[..., psycopg.Connection], target: str
) -> None:
    with login(db, "tenant_alpha") as conn, pytest.raises(errors.InsufficientPrivilege):
        conn.execute(f'SET ROLE "{target}"')


def test_pool_tenant_login_cannot_claim_other_tenant(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with login(db, "tenant_alpha") as conn:
        with tenant_session(conn, "bravo"):
            stolen = conn.execute("SELECT count(*) FROM app.documents").fetchone()
        with pytest.raises(errors.InsufficientPrivilege), tenant_session(conn, "bravo"):
            conn.execute("INSERT INTO app.documents (title) VALUES ('as bravo')")
        with tenant_session(conn, "alpha"):
            own = conn.execute("SELECT count(*) FROM app.documents").fetchone()
    assert stolen == (0,) and own == (ROWS_PER_TENANT,)


def test_pool_tenant_statement_timeout_cancels_runaway_query(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with login(db, "tenant_alpha") as conn, pytest.raises(errors.QueryCanceled):
        conn.execute("SELECT pg_sleep(5)")


def test_pool_tenant_connection_limit_caps_its_connections(
    db: str, login: Callable[..., psycopg.Connection]
) -> None:
    with (
        login(db, "tenant_alpha"),
        login(db, "tenant_alpha"),
        pytest.raises(psycopg.OperationalError, match="too many connections"),
    ):
        login(db, "tenant_alpha")
