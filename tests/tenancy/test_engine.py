"""Tests for the offline plan engine (tenancy/engine.py)."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native
import pulumi_gcp as gcp
import pytest
from pulumi.runtime import settings as pulumi_settings

from tenancy import engine
from tenancy.engine import (
    SECRET,
    UNKNOWN,
    Capture,
    CapturedResource,
    PlanStalledError,
    capture,
)
from tenancy.stackfiles import known_stacks
from tests.support.planview import ROOT, planned

STACKS = known_stacks()
CONFIG = {"aws:region": "eu-west-1", "tenancy:environment": "dev", "tenancy:tier": "silo"}


class Silo(pulumi.ComponentResource):
    """A tiny stand-in for a tenant component: key -> cluster -> instance."""

    def __init__(self, name: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tenancy:aws:SiloTenant", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key = aws.kms.Key(
            f"{name}-key",
            description=f"{name} data key",
            opts=pulumi.ResourceOptions(parent=self, protect=True, retain_on_delete=True),
        )
        self.cluster = aws.rds.Cluster(
            f"{name}-cluster",
            engine="aurora-postgresql",
            storage_encrypted=True,
            kms_key_id=self.key.arn,
            master_username="app_admin",
            master_password=pulumi.Output.secret("hunter2"),
            opts=child,
        )
        self.instance = aws.rds.ClusterInstance(
            f"{name}-instance",
            cluster_identifier=self.cluster.id,
            instance_class="db.r6g.large",
            engine="aurora-postgresql",
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.key]),
        )
        self.register_outputs({"endpoint": self.cluster.endpoint})


def tenant_program() -> None:
    cfg = pulumi.Config("tenancy")
    silo = Silo(f"acme-{cfg.require('environment')}")
    pulumi.export("endpoint", silo.cluster.endpoint)
    pulumi.export("password", pulumi.Output.secret("s3cr3t"))
    pulumi.export("tier", cfg.get("tier"))
    pulumi.export("region", pulumi.Config("aws").get("region"))
    pulumi.export("stack", pulumi.get_stack())
    pulumi.export("project", pulumi.get_project())


def run(program=tenant_program, **kwargs: Any) -> Capture:
    options: dict[str, Any] = {"project": "tenancy", "stack": "dev", "config": CONFIG}
    options.update(kwargs)
    return capture(program, **options)


def by_name(result: Capture) -> dict[str, CapturedResource]:
    return {r.name: r for r in result.resources}


@pytest.fixture(scope="module")
def result() -> Capture:
    return run()


def test_registers_root_stack_component_and_children_in_order(result: Capture) -> None:
    assert [(r.type, r.name) for r in result.resources] == [
        ("pulumi:pulumi:Stack", "tenancy-dev"),
        ("tenancy:aws:SiloTenant", "acme-dev"),
        ("aws:kms/key:Key", "acme-dev-key"),
        ("aws:rds/cluster:Cluster", "acme-dev-cluster"),
        ("aws:rds/clusterInstance:ClusterInstance", "acme-dev-instance"),
    ]
    root, silo, key, cluster, instance = result.resources
    assert root.parent is None and not root.custom
    assert root.urn == "urn:pulumi:dev::tenancy::pulumi:pulumi:Stack::tenancy-dev"
    assert silo.parent == root.urn and not silo.custom
    # The engine leaves the root stack type out of URNs and nests component types.
    assert silo.urn == "urn:pulumi:dev::tenancy::tenancy:aws:SiloTenant::acme-dev"
    assert (
        key.urn == "urn:pulumi:dev::tenancy::tenancy:aws:SiloTenant$aws:kms/key:Key::acme-dev-key"
    )
    assert {key.parent, cluster.parent, instance.parent} == {silo.urn}
    assert key.custom and key.provider is None


def test_protect_and_retain_on_delete(result: Capture) -> None:
    resources = by_name(result)
    assert resources["acme-dev-key"].protect is True
    assert resources["acme-dev-key"].retain_on_delete is True
    assert resources["acme-dev-cluster"].protect is False
    assert resources["acme-dev-cluster"].retain_on_delete is False


def test_dependencies_from_depends_on_and_output_wiring(result: Capture) -> None:
    resources = by_name(result)
    key, cluster = resources["acme-dev-key"], resources["acme-dev-cluster"]
    assert cluster.dependencies == [key.urn]  # via kms_key_id=key.arn
    assert resources["acme-dev-instance"].dependencies == sorted([key.urn, cluster.urn])


def test_inputs_are_engine_form_with_mocked_outputs_wired_in(result: Capture) -> None:
    cluster = by_name(result)["acme-dev-cluster"].inputs
    assert cluster["storageEncrypted"] is True
    assert cluster["masterUsername"] == "app_admin"
    assert "storage_encrypted" not in cluster
    assert cluster["kmsKeyId"].startswith("arn:aws:kms:eu-west-1:123456789012:key/")
    instance = by_name(result)["acme-dev-instance"].inputs
    assert instance == {
        "clusterIdentifier": "acme-dev-cluster",
        "engine": "aurora-postgresql",
        "instanceClass": "db.r6g.large",
    }


def test_secrets_are_redacted(result: Capture) -> None:
    assert by_name(result)["acme-dev-cluster"].inputs["masterPassword"] == SECRET
    assert result.outputs["password"] == SECRET
    assert "hunter2" not in json.dumps([r.to_json() for r in result.resources])


def test_config_stack_and_project_are_visible(result: Capture) -> None:
    assert result.outputs["tier"] == "silo"
    assert result.outputs["region"] == "eu-west-1"
    assert result.outputs["stack"] == "dev"
    assert result.outputs["project"] == "tenancy"
    assert (
        result.outputs["endpoint"] == "acme-dev-cluster.cluster-c0mock.eu-west-1.rds.amazonaws.com"
    )


def test_to_json_shape(result: Capture) -> None:
    doc = by_name(result)["acme-dev-key"].to_json()
    assert list(doc) == [
        "urn",
        "type",
        "name",
        "parent",
        "provider",
        "custom",
        "inputs",
        "protect",
        "retain_on_delete",
        "dependencies",
    ]
    json.dumps([r.to_json() for r in result.resources])  # JSON-friendly throughout


def test_aliases_are_recorded_when_present() -> None:
    def program() -> None:
        aws.kms.Key("key", opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name="old-key")]))

    key = by_name(run(program))["key"]
    assert key.aliases and "old-key" in key.aliases[0]
    assert key.to_json()["aliases"] == key.aliases


def test_consecutive_captures_do_not_leak() -> None:
    def program() -> None:
        cfg = pulumi.Config("tenancy")
        aws.kms.Key(f"key-{pulumi.get_stack()}")
        pulumi.export("only_in_a", cfg.get("only_in_a"))
        pulumi.export("region", pulumi.Config("aws").get("region"))

    monitor_before = pulumi_settings.get_monitor()
    first = capture(
        program,
        project="tenancy",
        stack="a",
        config={"aws:region": "us-east-1", "tenancy:only_in_a": "yes"},
    )
    second = capture(program, project="tenancy", stack="b", config={"aws:region": "eu-north-1"})

    assert [r.name for r in first.resources] == ["tenancy-a", "key-a"]
    assert [r.name for r in second.resources] == ["tenancy-b", "key-b"]
    assert all(r.urn.startswith("urn:pulumi:b::tenancy::") for r in second.resources)
    assert first.outputs == {"only_in_a": "yes", "region": "us-east-1"}
    assert second.outputs == {"region": "eu-north-1"}
    assert pulumi_settings.get_monitor() is monitor_before
    assert pulumi_settings.get_root_resource() is None


def test_a_capture_leaves_the_collector_and_the_sdk_as_it_found_them() -> None:
    """The engine freezes the pre-run heap and skips the SDK's stack walk during a run
    (plan speed); neither may outlive the run, and the run's garbage is collected."""
    import gc
    import weakref

    from pulumi.runtime import resource as sdk_resource

    walk = sdk_resource._get_stack_trace
    seen: dict[str, Any] = {}

    class Marker:
        pass

    def program() -> None:
        seen["walk"] = sdk_resource._get_stack_trace
        seen["frozen"] = gc.get_freeze_count()
        marker = Marker()
        marker.cycle = marker  # type: ignore[attr-defined]
        seen["marker"] = weakref.ref(marker)
        aws.kms.Key("key")

    assert gc.isenabled() and gc.get_freeze_count() == 0
    capture(program, project="tenancy", stack="a", config={"aws:region": "us-east-1"})
    assert seen["walk"] is not walk and seen["frozen"] > 0  # during the run
    assert sdk_resource._get_stack_trace is walk  # after it
    assert gc.isenabled() and gc.get_freeze_count() == 0
    assert seen["marker"]() is None  # the run's cyclic garbage was collected


