"""The GCP pooler's reloader sidecar, run for real: when a bridge tenant joins the shard, its
login is added to the userlist Secret; kubelet refreshes the mounted file, and the script makes
the running PgBouncer RELOAD, so the new tenant logs in without restarting the pooler."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from components.model.pgbouncer import scram_verifier
from tests.support.pgbouncer import PgBouncer, find_pgbouncer, start_pgbouncer, start_reloader
from tests.support.pgserver import PgServer, PgServerError

PRESENT, JOINING = "reload_present", "reload_joining"
SECRET = "the-joining-tenants-secret"


@pytest.fixture(scope="module")
def dbname(pg: PgServer, new_database: Callable[[str], str]) -> Iterator[str]:
    try:
        find_pgbouncer()
    except PgServerError as missing:
        pytest.skip(str(missing))
    dsn = new_database("pooler_reload")
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        for role in (PRESENT, JOINING):
            su.execute(f"CREATE ROLE {role} LOGIN")
    yield str(psycopg.conninfo.conninfo_to_dict(dsn)["dbname"])
    with psycopg.connect(pg.dsn(), autocommit=True) as su:
        for role in (PRESENT, JOINING):
            su.execute(f"DROP ROLE IF EXISTS {role}")


def _logs_in(bouncer: PgBouncer, dbname: str, password: str) -> bool:
    try:
        with bouncer.connect(dbname, JOINING, password=password) as conn:
            return conn.execute("SELECT current_user").fetchone() == (JOINING,)
    except psycopg.OperationalError:
        return False


def _onboard(bouncer: PgBouncer) -> None:
    """What a tenant joining the shard changes: its SCRAM login in PgBouncer's hba rules
    (the pooler's pgbouncer.ini allows SCRAM only) and its verifier in the userlist (the
    Secret kubelet refreshes)."""
    hba = bouncer.base_dir / "hba.conf"
    hba.write_text(f"host all {JOINING} 127.0.0.1/32 scram-sha-256\n" + hba.read_text())
    verifier = scram_verifier(SECRET, b"salt-of-the-joining-tenant")
    with (bouncer.base_dir / "userlist.txt").open("a") as userlist:
        userlist.write(f'"{JOINING}" "{verifier}"\n')


def _start_reloader(bouncer: PgBouncer) -> subprocess.Popen[bytes]:
    return start_reloader([bouncer.base_dir / "userlist.txt"])


def _bouncer(pg: PgServer) -> PgBouncer:
    present = scram_verifier("present-secret", b"salt-of-the-present-tenant")
    return start_pgbouncer(pg, [PRESENT], scram={PRESENT: present})


def test_a_joining_tenant_logs_in_through_the_running_pooler_once_the_reloader_fires(
    pg: PgServer, dbname: str
) -> None:
    with _bouncer(pg) as bouncer:
        reloader = _start_reloader(bouncer)
        try:
            time.sleep(0.5)  # the reloader has taken its first reading
            assert not _logs_in(bouncer, dbname, SECRET)
            _onboard(bouncer)
            deadline = time.monotonic() + 10
            while not _logs_in(bouncer, dbname, SECRET) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert _logs_in(bouncer, dbname, SECRET), "PgBouncer did not reload the userlist"
            assert not _logs_in(bouncer, dbname, "a guess")  # the verifier is checked
            assert bouncer.process.poll() is None  # reloaded, not restarted
        finally:
            reloader.terminate()
            reloader.wait(timeout=5)


def test_without_the_reloader_the_running_pooler_does_not_know_the_joining_tenant(
    pg: PgServer, dbname: str
) -> None:
    # The control: the test above sees the reloader's RELOAD, not a pooler that rereads
    # its files by itself.
    with _bouncer(pg) as bouncer:
        _onboard(bouncer)
        time.sleep(1)
        assert not _logs_in(bouncer, dbname, SECRET)
