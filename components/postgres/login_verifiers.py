"""``tenancy:postgres:LoginVerifiers``: the SCRAM verifiers of a server's login roles.

A PgBouncer that authenticates clients from a userlist of SCRAM-SHA-256 verifiers logs in
to the server as the same role by SCRAM pass-through, which works only when the server
stores the *identical* verifier (same salt, same iterations). This sets it, as the
cloud's admin role may (``ALTER ROLE ... PASSWORD 'SCRAM-SHA-256$...'``): PostgreSQL
stores a verifier it is given as is, so the password itself never reaches the server,
its logs or the plan. Used by the GCP pooler (components/k8s/pgbouncer.py).

Like ``DatabaseIsolation``, a dynamic provider runs it at ``pulumi up``; deleting the
resource changes nothing in the database (the roles keep their verifiers).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import psycopg
import pulumi
from psycopg import sql
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.postgres.isolation import AdminConnectionArgs, admin_conninfo

SCRAM_PREFIX = "SCRAM-SHA-256$"


def set_verifiers(conninfo: str, verifiers: Mapping[str, str]) -> list[str]:
    """Give each role its verifier, in one transaction (idempotent); the roles set."""
    changed = []
    with psycopg.connect(conninfo) as conn, conn.transaction():
        for role in sorted(verifiers):
            verifier = verifiers[role]
            if not verifier.startswith(SCRAM_PREFIX):
                # A plaintext password would be hashed by the server and logged on the way.
                raise ValueError(f"{role}: not a SCRAM-SHA-256 verifier")
            exists = conn.execute(
                "SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", [role]
            ).fetchone()
            if exists is None:
                raise ValueError(f"role {role} does not exist: apply the server's SQL plan first")
            conn.execute(
                sql.SQL("ALTER ROLE {} PASSWORD {}").format(
                    sql.Identifier(role), sql.Literal(verifier)
                )
            )
            changed.append(role)
    return changed


class VerifiersProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        set_verifiers(admin_conninfo(props), props["verifiers"])
        return CreateResult(id_=str(props["server"]), outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("verifiers", "host", "port", "database", "username")
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        set_verifiers(admin_conninfo(news), news["verifiers"])
        return UpdateResult(outs=news)

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None  # never touch the roles on delete


class LoginVerifiers(pulumi.dynamic.Resource):
    def __init__(
        self,
        name: str,
        server: str,
        connection: AdminConnectionArgs,
        verifiers: pulumi.Input[Mapping[str, str]],
        opts: pulumi.ResourceOptions,
    ) -> None:
        props = {
            "server": server,
            "host": connection.host,
            "port": connection.port,
            "database": connection.database,
            "username": connection.username,
            "password": pulumi.Output.secret(connection.password),
            "sslmode": connection.sslmode,
            "sslrootcert": connection.sslrootcert,
            "verifiers": pulumi.Output.secret(verifiers),
        }
        super().__init__(
            VerifiersProvider(),
            name,
            props,
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["password", "verifiers"])
            ),
        )