class TenantValidationError(Exception):
    pass


def test_program_exception_propagates_with_its_own_type() -> None:
    def program() -> None:
        aws.kms.Key("registered-before-failure")
        raise TenantValidationError("tenant 'acme' has no tier")

    with pytest.raises(TenantValidationError, match="no tier"):
        run(program)
    # The runtime is usable again afterwards.
    assert [r.name for r in run().resources][-1] == "acme-dev-instance"


def test_exception_in_apply_propagates() -> None:
    def explode(_: Any) -> str:
        raise TenantValidationError("bad endpoint")

    def program() -> None:
        cluster = aws.rds.Cluster("c", engine="aurora-postgresql")
        pulumi.export("boom", cluster.endpoint.apply(explode))

    with pytest.raises(TenantValidationError, match="bad endpoint"):
        run(program)


def test_deterministic() -> None:
    def dump(result: Capture) -> str:
        return json.dumps(
            {"resources": [r.to_json() for r in result.resources], "outputs": result.outputs}
        )

    assert dump(run()) == dump(run())


def test_preview_shows_unmocked_computed_values_as_unknown() -> None:
    def program() -> None:
        cluster = aws.rds.Cluster("c", engine="aurora-postgresql")
        # availability_zones is computed by AWS and not in the mock table.
        aws.kms.Key(
            "p", description=cluster.availability_zones.apply(lambda zones: ",".join(zones or []))
        )
        pulumi.export("endpoint", cluster.endpoint)

    result = run(program, preview=True)
    assert by_name(result)["p"].inputs["description"] == UNKNOWN
    assert result.outputs["endpoint"] == "c.cluster-c0mock.eu-west-1.rds.amazonaws.com"


