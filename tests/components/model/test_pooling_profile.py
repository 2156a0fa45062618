"""The tier's ``pooling`` section: defaults per isolation, bounds against the tier's
connection limit and replicas, each error with its YAML path and a fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.model.catalog import PoolingProfile
from components.model.errors import InputError
from components.model.pooling import pooler_port
from components.model.validation import parse_catalog

CATALOG = Path(__file__).resolve().parents[3] / "stacks" / "tenants.yaml"


def _base() -> dict[str, Any]:
    return yaml.safe_load(CATALOG.read_text())


def _issues(data: dict[str, Any]) -> dict[str, tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        parse_catalog(yaml.safe_dump(data, sort_keys=False), "tenants.yaml")
    return {issue.path: (issue.message, issue.hint) for issue in caught.value.issues}


def test_shared_tiers_pool_in_transaction_mode_and_silo_not_at_all_by_default() -> None:
    catalog = parse_catalog(CATALOG.read_text(), str(CATALOG))
    modes = {name: (tier.isolation, tier.pool_mode) for name, tier in catalog.tiers.items()}
    assert modes == {
        "free": ("pool", "transaction"),
        "standard": ("bridge", "transaction"),
        "enterprise": ("silo", "none"),
    }
    assert PoolingProfile().default_pool_size <= 20  # fits the default connection_limit


@pytest.mark.parametrize("mode", ["session", "none"])
def test_pool_tier_must_pool_in_transaction_mode(mode: str) -> None:
    data = _base()
    data["tiers"]["free"]["pooling"] = {"mode": mode}
    message, hint = _issues(data)["tiers.free.pooling.mode"]
    assert f"a pool tier must pool in transaction mode, got {mode!r}" in message
    assert "set 'mode: transaction'" in hint


def test_silo_tier_may_not_pool_in_transaction_mode() -> None:
    data = _base()
    data["tiers"]["enterprise"]["pooling"] = {"mode": "transaction"}
    message, hint = _issues(data)["tiers.enterprise.pooling.mode"]
    assert "'session' mode or not at all" in message and "mode: session" in hint


def test_silo_tier_may_ask_for_session_pooling() -> None:
    data = _base()
    data["tiers"]["enterprise"]["pooling"] = {"mode": "session"}
    catalog = parse_catalog(yaml.safe_dump(data), "tenants.yaml")
    assert catalog.tiers["enterprise"].pool_mode == "session"


def test_pool_size_above_the_tenant_connection_limit_is_rejected() -> None:
    data = _base()
    data["tiers"]["standard"]["database"]["connection_limit"] = 5
    data["tiers"]["standard"]["pooling"] = {"default_pool_size": 8}
    message, hint = _issues(data)["tiers.standard.pooling.default_pool_size"]
    assert "default_pool_size 8 exceeds the tier's database.connection_limit 5" in message
    assert "at most 5" in hint


def test_client_connections_below_max_replicas_are_rejected() -> None:
    data = _base()
    data["tiers"]["free"]["pooling"] = {"max_client_connections": 3}
    message, hint = _issues(data)["tiers.free.pooling.max_client_connections"]
    assert "below app.max_replicas 10" in message and "at least 10" in hint


def test_no_pooler_means_no_pooler_bounds() -> None:
    data = _base()
    data["tiers"]["enterprise"]["pooling"] = {"mode": "none", "default_pool_size": 500}
    parse_catalog(yaml.safe_dump(data), "tenants.yaml")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("idle_timeout_seconds", 30_000),
        ("max_connections_percent", 0),
        ("default_pool_size", 0),
        ("mode", "statement"),
        ("pool_size", 5),
    ],
)
def test_out_of_range_or_unknown_pooling_values_name_their_path(key: str, value: Any) -> None:
    data = _base()
    data["tiers"]["free"]["pooling"] = {key: value}
    assert f"tiers.free.pooling.{key}" in _issues(data)


def test_only_pgbouncer_ports_need_an_extra_egress_port() -> None:
    assert (pooler_port("azure", True), pooler_port("aws", True), pooler_port("gcp", True)) == (
        6432,
        None,
        None,
    )
