"""A silo tenant's role joins rds_iam where the server has it, so its workload can log in
with an IAM token; on servers without rds_iam the statement is a no-op."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import psycopg
import pytest

pytestmark = pytest.mark.postgres


def _member(dsn: str, role: str) -> bool:
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT pg_has_role(%s, 'rds_iam', 'MEMBER')", [role]).fetchone()
    return bool(row and row[0])


@pytest.fixture
def rds_iam(new_database: Callable[[str], str]) -> Iterator[str]:
    # Roles are cluster-wide: create rds_iam only for this test, as RDS would have it.
    dsn = new_database("iam_admin")
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("CREATE ROLE rds_iam NOLOGIN")
    yield dsn
    with psycopg.connect(dsn, autocommit=True) as admin:
        admin.execute("DROP ROLE rds_iam")


def test_silo_role_joins_rds_iam_where_the_server_has_it(
    rds_iam: str, apply: Callable[..., object]
) -> None:
    apply(rds_iam, "iam-silo", "silo", "hotel")
    assert _member(rds_iam, "tenant_hotel")


def test_without_rds_iam_the_grant_is_not_needed(
    new_database: Callable[[str], str], apply: Callable[..., object]
) -> None:
    dsn = new_database("no_iam_admin")
    report = apply(dsn, "iam-none", "silo", "india")
    changed = [statement.summary for statement in report.changed]  # type: ignore[attr-defined]
    assert "create role tenant_india" in changed
    assert not any("rds_iam" in summary for summary in changed)
