"""The GCP pooler's auth, on a real PostgreSQL 15 and a real PgBouncer: the SCRAM
verifiers tenancy writes into the userlist Secret are exactly PostgreSQL's, clients log in
through PgBouncer with the password only, and why the userlist (not auth_query)."""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator

import psycopg
import pytest

from components.model.pgbouncer import scram_verifier
from components.postgres.login_verifiers import set_verifiers
from tests.support.pgbouncer import find_pgbouncer, start_pgbouncer
from tests.support.pgserver import PgServer, PgServerError

ADMIN = "pooler_test_admin"  # imitates cloudsqlsuperuser: LOGIN CREATEDB CREATEROLE


@pytest.fixture(scope="module")
def admin_dsn(pg: PgServer, new_database: Callable[[str], str]) -> Iterator[str]:
    dsn = new_database("pooler_auth")
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        su.execute(f"CREATE ROLE {ADMIN} LOGIN CREATEDB CREATEROLE")
    yield psycopg.conninfo.make_conninfo(dsn, user=ADMIN)


def test_the_verifier_is_the_one_postgresql_computes_for_the_password(pg: PgServer) -> None:
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        su.execute("SET password_encryption = 'scram-sha-256'")
        su.execute("CREATE ROLE scram_probe LOGIN PASSWORD 'correct horse'")
        try:
            # Superuser only to read back what PostgreSQL stored (pg_authid), nothing else.
            [stored] = su.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'scram_probe'"
            ).fetchone() or [None]
        finally:
            su.execute("DROP ROLE scram_probe")
    iterations, salt = str(stored).split("$")[1].split(":")
    assert scram_verifier("correct horse", base64.b64decode(salt), int(iterations)) == stored


def test_a_non_superuser_admin_cannot_read_verifiers_so_auth_query_is_out(
    admin_dsn: str,
) -> None:
    # PgBouncer's auth_query needs the verifiers (pg_shadow / pg_authid); a cloud admin
    # role such as cloudsqlsuperuser is no superuser, so the pooler uses a userlist.
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        for query in ("SELECT rolpassword FROM pg_authid", "SELECT passwd FROM pg_shadow"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                admin.execute(query)


def test_a_client_logs_in_through_pgbouncer_with_the_password_behind_the_verifier(
    pg: PgServer, admin_dsn: str
) -> None:
    try:
        find_pgbouncer()
    except PgServerError as missing:
        pytest.skip(str(missing))
    verifier = scram_verifier("s3cret-for-the-app", b"0123456789abcdefghijklm")
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        # The cloud admin sets the same verifier on the server role: no password in SQL.
        admin.execute(f"CREATE ROLE scram_app LOGIN PASSWORD '{verifier}'")
    dbname = psycopg.conninfo.conninfo_to_dict(admin_dsn)["dbname"]
    with start_pgbouncer(pg, ["scram_app"], scram={"scram_app": verifier}) as bouncer:
        with bouncer.connect(str(dbname), "scram_app", password="s3cret-for-the-app") as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("scram_app",)
        with pytest.raises(psycopg.OperationalError, match="SASL authentication failed"):
            bouncer.connect(str(dbname), "scram_app", password="a guess")
        with pytest.raises(psycopg.OperationalError, match="password"):
            bouncer.connect(str(dbname), "scram_app")


def test_the_admin_sets_the_poolers_verifier_on_the_servers_login_role(
    pg: PgServer, admin_dsn: str
) -> None:
    verifier = scram_verifier("pooled-app-secret", b"salt-of-the-app-login-role")
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("CREATE ROLE verifier_probe LOGIN")
    # As the non-superuser admin, like cloudsqlsuperuser at pulumi up.
    assert set_verifiers(admin_dsn, {"verifier_probe": verifier}) == ["verifier_probe"]
    assert set_verifiers(admin_dsn, {"verifier_probe": verifier}) == ["verifier_probe"]
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        # Superuser only to read back what the server stored.
        stored = su.execute(
            "SELECT rolpassword FROM pg_authid WHERE rolname = 'verifier_probe'"
        ).fetchone()
    assert stored == (verifier,)  # stored as given: the password never reached the server


def test_setting_verifiers_refuses_plaintext_and_unknown_roles(admin_dsn: str) -> None:
    with pytest.raises(ValueError, match="not a SCRAM-SHA-256 verifier"):
        set_verifiers(admin_dsn, {"verifier_probe": "plaintext"})
    with pytest.raises(ValueError, match="role no_such_role does not exist"):
        set_verifiers(admin_dsn, {"no_such_role": scram_verifier("x", b"salt")})
