"""The GCP pooler verifies its Cloud SQL server: pgbouncer.ini says verify-ca with the CA
file, the file comes from a Secret of the instance's own ``serverCaCerts`` (every one of
them), mounted read-only and watched by the reloader. What PgBouncer does with it is tested
for real in tests/components/postgres/test_pgbouncer_server_tls.py."""

from __future__ import annotations

import base64
import configparser
from typing import Any

import pulumi
import pytest

from components.model.pgbouncer import SERVER_CA_DIR, SERVER_CA_FILE
from infra import program
from tenancy import engine
from tenancy.plan import PROJECT
from tenancy.stackfiles import engine_config, read_stack_file
from tests.support.planview import Plan, planned

GCP_STACKS = ("dev-gcp-us-central1", "prod-gcp-us-central1")
PGBOUNCER = "tenancy:k8s:PgBouncer"
SECRET = "kubernetes:core/v1:Secret"
INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance"


def _poolers(plan: Plan) -> list[dict[str, Any]]:
    found = plan.of_type(PGBOUNCER)
    assert found, "the GCP example stacks pool their shards"
    return found


def _server_ca_secret(plan: Plan, pooler: dict[str, Any]) -> dict[str, Any]:
    [secret] = [s for s in plan.under(pooler, SECRET) if s["name"].endswith("-server-ca")]
    return secret


def _shard_instance(plan: Plan, pooler: dict[str, Any]) -> dict[str, Any]:
    shard = pooler["name"].removesuffix("-pooler")  # shard-<tier>-01
    [instance] = [i for i in plan.primaries(INSTANCE) if i["name"] == f"{shard}-db-instance"]
    return instance


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_the_pooler_verifies_the_server_against_the_ca_file(stack: str) -> None:
    plan = planned(stack)
    for pooler in _poolers(plan):
        [config] = plan.under(pooler, "kubernetes:core/v1:ConfigMap")
        parser = configparser.ConfigParser()
        parser.read_string(config["inputs"]["data"]["pgbouncer.ini"])
        bouncer = parser["pgbouncer"]
        assert bouncer["server_tls_sslmode"] == "verify-ca"
        assert bouncer["server_tls_ca_file"] == SERVER_CA_FILE == f"{SERVER_CA_DIR}/ca.crt"


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_the_ca_secret_is_built_from_its_own_shards_cloud_sql_instance(stack: str) -> None:
    plan = planned(stack)
    for pooler in _poolers(plan):
        secret = _server_ca_secret(plan, pooler)
        namespace = secret["inputs"]["metadata"]["namespace"]
        service = secret["inputs"]["metadata"]["name"].removesuffix("-server-ca")
        assert namespace.startswith("tnc-tier-") and service.startswith("pgbouncer-")
        assert secret["inputs"]["type"] == "Opaque"
        # The only thing it waits for is the instance whose serverCaCerts it holds, and
        # that instance's CA is its own (per-instance CA, set explicitly).
        instance = _shard_instance(plan, pooler)
        assert secret["dependencies"] == [instance["urn"]]
        ip = instance["inputs"]["settings"]["ipConfiguration"]
        assert ip["serverCaMode"] == "GOOGLE_MANAGED_INTERNAL_CA"


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_the_ca_secret_is_mounted_read_only_and_watched_by_the_reloader(stack: str) -> None:
    plan = planned(stack)
    for pooler in _poolers(plan):
        secret = _server_ca_secret(plan, pooler)
        [deployment] = plan.under(pooler, "kubernetes:apps/v1:Deployment")
        assert secret["urn"] in deployment["dependencies"]  # the pods start with the file
        pod = deployment["inputs"]["spec"]["template"]["spec"]
        [volume] = [v for v in pod["volumes"] if v["name"] == "server-ca"]
        assert volume["secret"] == {
            "secretName": secret["inputs"]["metadata"]["name"],
            "defaultMode": 0o400,
        }
        for container in pod["containers"]:  # pgbouncer reads it, the reloader watches it
            [mount] = [m for m in container["volumeMounts"] if m["name"] == "server-ca"]
            # A whole-volume mount: kubelet refreshes it (a subPath mount it never would).
            assert mount == {"name": "server-ca", "mountPath": SERVER_CA_DIR, "readOnly": True}
        reloader = pod["containers"][1]
        assert f"'{SERVER_CA_FILE}'" in reloader["command"][2]


BEGIN, END = "-----BEGIN CERTIFICATE-----", "-----END CERTIFICATE-----"


def _pem(text: str) -> str:
    return f"{BEGIN}\n{base64.b64encode(text.encode()).decode()}\n{END}"


def _pem_texts(bundle: str) -> list[str]:
    """What each certificate of a bundle carries (the mock's certificates carry text)."""
    blocks = [block.split(END)[0].strip() for block in bundle.split(BEGIN)[1:]]
    return [base64.b64decode(block).decode() for block in blocks]


def _rotating(rule: Any) -> Any:
    """Cloud SQL during a CA rotation: the instance lists an upcoming CA next to its own."""

    def during_rotation(*args: Any) -> tuple[str, dict[str, Any]]:
        physical, outputs = rule(*args)
        [current] = outputs["serverCaCerts"]
        [text] = _pem_texts(current["cert"])
        upcoming = {**current, "cert": _pem(f"{text} (upcoming)")}
        return physical, {**outputs, "serverCaCerts": [current, upcoming]}

    return during_rotation


def _registered_ca_files(stack: str) -> dict[str, str]:
    """Run the stack's program and record the ca.crt each server-CA Secret is given (the
    plan shows it as [secret]: pulumi-kubernetes marks every Secret's data secret)."""
    seen: dict[str, str] = {}

    def record(args: pulumi.ResourceTransformationArgs) -> None:
        if args.type_ == SECRET and args.name.endswith("-server-ca"):
            data: Any = args.props["string_data"]  # the Secret's Python argument, as given
            pulumi.Output.from_input(data["ca.crt"]).apply(
                lambda text: seen.__setitem__(args.name, text)
            )

    def run() -> None:
        pulumi.runtime.register_stack_transformation(record)
        program.run()

    config, _lines = read_stack_file(stack)
    engine.capture(run, project=PROJECT, stack=stack, config=engine_config(config))
    return seen


@pytest.mark.parametrize("stack", GCP_STACKS)
def test_the_ca_file_holds_every_ca_its_instance_lists_during_a_rotation(
    stack: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    rule = engine._GCP_TYPES[INSTANCE]
    monkeypatch.setitem(engine._GCP_TYPES, INSTANCE, _rotating(rule))
    files = _registered_ca_files(stack)
    plan = planned(stack)
    assert set(files) == {f"{p['name']}-server-ca" for p in _poolers(plan)}
    for pooler in _poolers(plan):
        physical = _shard_instance(plan, pooler)["inputs"]["name"]
        bundle = files[f"{pooler['name']}-server-ca"]
        assert bundle.endswith(f"{END}\n")  # one PEM after the other
        current, upcoming = _pem_texts(bundle)
        assert current.startswith("mock Cloud SQL server CA of ")
        assert current.endswith(f"/{physical}") and upcoming == f"{current} (upcoming)"
