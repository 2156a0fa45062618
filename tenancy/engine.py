"""Offline plan engine: run a Pulumi Python program under a capturing mock engine.

There is no Pulumi CLI or cloud account where this runs, so `capture()` plays the
engine's part itself. It installs a resource monitor that answers every
RegisterResource request (custom resources, components and the root stack) with
deterministic, plausible outputs, and records each request exactly as
`pulumi up` would receive it: engine-form (camelCase) inputs plus the resource
options that `pulumi.runtime.Mocks` never sees (parent, protect,
retainOnDelete, dependencies, aliases, ...).

Rendering of recorded values (inputs and stack outputs):
  * secrets            -> "[secret]"
  * unknowns (preview) -> "<unknown>"
  * resource refs      -> the referenced URN
  * assets / archives  -> {"asset": {...}} / {"archive": {...}}
  * integral numbers   -> int (the wire only has doubles)
  * null map entries   -> dropped, as the SDK's deserializer does
"""

from __future__ import annotations

import asyncio
import base64
import contextvars
import gc
import hashlib
import json
import logging
import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from google.protobuf import empty_pb2, struct_pb2
from pulumi._utils import ContextProperty
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockCallArgs, MockEngine, MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2, source_pb2
from pulumi.runtime.settings import ROOT, SETTINGS, Settings, configure
from pulumi.runtime.stack import Stack, wait_for_rpcs

__all__ = [
    "ACCOUNT_ID",
    "SECRET",
    "UNKNOWN",
    "Capture",
    "CapturedResource",
    "CaptureMonitor",
    "PlanMocks",
    "PlanStalledError",
    "capture",
    "render_struct",
]

SECRET = "[secret]"
UNKNOWN = "<unknown>"

ACCOUNT_ID = "123456789012"
AZURE_SUBSCRIPTION_ID = "00000000-0000-0000-0000-000000000000"
AZURE_TENANT_ID = "11111111-1111-1111-1111-111111111111"
AZURE_CLIENT_ID = "22222222-2222-2222-2222-222222222222"
AZURE_OBJECT_ID = "33333333-3333-3333-3333-333333333333"
GCP_PROJECT = "mock-project"
GCP_PROJECT_NUMBER = "123456789012"

STACK_TYPE = "pulumi:pulumi:Stack"

# ---------------------------------------------------------------------------
# Captured data
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CapturedResource:
    """One RegisterResource request, as the engine would have received it."""

    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    custom: bool
    inputs: dict[str, Any]
    protect: bool = False
    retain_on_delete: bool = False
    dependencies: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    delete_before_replace: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "provider": self.provider,
            "custom": self.custom,
            "inputs": self.inputs,
            "protect": self.protect,
            "retain_on_delete": self.retain_on_delete,
            "dependencies": self.dependencies,
        }
        if self.aliases:
            out["aliases"] = self.aliases
        return out


@dataclass(frozen=True)
class Capture:
    """Everything a program registered: resources in registration order, and stack outputs."""

    resources: list[CapturedResource]
    outputs: dict[str, Any]


# ---------------------------------------------------------------------------
# Wire form (protobuf Struct) -> JSON-friendly plain values
# ---------------------------------------------------------------------------
# The SDK's rpc.deserialize_properties is not used on purpose: it unwraps secrets
# (we want them redacted), turns unknowns into None outside previews, and
# rehydrates resource references into live Resource objects (slow, and it issues
# getResource invokes). We only need a faithful, inert picture of the request.

_SIG = rpc._special_sig_key
_SECRET_SIG = rpc._special_secret_sig
_RESOURCE_SIG = rpc._special_resource_sig
_OUTPUT_SIG = rpc._special_output_value_sig
_ASSET_SIG = rpc._special_asset_sig
_ARCHIVE_SIG = rpc._special_archive_sig


def render_value(value: struct_pb2.Value) -> Any:
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        text = value.string_value
        return UNKNOWN if text == rpc.UNKNOWN else text
    if kind == "bool_value":
        return value.bool_value
    if kind == "number_value":
        number = value.number_value
        return int(number) if number.is_integer() else number
    if kind == "struct_value":
        return render_struct(value.struct_value)
    if kind == "list_value":
        return [render_value(item) for item in value.list_value.values]
    return None


def render_struct(struct: struct_pb2.Struct) -> Any:
    fields = struct.fields
    if _SIG in fields:
        return _render_special(fields)
    # Sorted keys: protobuf map iteration order is not guaranteed stable.
    out = {}
    for key in sorted(fields):
        rendered = render_value(fields[key])
        if rendered is not None:
            out[key] = rendered
    return out


def _render_special(fields: Any) -> Any:
    sig = fields[_SIG].string_value
    if sig == _SECRET_SIG:
        return SECRET
    if sig == _RESOURCE_SIG:
        return fields["urn"].string_value
    if sig == _OUTPUT_SIG:
        if "secret" in fields and fields["secret"].bool_value:
            return SECRET
        return render_value(fields["value"]) if "value" in fields else UNKNOWN
    kind = {_ASSET_SIG: "asset", _ARCHIVE_SIG: "archive"}.get(sig, "special")
    return {kind: {k: render_value(fields[k]) for k in sorted(fields) if k != _SIG}}


# ---------------------------------------------------------------------------
# Mocks: deterministic, plausible computed outputs and invoke results
# ---------------------------------------------------------------------------


