"""Every catalog rule has a failing catalog: a minimal valid catalog plus one mutation."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from components.model.errors import InputError, Issue
from components.model.validation import parse_catalog

FILE = "tenants.yaml"


def _tenant(tenant_id: str, tier: str, **extra: Any) -> dict[str, Any]:
    return {
        "id": tenant_id,
        "name": tenant_id.title(),
        "tier": tier,
        "cloud": "aws",
        "region": "eu-central-1",
        "residency": "eu",
        "compliance": ["gdpr"],
        **extra,
    }


def valid_catalog() -> dict[str, Any]:
    return {
        "version": 1,
        "residency_zones": {
            "eu": {"aws": ["eu-central-1"], "azure": ["westeurope"], "gcp": ["europe-west3"]},
            "us": {"aws": ["us-east-1"]},
        },
        "tiers": {
            "free": {
                "isolation": "pool",
                "shards": 2,
                "database": {"min_capacity": 0.5, "max_capacity": 8, "backup_retention_days": 7},
                "app": {"min_replicas": 2, "max_replicas": 10, "cpu_target": 70},
            },
            "standard": {
                "isolation": "bridge",
                "database": {"min_capacity": 1, "max_capacity": 16, "backup_retention_days": 14},
            },
            "enterprise": {
                "isolation": "silo",
                "database": {"min_capacity": 2, "max_capacity": 64, "backup_retention_days": 30},
                "app": {"min_replicas": 3, "max_replicas": 50},
            },
        },
        "tenants": [
            _tenant("acme", "enterprise", overrides={"app": {"max_replicas": 30}}),
            _tenant("initech", "standard"),
            _tenant("hooli", "free"),
        ],
    }


def _dump(data: Any) -> str:
    return yaml.safe_dump(data, sort_keys=False)


def _issues(text: str) -> list[Issue]:
    with pytest.raises(InputError) as caught:
        parse_catalog(text, FILE)
    return caught.value.issues


def test_the_minimal_catalog_is_valid() -> None:
    catalog = parse_catalog(_dump(valid_catalog()), FILE)
    assert [t.id for t in catalog.tenants] == ["acme", "initech", "hooli"]


def test_the_example_catalog_is_valid() -> None:
    with open("stacks/tenants.yaml", encoding="utf-8") as handle:
        catalog = parse_catalog(handle.read(), "stacks/tenants.yaml")
    assert len(catalog.tenants) >= 10


Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Mutation:
    """Mutation that sets a dotted path (digits index lists)."""

    def mutate(data: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = data
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        node[int(last) if last.isdigit() else last] = value

    return mutate


def _drop(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *head, last = path.split(".")
        node: Any = data
        for part in head:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return mutate


def _add_tenant(**fields: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data["tenants"].append(_tenant(**fields))

    return mutate


def _both(*mutations: Mutation) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(data)

    return mutate


# (spec id, mutation, expected YAML path, message fragment)
RULES: list[tuple[str, Mutation, str, str]] = [
    (
        "PostgreSQL major the tenant's cloud does not offer",
        _set("tiers.enterprise.database.postgres_major_version", 18),
        "tenants[0].tier",
        "asks for PostgreSQL 18; AWS offers 14, 15, 16, 17",
    ),
    (
        "PostgreSQL major no cloud offers",
        _set("tiers.enterprise.database.postgres_major_version", 12),
        "tiers.enterprise.database.postgres_major_version",
        "greater than or equal to 14",
    ),
    ("unknown tier", _set("tenants.1.tier", "gold"), "tenants[1].tier", "unknown tier 'gold'"),
    ("unknown cloud", _set("tenants.1.cloud", "oracle"), "tenants[1].cloud", "'oracle'"),
    (
        "region outside the residency zone",
        _set("tenants.1.region", "us-east-1"),
        "tenants[1].region",
        "outside residency zone 'eu'",
    ),
    (
        "unknown residency zone",
        _set("tenants.1.residency", "apac"),
        "tenants[1].residency",
        "unknown residency zone 'apac'",
    ),
    (
        "unknown compliance framework",
        _set("tenants.1.compliance", ["gdpr", "fedramp"]),
        "tenants[1].compliance[1]",
        "'fedramp'",
    ),
    (
        "duplicate compliance framework",
        _set("tenants.1.compliance", ["gdpr", "gdpr"]),
        "tenants[1].compliance",
        "duplicate frameworks",
    ),
    (
        "duplicate tenant ids",
        _add_tenant(tenant_id="acme", tier="free"),
        "tenants[3].id",
        "duplicate tenant id 'acme'",
    ),
    (
        "tenant id with uppercase letters",
        _set("tenants.1.id", "Initech"),
        "tenants[1].id",
        "'Initech'",
    ),
    ("tenant id too short", _set("tenants.1.id", "ab"), "tenants[1].id", "'ab'"),
    ("tenant id ending in a hyphen", _set("tenants.1.id", "abc-"), "tenants[1].id", "'abc-'"),
    ("tenant id too long", _set("tenants.1.id", "a" * 33), "tenants[1].id", "'aaaa"),
    (
        "min capacity above max capacity",
        _set("tiers.free.database.min_capacity", 16),
        "tiers.free.database.min_capacity",
        "exceeds max_capacity",
    ),
    (
        "min replicas above max replicas",
        _set("tiers.free.app.min_replicas", 20),
        "tiers.free.app.min_replicas",
        "exceeds max_replicas",
    ),
    (
        "capacity not a multiple of 0.5",
        _set("tiers.free.database.max_capacity", 7.3),
        "tiers.free.database.max_capacity",
        "multiple of 0.5",
    ),
    (
        "cpu target of 0",
        _set("tiers.free.app.cpu_target", 0),
        "tiers.free.app.cpu_target",
        "greater than or equal to 1",
    ),
    (
        "memory target of 101",
        _set("tiers.free.app.memory_target", 101),
        "tiers.free.app.memory_target",
        "less than or equal to 100",
    ),
    (
        "aws retention of 36 days",
        _set("tiers.enterprise.database.backup_retention_days", 36),
        "tenants[0].tier",
        "outside what aws allows [1, 35]",
    ),
    (
        "azure retention of 5 days",
        _both(
            _set("tiers.free.database.backup_retention_days", 5),
            _set("tenants.2.cloud", "azure"),
            _set("tenants.2.region", "westeurope"),
        ),
        "tenants[2].tier",
        "outside what azure allows [7, 35]",
    ),
    (
        "azure read replicas beyond the five a server may have",
        _both(
            _set("tiers.free.database.min_read_replicas", 6),
            _set("tiers.free.database.max_read_replicas", 6),
            _set("tenants.2.cloud", "azure"),
            _set("tenants.2.region", "westeurope"),
        ),
        "tenants[2].tier",
        "azure allows at most 5",
    ),
    (
        "gcp read replicas beyond the ten an instance may have",
        _both(
            _set("tiers.free.database.min_read_replicas", 11),
            _set("tiers.free.database.max_read_replicas", 11),
            _set("tenants.2.cloud", "gcp"),
            _set("tenants.2.region", "europe-west3"),
        ),
        "tenants[2].tier",
        "gcp allows at most 10",
    ),
    (
        "override beyond the tier's max replicas",
        _set("tenants.0.overrides", {"app": {"max_replicas": 51}}),
        "tenants[0].overrides.app.max_replicas",
        "outside tier 'enterprise' bounds [3, 50]",
    ),
    (
        "override beyond the tier's max capacity",
        _set("tenants.0.overrides", {"database": {"max_capacity": 128}}),
        "tenants[0].overrides.database.max_capacity",
        "outside tier 'enterprise' bounds",
    ),
    (
        "override shortening backup retention",
        _set("tenants.0.overrides", {"database": {"backup_retention_days": 7}}),
        "tenants[0].overrides.database.backup_retention_days",
        "outside tier 'enterprise' bounds",
    ),
    (
        "override inverting the replica range",
        _set("tenants.0.overrides", {"app": {"min_replicas": 40, "max_replicas": 30}}),
        "tenants[0].overrides.app",
        "effective min_replicas 40 exceeds max_replicas 30",
    ),
    (
        "database override on a pool tier",
        _set("tenants.2.overrides", {"database": {"min_capacity": 1}}),
        "tenants[2].overrides.database",
        "share a server",
    ),
    (
        "shard pin outside the tier's shards",
        _set("tenants.2.shard", "free-03"),
        "tenants[2].shard",
        "'free-03' is not a shard of tier 'free'",
    ),
    (
        "shard pin naming another tier's shard",
        _set("tenants.2.shard", "standard-01"),
        "tenants[2].shard",
        "is not a shard of tier 'free'",
    ),
    (
        "shard pin on a silo tenant",
        _set("tenants.0.shard", "enterprise-01"),
        "tenants[0].shard",
        "no shared servers",
    ),
    (
        "shards on a silo tier",
        _set("tiers.enterprise.shards", 2),
        "tiers.enterprise",
        "a silo tier has no shared servers",
    ),
    (
        "shard overflow",
        _both(
            _set("tiers.standard.tenants_per_shard", 1),
            _add_tenant(tenant_id="umbrella", tier="standard"),
        ),
        "tenants[3].shard",
        "is full (2 tenants, capacity 1)",
    ),
    (
        "misspelt tenant key",
        _set("tenants.1.regoin", "eu-central-1"),
        "tenants[1].regoin",
        "Extra inputs are not permitted",
    ),
    (
        "misspelt tier key",
        _set("tiers.free.database.backup_retention", 7),
        "tiers.free.database.backup_retention",
        "Extra inputs are not permitted",
    ),
    ("unknown top-level key", _set("tennants", []), "tennants", "unknown top-level key"),
    ("missing tenants", _drop("tenants"), "tenants", "missing required key 'tenants'"),
    ("missing tenant field", _drop("tenants.1.region"), "tenants[1].region", "Field required"),
    ("unsupported version", _set("version", 2), "version", "unsupported version 2"),
    (
        "list instead of a mapping",
        _set("tiers.free.database", [0.5, 8, 7]),
        "tiers.free.database",
        "valid dictionary",
    ),
    (
        "string instead of an integer",
        _set("tiers.free.app.max_replicas", "10"),
        "tiers.free.app.max_replicas",
        "valid integer",
    ),
    (
        "mapping instead of the tenant list",
        _set("tenants", {"acme": {}}),
        "tenants",
        "non-empty list",
    ),
    ("empty tenant list", _set("tenants", []), "tenants", "non-empty list"),
    ("invalid tier name", _set("tiers.Gold!", {}), "tiers.Gold!", "tier name 'Gold!'"),
    (
        "zone without regions",
        _set("residency_zones.us.aws", []),
        "residency_zones.us.aws",
        "lists no regions",
    ),
    (
        "unknown isolation",
        _set("tiers.free.isolation", "shared"),
        "tiers.free.isolation",
        "'shared'",
    ),
    (
        "bad maintenance window",
        _set("tiers.free.database.maintenance_window", "sunday 3am"),
        "tiers.free.database.maintenance_window",
        "'sunday 3am'",
    ),
    ("unknown status", _set("tenants.1.status", "deleted"), "tenants[1].status", "'deleted'"),
]


@pytest.mark.parametrize(
    ("mutation", "path", "fragment"),
    [pytest.param(m, p, f, id=spec) for spec, m, p, f in RULES],
)
def test_rule_violation_is_reported_with_its_yaml_path(
    mutation: Mutation, path: str, fragment: str
) -> None:
    data = copy.deepcopy(valid_catalog())
    mutation(data)
    issues = _issues(_dump(data))
    matching = [issue for issue in issues if issue.path == path]
    assert matching, f"no issue at {path}; got {[(i.path, i.message) for i in issues]}"
    assert any(fragment in issue.message for issue in matching), [i.message for i in matching]
    for issue in matching:
        assert issue.file == FILE
        assert issue.line is not None and issue.line >= 1
        assert issue.hint.strip()


# Documents that are not a catalog at all: (spec id, text, path, message fragment)
DOCUMENTS = [
    ("empty document", "", "", "got empty"),
    ("only a comment", "# nothing here\n", "", "got empty"),
    ("list instead of a mapping", "- acme\n- globex\n", "", "got list"),
    ("scalar document", "tenants\n", "", "got str"),
    ("malformed YAML", "version: 1\ntiers: {free: [\n", "", "malformed YAML"),
    ("tab indentation", "version: 1\ntiers:\n\tfree: {}\n", "", "malformed YAML"),
    ("duplicate YAML key", "version: 1\nversion: 1\n", "", "duplicate key 'version'"),
    ("python object tag", "version: !!python/object:os.system {}\n", "", "malformed YAML"),
    ("recursive list anchor", "version: 1\ntenants: &l [*l]\n", "tenants[0]", "dictionary"),
    ("recursive mapping anchor", "version: 1\ntiers: &t {free: *t}\n", "", "malformed YAML"),
    ("nesting too deep", "[" * 3000 + "]" * 3000, "", "nested too deeply"),
]


@pytest.mark.parametrize(
    ("text", "path", "fragment"), [pytest.param(t, p, f, id=spec) for spec, t, p, f in DOCUMENTS]
)
def test_a_document_that_is_not_a_catalog_is_an_input_error(
    text: str, path: str, fragment: str
) -> None:
    issues = _issues(text)
    assert any(issue.path == path and fragment in issue.message for issue in issues), [
        (i.path, i.message) for i in issues
    ]
    assert all(issue.hint for issue in issues)


def test_malformed_yaml_names_the_line() -> None:
    issues = _issues("version: 1\ntiers:\n  free: {isolation: pool\ntenants: []\n")
    assert issues[0].line is not None and issues[0].line >= 3


def test_duplicate_yaml_key_names_the_line_of_the_second_key() -> None:
    issues = _issues("version: 1\ntiers: {}\nversion: 1\n")
    assert issues[0].line == 3


def test_every_error_is_reported_at_once() -> None:
    data = valid_catalog()
    data["tenants"][0]["region"] = "us-east-1"  # outside eu
    data["tenants"][1]["tier"] = "gold"  # unknown tier
    data["tiers"]["free"]["app"]["cpu_target"] = 0  # target out of range
    paths = {issue.path for issue in _issues(_dump(data))}
    assert {"tenants[0].region", "tenants[1].tier", "tiers.free.app.cpu_target"} <= paths


def test_one_broken_tenant_does_not_hide_another_tenants_errors() -> None:
    data = valid_catalog()
    data["tenants"][0]["cloud"] = "oracle"  # shape error: tenant 0 does not parse
    data["tenants"][2]["residency"] = "apac"  # rule error on a tenant that parses
    paths = {issue.path for issue in _issues(_dump(data))}
    assert {"tenants[0].cloud", "tenants[2].residency"} <= paths


def test_line_numbers_point_at_the_offending_key() -> None:
    text = _dump(valid_catalog()).replace("region: eu-central-1", "region: us-west-2", 1)
    (issue,) = [i for i in _issues(text) if i.path == "tenants[0].region"]
    assert issue.line is not None
    assert text.splitlines()[issue.line - 1].strip().startswith("region: us-west-2")


def test_rendered_issue_reads_file_line_path_message_and_fix() -> None:
    data = valid_catalog()
    data["tenants"][1]["tier"] = "gold"
    (issue,) = _issues(_dump(data))
    rendered = issue.render()
    first, second = rendered.splitlines()
    assert first.startswith(f"{FILE}:{issue.line}: tenants[1].tier: unknown tier 'gold'")
    assert second.strip().startswith("fix: use one of:")


def test_overflow_hint_names_a_shard_with_room() -> None:
    data = valid_catalog()
    data["tiers"]["free"]["tenants_per_shard"] = 1
    data["tenants"] += [_tenant(f"pool{n}", "free") for n in range(2)]  # 3 tenants, 2 shards
    issues = _issues(_dump(data))
    assert issues and all("is full" in i.message for i in issues)
    assert any("raise tiers.free.shards" in i.hint or "pin it" in i.hint for i in issues)


def test_offboarded_tenants_do_not_take_shard_capacity() -> None:
    data = valid_catalog()
    data["tiers"]["standard"]["tenants_per_shard"] = 1
    data["tenants"].append(_tenant("umbrella", "standard", status="offboarded"))
    parse_catalog(_dump(data), FILE)


def test_a_tier_major_is_accepted_where_every_tenant_cloud_offers_it() -> None:
    data = copy.deepcopy(valid_catalog())
    data["tiers"]["enterprise"]["database"]["postgres_major_version"] = 18
    data["tenants"][0].update(cloud="gcp", region="europe-west3")
    catalog = parse_catalog(_dump(data), FILE)
    assert catalog.tiers["enterprise"].database.postgres_major_version == 18
    assert catalog.tiers["standard"].database.postgres_major_version == 17  # the default
