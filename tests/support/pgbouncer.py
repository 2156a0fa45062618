"""A throwaway PgBouncer (Debian's ``pgbouncer``) on a free port in front of a ``PgServer``.

Transaction pooling, the mode tenancy configures for bridge and pool tiers: a
server connection goes back to the pool at every COMMIT/ROLLBACK, which is
exactly where a session-level setting would leak to the next client.

Auth is ``trust`` on 127.0.0.1 with a userlist of the role names (PgBouncer
still requires every user to be listed), because the throwaway server trusts
127.0.0.1 too: passwords would add nothing but setup, and what the tests probe
is what each role may do once connected, not how it authenticates.

Debian's PgBouncer is 1.18, which has no ``max_prepared_statements`` (1.21+):
clients must turn prepared statements off (psycopg ``prepare_threshold=None``,
see ``connect``).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from components.model.pgbouncer import reload_script
from tests.support.pgserver import SERVER_USER, PgServer, PgServerError, free_port

ADMIN_USER = "pgbouncer_admin"  # may run SHOW POOLS on the virtual 'pgbouncer' database


def find_pgbouncer() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        raise PgServerError("pgbouncer not found; install it (apt-get install -y pgbouncer)")
    return found


@dataclass
class PgBouncer:
    """A running PgBouncer; ``stop()`` (or the context manager) ends it and removes its files."""

    base_dir: Path
    port: int
    process: subprocess.Popen[bytes]

    def dsn(self, dbname: str, user: str) -> str:
        return make_conninfo(
            host="127.0.0.1", port=self.port, dbname=dbname, user=user, connect_timeout=5
        )

    def connect(self, dbname: str, user: str, **kwargs: Any) -> psycopg.Connection:
        """A client connection; server-side prepared statements off (PgBouncer 1.18)."""
        conn = psycopg.connect(self.dsn(dbname, user), **kwargs)
        conn.prepare_threshold = None
        return conn

    def show(self, what: str) -> list[dict[str, Any]]:
        """``SHOW POOLS`` & co. from PgBouncer's admin console, as dicts."""
        with psycopg.connect(self.dsn("pgbouncer", ADMIN_USER), autocommit=True) as admin:
            admin.prepare_threshold = None
            cursor = admin.execute(f"SHOW {what}", prepare=False)
            names = [column.name for column in cursor.description or ()]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def stop(self) -> None:
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)  # immediate shutdown (SIGINT waits)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PgBouncer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _config(server: PgServer, base: Path, port: int, settings: dict[str, str]) -> str:
    options = {
        "listen_addr": "127.0.0.1",
        "listen_port": str(port),
        "unix_socket_dir": "",
        "auth_type": "trust",
        "auth_file": str(base / "userlist.txt"),
        "admin_users": ADMIN_USER,
        "pool_mode": "transaction",
        "default_pool_size": "2",
        "max_client_conn": "1000",
        "server_reset_query": "DISCARD ALL",  # used in session mode only
        "ignore_startup_parameters": "extra_float_digits",
        "logfile": str(base / "pgbouncer.log"),
        "pidfile": str(base / "pgbouncer.pid"),
        **settings,
    }
    lines = ["[databases]", f"* = host=127.0.0.1 port={server.port}", "", "[pgbouncer]"]
    lines += [f"{key} = {value}" for key, value in options.items()]
    return "\n".join(lines) + "\n"


def start_reloader(
    watched: Iterable[str | Path], interval_seconds: float = 0.2
) -> subprocess.Popen[bytes]:
    """The pooler's reloader sidecar (components/model/pgbouncer.py ``reload_script``), run
    as the user PgBouncer runs as (the pod's uid): signalling needs the same uid. The
    caller terminates it."""
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:
        run_as = {"user": SERVER_USER, "group": SERVER_USER, "extra_groups": []}
    script = reload_script([str(path) for path in watched], interval_seconds=interval_seconds)
    return subprocess.Popen(["/bin/sh", "-c", script], **run_as)


def _wait_until_listening(bouncer: PgBouncer, deadline_s: float = 10.0) -> None:
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        if bouncer.process.poll() is not None:
            log = (bouncer.base_dir / "pgbouncer.log").read_text(errors="replace")
            raise PgServerError(f"pgbouncer exited with {bouncer.process.returncode}:\n{log}")
        try:
            bouncer.show("VERSION")
            return
        except psycopg.OperationalError:
            time.sleep(0.05)
    raise PgServerError(f"pgbouncer did not listen on port {bouncer.port} within {deadline_s}s")


def start_pgbouncer(
    server: PgServer,
    users: Iterable[str],
    settings: dict[str, str] | None = None,
    scram: Mapping[str, str] | None = None,
) -> PgBouncer:
    """PgBouncer in transaction mode in front of ``server``, for the roles ``users``.

    ``settings`` override ``[pgbouncer]`` options (``default_pool_size`` is 2 by default,
    so a handful of clients already share server connections). ``scram``: role -> SCRAM
    verifier; those roles must then authenticate with SCRAM-SHA-256 (the admin console
    stays on trust, through an hba file)."""
    base = Path(tempfile.mkdtemp(prefix="tenancy-pgbouncer-"))
    port = free_port()
    secrets = {name: "" for name in {*users, ADMIN_USER}} | dict(scram or {})
    (base / "userlist.txt").write_text(
        "".join(f'"{name}" "{secrets[name]}"\n' for name in sorted(secrets))
    )
    options = dict(settings or {})
    if scram:
        (base / "hba.conf").write_text(
            f"host pgbouncer {ADMIN_USER} 127.0.0.1/32 trust\n"
            + "".join(f"host all {name} 127.0.0.1/32 scram-sha-256\n" for name in scram)
            + "host all all 127.0.0.1/32 trust\n"
        )
        options |= {"auth_type": "hba", "auth_hba_file": str(base / "hba.conf")}
    (base / "pgbouncer.ini").write_text(_config(server, base, port, options))
    run_as: dict[str, Any] = {}
    if os.geteuid() == 0:  # PgBouncer refuses to run as root
        for path in (base, *base.iterdir()):
            shutil.chown(path, SERVER_USER, SERVER_USER)
        run_as = {"user": SERVER_USER, "group": SERVER_USER, "extra_groups": []}
    process = subprocess.Popen(
        [find_pgbouncer(), str(base / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **run_as,
    )
    bouncer = PgBouncer(base, port, process)
    try:
        _wait_until_listening(bouncer)
    except BaseException:
        bouncer.stop()
        raise
    return bouncer
