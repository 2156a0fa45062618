"""The GCP pooler verifies its server, run for real: PgBouncer 1.18 with the server TLS lines
of the shipped pgbouncer.ini (server_tls_sslmode = verify-ca, server_tls_ca_file) in front of a
PostgreSQL 15 with ssl=on whose certificate, like Cloud SQL's, names the instance and not the
IP PgBouncer dials.

- the instance's CA in the file: a client logs in through PgBouncer, over TLS to the server;
- another CA: the login through PgBouncer fails (an impostor on the server's IP is refused);
- verify-full: fails too, on the name (why the pooler uses verify-ca);
- a CA rotation: a bundle that gains the server's CA is taken without a restart, with the
  reloader sidecar running as in the pod (it RELOADs PgBouncer when the file changes);
- PgBouncer 1.18 reads the CA file again for every new server connection: a CA removed
  from the file refuses the next server connection, no RELOAD needed.

The certificates come from the openssl CLI (no extra Python dependency)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from components.model.pgbouncer import PgBouncerSettings, pgbouncer_ini, server_ca_bundle
from tests.support.pgbouncer import PgBouncer, find_pgbouncer, start_pgbouncer, start_reloader
from tests.support.pgserver import SERVER_USER, PgServer, PgServerError, start_server

ROLE = "pooled_tenant"
# Like Cloud SQL's server certificate: the instance's name, no IP address anywhere in it.
SERVER_NAME = "tenancy-test:us-central1:tnc-dev-free-01"


def _openssl(*argv: str | Path) -> None:
    subprocess.run(["openssl", *map(str, argv)], check=True, capture_output=True)


def _new_key_args(key: Path) -> list[str | Path]:
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key]


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    cert, key = directory / f"{name}.crt", directory / f"{name}.key"
    _openssl(
        "req", "-x509", *_new_key_args(key), "-out", cert, "-days", "2", "-subj", f"/CN={name}"
    )
    return cert, key


def _server_certificate(directory: Path, ca: tuple[Path, Path]) -> tuple[Path, Path]:
    cert, key, csr = (directory / f"server.{ext}" for ext in ("crt", "key", "csr"))
    _openssl("req", *_new_key_args(key), "-out", csr, "-subj", f"/CN={SERVER_NAME}")
    _openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1])
    _openssl("x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-days", "2", "-out", cert)
    return cert, key


class Certificates:
    def __init__(self, directory: Path) -> None:
        self.instance_ca = _ca(directory, "instance-ca")[0].read_text()
        self.other_ca = _ca(directory, "impostor-ca")[0].read_text()
        ca = (directory / "instance-ca.crt", directory / "instance-ca.key")
        self.server_cert, self.server_key = _server_certificate(directory, ca)


@pytest.fixture(scope="module")
def certificates() -> Iterator[Certificates]:
    directory = Path(tempfile.mkdtemp(prefix="tenancy-tls-"))
    try:
        yield Certificates(directory)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="module")
def tls_server(certificates: Certificates) -> Iterator[PgServer]:
    try:
        find_pgbouncer()
    except PgServerError as missing:
        pytest.skip(str(missing))
    # The server reads its key as its own user, and only from a file nobody else can read.
    keys = Path(tempfile.mkdtemp(prefix="tenancy-tls-server-"))
    cert, key = keys / "server.crt", keys / "server.key"
    shutil.copy(certificates.server_cert, cert)
    shutil.copy(certificates.server_key, key)
    key.chmod(0o600)
    if os.geteuid() == 0:
        for path in (keys, cert, key):
            shutil.chown(path, SERVER_USER, SERVER_USER)
    settings = {"ssl": "on", "ssl_cert_file": str(cert), "ssl_key_file": str(key)}
    server = start_server(settings)
    try:
        with psycopg.connect(server.dsn(), autocommit=True) as su:
            su.execute(f"CREATE ROLE {ROLE} LOGIN")
        yield server
    finally:
        server.stop()
        shutil.rmtree(keys, ignore_errors=True)


def _server_tls_settings(ca_file: Path, sslmode: str | None = None) -> dict[str, str]:
    """The shipped pgbouncer.ini's server TLS lines, with the CA file where this test keeps it."""
    ini = pgbouncer_ini(PgBouncerSettings("10.0.0.5", "app", "transaction", 2, 100, 60))
    shipped = dict(
        (key.strip(), value.strip())
        for key, _, value in (line.partition("=") for line in ini.splitlines())
        if key.startswith("server_tls_")
    )
    assert shipped["server_tls_sslmode"] == "verify-ca" and "server_tls_ca_file" in shipped
    return {
        **shipped,
        "server_tls_ca_file": str(ca_file),
        **({"server_tls_sslmode": sslmode} if sslmode else {}),
        # A failed server login is retried after 15 s by default; the test needs it at once.
        "server_login_retry": "1",
        # A client already logged in waits this long for a server connection that fails.
        "query_wait_timeout": "1",
    }