def test_invokes_return_deterministic_results() -> None:
    def program() -> None:
        secret = aws.secretsmanager.get_secret_version(secret_id="arn:mock:rds!c")
        pulumi.export("secret", json.loads(secret.secret_string)["username"])
        pulumi.export("tenant", azure_native.authorization.get_client_config().tenant_id)

    outputs = run(program).outputs
    assert outputs["secret"] == "tenancy_admin"
    assert outputs["tenant"] == "11111111-1111-1111-1111-111111111111"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def test_every_mocked_invoke_is_one_the_program_calls() -> None:
    # A mock for an invoke nothing calls is untested code that looks like coverage.
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for folder in ("components", "infra")
        for path in (ROOT / folder).rglob("*.py")
    )
    for token in engine._CALLS:
        function = _snake(token.rsplit(":", 1)[-1])
        assert re.search(rf"\b{function}(_output)?\(", source), f"{token}: nothing calls it"


@pytest.mark.parametrize("table", ["_AWS_TYPES", "_GCP_TYPES"])
def test_every_mocked_resource_type_is_one_a_stack_creates(table: str) -> None:
    created = {r["type"] for stack in STACKS for r in planned(stack).resources}
    unused = sorted(set(getattr(engine, table)) - created)
    assert not unused, f"engine.{table} mocks types no example stack creates: {unused}"


def test_every_mocked_azure_module_is_one_a_stack_creates() -> None:
    created = {r["type"] for stack in STACKS for r in planned(stack).resources}
    modules = {t.split(":")[1] for t in created if t.startswith("azure-native:")}
    assert set(engine._AZURE_NAMESPACES) <= modules
    assert {module for module, _ in engine._AZURE_COLLECTIONS} <= modules


def test_well_known_cross_cloud_outputs() -> None:
    def program() -> None:
        rg = azure_native.resources.ResourceGroup("rg")
        vault = azure_native.keyvault.Vault(
            "vault",
            resource_group_name=rg.name,
            properties=azure_native.keyvault.VaultPropertiesArgs(
                tenant_id="t", sku=azure_native.keyvault.SkuArgs(family="A", name="standard")
            ),
        )
        ring = gcp.kms.KeyRing("ring", location="europe-west1")
        key = gcp.kms.CryptoKey("key", key_ring=ring.id)
        pulumi.export("rg", rg.name)
        pulumi.export("vault_uri", vault.properties.vault_uri)
        pulumi.export("key", key.id)

    result = run(program, config={"gcp:project": "acme"})
    assert result.outputs == {
        "rg": "rg",
        "vault_uri": "https://vault.vault.azure.net/",
        "key": "projects/acme/locations/europe-west1/keyRings/ring/cryptoKeys/key",
    }
    vault_inputs = by_name(result)["vault"].inputs
    assert vault_inputs["resourceGroupName"] == "rg"
    assert vault_inputs["properties"]["sku"] == {"family": "A", "name": "standard"}


def test_progress_reports_running_count() -> None:
    seen: list[int] = []
    result = run(progress=seen.append)
    assert seen == list(range(1, len(result.resources) + 1))


def test_outputs_that_never_resolve_fail_instead_of_hanging(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(engine._StallWatch, "INTERVAL_SECONDS", 0.05)

    def program() -> None:
        never = asyncio.get_event_loop().create_future()
        aws.kms.Key("k", description=pulumi.Output.from_input(never))

    with pytest.raises(PlanStalledError):
        run(program)
    assert [r.name for r in run().resources][0] == "tenancy-dev"
