"""A throwaway local PostgreSQL server (initdb + pg_ctl in a temp dir, on a free port).

Used by the in-database isolation tests and the RLS benchmark, so both attack
a real server rather than a mock. No docker: the binaries come from PATH or
from Debian's ``/usr/lib/postgresql/<version>/bin``. initdb refuses to run as
root, so under root the server runs as the unprivileged ``postgres`` user.

The cluster uses ``trust`` authentication on 127.0.0.1 only: the tests must
log in as each tenant role to probe it, and passwords would add nothing there.
Durability is switched off (fsync, synchronous_commit) because the data is
thrown away; it does not change what RLS, grants or roles allow.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import make_conninfo

SERVER_USER = "postgres"  # OS user that owns the data dir when we start as root
SUPERUSER = "postgres"  # database superuser created by initdb
MIN_VERSION = 15


class PgServerError(RuntimeError):
    """The throwaway server could not be found, initialised or started."""


def find_bin_dir() -> Path:
    """Directory holding initdb and pg_ctl: PATH first, then Debian's versioned dirs."""
    initdb = shutil.which("initdb")
    if initdb and shutil.which("pg_ctl"):
        return Path(initdb).resolve().parent
    debian = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if debian:
        return debian[-1].parent
    raise PgServerError(
        "initdb not found on PATH or in /usr/lib/postgresql/*/bin; "
        "install PostgreSQL 15+ (apt-get install -y postgresql)"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_server_user(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", SERVER_USER, "--", *argv]


def _ensure_server_user() -> None:
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(
            [
                "useradd",
                "--system",
                "--no-create-home",
                "--shell",
                "/usr/sbin/nologin",
                SERVER_USER,
            ],
            check=True,
            capture_output=True,
        )


def _chown_to_server_user(path: Path) -> None:
    entry = pwd.getpwnam(SERVER_USER)
    os.chown(path, entry.pw_uid, entry.pw_gid)


def _run(argv: list[str]) -> None:
    result = subprocess.run(_as_server_user(argv), capture_output=True, text=True)
    if result.returncode != 0:
        raise PgServerError(f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}")


@dataclass
class PgServer:
    """A running throwaway cluster; ``stop()`` (or the context manager) removes it."""

    bin_dir: Path
    base_dir: Path
    port: int
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def dsn(self, dbname: str = "postgres", user: str = SUPERUSER) -> str:
        return make_conninfo(
            host="127.0.0.1", port=self.port, dbname=dbname, user=user, connect_timeout=5
        )

    def start(self) -> PgServer:
        if os.geteuid() == 0:
            _ensure_server_user()
            _chown_to_server_user(self.base_dir)
        _run(
            [str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", SUPERUSER]
            + ["--auth=trust", "--no-sync", "--encoding=UTF8", "--locale=C"]
        )
        options = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.base_dir),
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            **self.settings,
        }
        flags = " ".join(f"-c {key}={value}" for key, value in options.items())
        log = self.base_dir / "server.log"
        _run(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(log)]
            + ["-o", flags, "-w", "-t", "30", "start"]
        )
        return self

    def stop(self) -> None:
        try:
            _run(
                [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop"]
            )
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def __enter__(self) -> PgServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


PGAUDIT_LIBRARY = "pgaudit"


def has_pgaudit(bin_dir: Path | None = None) -> bool:
    """Whether the server binaries come with pgaudit (Debian: postgresql-<major>-pgaudit)."""
    lib_dir = (bin_dir or find_bin_dir()).parent / "lib"
    return (lib_dir / f"{PGAUDIT_LIBRARY}.so").exists()


def pgaudit_settings(server_settings: dict[str, str]) -> dict[str, str]:
    """Server settings that load pgaudit, plus ``server_settings`` (what a cloud's
    parameters set: components/model/audit.py)."""
    return {"shared_preload_libraries": PGAUDIT_LIBRARY, **server_settings}


def start_server(settings: dict[str, str] | None = None) -> PgServer:
    """initdb + start a cluster in a fresh temp dir on a free port."""
    bin_dir = find_bin_dir()
    base_dir = Path(tempfile.mkdtemp(prefix="tenancy-pg-"))
    server = PgServer(bin_dir, base_dir, free_port(), dict(settings or {}))
    try:
        return server.start()
    except BaseException:
        shutil.rmtree(base_dir, ignore_errors=True)
        raise


_database_numbers = itertools.count(1)


def admin_databases(server: PgServer, role: str) -> Callable[[str], str]:
    """Create ``role`` as the clouds' admin (LOGIN CREATEDB CREATEROLE, no superuser, like
    rds_superuser / azure_pg_admin / cloudsqlsuperuser); returns ``create(prefix)``, which
    makes a uniquely named database owned by it and returns its DSN as that role."""
    with psycopg.connect(server.dsn(), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN CREATEDB CREATEROLE")

    def create(prefix: str) -> str:
        name = f"{prefix}_{next(_database_numbers)}"
        with psycopg.connect(server.dsn(user=role), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return server.dsn(name, user=role)

    return create
