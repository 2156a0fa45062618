"""The GCP pooler's pure parts: replica bounds from the pool size, pgbouncer.ini, userlist."""

from __future__ import annotations

import configparser

import pytest

from components.model.pgbouncer import (
    PgBouncerSettings,
    pgbouncer_ini,
    pooler_bounds,
    scram_verifier,
    server_ca_bundle,
    service_host,
    userlist,
)


@pytest.mark.parametrize(
    ("pool_size", "bounds"),
    [(10, (2, 3, 3)), (3, (2, 3, 1)), (2, (2, 2, 1)), (1, (1, 1, 1)), (100, (2, 3, 33))],
)
def test_pods_together_never_open_more_than_the_tiers_pool_size(
    pool_size: int, bounds: tuple[int, int, int]
) -> None:
    found = pooler_bounds(pool_size)
    assert (found.min_replicas, found.max_replicas, found.pool_size_per_pod) == bounds
    assert found.max_replicas * found.pool_size_per_pod <= pool_size


def _ini(**changes: object) -> configparser.ConfigParser:
    settings = PgBouncerSettings(
        server_host="10.1.2.3",
        database="app",
        mode="transaction",
        pool_size_per_pod=3,
        max_client_connections=2000,
        idle_timeout_seconds=1800,
    )
    parser = configparser.ConfigParser()
    parser.read_string(pgbouncer_ini(settings.__class__(**{**settings.__dict__, **changes})))
    return parser


def test_the_ini_serves_one_database_on_the_server_only() -> None:
    ini = _ini()
    assert dict(ini["databases"]) == {"app": "host=10.1.2.3 port=5432 dbname=app"}


def test_the_ini_carries_the_tiers_settings_and_tls_both_ways() -> None:
    bouncer = _ini(mode="session", pool_size_per_pod=4, idle_timeout_seconds=60)["pgbouncer"]
    assert bouncer["pool_mode"] == "session"
    assert bouncer["default_pool_size"] == "4"
    assert bouncer["max_client_conn"] == "2000"
    assert bouncer["server_idle_timeout"] == "60"
    assert bouncer["client_tls_sslmode"] == "require"
    assert bouncer["server_tls_sslmode"] == "verify-ca"
    assert bouncer["server_tls_ca_file"] == "/etc/pgbouncer/server-ca/ca.crt"
    assert bouncer["auth_type"] == "scram-sha-256"
    assert bouncer["listen_port"] == "6432"
    assert "password" not in pgbouncer_ini(
        PgBouncerSettings("10.1.2.3", "app", "transaction", 3, 2000, 1800)
    )


def test_the_userlist_has_one_sorted_line_per_role() -> None:
    assert userlist({"b": "SCRAM-SHA-256$x", "a": "SCRAM-SHA-256$y"}) == (
        '"a" "SCRAM-SHA-256$y"\n"b" "SCRAM-SHA-256$x"\n'
    )


def test_a_scram_verifier_depends_on_password_and_salt() -> None:
    one = scram_verifier("secret", b"salt-1")
    assert one.startswith("SCRAM-SHA-256$4096:")
    assert one == scram_verifier("secret", b"salt-1")
    assert one != scram_verifier("secret", b"salt-2")
    assert one != scram_verifier("secreT", b"salt-1")
    assert "secret" not in one


def test_the_service_host_is_the_cluster_dns_name() -> None:
    assert service_host("pgbouncer-free-01", "tnc-tier-free") == (
        "pgbouncer-free-01.tnc-tier-free.svc.cluster.local"
    )


CA_1 = "-----BEGIN CERTIFICATE-----\nQ0Egb25l\n-----END CERTIFICATE-----"
CA_2 = "-----BEGIN CERTIFICATE-----\nQ0EgdHdv\n-----END CERTIFICATE-----"


def test_the_server_ca_bundle_holds_every_certificate_one_after_the_other() -> None:
    assert server_ca_bundle([CA_1 + "\n", None, CA_2]) == f"{CA_1}\n{CA_2}\n"


def test_a_server_without_a_ca_certificate_stops_the_deploy() -> None:
    with pytest.raises(ValueError, match="lists no CA certificate"):
        server_ca_bundle([None, " "])


def test_a_ca_that_is_not_pem_is_refused() -> None:
    with pytest.raises(ValueError, match="not a PEM certificate"):
        server_ca_bundle(["MIIC...base64 without its armour"])
