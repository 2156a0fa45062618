"""SLO validation: a tier that promises more than its configuration gives on a cloud is refused."""

from __future__ import annotations

import pytest

from components.model.errors import InputError
from components.model.slo import AVAILABILITY, RPO, RTO
from components.model.validation import parse_catalog
from tenancy.cli import main

REGION = {"aws": "eu-central-1", "azure": "westeurope", "gcp": "europe-west3"}


def _catalog(cloud: str, slo: str, ha: bool) -> str:
    return f"""version: 1
residency_zones:
  eu: {{aws: [eu-central-1], azure: [westeurope], gcp: [europe-west3]}}
tiers:
  gold:
    isolation: silo
    database: {{min_capacity: 2, max_capacity: 8, backup_retention_days: 14, high_availability: {str(ha).lower()}}}
    slo: {slo}
tenants:
  - {{id: acme, name: Acme, tier: gold, cloud: {cloud}, region: {REGION[cloud]}, residency: eu}}
"""


def _issues(text: str) -> list[tuple[str, str, str]]:
    try:
        parse_catalog(text, "tenants.yaml")
    except InputError as error:
        return [(i.path, i.message, i.hint) for i in error.issues]
    return []


# (rule, promise, ha) -> one failing catalog per rule; the promise beats every cloud's best.
FAILING = [
    ("availability", "{availability: 99.999}", True),
    ("availability", "{availability: 99.99}", False),
    ("rpo_seconds", "{rpo_seconds: 0}", False),
    ("rto_minutes", "{rto_minutes: 0}", True),
    ("rto_minutes", "{rto_minutes: 30}", False),
]


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
@pytest.mark.parametrize(("rule", "slo", "ha"), FAILING)
def test_tier_promising_more_than_its_configuration_gives_is_refused(cloud, rule, slo, ha):
    issues = _issues(_catalog(cloud, slo, ha))
    assert [path for path, _, _ in issues] == [f"tiers.gold.slo.{rule}"]
    (_, message, hint) = issues[0]
    assert message.startswith(f"on {cloud}: promises")
    assert "http" in message  # the SLA figure's source
    assert ("high_availability: true" in hint) == (not ha)


@pytest.mark.parametrize("cloud", ["aws", "azure", "gcp"])
def test_promises_equal_to_the_published_figures_pass(cloud):
    best = {
        "availability": AVAILABILITY[(cloud, True)].value,
        "rpo_seconds": int(RPO[(cloud, True)].value or 0),
        "rto_minutes": int(RTO[(cloud, True)].value or 0),
    }
    slo = "{" + ", ".join(f"{k}: {v:g}" for k, v in best.items()) + "}"
    assert _issues(_catalog(cloud, slo, ha=True)) == []


def test_ninety_nine_ninety_nine_without_ha_names_the_fix():
    (issue,) = _issues(_catalog("aws", "{availability: 99.99}", ha=False))
    assert "99.9%" in issue[1] and "aws.amazon.com/rds/aurora/sla" in issue[1]
    assert issue[2].startswith("set database.high_availability: true")


def test_gcp_ha_tier_promising_aws_level_availability_is_refused_only_on_gcp():
    text = _catalog("aws", "{availability: 99.99}", ha=True).replace(
        "tenants:\n",
        "tenants:\n  - {id: beta, name: Beta, tier: gold, cloud: gcp, region: europe-west3, residency: eu}\n",
    )
    issues = _issues(text)
    assert [(p, m.split(":")[0]) for p, m, _ in issues] == [
        ("tiers.gold.slo.availability", "on gcp")
    ]


def test_tier_without_tenants_is_checked_on_every_cloud():
    text = (
        _catalog("aws", "{availability: 99.99}", ha=True)
        .replace("tier: gold, cloud", "tier: silver, cloud")
        .replace(
            "tiers:\n",
            "tiers:\n  silver: {isolation: silo, database: {min_capacity: 1, max_capacity: 2, backup_retention_days: 14}}\n",
        )
    )
    clouds = sorted(m.split(":")[0] for p, m, _ in _issues(text) if p.startswith("tiers.gold"))
    assert clouds == ["on gcp"]  # 99.99 with HA: aws and azure give it, gcp gives 99.95


def test_cli_exits_2_on_an_unkeepable_slo(tmp_path, capsys):
    catalog = tmp_path / "tenants.yaml"
    catalog.write_text(_catalog("gcp", "{availability: 99.95}", ha=False), encoding="utf-8")
    code = main(["plan", "dev-gcp-us-central1", "--catalog", str(catalog)])
    err = capsys.readouterr().err
    assert code == 2
    assert "tiers.gold.slo.availability: on gcp" in err and "fix:" in err
    assert "Traceback" not in err
