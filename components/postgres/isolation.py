"""``tenancy:postgres:DatabaseIsolation``: one server's roles, schemas, grants and RLS.

A Pulumi *dynamic provider* applies the server's SQL plan at ``pulumi up``
through ``components.postgres.apply.apply_plan`` -- the code path of
``tenancy db apply`` -- so the CLI, the tests and the deployment cannot
disagree. Why not pulumi-postgresql: it models one resource per role, grant
and policy (hundreds per shard), has no FORCE ROW LEVEL SECURITY, no policy
fingerprinting and no orphan report, and its delete *drops* roles and schemas,
which for a tenant means dropping data. See docs/in-database-isolation.md.

Inputs carry the sorted tenant ids and the plan digest, so a catalog change
is a visible diff in the offline plan and in ``pulumi preview``. Deleting the
resource never touches the database: tenant data is only ever removed by hand.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
from psycopg.conninfo import make_conninfo
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.args import depends_on_of
from components.model.catalog import Isolation
from components.model.cell import PlacedTenant
from components.postgres.datamodel import (
    DEFAULT_MODEL,
    TenantTable,
    table_from_dict,
    table_to_dict,
)
from components.postgres.sqlplan import SqlPlan, TenantDb, build_plan, plan_for_server

# Inputs whose change means the database must be brought to a new state.
_APPLY_ON_CHANGE = ("planDigest", "host", "port", "database", "username", "sslmode", "sslrootcert")


@dataclass(frozen=True)
class AdminConnectionArgs:
    """How ``pulumi up`` reaches the server as its admin (RDS master, Azure/GCP admin user).

    The machine running ``pulumi up`` must have a network path to ``host``
    (servers are private: a runner inside the VPC/VNet, or a tunnel).
    """

    host: pulumi.Input[str]
    username: pulumi.Input[str]
    password: pulumi.Input[str]  # always stored as a Pulumi secret
    port: pulumi.Input[int] = 5432
    database: pulumi.Input[str] = "postgres"  # bridge/pool: the shard's application database
    sslmode: str = "verify-full"  # verify the server certificate and host name
    sslrootcert: str | None = None  # CA bundle path on the runner; None: libpq's default


@dataclass(frozen=True)
class DatabaseIsolationArgs:
    server: str  # shard name (bridge/pool) or silo tenant id; must match `tenancy db --shard`
    isolation: Isolation
    tenants: Sequence[PlacedTenant]
    connection: AdminConnectionArgs
    # The tenant data model, laid out in every tier (pool schema, bridge schemas,
    # silo databases); extend it, don't replace it.
    tables: tuple[TenantTable, ...] = DEFAULT_MODEL
    cell: str = ""  # the stack (cell) name, recorded in the server marker the mover reads


def _plan_from_props(props: dict[str, Any]) -> SqlPlan:
    tenants = [
        TenantDb(
            id=str(spec["id"]),
            active=bool(spec["active"]),
            connection_limit=int(spec["connectionLimit"]),
            statement_timeout_ms=int(spec["statementTimeoutMs"]),
        )
        for spec in props["tenantSpecs"]
    ]
    tables = [table_from_dict(table) for table in props.get("modelTables") or []]
    plan = build_plan(
        str(props["server"]), props["isolation"], tenants, tables, str(props.get("cell") or "")
    )
    if plan.digest() != props["planDigest"]:
        # The program and this provider run different tenancy code: refuse to guess.
        raise ValueError(
            f"plan digest mismatch for server {props['server']}: program {props['planDigest']},"
            f" provider {plan.digest()}; run pulumi up with the same tenancy version"
        )
    return plan


def admin_conninfo(props: Mapping[str, Any]) -> str:
    """The libpq connection string of an ``AdminConnectionArgs`` as a provider receives it."""
    sslrootcert = props.get("sslrootcert")
    options: dict[str, str] = {"sslrootcert": sslrootcert} if sslrootcert else {}
    return make_conninfo(
        host=props["host"],
        port=int(props["port"]),
        dbname=props["database"],
        user=props["username"],
        password=props["password"],
        sslmode=props["sslmode"],
        connect_timeout=10,
        **options,
    )


def _apply(props: dict[str, Any]) -> dict[str, Any]:
    # Imported here so registering the resource (the offline plan) never loads the runtime.
    from components.postgres.apply import apply_plan

    report = apply_plan(admin_conninfo(props), _plan_from_props(props))
    return {
        **props,
        "changed": [f"[{s.owner}] {s.summary}" for s in report.changed],
        "orphans": [orphan.name for orphan in report.orphans],
    }


class IsolationProvider(ResourceProvider):
    """Stateless, importable at module level: dill pickles it by reference (cheap)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=str(props["server"]), outs=_apply(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in _APPLY_ON_CHANGE if olds.get(key) != news.get(key)]
        replaces = [key for key in ("server", "isolation") if olds.get(key) != news.get(key)]
        return DiffResult(
            changes=bool(changed or replaces), replaces=replaces, delete_before_replace=False
        )

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=_apply(news))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        # Deliberately nothing: removing the component must never drop tenant data.
        return None


class _SqlPlanResource(pulumi.dynamic.Resource):
    changed: pulumi.Output[list[str]]
    orphans: pulumi.Output[list[str]]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        super().__init__(
            IsolationProvider(), name, {**props, "changed": None, "orphans": None}, opts
        )


def _tenant_specs(tenants: Sequence[PlacedTenant]) -> list[dict[str, Any]]:
    specs = [TenantDb.from_placed(t) for t in sorted(tenants, key=lambda t: t.id)]
    return [
        {
            "id": s.id,
            "active": s.active,
            "connectionLimit": s.connection_limit,
            "statementTimeoutMs": s.statement_timeout_ms,
        }
        for s in specs
    ]


def resource_props(args: DatabaseIsolationArgs, plan: SqlPlan) -> dict[str, Any]:
    """The dynamic resource's inputs (camelCase, as the engine and policies see them)."""
    conn = args.connection
    return {
        "server": args.server,
        "isolation": args.isolation,
        "tenants": list(plan.tenants),
        "planDigest": plan.digest(),
        "tenantSpecs": _tenant_specs(args.tenants),
        "modelTables": [table_to_dict(t) for t in args.tables],
        "cell": args.cell,
        "host": conn.host,
        "port": conn.port,
        "database": conn.database,
        "username": conn.username,
        "password": conn.password,
        "sslmode": conn.sslmode,
        "sslrootcert": conn.sslrootcert,
    }


class DatabaseIsolation(pulumi.ComponentResource):
    """Applies a server's in-database isolation plan; never drops tenant data."""

    plan_digest: str
    tenants: list[str]
    orphans: pulumi.Output[list[str]]

    def __init__(
        self, name: str, args: DatabaseIsolationArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("tenancy:postgres:DatabaseIsolation", name, None, opts)
        plan = plan_for_server(args.server, args.isolation, args.tenants, args.tables, args.cell)
        self.plan_digest = plan.digest()
        self.tenants = list(plan.tenants)
        props = resource_props(args, plan)
        props["password"] = pulumi.Output.secret(args.connection.password)
        resource = _SqlPlanResource(
            f"{name}-sql",
            props,
            # The SQL may only run once the whole server is up (instances, TLS parameters),
            # which the caller expresses as this component's depends_on.
            pulumi.ResourceOptions(
                parent=self, depends_on=depends_on_of(opts), additional_secret_outputs=["password"]
            ),
        )
        self.orphans = resource.orphans.apply(lambda names: list(names or []))
        self.register_outputs(
            {"planDigest": self.plan_digest, "tenants": self.tenants, "orphans": self.orphans}
        )
