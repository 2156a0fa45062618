"""PgBouncer on Kubernetes (the GCP pooler): its configuration file, its replica bounds and
its userlist entries, derived from a tier's ``pooling`` section. Pure: no Pulumi import.

Why PgBouncer on GKE and not Cloud SQL's managed pooling: managed pooling needs the
Enterprise Plus edition, and tenancy's Cloud SQL servers are Enterprise
(docs/connection-pooling.md). The component that deploys it is
``components/k8s/pgbouncer.py``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

PGBOUNCER_PORT = 6432
SERVER_PORT = 5432
# Replicas of one pooler: two so a node drain never takes the pooler away, at most three
# because every replica opens its own server connections (pooler_bounds).
MIN_REPLICAS = 2
MAX_REPLICAS = 3
SCRAM_ITERATIONS = 4096  # PostgreSQL's default (scram_iterations)
CONFIG_DIR = "/etc/pgbouncer"
TLS_DIR = "/etc/pgbouncer/tls"  # the cert-manager Secret: tls.crt, tls.key, ca.crt
AUTH_DIR = "/etc/pgbouncer/auth"  # the userlist Secret
# The server's CA bundle (its own Secret, so kubelet refreshes it when a rotation adds a CA;
# a subPath mount into TLS_DIR would never be refreshed).
SERVER_CA_DIR = "/etc/pgbouncer/server-ca"
SERVER_CA_KEY = "ca.crt"  # the file's key in that Secret
SERVER_CA_FILE = f"{SERVER_CA_DIR}/{SERVER_CA_KEY}"
PEM_BEGIN, PEM_END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


@dataclass(frozen=True)
class PoolerBounds:
    """How many PgBouncer pods, and the pool size each one opens per (role, database)."""

    min_replicas: int
    max_replicas: int
    pool_size_per_pod: int


def pooler_bounds(default_pool_size: int) -> PoolerBounds:
    """Split the tier's ``default_pool_size`` over the pods, so that all pods together never
    open more server connections per role than the tier allows (validation already keeps
    ``default_pool_size`` within the role's CONNECTION LIMIT). A pool of 1 or 2 connections
    cannot be split over 2-3 pods: it runs on that many pods."""
    most = max(1, min(MAX_REPLICAS, default_pool_size))
    return PoolerBounds(
        min_replicas=min(MIN_REPLICAS, most),
        max_replicas=most,
        pool_size_per_pod=max(1, default_pool_size // most),
    )


@dataclass(frozen=True)
class PgBouncerSettings:
    server_host: str  # the server's private IP
    database: str  # the only database the pooler serves
    mode: str  # transaction (bridge/pool) or session (a silo that asks)
    pool_size_per_pod: int
    max_client_connections: int
    idle_timeout_seconds: int
    # PgBouncer checks that the server's certificate chains to the instance's CA. Not
    # verify-full: Cloud SQL's certificate names the instance, not the private IP PgBouncer
    # dials, so the host name check would always fail (docs/connection-pooling.md).
    server_tls_sslmode: str = "verify-ca"
    server_tls_ca_file: str = SERVER_CA_FILE


def pgbouncer_ini(settings: PgBouncerSettings) -> str:
    """The pgbouncer.ini of one pooler (no secret in it: the userlist is a Secret)."""
    lines = [
        "[databases]",
        # One database only: a client asking for any other is refused by PgBouncer itself.
        f"{settings.database} = host={settings.server_host} port={SERVER_PORT} "
        f"dbname={settings.database}",
        "",
        "[pgbouncer]",
        "listen_addr = 0.0.0.0",
        f"listen_port = {PGBOUNCER_PORT}",
        # No unix socket and no pid file: the root filesystem is read-only.
        "unix_socket_dir =",
        f"pool_mode = {settings.mode}",
        f"default_pool_size = {settings.pool_size_per_pod}",
        f"max_client_conn = {settings.max_client_connections}",
        f"server_idle_timeout = {settings.idle_timeout_seconds}",
        "auth_type = scram-sha-256",
        f"auth_file = {AUTH_DIR}/userlist.txt",
        # TLS both ways. Clients must use TLS (the cert-manager certificate of the Service).
        "client_tls_sslmode = require",
        f"client_tls_cert_file = {TLS_DIR}/tls.crt",
        f"client_tls_key_file = {TLS_DIR}/tls.key",
        f"server_tls_sslmode = {settings.server_tls_sslmode}",
        f"server_tls_ca_file = {settings.server_tls_ca_file}",
        # One client setting on every cloud: client-side prepared statements off.
        "max_prepared_statements = 0",
        # Drivers send it at startup; PgBouncer would refuse the connection otherwise.
        "ignore_startup_parameters = extra_float_digits",
        "log_connections = 0",
        "log_disconnections = 0",
        "stats_period = 60",
        "",
    ]
    return "\n".join(lines)


def server_ca_bundle(certs: Sequence[str | None]) -> str:
    """The file ``server_tls_ca_file`` names: every CA certificate the server's instance
    lists, concatenated PEM. During a CA rotation Cloud SQL lists the upcoming CA next to
    the current one, and the pooler must trust both until the server's certificate is
    re-signed. Raises ValueError when there is no certificate: a pooler that trusts nothing
    would refuse every server connection, so the deploy stops instead."""
    pems = [cert.strip() for cert in certs if cert and cert.strip()]
    if not pems:
        raise ValueError(
            "the server lists no CA certificate: PgBouncer could not verify it "
            "(server_tls_sslmode = verify-ca); check the instance's serverCaCerts"
        )
    for pem in pems:
        if not (pem.startswith(PEM_BEGIN) and pem.endswith(PEM_END)):
            raise ValueError(f"not a PEM certificate: {pem[:40]!r}...")
    return "\n".join(pems) + "\n"


def scram_verifier(password: str, salt: bytes, iterations: int = SCRAM_ITERATIONS) -> str:
    """PostgreSQL's SCRAM-SHA-256 verifier of ``password`` (RFC 5802/7677), the form
    ``pg_authid.rolpassword`` and PgBouncer's auth_file store: the password itself never
    needs to be in either."""
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(data: bytes) -> str:
        return base64.b64encode(data).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored_key)}:{b64(server_key)}"


def userlist(verifiers: dict[str, str]) -> str:
    """PgBouncer's auth_file: one ``"role" "verifier"`` line per login role, sorted."""
    return "".join(f'"{role}" "{verifiers[role]}"\n' for role in sorted(verifiers))


def service_host(service: str, namespace: str) -> str:
    """The pooler Service's cluster DNS name: what a pooled tenant's apps connect to."""
    return f"{service}.{namespace}.svc.cluster.local"


RELOAD_INTERVAL_SECONDS = 10


def reload_script(watched: Sequence[str], interval_seconds: float = RELOAD_INTERVAL_SECONDS) -> str:
    """The pooler's reloader sidecar: POSIX sh that sends PgBouncer SIGHUP (RELOAD) when a
    watched file changes.

    Why: a bridge tenant joining the shard adds its login to the userlist Secret, and
    cert-manager renews the TLS Secret; kubelet refreshes both mounted files, but PgBouncer
    reads them only at start or on RELOAD. Rolling the pods instead would drop every tenant's
    connections whenever one tenant is onboarded. The pod shares its process namespace, so
    the sidecar (same uid) can signal PgBouncer; it finds it by name through /proc, because
    slim images ship neither pidof nor pkill."""
    files = " ".join(f"'{path}'" for path in watched)
    return "\n".join(
        [
            "set -u",
            'last=""',
            "while :; do",
            f"  now=$(cat {files} 2>/dev/null | cksum)",
            '  if [ -n "$last" ] && [ "$now" != "$last" ]; then',
            "    for proc in /proc/[0-9]*; do",
            '      if [ "$(cat "$proc/comm" 2>/dev/null)" = pgbouncer ]; then',
            '        kill -HUP "${proc#/proc/}" 2>/dev/null || true',
            "      fi",
            "    done",
            "  fi",
            '  last="$now"',
            f"  sleep {interval_seconds}",
            "done",
        ]
    )
