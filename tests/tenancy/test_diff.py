"""`tenancy diff`: tenant-level changes, resource changes per tenant, danger flags, the comment.

Plan pairs come from the real planner on catalog variants; danger flags the program
never produces on its own (protect lost, deletion protection off, a replacement-forcing
input) are made by editing the head plan's JSON.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import inspect
import io
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import tenancy.cli
from components.model.errors import InputError
from tenancy.diff import COMMENT_LIMIT, diff_plans, marker, render, validate_plan
from tenancy.diff.compute import (
    DELETION_PROTECTION_LOST,
    MAJOR_DOWNGRADE,
    MAJOR_UPGRADE_WITH_REPLICAS,
    MOVE_TARGET_DELETE,
    OLD_HOME_DELETE,
    PROTECT_LOST,
    REPLACEMENT,
    RETIER_WITHOUT_MOVE,
    STATEFUL_DELETE,
    Owner,
)
from tenancy.diff.replacements import REPLACE_ON_CHANGES, STATEFUL_TYPES
from tenancy.plan import markdown_summary, plan_stack

ROOT = Path(__file__).resolve().parents[2]
DEV = "dev-aws-eu-central-1"
CATALOG = yaml.safe_load((ROOT / "stacks" / "tenants.yaml").read_text(encoding="utf-8"))


def _tenant(catalog: dict[str, Any], tenant_id: str) -> dict[str, Any]:
    return next(t for t in catalog["tenants"] if t["id"] == tenant_id)


@cache
def _plan_text(catalog_yaml: str, directory: str) -> str:
    path = Path(directory) / f"catalog-{abs(hash(catalog_yaml))}.yaml"
    path.write_text(catalog_yaml, encoding="utf-8")
    return json.dumps(plan_stack(DEV, catalog=str(path)))


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., dict[str, Any]]:
    """plan(mutate) -> the dev plan of the example catalog after mutate(catalog)."""
    directory = str(tmp_path_factory.mktemp("catalogs"))

    def plan(mutate: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        catalog = copy.deepcopy(CATALOG)
        if mutate:
            mutate(catalog)
        return json.loads(_plan_text(yaml.safe_dump(catalog, sort_keys=False), directory))

    return plan


def _set(tenant_id: str, **fields: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(catalog: dict[str, Any]) -> None:
        _tenant(catalog, tenant_id).update(fields)

    return mutate


def _changes_outside(diff: Any, tenant: str) -> list[Any]:
    return [c for c in diff.changes if c.owner != Owner("tenant", tenant)]


def _kinds(diff: Any) -> dict[str, tuple[str, ...]]:
    return {c.tenant: c.kinds for c in diff.tenant_changes}


# --- tenant-level changes ------------------------------------------------------------


def test_identical_plans_have_no_change_and_say_so(planned: Callable[..., Any]) -> None:
    diff = diff_plans(planned(), planned())
    assert not diff.changed and not diff.dangerous
    assert render(diff).splitlines()[0] == f"✅ **`{DEV}`: no changes.**"


def _move(tenant_id: str, tier: str, **moving_from: Any) -> Callable[[dict[str, Any]], None]:
    """Re-tier a tenant with ``moving_from`` naming its current tier (``moving_from=None``: without)."""

    def mutate(catalog: dict[str, Any]) -> None:
        tenant = _tenant(catalog, tenant_id)
        old = {"tier": tenant["tier"], **moving_from}
        tenant["tier"] = tier
        tenant.pop("overrides", None)  # app overrides are for silo tiers only
        tenant["moving_from"] = old

    return mutate


def _at_rest(tenant_id: str) -> Callable[[dict[str, Any]], None]:
    """The move is done: the same catalog without ``moving_from``."""

    def mutate(catalog: dict[str, Any]) -> None:
        _tenant(catalog, tenant_id).pop("moving_from")

    return mutate


def _then(*mutations: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def mutate(catalog: dict[str, Any]) -> None:
        for mutation in mutations:
            mutation(catalog)

    return mutate


def test_pool_to_silo_with_moving_from_creates_the_silo_and_keeps_the_old_shard_as_it_was(
    planned: Callable[..., Any],
) -> None:
    head = planned(_move("piedpiper", "enterprise"))
    diff = diff_plans(planned(), head)
    assert _kinds(diff) == {"piedpiper": ("re-tiered", "moving")}
    assert not diff.dangerous
    mine = [c for c in diff.changes if c.owner == Owner("tenant", "piedpiper")]
    assert mine and {c.action for c in mine} == {"create"}
    assert {"aws:rds/cluster:Cluster", "aws:kms/key:Key"} <= {c.type for c in mine}
    # The shard it leaves keeps it in its tenant list, so its SQL plan (and rows) stay:
    # nothing outside the tenant's new resources changes at all.
    assert _changes_outside(diff, "piedpiper") == []
    (sql,) = [r for r in head["resources"] if r["name"] == "shard-free-01-isolation-sql"]
    assert "piedpiper" in sql["inputs"]["tenants"]


def test_silo_to_pool_with_moving_from_deletes_nothing_and_keeps_the_silo_server_and_key(
    planned: Callable[..., Any],
) -> None:
    base, head = planned(), planned(_move("acme", "free"))
    diff = diff_plans(base, head)
    assert not diff.dangerous
    assert [c for c in diff.changes if c.action in ("delete", "replace")] == []
    kept = {"silo-acme-db-cluster", "silo-acme-key-cmk", "silo-acme-isolation-sql"}
    assert kept <= {r["name"] for r in head["resources"]}
    touched = {c.name for c in diff.changes}
    assert not touched & kept  # neither replaced nor updated: the same server and key
    # Other tenants: only the shared shard/tier resources it joins change, in place.
    others = _changes_outside(diff, "acme")
    assert {c.owner for c in others} <= {Owner("shard", "free-01"), Owner("tier", "free")}
    sql_plan = {"planDigest", "tenants", "tenantSpecs"}  # the shard's SQL plan adds acme
    assert all(set(c.keys) <= {"tags", "metadata", "spec"} | sql_plan for c in others)
    # The app keeps reaching its data where it is until the move's switch.
    facts = head["outputs"]["tenants"]["acme"]
    assert facts["isolation"] == "silo" and facts["moving_to"]["shard"] == "free-01"


def test_retiering_without_moving_from_is_a_danger_that_says_to_move_the_data_first(
    planned: Callable[..., Any],
) -> None:
    diff = diff_plans(planned(), planned(_set("piedpiper", tier="enterprise")))
    assert _kinds(diff) == {"piedpiper": ("re-tiered",)}
    (flag,) = diff.flags
    assert flag.kind == RETIER_WITHOUT_MOVE and flag.tenants == ("piedpiper",)
    assert "moving_from: {tier: free, shard: free-01}" in flag.message
    assert "move the data first" in flag.message and "tenancy tenant move" in flag.message
    assert diff.warnings == []  # the old "separate, later step" warning is gone
    comment = render(diff)
    assert "**re-tier-without-move** · piedpiper: home changes free (pool on free-01)" in comment
    assert "separate, later step" not in render(diff, limit=None)


def test_finishing_a_move_flags_the_deletion_of_the_old_home(
    planned: Callable[..., Any],
) -> None:
    moving = _move("acme", "free")
    diff = diff_plans(planned(moving), planned(_then(moving, _at_rest("acme"))))
    assert _kinds(diff) == {"acme": ("move-finished",)}
    home = [f for f in diff.flags if f.kind == OLD_HOME_DELETE]
    assert [f.tenants for f in home] == [("acme",)]
    assert home[0].message.startswith("old home of acme will be deleted")
    assert f"make sure `tenancy tenant move acme --stack {DEV} --source-dsn" in home[0].message
    # The resource-level flags of the silo's deletion are still there too.
    assert {f.type for f in diff.flags if f.kind == STATEFUL_DELETE} >= {
        "aws:rds/cluster:Cluster",
        "aws:kms/key:Key",
    }


def test_finishing_a_move_out_of_a_shard_is_flagged_although_nothing_is_deleted(
    planned: Callable[..., Any],
) -> None:
    moving = _move("piedpiper", "enterprise")
    diff = diff_plans(planned(moving), planned(_then(moving, _at_rest("piedpiper"))))
    (flag,) = diff.flags
    assert flag.kind == OLD_HOME_DELETE and "its rows on shard free-01" in flag.message
    (sql,) = _changes_outside(diff, "piedpiper")
    assert sql.owner == Owner("shard", "free-01") and sql.action == "update"


def test_abandoning_a_move_flags_the_deletion_of_its_new_home(
    planned: Callable[..., Any],
) -> None:
    diff = diff_plans(planned(_move("piedpiper", "enterprise")), planned())
    assert MOVE_TARGET_DELETE in {f.kind for f in diff.flags}
    assert any("--rollback" in f.message for f in diff.flags if f.kind == MOVE_TARGET_DELETE)


def test_a_tenant_in_motion_is_shown_with_the_command_that_finishes_it(
    planned: Callable[..., Any],
) -> None:
    diff = diff_plans(planned(), planned(_move("piedpiper", "enterprise")))
    command = (
        f'tenancy tenant move piedpiper --stack {DEV} --source-dsn "$SOURCE_DSN" '
        '--target-dsn "$TARGET_DSN"'
    )
    comment = render(diff)
    assert comment.startswith(f"✅ **`{DEV}`: safe**")
    section = comment[comment.index("### 🚚 Tenants in motion (1)") :]
    assert "`piedpiper`: free (pool on free-01) → enterprise (silo)" in section
    assert f"`{command}`" in section
    assert "SOURCE_DSN: admin DSN of the shard free-01" in section
    assert "moving free (pool on free-01) → enterprise (silo)" in comment  # the tenants table
    (motion,) = diff.to_json()["tenants_in_motion"]
    assert motion == {
        "tenant": "piedpiper",
        "from": "free (pool on free-01)",
        "to": "enterprise (silo)",
        "command": command,
    }


def test_the_plan_summary_shows_a_tenant_in_motion(planned: Callable[..., Any]) -> None:
    plan = planned(_move("piedpiper", "enterprise"))
    (row,) = [r for r in plan["tenants"] if r.get("moving_from")]
    assert row["moving_from"] == {"tier": "free", "isolation": "pool", "shard": "free-01"}
    summary = markdown_summary(plan)
    assert "## Tenants in motion (1)" in summary
    assert "`piedpiper`: free (pool on free-01) → enterprise (silo)" in summary
    assert row["move_command"] in summary


def test_retiering_a_pool_tenant_leaves_other_tenants_resources_untouched(
    planned: Callable[..., Any],
) -> None:
    # hooli's compliance tag leaves the union of its shard and tier: shared resources
    # update their tags/labels in place; no other tenant's resource changes and nothing
    # is replaced or deleted.
    diff = diff_plans(planned(), planned(_set("hooli", tier="enterprise")))
    others = _changes_outside(diff, "hooli")
    assert {c.owner for c in others} <= {Owner("shard", "free-01"), Owner("tier", "free")}
    assert all(c.action == "update" for c in others)
    sql_plan = {"planDigest", "tenants", "tenantSpecs"}  # the shard's SQL plan drops hooli
    assert all(set(c.keys) <= {"tags", "metadata", "spec"} | sql_plan for c in others)
    assert {f.kind for f in diff.flags} == {RETIER_WITHOUT_MOVE}


def test_added_tenant_is_reported_with_its_placement(planned: Callable[..., Any]) -> None:
    def add(catalog: dict[str, Any]) -> None:
        new = dict(_tenant(catalog, "acme"), id="newco", name="NewCo")
        catalog["tenants"].append(new)

    diff = diff_plans(planned(), planned(add))
    assert _kinds(diff) == {"newco": ("added",)}
    assert {c.action for c in diff.changes} == {"create"}
    assert {c.owner for c in diff.changes} == {Owner("tenant", "newco")}
    assert not diff.dangerous


def test_offboarded_silo_tenant_flags_the_deletion_of_its_cluster_and_keeps_its_key(
    planned: Callable[..., Any],
) -> None:
    diff = diff_plans(planned(), planned(_set("globex", status="offboarded")))
    assert _kinds(diff) == {"globex": ("removed",)}
    # Its own key stays until erasure (issue 12): only its policy loses the tenant's role.
    (kept,) = [c for c in diff.changes if c.action != "delete"]
    assert (kept.action, kept.type, kept.keys) == ("update", "aws:kms/key:Key", ("policy",))
    flagged = {(f.kind, f.type) for f in diff.flags}
    assert flagged == {(STATEFUL_DELETE, "aws:rds/cluster:Cluster")}
    assert all(f.tenants == ("globex",) for f in diff.flags)


def test_shard_move_without_moving_from_is_a_danger(planned: Callable[..., Any]) -> None:
    def two_shards(catalog: dict[str, Any], hooli_shard: str) -> None:
        catalog["tiers"]["free"]["shards"] = 2
        _tenant(catalog, "hooli")["shard"] = hooli_shard
        _tenant(catalog, "piedpiper")["shard"] = "free-01"

    diff = diff_plans(
        planned(lambda c: two_shards(c, "free-01")), planned(lambda c: two_shards(c, "free-02"))
    )
    assert _kinds(diff) == {"hooli": ("moved",)}
    (flag,) = diff.flags
    assert (
        flag.kind == RETIER_WITHOUT_MOVE
        and "moving_from: {tier: free, shard: free-01}" in flag.message
    )
    assert {c.owner for c in diff.changes} <= {Owner("shard", "free-01"), Owner("shard", "free-02")}


def test_status_and_compliance_changes_are_tenant_level_changes(
    planned: Callable[..., Any],
) -> None:
    diff = diff_plans(planned(), planned(_set("hooli", status="suspended")))
    assert _kinds(diff) == {"hooli": ("status",)}
    assert "status active → suspended" in diff.tenant_changes[0].describe()
    diff = diff_plans(planned(), planned(_set("initech", compliance=["gdpr", "pci"])))
    assert _kinds(diff)["initech"] == ("compliance",)


def test_plans_without_status_rows_still_diff(planned: Callable[..., Any]) -> None:
    base, head = planned(), planned(_set("hooli", status="suspended"))
    for plan in (base, head):
        for row in plan["tenants"]:
            row.pop("status"), row.pop("compliance")
    assert diff_plans(base, head).tenant_changes == []


# --- danger flags from edited plans --------------------------------------------------


def _resource(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["name"] == name)


def test_replacement_forcing_input_change_is_flagged(planned: Callable[..., Any]) -> None:
    base, head = planned(), planned()
    _resource(head, "silo-acme-db-cluster")["inputs"]["kmsKeyId"] = "arn:aws:kms:other"
    _resource(head, "silo-acme-db-cluster")["inputs"]["backupRetentionPeriod"] = 30
    diff = diff_plans(base, head)
    (change,) = diff.changes
    assert change.action == "replace"
    assert change.keys == ("backupRetentionPeriod", "kmsKeyId") and change.replace_keys == (
        "kmsKeyId",
    )
    (flag,) = diff.flags
    assert flag.kind == REPLACEMENT and flag.owner == Owner("tenant", "acme")
    assert "kmsKeyId" in flag.message and "database cluster" in flag.message


def test_in_place_update_reports_changed_keys_without_a_flag(planned: Callable[..., Any]) -> None:
    base, head = planned(), planned()
    _resource(head, "shard-free-01-db-cluster")["inputs"]["backupRetentionPeriod"] = 30
    diff = diff_plans(base, head)
    (change,) = diff.changes
    assert (change.action, change.keys, change.owner) == (
        "update",
        ("backupRetentionPeriod",),
        Owner("shard", "free-01"),
    )
    assert not diff.dangerous


def test_loss_of_protect_and_retain_on_delete_is_flagged(planned: Callable[..., Any]) -> None:
    base, head = planned(), planned()
    _resource(base, "silo-acme-key-cmk").update(protect=True, retain_on_delete=True)
    diff = diff_plans(base, head)
    assert [f.kind for f in diff.flags] == [PROTECT_LOST, PROTECT_LOST]
    assert diff.changes[0].keys == ("(protect)", "(retain_on_delete)")


def test_deletion_protection_turned_off_is_flagged(planned: Callable[..., Any]) -> None:
    base, head = planned(), planned()
    _resource(base, "silo-acme-db-cluster")["inputs"]["deletionProtection"] = True
    _resource(head, "silo-acme-db-cluster")["inputs"]["deletionProtection"] = False
    (flag,) = diff_plans(base, head).flags
    assert flag.kind == DELETION_PROTECTION_LOST and "deletionProtection" in flag.message


def _synthetic(
    stack: str, resources: list[dict[str, Any]], tenants: list[dict[str, Any]]
) -> dict[str, Any]:
    root = f"urn:pulumi:{stack}::tenancy::pulumi:pulumi:Stack::tenancy-{stack}"
    rows: list[dict[str, Any]] = [
        {
            "urn": root,
            "type": "pulumi:pulumi:Stack",
            "name": f"tenancy-{stack}",
            "parent": None,
            "custom": False,
            "inputs": {},
            "protect": False,
        }
    ]
    for r in resources:
        rows.append({"parent": root, "custom": True, "protect": False, **r})
    return {"stack": stack, "project": "tenancy", "resources": rows, "tenants": tenants}


def test_gcp_major_version_change_is_an_in_place_upgrade_and_a_downgrade_is_flagged() -> None:
    def instance(version: str) -> dict[str, Any]:
        return {
            "urn": "urn:x::db",
            "type": "gcp:sql/databaseInstance:DatabaseInstance",
            "name": "silo-a-db",
            "inputs": {
                "databaseVersion": version,
                "settings": {
                    "userLabels": {"tenancy-tenant": "cyberdyne"},
                    "deletionProtectionEnabled": True,
                },
            },
        }

    base = _synthetic("dev-gcp-us-central1", [instance("POSTGRES_16")], [])
    minor = diff_plans(base, _synthetic("dev-gcp-us-central1", [instance("POSTGRES_16_4")], []))
    assert not minor.flags and not minor.warnings
    upgrade = diff_plans(base, _synthetic("dev-gcp-us-central1", [instance("POSTGRES_17")], []))
    assert not upgrade.flags
    (change,) = upgrade.changes
    assert change.action == "update" and change.replace_keys == ()
    (warning,) = upgrade.warnings
    assert warning.tenant == "cyberdyne"
    assert "PostgreSQL major upgrade 16 → 17 in place on `silo-a-db`" in warning.message
    down = diff_plans(
        _synthetic("dev-gcp-us-central1", [instance("POSTGRES_17")], []),
        _synthetic("dev-gcp-us-central1", [instance("POSTGRES_16")], []),
    )
    (flag,) = down.flags
    assert flag.kind == MAJOR_DOWNGRADE and flag.owner == Owner("tenant", "cyberdyne")
    off = instance("POSTGRES_16")
    off["inputs"]["settings"]["deletionProtectionEnabled"] = False
    (flag,) = diff_plans(base, _synthetic("dev-gcp-us-central1", [off], [])).flags
    assert (
        flag.kind == DELETION_PROTECTION_LOST
        and "settings.deletionProtectionEnabled" in flag.message
    )


def test_deleting_an_azure_lock_is_a_loss_of_deletion_protection() -> None:
    silo = {
        "urn": "urn:silo",
        "type": "tenancy:azure:SiloTenant",
        "name": "silo-stark",
        "custom": False,
        "inputs": {},
    }
    lock = {
        "urn": "urn:x::lock",
        "type": "azure-native:authorization:ManagementLockAtResourceLevel",
        "name": "silo-stark-lock",
        "parent": "urn:silo",
        "inputs": {"level": "CanNotDelete"},
    }
    (flag,) = diff_plans(_synthetic("s", [silo, lock], []), _synthetic("s", [silo], [])).flags
    assert flag.kind == DELETION_PROTECTION_LOST and flag.owner == Owner("tenant", "stark")


def test_resources_are_attributed_by_labels_then_by_component() -> None:
    resources = [
        {
            "urn": "u1",
            "type": "kubernetes:apps/v1:Deployment",
            "name": "app",
            "inputs": {"metadata": {"labels": {"tenancy.dev/tenant": "acme"}}},
        },
        {
            "urn": "u2",
            "type": "gcp:kms/cryptoKey:CryptoKey",
            "name": "k",
            "inputs": {"labels": {"tenancy-tenant": "shared", "tenancy-shard": "free-01"}},
        },
        {"urn": "u3", "type": "aws:kms/key:Key", "name": "plain", "inputs": {}},
    ]
    tenants = [{"id": "hooli", "tier": "free", "isolation": "pool", "shard": "free-01"}]
    diff = diff_plans(_synthetic("s", [], tenants), _synthetic("s", resources, tenants))
    owners = {c.name: c.owner for c in diff.changes}
    assert owners == {
        "app": Owner("tenant", "acme"),
        "k": Owner("shard", "free-01"),
        "plain": Owner("cell"),
    }
    assert diff.shard_tenants["free-01"] == ("hooli",)


# --- the replacement table stays true to the SDKs ------------------------------------


def _sdk_class(type_token: str) -> Any:
    package, module, name = type_token.split(":")
    root = {
        "aws": "pulumi_aws",
        "gcp": "pulumi_gcp",
        "azure-native": "pulumi_azure_native",
        "kubernetes": "pulumi_kubernetes",
    }[package]
    path = module.split("/")[0] if package in ("aws", "gcp") else module.replace("/", ".")
    return getattr(importlib.import_module(f"{root}.{path}"), name)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@pytest.mark.parametrize("type_token", sorted(set(REPLACE_ON_CHANGES) | set(STATEFUL_TYPES)))
def test_table_names_real_sdk_types_and_inputs(type_token: str) -> None:
    cls = _sdk_class(type_token)
    params = set(inspect.signature(cls._internal_init).parameters)
    for path in REPLACE_ON_CHANGES.get(type_token, ()):
        assert _snake(path.split(".")[0]) in params, f"{type_token}: no input {path}"


# --- the command: exit codes and bad input -------------------------------------------


def _run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = tenancy.cli.main(list(argv))
    return code, out.getvalue(), err.getvalue()


def _write(path: Path, plan: Any) -> str:
    path.write_text(json.dumps(plan) if not isinstance(plan, str) else plan, encoding="utf-8")
    return str(path)


def test_exit_codes_safe_danger(planned: Callable[..., Any], tmp_path: Path) -> None:
    base = _write(tmp_path / "base.json", planned())
    safe = _write(tmp_path / "safe.json", planned(_move("piedpiper", "enterprise")))
    danger = _write(tmp_path / "danger.json", planned(_set("globex", status="offboarded")))
    comment, summary, data = (str(tmp_path / n) for n in ("c.md", "s.md", "d.json"))
    assert _run("diff", base, safe)[0] == 0
    code, out, _ = _run(
        "diff", base, danger, "--markdown", comment, "--summary", summary, "--json", data
    )
    assert code == 1 and out.startswith("⛔")
    assert json.loads(Path(data).read_text())["safe"] is False
    assert Path(comment).read_text().splitlines()[-1] == marker(DEV)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "not JSON"),
        ("[]", "a plan is a JSON object"),
        ('{"stack": "x", "resources": {}, "tenants": []}', "resources: missing or not a list"),
        ('{"stack": "x", "resources": [{"urn": 1}], "tenants": []}', "resources[0].urn"),
        (
            '{"stack": "x", "resources": [], "tenants": [{"id": "a", "tier": "t", "isolation": "pool", '
            '"shard": null}, {"id": "a", "tier": "t", "isolation": "pool", "shard": null}]}',
            "duplicate tenant",
        ),
    ],
)
def test_bad_plans_exit_2_with_the_path(
    planned: Callable[..., Any], tmp_path: Path, content: str, needle: str
) -> None:
    good = _write(tmp_path / "good.json", planned())
    code, _, err = _run("diff", good, _write(tmp_path / "bad.json", content))
    assert code == 2 and needle in err and "Traceback" not in err


def test_missing_file_and_different_stacks_exit_2(
    planned: Callable[..., Any], tmp_path: Path
) -> None:
    good = planned()
    assert _run("diff", str(tmp_path / "nope.json"), _write(tmp_path / "g.json", good))[0] == 2
    other = dict(good, stack="prod-aws-eu-central-1")
    code, _, err = _run(
        "diff", _write(tmp_path / "a.json", good), _write(tmp_path / "b.json", other)
    )
    assert code == 2 and "different stacks" in err


def test_validate_plan_rejects_bool_as_string_field() -> None:
    with pytest.raises(InputError):
        validate_plan(
            {
                "stack": "s",
                "resources": [
                    {
                        "urn": "u",
                        "type": "t",
                        "name": True,
                        "parent": None,
                        "custom": True,
                        "inputs": {},
                        "protect": False,
                    }
                ],
                "tenants": [],
            },
            "f",
        )


# --- the markdown --------------------------------------------------------------------


def test_comment_opens_with_verdict_then_mermaid_and_highlights_changed_tenants(
    planned: Callable[..., Any],
) -> None:
    text = render(diff_plans(planned(), planned(_move("piedpiper", "enterprise"))))
    lines = text.splitlines()
    assert lines[0].startswith(f"✅ **`{DEV}`: safe**") and "1 re-tiered" in lines[0]
    assert lines[2:4] == ["```mermaid", "flowchart LR"]
    diagram = text[: text.index("```\n", 10)]
    node = re.search(r"(n\d+_\d+)\(\"piedpiper\"\)", diagram)
    assert node and f"class {node.group(1)} changed" in diagram
    assert 'tier0["enterprise · silo"]' in diagram and '["free-01"]' in diagram
    assert "### 🚚 Tenants in motion (1)" in text and lines[-1] == marker(DEV)


def _silo_plan(count: int, *, tier: str = "enterprise", prefix: str = "tenant") -> dict[str, Any]:
    resources, tenants = [], []
    for i in range(count):
        tenant = f"{prefix}-{i:04d}"
        tenants.append({"id": tenant, "tier": tier, "isolation": "silo", "shard": None})
        for kind, type_ in (
            ("db-cluster", "aws:rds/cluster:Cluster"),
            ("key-cmk", "aws:kms/key:Key"),
            ("db-instance-1", "aws:rds/clusterInstance:ClusterInstance"),
        ):
            resources.append(
                {
                    "urn": f"urn:{tenant}:{kind}",
                    "type": type_,
                    "name": f"silo-{tenant}-{kind}",
                    "inputs": {"tags": {"tenancy:tenant": tenant}},
                }
            )
    return _synthetic(DEV, resources, tenants)


@pytest.mark.parametrize("direction", ["add", "remove"])
def test_thousand_tenant_change_fits_a_comment_and_keeps_every_danger_flag(direction: str) -> None:
    empty, full = _synthetic(DEV, [], []), _silo_plan(1000)
    base, head = (empty, full) if direction == "add" else (full, empty)
    diff = diff_plans(base, head)
    comment, summary = render(diff), render(diff, limit=None)
    assert len(comment) <= COMMENT_LIMIT < len(summary)
    assert comment.splitlines()[0].startswith("⛔" if direction == "remove" else "✅")
    assert comment.rstrip().endswith(marker(DEV)) and "job summary" in comment
    if direction == "remove":
        assert len(diff.flags) == 2000
        danger = comment[comment.index("### ⛔ Danger flags") : comment.index("### Tenants")]
        assert all(f"tenant-{i:04d}" in danger for i in range(1000))  # never cut
        assert all(f.name in summary for f in diff.flags)


def test_thousand_retiered_tenants_fit_too() -> None:
    base = _synthetic(
        DEV,
        [],
        [
            {"id": f"t-{i:04d}", "tier": "free", "isolation": "pool", "shard": "free-01"}
            for i in range(1000)
        ],
    )
    head = _silo_plan(1000, prefix="t")
    comment = render(diff_plans(base, head))
    assert len(comment) <= COMMENT_LIMIT
    assert "1000 re-tiered" in comment.splitlines()[0]
    assert comment.count("-->") < 120  # the diagram collapses what it cannot show


def test_validate_plan_rejects_a_malformed_moving_from() -> None:
    row = {"id": "a", "tier": "t", "isolation": "silo", "shard": None, "moving_from": {"shard": 1}}
    with pytest.raises(InputError) as caught:
        validate_plan({"stack": "s", "resources": [], "tenants": [row]}, "f")
    paths = {issue.path for issue in caught.value.issues}
    assert {"tenants[0].moving_from.tier", "tenants[0].moving_from.shard"} <= paths


def _azure_server(name: str, version: str, replica_of: str | None = None) -> dict[str, Any]:
    inputs: dict[str, Any] = {
        "serverName": name,
        "version": version,
        "createMode": "Replica" if replica_of else "Create",
        "tags": {"tenancy:tenant": "stark"},
    }
    if replica_of:
        inputs["sourceServerResourceId"] = (
            "/subscriptions/0/resourceGroups/rg/providers/Microsoft.DBforPostgreSQL"
            f"/flexibleServers/{replica_of}"
        )
    return {
        "urn": f"urn:x::{name}",
        "type": "azure-native:dbforpostgresql:Server",
        "name": f"{name}-server",
        "inputs": inputs,
    }


def test_azure_major_upgrade_of_a_server_with_read_replicas_is_flagged() -> None:
    stack = "prod-azure-westeurope"
    base = _synthetic(stack, [_azure_server("db1", "16"), _azure_server("db1r1", "16", "db1")], [])
    head = _synthetic(stack, [_azure_server("db1", "17"), _azure_server("db1r1", "17", "db1")], [])
    flags = diff_plans(base, head).flags
    (flag,) = [f for f in flags if f.kind == MAJOR_UPGRADE_WITH_REPLICAS]
    assert flag.name == "db1-server" and flag.owner == Owner("tenant", "stark")
    assert "16 → 17" in flag.message and "db1r1-server" in flag.message


def test_azure_major_upgrade_without_replicas_is_only_a_warning() -> None:
    stack = "prod-azure-westeurope"
    # Another server's replica does not count.
    others = [_azure_server("db2", "16"), _azure_server("db2r1", "16", "db2")]
    base = _synthetic(stack, [_azure_server("db1", "16"), *others], [])
    head = _synthetic(stack, [_azure_server("db1", "17"), *others], [])
    result = diff_plans(base, head)
    assert result.flags == []
    (warning,) = result.warnings
    assert "PostgreSQL major upgrade 16 → 17 in place on `db1-server`" in warning.message


def test_azure_major_upgrade_that_also_drops_the_replicas_is_still_flagged() -> None:
    # Pulumi updates the primary before it deletes the replica: the upgrade still fails.
    stack = "prod-azure-westeurope"
    base = _synthetic(stack, [_azure_server("db1", "16"), _azure_server("db1r1", "16", "db1")], [])
    head = _synthetic(stack, [_azure_server("db1", "17")], [])
    kinds = {f.kind for f in diff_plans(base, head).flags}
    assert MAJOR_UPGRADE_WITH_REPLICAS in kinds
