"""Cost arithmetic on hand-built plans: silo vs shared split, range ends, unpriced listed."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from components.model.cost import Price, PriceTable, cost_of_plan

READ = date(2026, 11, 29)
ACU = 0.2  # made-up prices: the arithmetic is under test, not the table
KMS = 1.0


def _prices(*, acu: bool = True) -> PriceTable:
    prices = [Price("aws", "kms-key-month", "global", "key-month", KMS, "https://x", READ)]
    if acu:
        prices.append(
            Price(
                "aws",
                "aurora-serverless-v2-acu-hour",
                "eu-central-1",
                "ACU-hour",
                ACU,
                "https://x",
                READ,
            )
        )
    return PriceTable(prices, hours_per_month=730)


def _res(type_: str, name: str, inputs: dict[str, Any]) -> dict[str, Any]:
    return {"urn": f"urn:{name}", "type": type_, "name": name, "custom": True, "inputs": inputs}


def _server(key_tags: dict[str, str], cid: str, acu: tuple[float, float], instances: int):
    cluster = _res(
        "aws:rds/cluster:Cluster",
        f"{cid}-cluster",
        {
            "clusterIdentifier": cid,
            "serverlessv2ScalingConfiguration": {"minCapacity": acu[0], "maxCapacity": acu[1]},
            "tags": key_tags,
        },
    )
    members = [
        _res(
            "aws:rds/clusterInstance:ClusterInstance",
            f"{cid}-{n}",
            {"clusterIdentifier": cid, "instanceClass": "db.serverless", "tags": key_tags},
        )
        for n in range(instances)
    ]
    key = _res("aws:kms/key:Key", f"{cid}-key", {"tags": key_tags})
    return [cluster, *members, key]


def _plan(resources: list[dict[str, Any]], tenants: list[dict[str, Any]]) -> dict[str, Any]:
    return {"stack": "dev-aws-eu-central-1", "resources": resources, "tenants": tenants}


SILO = {"tenancy:tenant": "acme", "tenancy:tier": "gold"}
SHARD = {"tenancy:tenant": "shared", "tenancy:shard": "free-01", "tenancy:tier": "free"}
TENANTS: list[dict[str, Any]] = [
    {"id": "acme", "tier": "gold", "isolation": "silo", "shard": None},
    {"id": "a", "tier": "free", "isolation": "pool", "shard": "free-01"},
    {"id": "b", "tier": "free", "isolation": "pool", "shard": "free-01"},
    {"id": "c", "tier": "free", "isolation": "pool", "shard": "free-01"},
]


def test_silo_tenant_pays_its_whole_server_at_both_ends_of_the_acu_range():
    plan = _plan(_server(SILO, "acme", (2, 16), instances=2), TENANTS[:1])
    report = cost_of_plan(plan, _prices())
    low, high = 2 * 2 * ACU * 730 + KMS, 2 * 16 * ACU * 730 + KMS
    assert report.servers["silo:acme"].low == pytest.approx(low)
    assert report.servers["silo:acme"].high == pytest.approx(high)
    acme = report.tenants["acme"]
    assert (acme.low, acme.high, acme.share) == (
        pytest.approx(low),
        pytest.approx(high),
        "own server",
    )


def test_shared_server_is_split_equally_and_the_split_is_stated():
    plan = _plan(_server(SHARD, "free-01", (0.5, 8), instances=1), TENANTS[1:])
    report = cost_of_plan(plan, _prices())
    server = report.servers["shard:free-01"]
    assert server.tenants == ("a", "b", "c")
    for tenant in ("a", "b", "c"):
        cost = report.tenants[tenant]
        assert cost.low == pytest.approx(server.low / 3)
        assert cost.high == pytest.approx(server.high / 3)
        assert cost.share == "1/3 of shard free-01"
    assert sum(report.tenants[t].high for t in "abc") == pytest.approx(server.high)


def test_autoscaled_replicas_add_readers_beyond_the_planned_ones_at_min_and_max():
    resources = _server(SILO, "acme", (1, 4), instances=2)  # writer + 1 HA reader
    resources.append(
        _res(
            "aws:appautoscaling/target:Target",
            "acme-replicas",
            {
                "scalableDimension": "rds:cluster:ReadReplicaCount",
                "resourceId": "cluster:acme",
                "minCapacity": 1,
                "maxCapacity": 5,
                "tags": SILO,
            },
        )
    )
    report = cost_of_plan(_plan(resources, TENANTS[:1]), _prices())
    (item,) = [i for i in report.servers["silo:acme"].items if "read replicas" in i.what]
    # min 1 reader is the planned HA reader: 0 extra; max 5 readers: 4 extra at 4 ACU.
    assert (item.low, item.high) == (0, pytest.approx(4 * 4 * ACU * 730))


def test_missing_price_is_listed_as_unpriced_never_counted_as_zero():
    plan = _plan(_server(SILO, "acme", (2, 16), instances=2), TENANTS[:1])
    report = cost_of_plan(plan, _prices(acu=False))
    unpriced = [u for _, u in report.unpriced() if "ACU" in u.what]
    assert [u.resource for u in unpriced] == ["acme-0", "acme-1"]
    assert all("aurora-serverless-v2-acu-hour" in u.reason for u in unpriced)
    assert report.servers["silo:acme"].high == KMS  # only what is priced is summed
    assert report.tenants["acme"].unpriced == len(report.servers["silo:acme"].unpriced)


def test_unknown_resource_type_is_unpriced_and_free_types_are_counted_apart():
    resources = [
        _res("aws:elasticache/cluster:Cluster", "cache", {"tags": SILO}),
        _res("aws:iam/role:Role", "role", {}),
    ]
    report = cost_of_plan(_plan(resources, TENANTS[:1]), _prices())
    assert [(k, u.resource, u.reason) for k, u in report.unpriced()] == [
        ("silo:acme", "cache", "resource type not in the cost model")
    ]
    assert report.free == {"aws:iam/role:Role": 1}


def test_gcp_regional_instance_costs_double_the_zonal_one():
    prices = PriceTable(
        [
            Price(
                "gcp", "cloudsql-enterprise-vcpu-hour", "us-central1", "h", 0.04, "https://x", READ
            ),
            Price(
                "gcp",
                "cloudsql-enterprise-memory-gb-hour",
                "us-central1",
                "h",
                0.01,
                "https://x",
                READ,
            ),
            Price("gcp", "cloudsql-ha-multiplier", "global", "factor", 2.0, "https://x", READ),
        ]
    )

    def instance(availability: str) -> dict[str, Any]:
        settings = {
            "tier": "db-custom-2-4096",
            "availabilityType": availability,
            "userLabels": SILO,
        }
        return _res(
            "gcp:sql/databaseInstance:DatabaseInstance", availability, {"settings": settings}
        )

    plan = {"stack": "dev-gcp-us-central1", "tenants": TENANTS[:1]}
    zonal = cost_of_plan({**plan, "resources": [instance("ZONAL")]}, prices)
    regional = cost_of_plan({**plan, "resources": [instance("REGIONAL")]}, prices)
    expected = (2 * 0.04 + 4 * 0.01) * 730
    assert zonal.low == pytest.approx(expected)
    assert regional.low == pytest.approx(2 * expected)


def test_resource_without_owner_tags_is_attributed_by_its_logical_name():
    resources = [
        _res("azure-native:keyvault:Key", "silo-acme-key-cmk", {}),
        _res("azure-native:keyvault:Key", "shard-free-01-key-cmk", {}),
        _res("azure-native:keyvault:Vault", "cell-vault-vault", {}),
    ]
    plan = {"stack": "dev-azure-westeurope", "resources": resources, "tenants": TENANTS}
    report = cost_of_plan(plan, _prices())
    owners = {u.resource: key for key, u in report.unpriced()}
    assert owners == {
        "silo-acme-key-cmk": "silo:acme",
        "shard-free-01-key-cmk": "shard:free-01",
        "cell-vault-vault": "cell",
    }


def test_tenant_in_motion_pays_its_new_home_and_its_share_of_the_old_one():
    moving = {
        "id": "c",
        "tier": "gold",
        "isolation": "silo",
        "shard": None,
        "moving_from": {"tier": "free", "isolation": "pool", "shard": "free-01"},
    }
    tenants = [TENANTS[0], TENANTS[1], TENANTS[2], moving]
    resources = [
        *_server(SILO, "acme", (2, 2), instances=1),
        *_server({**SILO, "tenancy:tenant": "c"}, "c", (2, 2), instances=1),
        *_server(SHARD, "free-01", (1, 1), instances=1),
    ]
    report = cost_of_plan(_plan(resources, tenants), _prices())
    shard, own = report.servers["shard:free-01"], report.servers["silo:c"]
    assert shard.tenants == ("a", "b", "c")  # still on the old shard until the move ends
    cost = report.tenants["c"]
    assert cost.low == pytest.approx(own.low + shard.low / 3)
    assert cost.share == "own server + 1/3 of shard free-01 (old home, until the move ends)"
    assert report.tenants["a"].low == pytest.approx(shard.low / 3)


PROXY_ACU = 0.015  # made-up: the arithmetic is under test


def _proxy(cid: str, tags: dict[str, str]) -> list[dict[str, Any]]:
    return [
        _res("aws:rds/proxy:Proxy", f"{cid}-pooler-proxy", {"name": f"{cid}-proxy", "tags": tags}),
        _res(
            "aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup",
            f"{cid}-pooler-target-group",
            {"tags": tags},
        ),
    ]


def test_rds_proxy_costs_its_targets_acus_with_a_floor_of_8():
    proxy = Price(
        "aws", "rds-proxy-serverless-v2-acu-hour", "eu-central-1", "ACU-hour", PROXY_ACU, "x", READ
    )
    prices = PriceTable([*_prices().prices, proxy], hours_per_month=730)
    resources = _server(SHARD, "free-01", (0.5, 8), instances=2) + _proxy("free-01", SHARD)
    report = cost_of_plan(_plan(resources, TENANTS[1:]), prices)
    (item,) = [i for i in report.servers["shard:free-01"].items if "RDS Proxy" in i.what]
    # 2 instances x 0.5 ACU = 1 ACU is under the floor of 8; 2 x 8 = 16 ACU is above it.
    assert (item.low, item.high) == (
        pytest.approx(8 * PROXY_ACU * 730),
        pytest.approx(16 * PROXY_ACU * 730),
    )
    assert report.free["aws:rds/proxyDefaultTargetGroup:ProxyDefaultTargetGroup"] == 1


def test_rds_proxy_without_a_sourced_price_is_unpriced_with_its_sku():
    resources = _server(SHARD, "free-01", (0.5, 8), instances=1) + _proxy("free-01", SHARD)
    report = cost_of_plan(_plan(resources, TENANTS[1:]), _prices())
    (proxy,) = [u for _, u in report.unpriced() if u.resource == "free-01-pooler-proxy"]
    assert "rds-proxy-serverless-v2-acu-hour" in proxy.reason
