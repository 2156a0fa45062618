"""The PostgreSQL major version is a tier setting (issue 15, item 5): it reaches every
cloud's server, and raising it is an in-place upgrade in `tenancy diff`, not a danger (but
on a Flexible Server with read replicas, which Azure cannot upgrade)."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.model.catalog import DEFAULT_POSTGRES_MAJOR_VERSION
from components.model.clouds import CLOUD_TRAITS
from tenancy.diff.compute import (
    AZURE_SERVER,
    MAJOR_UPGRADE_WITH_REPLICAS,
    azure_replicas_of,
    diff_plans,
)
from tenancy.plan import plan_stack
from tests.support.planview import Plan, catalog_data, write_catalog

# stack -> (server type, its version input, how the cloud spells major 16)
SERVERS = {
    "dev-aws-eu-central-1": ("aws:rds/cluster:Cluster", "engineVersion", "16.6"),
    "dev-azure-westeurope": ("azure-native:dbforpostgresql:Server", "version", "16"),
    "dev-gcp-us-central1": (
        "gcp:sql/databaseInstance:DatabaseInstance",
        "databaseVersion",
        "POSTGRES_16",
    ),
}


def test_default_major_is_the_newest_every_cloud_offers() -> None:
    offered = set.intersection(*(set(t.postgres_major_versions) for t in CLOUD_TRAITS.values()))
    assert max(offered) == DEFAULT_POSTGRES_MAJOR_VERSION


def _plan(stack: str, directory: Path, major: int) -> Plan:
    data = catalog_data()
    data["tiers"]["enterprise"]["database"]["postgres_major_version"] = major
    directory.mkdir()
    return Plan(plan_stack(stack, catalog=write_catalog(directory, data)))


@pytest.mark.parametrize("stack", sorted(SERVERS))
def test_raising_a_tiers_major_is_an_in_place_upgrade_of_its_servers_only(
    stack: str, tmp_path: Path
) -> None:
    kind, field, spelled = SERVERS[stack]
    base, head = _plan(stack, tmp_path / "base", 16), _plan(stack, tmp_path / "head", 17)
    silo_ids = set(base.silo_ids())
    for plan, major in ((base, "16"), (head, "17")):
        for server in plan.of_type(kind):
            owner = plan.owner(server)
            version = str(server["inputs"][field])
            # Only the enterprise (silo) tier changed; shards keep the default major.
            expected = major if owner["type"].endswith(":SiloTenant") else "17"
            assert expected in version, (server["name"], version)
    assert any(spelled == str(s["inputs"][field]) for s in base.of_type(kind))

    diff = diff_plans(base.data, head.data)
    if kind == AZURE_SERVER:
        # Flexible Server cannot upgrade a server that has read replicas; the enterprise
        # silo server has one, so that upgrade is a danger flag (tests/tenancy/test_diff.py).
        with_replicas = {
            s["name"] for s in base.of_type(kind) if azure_replicas_of(s, base.resources)
        }
        assert with_replicas
        assert {(f.kind, f.name) for f in diff.flags} == {
            (MAJOR_UPGRADE_WITH_REPLICAS, name) for name in with_replicas
        }
    else:
        assert not diff.flags, [f.message for f in diff.flags]
    assert not [c for c in diff.changes if c.action == "replace"]
    upgraded = [w for w in diff.warnings if "major upgrade 16 → 17 in place" in w.message]
    assert {w.tenant for w in upgraded} == silo_ids
