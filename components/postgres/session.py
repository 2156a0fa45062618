"""Run queries as one pool tenant: ``with tenant_session(conn, "acme"): ...``.

The tenant is set with ``set_config('tenancy.tenant_id', id, true)`` -- the
``true`` makes it transaction-local, exactly like ``SET LOCAL`` -- inside a
transaction this helper opens and closes. When the block ends, by COMMIT or
ROLLBACK, the setting is gone, so a connection handed back to a pool (psycopg_pool,
PgBouncer in transaction mode, an ORM's pool) carries no tenant into its next
use. ``SET``/``SET SESSION`` would stay on the connection after COMMIT and
silently serve tenant A's context to whichever request borrows it next.

The database's policies treat an unset tenant as "no rows" (see
docs/in-database-isolation.md), so forgetting this helper fails closed.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager

import psycopg
from psycopg import pq

from components.model.catalog import TENANT_ID_PATTERN
from components.postgres.sqlplan import SETTING

_TENANT_ID = re.compile(TENANT_ID_PATTERN)
_SET_TENANT = "SELECT set_config(%s, %s, true)"


class TenantSessionError(RuntimeError):
    """Misuse that would let the tenant setting outlive the block."""


def _check(tenant_id: str, status: pq.TransactionStatus) -> None:
    if not _TENANT_ID.match(tenant_id):
        raise ValueError(f"invalid tenant id {tenant_id!r}")
    if status != pq.TransactionStatus.IDLE:
        # Inside an open transaction our block would only be a savepoint, and a
        # transaction-local setting lives until the *outer* transaction ends.
        raise TenantSessionError(
            f"tenant_session needs an idle connection, this one is {status.name}: "
            "commit or roll back first, or open the transaction with tenant_session itself"
        )


@contextmanager
def tenant_session(conn: psycopg.Connection, tenant_id: str) -> Iterator[psycopg.Connection]:
    """A transaction in which row-level security sees ``tenant_id``; commits on success."""
    _check(tenant_id, conn.info.transaction_status)
    with conn.transaction():
        conn.execute(_SET_TENANT, [SETTING, tenant_id])
        yield conn


@asynccontextmanager
async def async_tenant_session(
    conn: psycopg.AsyncConnection, tenant_id: str
) -> AsyncIterator[psycopg.AsyncConnection]:
    """``tenant_session`` for ``psycopg.AsyncConnection``."""
    _check(tenant_id, conn.info.transaction_status)
    async with conn.transaction():
        await conn.execute(_SET_TENANT, [SETTING, tenant_id])
        yield conn