@contextmanager
def _pooler(server: PgServer, bundle: str, sslmode: str | None = None) -> Iterator[Pooler]:
    """PgBouncer with ``bundle`` as its server CA file (which must exist when it starts)."""
    directory = Path(tempfile.mkdtemp(prefix="tenancy-server-ca-"))
    directory.chmod(0o755)  # PgBouncer runs as the server's user
    pooler = Pooler(directory / "ca.crt")
    pooler.swap_ca(bundle)
    try:
        with start_pgbouncer(server, [ROLE], _server_tls_settings(pooler.ca_file, sslmode)) as b:
            pooler.bouncer = b
            yield pooler
    finally:
        shutil.rmtree(directory, ignore_errors=True)


class Pooler:
    bouncer: PgBouncer

    def __init__(self, ca_file: Path) -> None:
        self.ca_file = ca_file

    def swap_ca(self, bundle: str) -> None:
        """Replace the CA file in one step, as kubelet swaps a refreshed Secret's files."""
        staged = self.ca_file.with_name(".ca.crt.new")
        staged.write_text(bundle)
        staged.chmod(0o644)
        staged.replace(self.ca_file)

    def server_ssl(self) -> bool | None:
        """Log in through PgBouncer: None if that fails, else whether PgBouncer's server
        connection (this session's backend) is TLS."""
        try:
            with self.bouncer.connect("postgres", ROLE, connect_timeout=3) as conn:
                row = conn.execute(
                    "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", prepare=False
                ).fetchone()
                return bool(row and row[0])
        except psycopg.OperationalError:
            return None

    def log(self) -> str:
        return (self.bouncer.base_dir / "pgbouncer.log").read_text(errors="replace")


def test_with_the_instance_ca_a_client_logs_in_through_the_pooler_over_verified_tls(
    tls_server: PgServer, certificates: Certificates
) -> None:
    with _pooler(tls_server, server_ca_bundle([certificates.instance_ca])) as pooler:
        assert pooler.server_ssl() is True


def test_with_another_ca_the_login_through_the_pooler_fails(
    tls_server: PgServer, certificates: Certificates
) -> None:
    # What an impostor answering on the server's IP with its own certificate gets.
    with _pooler(tls_server, server_ca_bundle([certificates.other_ca])) as pooler:
        assert pooler.server_ssl() is None
        assert "certificate verify failed" in pooler.log()


def test_verify_full_fails_because_the_certificate_names_the_instance_not_the_ip(
    tls_server: PgServer, certificates: Certificates
) -> None:
    bundle = server_ca_bundle([certificates.instance_ca])
    with _pooler(tls_server, bundle, sslmode="verify-full") as pooler:
        assert pooler.server_ssl() is None
        assert "name `127.0.0.1' not present in server certificate" in pooler.log()


def _eventually_logs_in(pooler: Pooler, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if pooler.server_ssl():
            return True
        time.sleep(0.3)
    return False


def test_a_rotated_ca_bundle_is_taken_without_a_restart_with_the_reloader_running(
    tls_server: PgServer, certificates: Certificates
) -> None:
    # The pooler trusts only a CA that did not sign the server's certificate (as if the
    # server had moved to the upcoming CA); then the instance lists both and kubelet
    # refreshes the file.
    with _pooler(tls_server, server_ca_bundle([certificates.other_ca])) as pooler:
        reloader = start_reloader([pooler.ca_file])
        try:
            time.sleep(0.5)  # the reloader has taken its first reading
            assert pooler.server_ssl() is None
            pooler.swap_ca(server_ca_bundle([certificates.other_ca, certificates.instance_ca]))
            assert _eventually_logs_in(pooler), "PgBouncer did not take the rotated CA bundle"
            assert pooler.bouncer.process.poll() is None  # reloaded, not restarted
        finally:
            reloader.terminate()
            reloader.wait(timeout=5)


def test_a_new_server_connection_reads_the_ca_file_again(
    tls_server: PgServer, certificates: Certificates
) -> None:
    # PgBouncer 1.18 keeps no copy of the CA: once the instance's CA leaves the file, the
    # next server connection is refused, with no RELOAD in between.
    with _pooler(tls_server, server_ca_bundle([certificates.instance_ca])) as pooler:
        assert pooler.server_ssl() is True
        pooler.swap_ca(server_ca_bundle([certificates.other_ca]))
        with psycopg.connect(tls_server.dsn(), autocommit=True) as su:  # a new connection next
            su.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                (ROLE,),
            )
        time.sleep(0.5)  # PgBouncer has seen its server connection go
        assert pooler.server_ssl() is None
        assert "certificate verify failed" in pooler.log()
