"""The pack's shape: metadata, ids, the __main__ entry, the control x cloud matrix, freshness."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

from policies import framework
from policies.rules import FAMILIES, RULES
from policies.types import DATABASES, KEY_TYPES, LOG_DESTINATIONS, POOLERS

ROOT = Path(__file__).resolve().parents[2]
ID = re.compile(
    r"^(aws|azure|gcp|k8s|multi)-[a-z0-9]+-[a-z0-9]+-(enable|disallow|configure)-[a-z0-9-]+$"
)
MATRIX = (
    framework.CMK_AT_REST,
    framework.TLS_ONLY,
    framework.NO_PUBLIC_ENDPOINT,
    framework.BACKUPS_PITR,
    framework.DELETION_PROTECTION,
    framework.REGION_FENCING,
    framework.AUDIT_LOGGING,
    framework.ALARMS,
    framework.ALERT_CHANNEL,
)


def test_there_are_at_least_twenty_rules_across_every_cloud() -> None:
    assert len(RULES) >= 20
    assert {"aws", "azure", "gcp", "kubernetes", "multi"} <= {rule.cloud for rule in RULES}


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_rule_carries_full_metadata(rule: framework.Rule) -> None:
    assert ID.match(rule.id), rule.id
    assert rule.description.endswith(".") and len(rule.description) > 30
    assert len(rule.why) > 40 and len(rule.remediation) > 20
    assert rule.severity in ("low", "medium", "high", "critical")
    assert rule.enforcement in ("mandatory", "advisory")
    assert rule.controls and all(c.framework in framework.FRAMEWORK_NAMES for c in rule.controls)
    assert rule.types and rule.kind in ("resource", "stack") and callable(rule.check)
    from policies.config import SCHEMA

    assert set(rule.config_keys) <= set(SCHEMA)


def test_rule_ids_are_unique() -> None:
    assert len({r.id for r in RULES}) == len(RULES)


def test_the_pack_evidences_the_named_controls() -> None:
    labels = {c.label for r in RULES for c in r.controls}
    for label in (
        "GDPR Art. 32",
        "GDPR Art. 44",
        "HIPAA 164.312(a)(2)(iv)",
        "HIPAA 164.312(e)(1)",
        "PCI DSS 3.5",
        "PCI DSS 4.2",
        "SOC 2 CC6.1",
        "SOC 2 CC6.7",
        "ISO 27001 A.8.24",
    ):
        assert label in labels


@pytest.mark.parametrize("control", MATRIX)
@pytest.mark.parametrize("cloud", sorted(DATABASES))
def test_every_database_control_has_a_rule_on_every_cloud(control: str, cloud: str) -> None:
    database = DATABASES[cloud]
    cell = [r for r in RULES if control in r.matrix and r.cloud == cloud and database in r.types]
    assert cell, f"no {control} rule for {database}"


# The pooler rows: which (control, cloud) cells need a rule. Azure's built-in PgBouncer
# has no IAM switch of its own (Entra auth is the server's), RDS Proxy has no pool mode (it
# multiplexes per transaction unless a session pins), and GCP's PgBouncer authenticates
# with SCRAM from a userlist (PgBouncer cannot carry Cloud SQL IAM auth;
# docs/connection-pooling.md).
POOLER_MATRIX = (
    (framework.POOLER_TLS, "aws"),
    (framework.POOLER_IAM, "aws"),
    (framework.POOLER_PRIVATE, "aws"),
    (framework.POOLER_TLS, "azure"),
    (framework.POOLER_PRIVATE, "azure"),
    (framework.POOLER_TRANSACTION, "azure"),
    (framework.POOLER_TLS, "gcp"),
    (framework.POOLER_PRIVATE, "gcp"),
    (framework.POOLER_TRANSACTION, "gcp"),
)


@pytest.mark.parametrize(("control", "cloud"), POOLER_MATRIX)
def test_every_pooler_control_has_a_rule_on_its_cloud(control: str, cloud: str) -> None:
    assert cloud in POOLERS
    assert [r for r in RULES if control in r.matrix and r.cloud == cloud], (control, cloud)


# The database administrator row: which clouds have a server-level administrator resource to
# judge. Azure's Entra administrators are ARM resources; RDS/Aurora's only administrator is
# the master user (its password managed in Secrets Manager, judged by the secret rules) and
# IAM auth maps principals to ordinary roles; Cloud SQL IAM users and groups are database
# users whose rights come from grants inside PostgreSQL (tenancy db apply), not the API.
ADMIN_MATRIX = ((framework.DB_ADMIN_GROUP, "azure"),)


@pytest.mark.parametrize(("control", "cloud"), ADMIN_MATRIX)
def test_the_database_administrator_control_has_a_rule_on_its_cloud(
    control: str, cloud: str
) -> None:
    cell = [r for r in RULES if control in r.matrix and r.cloud == cloud]
    # One rule that a server has an administrator, one that every administrator is a group.
    assert {r.kind for r in cell} == {"resource", "stack"}, (control, cloud)
    assert any(DATABASES[cloud] in r.types for r in cell)


LOG_MATRIX = (
    framework.LOGS_IN_ZONE,
    framework.LOGS_CMK,
    framework.LOGS_RETENTION,
    framework.LOGS_ARCHIVE,
)


@pytest.mark.parametrize("control", LOG_MATRIX)
@pytest.mark.parametrize("cloud", sorted(LOG_DESTINATIONS))
def test_every_log_control_has_a_rule_on_every_cloud(control: str, cloud: str) -> None:
    cell = [r for r in RULES if control in r.matrix and r.cloud == cloud]
    assert cell, f"no {control} rule for {cloud}"
    if control != framework.LOGS_ARCHIVE:  # the archive is judged per regulated server
        assert any(LOG_DESTINATIONS[cloud] in r.types for r in cell), (control, cloud)


@pytest.mark.parametrize("cloud", sorted(KEY_TYPES))
def test_key_management_has_a_rule_on_every_cloud(cloud: str) -> None:
    key_type = KEY_TYPES[cloud]
    cell = [
        r
        for r in RULES
        if framework.KEY_MANAGEMENT in r.matrix and r.cloud == cloud and key_type in r.types
    ]
    assert cell, f"no {framework.KEY_MANAGEMENT} rule for {key_type}"


def test_main_imports_cleanly_and_wraps_every_rule_in_order() -> None:
    main = importlib.import_module("policies.__main__")
    assert [p.name for p in main.POLICIES] == [r.id for r in RULES]
    kinds = {p.name: type(p).__name__ for p in main.POLICIES}
    for rule in RULES:
        want = "StackValidationPolicy" if rule.kind == "stack" else "ResourceValidationPolicy"
        assert kinds[rule.id] == want


def test_main_is_the_only_place_that_constructs_the_pack() -> None:
    for path in (ROOT / "policies").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "PolicyPack"
        ]
        assert not calls or path.name == "__main__.py", path


def test_the_pack_stands_alone() -> None:
    for path in (ROOT / "policies").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"^\s*(from|import)\s+(components|infra)\b", text, re.M), path


def test_the_pack_ships_its_files() -> None:
    pack = ROOT / "policies"
    assert "runtime:" in (pack / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    assert "pulumi-policy" in (pack / "requirements.txt").read_text(encoding="utf-8")
    assert (pack / "config.generated.json").is_file()


def test_initial_config_gives_each_rule_only_its_own_keys() -> None:
    main = importlib.import_module("policies.__main__")
    config = main.initial_config()
    for rule in RULES:
        if rule.config_keys:
            assert set(config[rule.id]) == set(rule.config_keys)
    assert config["aws-all-resource-configure-residency-region"]["allowedRegions"]["eu"]["aws"]


def _decorated_rule_ids(path: Path) -> list[str]:
    """The ``id=`` of every ``@rule(...)``-decorated function in a module, read from its
    source (not imported), so a rule a module defines but forgets to export is seen."""
    ids = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.FunctionDef):
            continue
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call) and getattr(decorator.func, "id", None) == "rule":
                ids += [k.value.value for k in decorator.keywords if k.arg == "id"]  # type: ignore[attr-defined]
    return ids


RULE_MODULES = sorted(p for p in (ROOT / "policies" / "rules").glob("*.py") if p.stem != "__init__")


def test_every_rule_module_is_a_family_of_the_pack() -> None:
    assert sorted(f.__name__.rsplit(".", 1)[-1] for f in FAMILIES) == [p.stem for p in RULE_MODULES]


@pytest.mark.parametrize("path", RULE_MODULES, ids=[p.stem for p in RULE_MODULES])
def test_every_family_module_lists_its_rules(path: Path) -> None:
    module = importlib.import_module(f"policies.rules.{path.stem}")
    defined = _decorated_rule_ids(path)
    assert defined, f"{path.name} defines no @rule"
    # Same members; the order of RULES is the pack's order and may differ from the source's.
    assert sorted(r.id for r in module.RULES) == sorted(defined), f"{path.name}: RULES != @rules"
    assert {r.family for r in module.RULES} == {path.stem}


def test_the_pack_wraps_exactly_the_rules_the_modules_define() -> None:
    defined = [rule_id for path in RULE_MODULES for rule_id in _decorated_rule_ids(path)]
    main = importlib.import_module("policies.__main__")
    assert sorted(p.name for p in main.POLICIES) == sorted(defined)
    assert len(set(defined)) == len(defined)


def test_rules_spell_the_unknown_answer_only_through_cannot_verify() -> None:
    # Reports classify a finding as unknown by its prefix; a hand-written variant
    # ("could not verify", "unverifiable") would be counted as a plain failure.
    for path in RULE_MODULES:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(?i)(cannot|can't|could not|unable to) verify|unverifi", text), path


def test_docs_table_is_fresh() -> None:
    from policies.docs import policies_markdown

    assert (ROOT / "docs" / "policies.md").read_text(encoding="utf-8") == policies_markdown(), (
        "run: .venv/bin/python -m policies.docs"
    )


def test_generated_policy_config_is_fresh() -> None:
    from tenancy.policyconfig import render

    assert (ROOT / "policies" / "config.generated.json").read_text(encoding="utf-8") == render(), (
        "run: .venv/bin/python -m tenancy.policyconfig"
    )


# ---- the controls in scope (policies/scope.py) -------------------------------------------


def test_every_framework_has_its_list_of_controls_in_scope() -> None:
    from policies.scope import SCOPE

    assert set(SCOPE) == set(framework.FRAMEWORK_NAMES)
    for name, controls in SCOPE.items():
        assert controls and all(c.framework == name for c in controls)


@pytest.mark.parametrize("name", sorted(framework.FRAMEWORK_NAMES))
def test_a_scope_list_has_no_duplicates(name: str) -> None:
    from policies.scope import SCOPE

    ids = [c.id for c in SCOPE[name]]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_every_control_a_rule_names_is_an_infrastructure_control_in_scope(
    rule: framework.Rule,
) -> None:
    from policies.scope import SCOPE

    for control in rule.controls:
        scoped = {c.id: c for c in SCOPE[control.framework]}
        assert control.id in scoped, f"{control.label}: add it to policies/scope.py"
        assert scoped[control.id].kind == "infrastructure", f"{control.label} is a process control"


def test_every_control_in_scope_says_why_where_from_and_how_it_is_evidenced() -> None:
    from policies.scope import SCOPE

    for controls in SCOPE.values():
        for c in controls:
            assert c.title and len(c.why) > 30 and len(c.evidence) > 10, c
            assert c.citation.endswith(c.id) and c.kind in ("infrastructure", "process"), c


def test_the_logging_and_monitoring_controls_of_the_issue_are_in_scope() -> None:
    from policies.scope import SCOPE

    named = {
        "hipaa": {"164.312(b)", "164.312(d)", "164.308(a)(1)(ii)(D)"},
        "pci": {"10.2", "10.3", "10.5"},
        "soc2": {"CC7.2"},
        "iso27001": {"A.8.15", "A.8.16", "A.5.33"},
    }
    for name, ids in named.items():
        assert ids <= {c.id for c in SCOPE[name]}, name


def test_compliance_scope_docs_are_fresh() -> None:
    from policies.docs import scope_markdown

    path = ROOT / "docs" / "compliance-scope.md"
    assert path.read_text(encoding="utf-8") == scope_markdown(), (
        "run: .venv/bin/python -m policies.docs"
    )


def test_outcome_of_a_subject_follows_its_messages() -> None:
    unknown = framework.cannot_verify("the tags", framework.UNKNOWN)
    assert unknown == "cannot verify the tags: it is not known at plan time"
    assert framework.outcome_of([]) is framework.Outcome.PASS
    assert framework.outcome_of([unknown]) is framework.Outcome.UNKNOWN
    assert framework.outcome_of([unknown, "tls is off"]) is framework.Outcome.FAIL
    assert framework.outcome_of([unknown], waived=True) is framework.Outcome.WAIVED


def test_a_group_takes_the_status_of_its_worst_outcome() -> None:
    outcome = framework.Outcome
    assert framework.worst([outcome.PASS, outcome.UNKNOWN, outcome.WAIVED]) is outcome.UNKNOWN
    assert framework.worst([outcome.PASS, outcome.FAIL]) is outcome.FAIL
    assert framework.worst([]) is outcome.NOT_EVIDENCED
