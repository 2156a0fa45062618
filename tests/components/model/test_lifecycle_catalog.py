"""The tenant lifecycle in the catalog: statuses, legal hold and the erasure record.

Pure model tests: no Pulumi. Erasure itself (real PostgreSQL) is tested under tests/tenancy/.
"""

from __future__ import annotations

import copy
import datetime
from typing import Any

import pytest

from components.model.cell import Cell, cell_tenants
from components.model.placement import occupancy
from components.model.validation import parse_catalog
from tests.components.model.test_catalog_validation import (
    FILE,
    Mutation,
    _dump,
    _issues,
    _set,
    valid_catalog,
)

ERASURE = {"erased_on": "2026-10-01", "evidence": "evidence/hooli-2026-10-01.json"}


def _with(*mutations: Mutation) -> dict[str, Any]:
    data = copy.deepcopy(valid_catalog())
    for mutation in mutations:
        mutation(data)
    return data


# (case, mutations, YAML path, message fragment, fix fragment)
BAD_LIFECYCLES: list[tuple[str, tuple[Mutation, ...], str, str, str]] = [
    (
        "legal hold without a reason",
        (_set("tenants.2.legal_hold", True),),
        "tenants[2].legal_hold_reason",
        "a legal hold needs a reason",
        "legal_hold_reason",
    ),
    (
        "a reason without a hold",
        (_set("tenants.2.legal_hold_reason", "case 2026-17"),),
        "tenants[2].legal_hold_reason",
        "legal_hold is not true",
        "legal_hold: true",
    ),
    (
        "erased under legal hold",
        (
            _set("tenants.2.status", "erased"),
            _set("tenants.2.erasure", ERASURE),
            _set("tenants.2.legal_hold", True),
            _set("tenants.2.legal_hold_reason", "case 2026-17"),
        ),
        "tenants[2].status",
        "under legal hold cannot be erased",
        "status: offboarded",
    ),
    (
        "erased without its record",
        (_set("tenants.2.status", "erased"),),
        "tenants[2].erasure",
        "needs its erasure record",
        "tenancy tenant erase",
    ),
    (
        "an erasure record on an offboarded tenant",
        (_set("tenants.2.status", "offboarded"), _set("tenants.2.erasure", ERASURE)),
        "tenants[2].erasure",
        "whose status is offboarded",
        "status: erased",
    ),
    (
        "an erasure date that is not a date",
        (
            _set("tenants.2.status", "erased"),
            _set("tenants.2.erasure", {"erased_on": "last tuesday"}),
        ),
        "tenants[2].erasure.erased_on",
        "date",
        "",
    ),
    (
        "an unknown status",
        (_set("tenants.2.status", "deleted"),),
        "tenants[2].status",
        "erased",
        "",
    ),
]


@pytest.mark.parametrize(
    ("mutations", "path", "fragment", "fix"),
    [pytest.param(*case[1:], id=case[0]) for case in BAD_LIFECYCLES],
)
def test_bad_lifecycle_is_reported_with_its_path_and_fix(
    mutations: tuple[Mutation, ...], path: str, fragment: str, fix: str
) -> None:
    issues = _issues(_dump(_with(*mutations)))
    matching = [issue for issue in issues if issue.path == path]
    assert matching, [(i.path, i.message) for i in issues]
    assert any(fragment in i.message and fix in i.hint for i in matching), matching
    assert all(i.line for i in matching)


def test_an_erased_tenant_with_its_record_is_valid_and_gets_no_resources() -> None:
    data = _with(_set("tenants.2.status", "erased"), _set("tenants.2.erasure", ERASURE))
    catalog = parse_catalog(_dump(data), FILE)
    hooli = catalog.tenants[2]
    assert hooli.departed and hooli.erasure is not None
    assert hooli.erasure.erased_on == datetime.date(2026, 10, 1)
    assert hooli.erasure.destroy_key is False  # never approved by default
    placed = cell_tenants(catalog, Cell("dev", "aws", "eu-central-1"))
    assert "hooli" not in [p.id for p in placed]
    assert all(2 not in slots for slots in occupancy(catalog).values())


def test_a_legal_hold_with_a_reason_is_valid_on_an_offboarded_tenant() -> None:
    data = _with(
        _set("tenants.2.status", "offboarded"),
        _set("tenants.2.legal_hold", True),
        _set("tenants.2.legal_hold_reason", "litigation hold, case 2026-17"),
    )
    hooli = parse_catalog(_dump(data), FILE).tenants[2]
    assert hooli.legal_hold and hooli.departed