def _digest(*parts: str, size: int = 8) -> str:
    return hashlib.blake2b("\0".join(parts).encode(), digest_size=size).hexdigest()


def _guid(*parts: str) -> str:
    return str(uuid.UUID(_digest(*parts, size=16)))


@lru_cache(maxsize=1024)
def _split_token(token: str) -> tuple[str, str, str]:
    """'aws:rds/cluster:Cluster' -> ('aws', 'rds', 'Cluster')."""
    pkg, _, rest = token.partition(":")
    module, _, kind = rest.rpartition(":")
    return pkg, module.split("/", 1)[0], kind


@lru_cache(maxsize=1024)
def _kebab(kind: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", kind).lower()


@lru_cache(maxsize=1024)
def _lower_first(kind: str) -> str:
    return kind[:1].lower() + kind[1:]


@lru_cache(maxsize=1024)
def _collection(kind: str) -> str:
    """ARM/GCP style collection segment: 'KeyRing' -> 'keyRings', 'Identity' -> 'identities'."""
    base = _lower_first(kind)
    if base.endswith("y") and not base.endswith(("ay", "ey", "oy", "uy")):
        return base[:-1] + "ies"
    return base if base.endswith("s") else base + "s"


def _str(inputs: Mapping[str, Any], *keys: str) -> str | None:
    """First input among `keys` that is a concrete string (not a secret or unknown)."""
    for key in keys:
        value = inputs.get(key)
        if isinstance(value, str) and value not in (SECRET, UNKNOWN):
            return value
    return None


def _deep_merge(base: dict[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, dict):
            merged[key] = _deep_merge(current, value)
        else:
            merged[key] = value
    return merged


# The mock tables cover only what the program creates or calls (tests/tenancy/test_engine.py
# checks that every entry is used); anything else gets the generic id and no extra outputs.
_AZURE_NAMESPACES = {
    "authorization": "Microsoft.Authorization",
    "dbforpostgresql": "Microsoft.DBforPostgreSQL",
    "keyvault": "Microsoft.KeyVault",
    "managedidentity": "Microsoft.ManagedIdentity",
    "monitor": "Microsoft.Insights",
    "network": "Microsoft.Network",
    "operationalinsights": "Microsoft.OperationalInsights",
    "privatedns": "Microsoft.Network",
    "resources": "Microsoft.Resources",
    "storage": "Microsoft.Storage",
}
_AZURE_COLLECTIONS = {
    ("dbforpostgresql", "Server"): "flexibleServers",
    ("managedidentity", "UserAssignedIdentity"): "userAssignedIdentities",
    ("storage", "StorageAccount"): "storageAccounts",
}
# Input keys that name a resource where Azure does not say "<kind>Name".
_AZURE_NAME_KEYS = {("storage", "StorageAccount"): "accountName"}
# Inputs ending in "Name" that name no parent resource.
_AZURE_NOT_PARENTS = ("resourceGroupName", "resourceName", "groupShortName", "ruleName")
_AZURE_POSTGRES_FQDN_SUFFIX = "postgres.database.azure.com"


class PlanMocks(Mocks):
    """Deterministic mocks: outputs = inputs + synthetic computed fields.

    `computed()` is the core (it returns only the synthetic fields so the monitor
    can merge them into the wire-form request without a round trip through
    Python values); `new_resource()` makes the class usable with the SDK's plain
    `pulumi.runtime.set_mocks` too.
    """

    def __init__(self, config: Mapping[str, str] | None = None) -> None:
        config = config or {}
        self.aws_region = config.get("aws:region", "us-east-1")
        self.azure_location = config.get("azure-native:location", "eastus")
        self.gcp_project = config.get("gcp:project", GCP_PROJECT)
        self.gcp_region = config.get("gcp:region", "us-central1")

    # -- Mocks API ---------------------------------------------------------

    def new_resource(self, args: MockResourceArgs) -> tuple[str | None, dict]:
        id_, extra = self.computed(args.typ, args.name, args.inputs)
        return id_, _deep_merge(args.inputs, extra)

    def call(self, args: MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        handler = _CALLS.get(args.token)
        return (handler(self, args.args or {}) if handler else {}), None

    # -- resources -----------------------------------------------------------

    def computed(
        self, type_: str, name: str, inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        """Return (physical id, synthetic output fields) for a custom resource."""
        pkg, module, kind = _split_token(type_)
        if pkg == "aws":
            return self._aws(type_, module, kind, name, inputs)
        if pkg == "azure-native":
            return self._azure(module, kind, name, inputs)
        if pkg == "gcp":
            return self._gcp(type_, kind, name, inputs)
        if pkg == "kubernetes":
            return _kubernetes(name, inputs)
        if pkg == "random":
            return _random(kind, name, inputs)
        if pkg == "pulumi" and module == "providers":
            return _guid(type_, name), {}
        return f"{name}-id", {}

    def _aws(
        self, type_: str, service: str, kind: str, name: str, inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        region = _str(inputs, "region") or self.aws_region
        physical = _str(inputs, "name", "identifier", "clusterIdentifier") or name
        special = _AWS_TYPES.get(type_)
        if special is not None:
            return special(region, physical, name, inputs)
        arn = f"arn:aws:{service}:{region}:{ACCOUNT_ID}:{_kebab(kind)}/{physical}"
        return physical, {"id": physical, "arn": arn, "tagsAll": inputs.get("tags") or {}}

    def _azure(
        self, module: str, kind: str, name: str, inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        name_key = _AZURE_NAME_KEYS.get((module, kind), _lower_first(kind) + "Name")
        physical = _str(inputs, name_key, "resourceName", "ruleName") or name
        rg = _str(inputs, "resourceGroupName") or "mock-rg"
        namespace = _AZURE_NAMESPACES.get(module, f"Microsoft.{module.capitalize()}")
        collection = _AZURE_COLLECTIONS.get((module, kind), _collection(kind))
        if module == "resources" and kind == "ResourceGroup":
            arm_id = f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/{physical}"
        else:
            scope = _str(inputs, "scope") or (
                f"/subscriptions/{AZURE_SUBSCRIPTION_ID}/resourceGroups/{rg}"
            )
            arm_id = f"{scope}/providers/{namespace}/{_azure_parents(inputs, name_key)}"
            arm_id += f"{collection}/{physical}"
        out: dict[str, Any] = {
            "id": arm_id,
            "name": physical,
            "type": f"{namespace}/{collection}",
            "location": _str(inputs, "location") or self.azure_location,
            "azureApiVersion": "2024-01-01",
        }
        out.update(_azure_extras(module, kind, physical, arm_id, inputs))
        return arm_id, out

    def _gcp(
        self, type_: str, kind: str, name: str, inputs: Mapping[str, Any]
    ) -> tuple[str, dict[str, Any]]:
        project = _str(inputs, "project") or self.gcp_project
        region = _str(inputs, "region") or self.gcp_region
        location = _str(inputs, "location") or region
        physical = _str(inputs, "name", "secretId", "accountId") or name
        special = _GCP_TYPES.get(type_)
        if special is not None:
            id_, out = special(project, region, location, physical, inputs)
        else:
            id_ = f"projects/{project}/locations/{location}/{_collection(kind)}/{physical}"
            out = {"id": id_}
        base = {
            "name": physical,
            "project": project,
            "selfLink": f"https://www.googleapis.com/mock/v1/{id_}",
        }
        return id_, {**base, **out}

    # -- invokes ---------------------------------------------------------------

    def _aws_caller(self, _args: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": ACCOUNT_ID,
            "accountId": ACCOUNT_ID,
            "arn": f"arn:aws:iam::{ACCOUNT_ID}:user/mock",
            "userId": "AIDAMOCKUSERID",
        }

    def _aws_partition(self, _args: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "id": "aws",
            "partition": "aws",
            "dnsSuffix": "amazonaws.com",
            "reverseDnsPrefix": "com.amazonaws",
        }

    def _aws_secret_version(self, args: Mapping[str, Any]) -> dict[str, Any]:
        # The shape RDS gives a managed master-user secret: JSON with username and password.
        secret = _str(args, "secretId") or "mock-secret"
        return {
            "id": secret,
            "arn": secret,
            "secretId": secret,
            "versionId": "mock-version",
            "secretString": json.dumps({"username": "tenancy_admin", "password": "mock-password"}),
        }

    def _gcp_logging_cmek(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The project's Cloud Logging service account, which a log bucket's CMEK must allow."""
        project = args.get("project") or self.gcp_project
        return {
            "id": f"projects/{project}/cmekSettings",
            "name": f"projects/{project}/cmekSettings",
            "project": project,
            "serviceAccountId": "cmek-p123456789012@gcp-sa-logging.iam.gserviceaccount.com",
        }

    def _gcp_storage_agent(self, args: Mapping[str, Any]) -> dict[str, Any]:
        """The project's Cloud Storage service agent, which a bucket's CMEK must allow."""
        project = args.get("project") or self.gcp_project
        return {
            "id": f"projects/{project}/serviceAccount",
            "project": project,
            "emailAddress": "service-123456789012@gs-project-accounts.iam.gserviceaccount.com",
        }

    def _azure_client_config(self, _args: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "clientId": AZURE_CLIENT_ID,
            "objectId": AZURE_OBJECT_ID,
            "subscriptionId": AZURE_SUBSCRIPTION_ID,
            "tenantId": AZURE_TENANT_ID,
        }


_CALLS: dict[str, Callable[[PlanMocks, Mapping[str, Any]], dict[str, Any]]] = {
    "aws:index/getCallerIdentity:getCallerIdentity": PlanMocks._aws_caller,
    "aws:index/getPartition:getPartition": PlanMocks._aws_partition,
    "aws:secretsmanager/getSecretVersion:getSecretVersion": PlanMocks._aws_secret_version,
    "azure-native:authorization:getClientConfig": PlanMocks._azure_client_config,
    "gcp:logging/getProjectCmekSettings:getProjectCmekSettings": PlanMocks._gcp_logging_cmek,
    "gcp:storage/getProjectServiceAccount:getProjectServiceAccount": PlanMocks._gcp_storage_agent,
}


# -- AWS well-known computed outputs --------------------------------------------

_AwsRule = Callable[[str, str, str, Mapping[str, Any]], tuple[str, dict[str, Any]]]


def _aws_kms_key(region: str, _physical: str, name: str, _in: Mapping[str, Any]):
    key_id = _guid("aws-kms", region, name)
    arn = f"arn:aws:kms:{region}:{ACCOUNT_ID}:key/{key_id}"
    return key_id, {"id": key_id, "keyId": key_id, "arn": arn}


def _aws_kms_alias(region: str, physical: str, _name: str, inputs: Mapping[str, Any]):
    arn = f"arn:aws:kms:{region}:{ACCOUNT_ID}:{physical}"
    return physical, {"id": physical, "arn": arn, "targetKeyArn": inputs.get("targetKeyId")}


def _rds_port(inputs: Mapping[str, Any]) -> int:
    port = inputs.get("port")
    return port if isinstance(port, int) else 5432


def _aws_rds_cluster(region: str, physical: str, _name: str, inputs: Mapping[str, Any]):
    host = f"{physical}.cluster-c0mock.{region}.rds.amazonaws.com"
    out: dict[str, Any] = {
        "id": physical,
        "clusterIdentifier": physical,
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:cluster:{physical}",
        "endpoint": host,
        "readerEndpoint": host.replace(".cluster-", ".cluster-ro-", 1),
        "port": _rds_port(inputs),
        "clusterResourceId": "cluster-" + _digest(region, physical).upper(),
        "hostedZoneId": "Z2R2ITUGPM61AM",
    }
    if inputs.get("manageMasterUserPassword") is True:
        secret = f"arn:aws:secretsmanager:{region}:{ACCOUNT_ID}:secret:rds!{physical}"
        out["masterUserSecrets"] = [
            {
                "secretArn": secret,
                "secretStatus": "active",
                "kmsKeyId": inputs.get("masterUserSecretKmsKeyId"),
            }
        ]
    return physical, out


def _aws_rds_cluster_instance(region: str, physical: str, _name: str, inputs: Mapping[str, Any]):
    host = f"{physical}.c0mock.{region}.rds.amazonaws.com"
    return physical, {
        "id": physical,
        "identifier": physical,
        "arn": f"arn:aws:rds:{region}:{ACCOUNT_ID}:db:{physical}",
        "endpoint": host,
        "address": host,
        "port": _rds_port(inputs),
        "dbiResourceId": "db-" + _digest(region, physical).upper(),
    }


def _aws_rds_proxy(region: str, physical: str, _name: str, _in: Mapping[str, Any]):
    host = f"{physical}.proxy-c0mock.{region}.rds.amazonaws.com"
    arn = f"arn:aws:rds:{region}:{ACCOUNT_ID}:db-proxy:prx-{_digest(region, physical)[:17]}"
    return physical, {"id": physical, "name": physical, "arn": arn, "endpoint": host}


def _aws_ec2(prefix: str, kind: str) -> _AwsRule:
    def rule(region: str, _physical: str, name: str, _in: Mapping[str, Any]):
        id_ = f"{prefix}-{_digest(region, kind, name)[:17]}"
        arn = f"arn:aws:ec2:{region}:{ACCOUNT_ID}:{kind}/{id_}"
        return id_, {"id": id_, "arn": arn, "ownerId": ACCOUNT_ID}

    return rule


def _aws_iam_role(_region: str, physical: str, _name: str, _in: Mapping[str, Any]):
    arn = f"arn:aws:iam::{ACCOUNT_ID}:role/{physical}"
    return physical, {"id": physical, "arn": arn, "uniqueId": "AROA" + _digest(physical).upper()}


def _aws_s3_bucket(_region: str, _physical: str, name: str, inputs: Mapping[str, Any]):
    # S3 bucket ARNs carry neither region nor account: arn:aws:s3:::<bucket>.
    bucket = _str(inputs, "bucket") or name
    return bucket, {"id": bucket, "bucket": bucket, "arn": f"arn:aws:s3:::{bucket}"}


def _aws_firehose(region: str, physical: str, _name: str, _in: Mapping[str, Any]):
    arn = f"arn:aws:firehose:{region}:{ACCOUNT_ID}:deliverystream/{physical}"
    return arn, {"id": arn, "arn": arn}


_AWS_TYPES: dict[str, _AwsRule] = {
    "aws:s3/bucket:Bucket": _aws_s3_bucket,
    "aws:kms/key:Key": _aws_kms_key,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": _aws_firehose,
    "aws:kms/alias:Alias": _aws_kms_alias,
    "aws:rds/cluster:Cluster": _aws_rds_cluster,
    "aws:rds/clusterInstance:ClusterInstance": _aws_rds_cluster_instance,
    "aws:rds/proxy:Proxy": _aws_rds_proxy,
    "aws:ec2/vpc:Vpc": _aws_ec2("vpc", "vpc"),
    "aws:ec2/subnet:Subnet": _aws_ec2("subnet", "subnet"),
    "aws:ec2/securityGroup:SecurityGroup": _aws_ec2("sg", "security-group"),
    "aws:iam/role:Role": _aws_iam_role,
}


# -- Azure well-known computed outputs ------------------------------------------


def _azure_parents(inputs: Mapping[str, Any], own_name_key: str) -> str:
    """Path segments for parent resources, e.g. 'vaults/<v>/' for a Key Vault key."""
    segments = []
    for key in sorted(inputs):
        if key.endswith("Name") and key not in (own_name_key, *_AZURE_NOT_PARENTS):
            value = _str(inputs, key)
            if value is not None:
                segments.append(f"{_collection(key[:-4])}/{value}/")
    return "".join(segments)


def _azure_extras(
    module: str, kind: str, physical: str, arm_id: str, inputs: Mapping[str, Any]
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    identity = inputs.get("identity")
    if isinstance(identity, Mapping):
        out["identity"] = {"principalId": _guid("principal", arm_id), "tenantId": AZURE_TENANT_ID}
        assigned = identity.get("userAssignedIdentities")
        if isinstance(assigned, list):  # storage takes a list of ids and reports a map
            out["identity"]["userAssignedIdentities"] = {i: {} for i in assigned}
    if kind == "UserAssignedIdentity":
        out.update(
            principalId=_guid("principal", arm_id),
            clientId=_guid("client", arm_id),
            tenantId=AZURE_TENANT_ID,
        )
    elif module == "keyvault" and kind == "Vault":
        out["properties"] = {"vaultUri": f"https://{physical}.vault.azure.net/"}
    elif module == "keyvault" and kind in ("Key", "Secret"):
        vault = _str(inputs, "vaultName") or "mock-vault"
        uri = f"https://{vault}.vault.azure.net/{kind.lower()}s/{physical}"
        versioned = f"{uri}/{_digest(arm_id)}"
        if kind == "Key":
            out.update(keyUri=uri, keyUriWithVersion=versioned)
        else:
            out["properties"] = {"secretUri": uri, "secretUriWithVersion": versioned}
    elif module == "dbforpostgresql" and kind == "Server":
        out["fullyQualifiedDomainName"] = f"{physical}.{_AZURE_POSTGRES_FQDN_SUFFIX}"
    return out


# -- GCP well-known computed outputs --------------------------------------------

_GcpRule = Callable[[str, str, str, str, Mapping[str, Any]], tuple[str, dict[str, Any]]]


def _gcp_key_ring(project: str, _region: str, location: str, physical: str, _in):
    id_ = f"projects/{project}/locations/{location}/keyRings/{physical}"
    return id_, {"id": id_}


def _gcp_crypto_key(project: str, _region: str, location: str, physical: str, inputs):
    ring = _str(inputs, "keyRing") or f"projects/{project}/locations/{location}/keyRings/mock"
    id_ = f"{ring}/cryptoKeys/{physical}"
    return id_, {"id": id_}


def _gcp_sql_instance(project: str, region: str, _location: str, physical: str, _in):
    octet = int(_digest(project, physical)[:2], 16) % 250 + 2
    # The per-instance server CA Cloud SQL creates: one certificate (a rotation adds one).
    ca_body = base64.b64encode(f"mock Cloud SQL server CA of {project}/{physical}".encode())
    return physical, {
        "serverCaCerts": [
            {
                "cert": "-----BEGIN CERTIFICATE-----\n"
                f"{ca_body.decode()}\n-----END CERTIFICATE-----",
                "commonName": f"C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA,dnQualifier={_digest(project, physical)[:8]}",
                "sha1Fingerprint": _digest("ca", project, physical, size=20),
            }
        ],
        "id": physical,
        "connectionName": f"{project}:{region}:{physical}",
        "selfLink": f"https://sqladmin.googleapis.com/sql/v1beta4/projects/{project}/instances/{physical}",
        "privateIpAddress": f"10.10.0.{octet}",
        "publicIpAddress": f"203.0.113.{octet}",
        "firstIpAddress": f"10.10.0.{octet}",
        "dnsName": f"{physical}.{region}.sql.goog.",
        "serviceAccountEmailAddress": f"p{GCP_PROJECT_NUMBER}-mock@gcp-sa-cloud-sql.iam.gserviceaccount.com",
    }


def _gcp_sql_child(collection: str) -> _GcpRule:
    def rule(project: str, _region: str, _location: str, physical: str, inputs):
        instance = _str(inputs, "instance") or "mock-instance"
        id_ = f"projects/{project}/instances/{instance}/{collection}/{physical}"
        return id_, {"id": id_}

    return rule


def _gcp_secret(project: str, _region: str, _location: str, physical: str, _in):
    id_ = f"projects/{project}/secrets/{physical}"
    return id_, {"id": id_, "name": f"projects/{GCP_PROJECT_NUMBER}/secrets/{physical}"}


def _gcp_secret_version(_project: str, _region: str, _location: str, _physical: str, inputs):
    id_ = f"{_str(inputs, 'secret') or 'mock-secret'}/versions/1"
    return id_, {"id": id_, "name": id_, "version": "1"}


def _gcp_global_compute(collection: str) -> _GcpRule:
    def rule(project: str, _region: str, _location: str, physical: str, _in):
        id_ = f"projects/{project}/global/{collection}/{physical}"
        return id_, {"id": id_, "selfLink": f"https://www.googleapis.com/compute/v1/{id_}"}

    return rule


def _gcp_project_child(collection: str) -> _GcpRule:
    """Project-level resources Cloud Monitoring numbers itself (channels, policies)."""

    def rule(project: str, _region: str, _location: str, physical: str, _in):
        id_ = f"projects/{project}/{collection}/{_digest(project, collection, physical)}"
        return id_, {"id": id_, "name": id_}

    return rule


def _gcp_service_account(project: str, _region: str, _location: str, physical: str, _in):
    email = f"{physical}@{project}.iam.gserviceaccount.com"
    id_ = f"projects/{project}/serviceAccounts/{email}"
    return id_, {
        "id": id_,
        "name": id_,
        "email": email,
        "member": f"serviceAccount:{email}",
        "uniqueId": str(int(_digest(email), 16))[:21],
    }


# Service agents: service-<project number>@gcp-sa-<agent>.iam.gserviceaccount.com.
_GCP_SERVICE_AGENTS = {
    "sqladmin.googleapis.com": "cloud-sql",
    "secretmanager.googleapis.com": "secretmanager",
}


def _gcp_service_identity(project: str, _region: str, _location: str, _physical: str, inputs):
    service = _str(inputs, "service") or "mock.googleapis.com"
    agent = _GCP_SERVICE_AGENTS.get(service, service.split(".", 1)[0])
    email = f"service-{GCP_PROJECT_NUMBER}@gcp-sa-{agent}.iam.gserviceaccount.com"
    id_ = f"projects/{project}/services/{service}"
    return id_, {"id": id_, "email": email, "member": f"serviceAccount:{email}"}


_GCP_TYPES: dict[str, _GcpRule] = {
    "gcp:projects/serviceIdentity:ServiceIdentity": _gcp_service_identity,
    "gcp:kms/keyRing:KeyRing": _gcp_key_ring,
    "gcp:kms/cryptoKey:CryptoKey": _gcp_crypto_key,
    "gcp:sql/databaseInstance:DatabaseInstance": _gcp_sql_instance,
    "gcp:sql/database:Database": _gcp_sql_child("databases"),
    "gcp:sql/user:User": _gcp_sql_child("users"),
    "gcp:secretmanager/secret:Secret": _gcp_secret,
    "gcp:secretmanager/secretVersion:SecretVersion": _gcp_secret_version,
    "gcp:compute/network:Network": _gcp_global_compute("networks"),
    "gcp:compute/globalAddress:GlobalAddress": _gcp_global_compute("addresses"),
    "gcp:serviceaccount/account:Account": _gcp_service_account,
    "gcp:monitoring/notificationChannel:NotificationChannel": _gcp_project_child(
        "notificationChannels"
    ),
    "gcp:monitoring/alertPolicy:AlertPolicy": _gcp_project_child("alertPolicies"),
}


# -- Kubernetes and random --------------------------------------------------------


def _kubernetes(name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    metadata = inputs.get("metadata")
    metadata = dict(metadata) if isinstance(metadata, Mapping) else {}
    k8s_name = _str(metadata, "name") or name
    namespace = _str(metadata, "namespace")
    metadata.update(name=k8s_name, uid=_guid("k8s", namespace or "", k8s_name))
    id_ = f"{namespace}/{k8s_name}" if namespace else k8s_name
    return id_, {"id": id_, "metadata": metadata}


def _int(inputs: Mapping[str, Any], key: str, default: int) -> int:
    value = inputs.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _random(kind: str, name: str, inputs: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    seed = _digest("random", kind, name, size=32)  # 64 hex chars
    if kind == "RandomPassword":  # the only random resource the program creates
        length = _int(inputs, "length", 16)
        result = (seed * (length // len(seed) + 1))[:length]
        return name, {"result": result, "id": "none"}
    return seed[:16], {"result": seed[:16]}


# ---------------------------------------------------------------------------
# The capturing monitor
# ---------------------------------------------------------------------------


class CaptureMonitor(MockMonitor):
    """A MockMonitor that records every registration with its full options.

    It answers from the wire form directly (copy the request object, merge the
    synthetic fields) instead of deserializing and re-serializing through
    Python values like the base class, which keeps the per-resource overhead
    small and keeps secret/unknown markers intact in the echoed outputs.
    `self.resources` maps URN -> ResourceRegistration(urn, id, state) where
    state is the response Struct.
    """

    mocks: PlanMocks

    def __init__(
        self,
        mocks: PlanMocks,
        project: str,
        stack: str,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(mocks)
        self.captured: list[CapturedResource] = []
        self.stack_outputs: dict[str, Any] = {}
        self._urn_prefix = f"urn:pulumi:{stack}::{project}::"
        self._root_urn = ""
        self._progress = progress

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        # The engine's rule (deploy.generateURN), not the base MockMonitor's: the
        # parent's full qualified type is prepended, except for the root stack.
        if parent:
            parent_type = parent.split("::", 3)[2]
            if parent_type != STACK_TYPE:
                type_ = f"{parent_type}${type_}"
        return f"{self._urn_prefix}{type_}::{name}"

    def RegisterResource(self, request: Any) -> resource_pb2.RegisterResourceResponse:
        urn = self.make_urn(request.parent, request.type, request.name)
        inputs = render_struct(request.object)
        self._record(urn, request, inputs)
        if request.type == STACK_TYPE:
            self._root_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        if not request.custom:
            return resource_pb2.RegisterResourceResponse(urn=urn, id="", object=request.object)
        id_, extra = self.mocks.computed(request.type, request.name, inputs)
        state = _respond(request.object, extra, request.additionalSecretOutputs)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)  # type: ignore[arg-type]
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=state)

    def _record(self, urn: str, request: Any, inputs: dict[str, Any]) -> None:
        self.captured.append(
            CapturedResource(
                urn=urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                provider=request.provider or None,
                custom=request.custom,
                inputs=inputs,
                protect=request.protect,
                retain_on_delete=request.retainOnDelete,
                # The SDK builds this from a set: sort for determinism.
                dependencies=sorted(request.dependencies),
                aliases=_aliases(request),
                delete_before_replace=request.deleteBeforeReplace,
            )
        )
        if self._progress is not None:
            self._progress(len(self.captured))

    def RegisterResourceOutputs(self, request: Any) -> empty_pb2.Empty:
        if request.urn == self._root_urn:
            self.stack_outputs = render_struct(request.outputs)
        return empty_pb2.Empty()

    def ReadResource(self, request: Any) -> resource_pb2.ReadResourceResponse:
        urn = self.make_urn(request.parent, request.type, request.name)
        id_, extra = self.mocks.computed(
            request.type, request.name, render_struct(request.properties)
        )
        state = _respond(request.properties, {**extra, "id": request.id or id_}, ())
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, request.id or id_, state)  # type: ignore[arg-type]
        return resource_pb2.ReadResourceResponse(urn=urn, properties=state)

    def Invoke(self, request: Any) -> resource_pb2.ResourceInvokeResponse:
        args = render_struct(request.args)
        if request.tok == "pulumi:pulumi:getResource":
            return _get_resource_response(self.resources, args.get("urn", ""))
        result, _failures = self.mocks.call(MockCallArgs(request.tok, args, request.provider))
        ret = struct_pb2.Struct()
        ret.update(result)
        return resource_pb2.ResourceInvokeResponse(**{"return": ret})


def _respond(
    request_object: struct_pb2.Struct, extra: Mapping[str, Any], secret_keys: Any
) -> struct_pb2.Struct:
    """Outputs = the request's wire-form inputs + synthetic fields (deep-merged)."""
    state = struct_pb2.Struct()
    state.CopyFrom(request_object)
    _merge_into(state, extra)
    for key in secret_keys:  # additionalSecretOutputs: the engine marks these secret
        if key in state.fields:
            _wrap_secret(state, key)
    return state


def _merge_into(struct: struct_pb2.Struct, extra: Mapping[str, Any]) -> None:
    for key, value in extra.items():
        if value is None:
            continue
        current = struct.fields.get(key)
        if (
            isinstance(value, Mapping)
            and current is not None
            and current.WhichOneof("kind") == "struct_value"
            and _SIG not in current.struct_value.fields
        ):
            _merge_into(current.struct_value, value)
        else:
            struct[key] = value


def _wrap_secret(state: struct_pb2.Struct, key: str) -> None:
    current = state.fields[key]
    if current.HasField("struct_value") and _SIG in current.struct_value.fields:
        return  # already a secret (or another special value)
    wrapper = struct_pb2.Struct()
    wrapper.fields[_SIG].string_value = _SECRET_SIG
    wrapper.fields["value"].CopyFrom(current)
    state.fields[key].struct_value.CopyFrom(wrapper)


def _get_resource_response(resources: Mapping[str, Any], urn: str) -> Any:
    registered = resources.get(urn)
    if registered is None:
        raise Exception(f"unknown resource {urn}")
    ret = struct_pb2.Struct()
    ret["urn"] = registered.urn
    ret["id"] = registered.id
    ret.fields["state"].struct_value.CopyFrom(registered.state)
    return resource_pb2.ResourceInvokeResponse(**{"return": ret})


def _aliases(request: Any) -> list[str]:
    if not request.aliases and not request.aliasURNs:
        return []
    out = list(request.aliasURNs)
    for alias in request.aliases:
        if alias.urn:
            out.append(alias.urn)
        else:
            spec = alias.spec
            parts = [f"{f.name}={v}" for f, v in spec.ListFields()]
            out.append("spec:" + ",".join(parts))
    return out


# ---------------------------------------------------------------------------
# Running a program
# ---------------------------------------------------------------------------


class _InlineExecutor(ThreadPoolExecutor):
    """Runs submitted calls synchronously on the event-loop thread.

    The SDK sends every monitor RPC through `loop.run_in_executor(None, ...)`. Our
    monitor is in-process and never blocks, so a thread hop buys nothing: running
    inline is much faster and makes registration order deterministic.
    """

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 - delivered to the awaiting coroutine
            future.set_exception(exc)
        return future


def capture(
    program: Callable[[], None],
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    preview: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Capture:
    """Run `program` under the capturing mock engine and return what it registered.

    `config` holds fully-qualified keys ("aws:region", "tenancy:environment") with
    string values, as in Pulumi.<stack>.yaml. Exceptions raised by the program
    propagate unchanged. Each call is isolated: SDK settings, config, the root
    stack resource and the event loop are fresh per call and discarded after.
    `progress`, if given, is called with the running count of registrations.
    """
    monitor = CaptureMonitor(PlanMocks(config), project, stack, progress)
    with _preserved_settings_defaults(), _gc_paused(), _no_source_positions():
        # A copied context scopes every ContextVar the SDK sets (settings, config,
        # root resource) to this run.
        contextvars.copy_context().run(
            _run_isolated, program, monitor, project, stack, dict(config), preview
        )
    return Capture(resources=monitor.captured, outputs=monitor.stack_outputs)


def _run_isolated(
    program: Callable[[], None],
    monitor: CaptureMonitor,
    project: str,
    stack: str,
    config: dict[str, str],
    preview: bool,
) -> None:
    _configure_sdk(monitor, project, stack, config, preview)
    loop = asyncio.new_event_loop()
    loop.set_default_executor(_InlineExecutor())
    previous = _current_event_loop()
    asyncio.set_event_loop(loop)
    try:
        main = loop.create_task(_drive(program))
        watch = _StallWatch(loop, main)
        try:
            loop.run_until_complete(main)
        except asyncio.CancelledError:
            if watch.stalled:
                raise PlanStalledError(
                    "the program awaits outputs that nothing will ever resolve"
                ) from None
            raise
    finally:
        _cancel_pending(loop)
        loop.close()
        asyncio.set_event_loop(previous)


def _configure_sdk(
    monitor: CaptureMonitor, project: str, stack: str, config: dict[str, str], preview: bool
) -> None:
    settings = Settings(
        project=project,
        stack=stack,
        monitor=monitor,
        engine=MockEngine(logging.getLogger("pulumi.engine")),
        dry_run=preview,
        legacy_apply_enabled=False,
        organization="organization",
    )
    configure(settings)
    SETTINGS.monitor_features = set(monitor.GetDeploymentInfo(None).supportedFeatures)
    SETTINGS.callbacks = None
    ROOT.set(None)
    set_all_config(config, secret_keys=[])


async def _drive(program: Callable[[], None]) -> None:
    """What the SDK's run_in_stack does, minus the shutdown handshake: create the
    root stack, run the program (and its `pulumi.run` entrypoint, if any),
    register stack outputs, drain pending work."""
    root = Stack()
    program()
    entrypoint = root._take_async_program()
    if entrypoint is not None:
        root._add_program_outputs(await entrypoint())
    root._finish()
    await wait_for_rpcs()


class PlanStalledError(RuntimeError):
    """The program left outputs pending that nothing can resolve (a deadlock)."""


class _StallWatch:
    """Cancels the run once the event loop has had nothing to do for a while.

    Everything here is in-process and CPU-bound: the monitor answers inline and
    there is no real I/O. So if the loop has no ready callbacks and no timers
    besides ours for several consecutive checks while the run is unfinished,
    nothing can ever make progress again (e.g. an Output built on a future that
    is never resolved) and waiting would hang forever. Uses the same loop
    internals (`_ready`) that the SDK's own `_sync_await` relies on.
    """

    INTERVAL_SECONDS = 0.5
    IDLE_CHECKS = 3

    def __init__(self, loop: asyncio.AbstractEventLoop, main: asyncio.Task) -> None:
        self.stalled = False
        self._loop = loop
        self._main = main
        self._idle = 0
        loop.call_later(self.INTERVAL_SECONDS, self._check)

    def _check(self) -> None:
        if self._main.done():
            return
        loop: Any = self._loop
        busy = bool(loop._ready) or any(not h.cancelled() for h in loop._scheduled)
        self._idle = 0 if busy else self._idle + 1
        if self._idle >= self.IDLE_CHECKS:
            self.stalled = True
            self._main.cancel()
            return
        loop.call_later(self.INTERVAL_SECONDS, self._check)


def _cancel_pending(loop: asyncio.AbstractEventLoop) -> None:
    # After a program error nothing downstream matters: cancel instead of draining
    # so a half-built graph can never leave us waiting on outputs forever.
    pending = [task for task in asyncio.all_tasks(loop) if not task.done()]
    for task in pending:
        task.cancel()
    if pending:
        loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
    with suppress(Exception):
        loop.run_until_complete(loop.shutdown_asyncgens())


def _current_event_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        return None


@contextmanager
def _gc_paused() -> Iterator[None]:
    # The SDK allocates millions of long-lived objects (Outputs, futures, tasks)
    # and CPython's generational GC keeps rescanning them as they age: measured at
    # more than half the run time for a few thousand resources, growing
    # superlinearly. Nothing in the graph dies before the run ends anyway (the
    # root stack holds every resource), so pause the collector for the run and
    # free the whole (cyclic) graph with a single collection afterwards.
    # That collection scans only what the run allocated: everything alive before it
    # (the imported provider SDKs: ~600,000 objects once all three clouds are loaded)
    # is frozen first. A full collection of that heap took 0.6-0.9 s per plan, whatever
    # the plan's size: the cost the audit and hardening branches' extra SDK modules
    # (CloudWatch, SNS, Backup, Monitor ...) added to every small stack's plan.
    was_enabled = gc.isenabled()
    already_frozen = gc.get_freeze_count() > 0
    gc.disable()
    gc.freeze()
    try:
        yield
    finally:
        if was_enabled:
            gc.collect()
        if not already_frozen:
            gc.unfreeze()
        if was_enabled:
            gc.enable()


@contextmanager
def _no_source_positions() -> Iterator[None]:
    # For every registration the SDK walks the Python stack and turns each frame's file
    # name into a URI (``_get_stack_trace``), so the engine can point at the line that
    # declared a resource. Our monitor records no source positions, and the walk grows
    # with the component nesting: 10-13 % of a plan's CPU. Skip it while we capture; a
    # real ``pulumi up`` does not go through here and keeps it.
    original = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = original


@contextmanager
def _preserved_settings_defaults() -> Iterator[None]:
    # pulumi's ContextProperty rewrites its *default* the first time a value is
    # set while the current value is None, so the first run's monitor (and every
    # resource it holds) would otherwise stay reachable process-wide after we
    # leave our copied context. Snapshot and restore those defaults.
    props = [p for p in vars(Settings).values() if isinstance(p, ContextProperty)]
    saved = [p._ContextProperty__default for p in props]  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for prop, default in zip(props, saved, strict=True):
            prop._ContextProperty__default = default  # type: ignore[attr-defined]
