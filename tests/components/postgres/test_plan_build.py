"""The shortcuts that keep a 1,000-tenant plan quick to build give psycopg's own text.

``Check`` parses its template once per process instead of via ``SQL.format``, and
quoting skips psycopg's connection-less escaping; both must be byte-for-byte what
psycopg would have composed, or plan digests (and the checks) would drift. Pure.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from psycopg import sql

from components.postgres import sqlchecks as chk
from components.postgres.sqlplan import TenantDb, _quoted, build_plan


@pytest.mark.parametrize("isolation", ["pool", "bridge", "silo"])
def test_every_check_of_a_plan_reads_as_psycopg_would_compose_it(isolation: str) -> None:
    plan = build_plan(f"{isolation}-pb", isolation, [TenantDb("pba"), TenantDb("pbb")])  # type: ignore[arg-type]
    checks = [s.done for s in plan.statements if isinstance(s.done, chk.Check)]
    assert len(checks) > 10
    for check in checks:
        literals = {key: sql.Literal(value) for key, value in check.params.items()}
        expected = sql.SQL(check.template).format(**literals)
        assert check.as_string(None) == expected.as_string(None)


def test_a_check_template_with_a_positional_placeholder_is_refused() -> None:
    with pytest.raises(ValueError, match="named placeholders only"):
        chk.Check("SELECT {} = 1", role="x")


@given(
    st.lists(
        st.text(
            alphabet=st.characters(codec="utf-8", blacklist_characters="\x00"),
            min_size=1,
        ),
        min_size=1,
        max_size=3,
    )
)
def test_quoting_matches_psycopg(parts: list[str]) -> None:
    ident = sql.Identifier(*parts)
    assert _quoted(ident) == ident.as_string(None)
