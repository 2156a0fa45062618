"""Rules for a tier's ``pooling`` section, and the pooler settings each cloud derives.

The pooler is where tenant context leaks: a session-level setting follows the
server connection to the next client. Shared servers therefore pool in
transaction mode only, with the tenant set per transaction (``tenant_session``)
and bridge isolation kept on the per-tenant login role, which PgBouncer and RDS
Proxy pool separately (docs/connection-pooling.md).
"""

from __future__ import annotations

from typing import Any

from .catalog import Tier

Finding = tuple[tuple[Any, ...], str, str]  # (path below the tier, message, hint)

# Where the pooler listens, per cloud whose pooler sits on the database network: RDS Proxy
# keeps PostgreSQL's port, Azure's built-in PgBouncer listens on PgBouncer's. GCP's pooler
# is a PgBouncer in the apps' own namespace (components/k8s/pgbouncer.py), which brings
# its own NetworkPolicy from the apps' pods: no extra port towards the database ranges.
POOLER_PORTS = {"aws": 5432, "azure": 6432}


def pooler_port(cloud: str, pooled: bool) -> int | None:
    """The extra port a workload's egress needs for its pooler (None: the database port)."""
    port = POOLER_PORTS.get(cloud)
    return port if pooled and port is not None and port != 5432 else None


def pools(tier: Tier) -> bool:
    """Whether the tier's servers get a pooler."""
    return tier.pool_mode != "none"


def _mode_rules(tier: Tier) -> list[Finding]:
    loc = ("pooling", "mode")
    mode = tier.pool_mode
    if tier.isolation != "silo" and mode != "transaction":
        why = (
            "without a pooler, tenants x replicas x app pool size soon exceed the shared "
            "server's max_connections"
            if mode == "none"
            else "session pooling holds one server connection per client, so a shared "
            "server gains nothing"
        )
        return [
            (
                loc,
                f"a {tier.isolation} tier must pool in transaction mode, got {mode!r}: {why}",
                "remove 'mode' (transaction is the default) or set 'mode: transaction'",
            )
        ]
    if tier.isolation == "silo" and mode == "transaction":
        return [
            (
                loc,
                "a silo tier may pool in 'session' mode or not at all ('none'), got 'transaction'",
                "set 'mode: session' or 'mode: none' (the default)",
            )
        ]
    return []


def pooling_rules(tier: Tier) -> list[Finding]:
    """Bounds of the pooler against the tier's connection limit and replica counts."""
    found = _mode_rules(tier)
    if not pools(tier):
        return found
    pooling, db, app = tier.pooling, tier.database, tier.app
    if pooling.default_pool_size > db.connection_limit:
        # One pool per (tenant login role, database): the role's CONNECTION LIMIT refuses
        # the pooler's extra server connections, so clients would see errors under load.
        found.append(
            (
                ("pooling", "default_pool_size"),
                f"default_pool_size {pooling.default_pool_size} exceeds the tier's "
                f"database.connection_limit {db.connection_limit}: the server would refuse "
                "the pooler's extra connections of a tenant role",
                f"lower default_pool_size to at most {db.connection_limit}, or raise "
                "database.connection_limit",
            )
        )
    if pooling.max_client_connections < app.max_replicas:
        found.append(
            (
                ("pooling", "max_client_connections"),
                f"max_client_connections {pooling.max_client_connections} is below "
                f"app.max_replicas {app.max_replicas}: at full scale-out some replicas "
                "could not connect at all",
                f"raise max_client_connections to at least {app.max_replicas}",
            )
        )
    return found
