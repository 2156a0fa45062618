"""Stack config (``stacks/Pulumi.<stack>.yaml``) -> the cell and its settings.

The same validation runs under ``pulumi up`` (values from ``pulumi.Config``)
and under the offline plan (values from the YAML file), so a stack that plans
offline is a stack Pulumi accepts.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from .alerts import AlertChannel, parse_alerts
from .appconfig import AppSettings, parse_app_settings
from .catalog import CLOUDS, Catalog
from .cell import Cell, parse_stack_name
from .clouds import CLOUD_TRAITS, NetworkTraits, traits
from .entra import KEY as ENTRA_ADMIN_GROUP_KEY
from .entra import EntraAdminGroup, parse_entra_admin_group
from .errors import InputError, Issue

# The provider key that carries each cloud's region: the program never relies on
# a provider's own default region (region fencing starts here).
REGION_KEY = {name: cloud.region_key for name, cloud in CLOUD_TRAITS.items()}
# The cell's cluster runs the Prometheus operator: emit PrometheusRules (default: no).
PROMETHEUS_OPERATOR_KEY = "tenancy:prometheusOperator"
REQUIRED_KEYS = ("tenancy:environment", "tenancy:cloud", "tenancy:residency")
OPTIONAL_KEYS = (
    "tenancy:catalog",
    "tenancy:network",
    "tenancy:allowDestroy",
    "gcp:project",
    "tenancy:app",
    "tenancy:repositoryUrl",  # the repository's web address, for links in SARIF
    "tenancy:alerts",
    # Azure creates an immutability policy only Unlocked: a new production cell's first
    # deployment sets this, and the next one (without it) locks the archive.
    "tenancy:logArchiveFirstDeploy",
    PROMETHEUS_OPERATOR_KEY,
    # Azure only, and required there: the operators' group made each server's Entra admin.
    ENTRA_ADMIN_GROUP_KEY,
)
REPOSITORY_URL_HINT = (
    "set it to the repository's web address, e.g. https://github.com/acme/platform"
)


def repository_url_problem(value: Any) -> str | None:
    """What is wrong with a ``tenancy:repositoryUrl`` value; None when it is usable."""
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
        return f"not an http(s) URL: {value!r}"
    return None


@dataclass(frozen=True)
class StackSettings:
    cell: Cell
    residency: str
    catalog_path: str  # relative to the stacks/ directory
    network: dict[str, Any] = field(
        default_factory=dict
    )  # cloud-specific ids of existing networking
    app: AppSettings = field(default_factory=AppSettings)  # the Kubernetes workload (tenancy:app)
    gcp_project: str | None = None
    # Explicit opt-out of the cloud deletion-protection flag (dev only); the examples never set it.
    allow_destroy: bool = False
    # The settings the stack file gives a value, as "tenancy:app.oidcIssuerUrl" for nested
    # ones: what a prerequisite check asks for (``CloudTraits.identity.required_setting``).
    given: frozenset[str] = frozenset()
    # Where alarms notify (tenancy:alerts); at least one in production.
    alerts: tuple[AlertChannel, ...] = ()
    # The first deployment of a cell's Azure log archive: its policy starts Unlocked.
    log_archive_first_deploy: bool = False
    # The cell's cluster has the Prometheus operator (tenancy:prometheusOperator).
    prometheus_operator: bool = False
    # Azure: the group made Entra administrator of every Flexible Server (None elsewhere).
    entra_admin_group: EntraAdminGroup | None = None

    @property
    def deletion_protection(self) -> bool:
        return not self.allow_destroy


def _issue(file: str, key: str, message: str, hint: str) -> Issue:
    return Issue(file=file, path=f"config.{key}" if key else "", message=message, hint=hint)


def _check_values(stack: str, cell: Cell, config: dict[str, Any], file: str) -> list[Issue]:
    issues = []
    for key in REQUIRED_KEYS + (REGION_KEY[cell.cloud],):
        if not config.get(key):
            issues.append(
                _issue(file, key, "missing required setting", f"add '{key}' under config:")
            )
    expected = {
        "tenancy:environment": cell.environment,
        "tenancy:cloud": cell.cloud,
        REGION_KEY[cell.cloud]: cell.region,
    }
    for key, want in expected.items():
        got = config.get(key)
        if got and got != want:
            issues.append(
                _issue(
                    file,
                    key,
                    f"{got!r} contradicts the stack name {stack!r}",
                    f"set it to {want!r}, or rename the stack",
                )
            )
    for key in config:
        if not isinstance(key, str):  # YAML allows `1: x`; Pulumi keys are namespace:name
            issues.append(
                _issue(
                    file,
                    str(key),
                    f"config key {key!r} is not a 'namespace:name' string",
                    "write keys like tenancy:app or aws:region",
                )
            )
        elif key.startswith("tenancy:") and key not in REQUIRED_KEYS + OPTIONAL_KEYS:
            issues.append(
                _issue(
                    file,
                    key,
                    "unknown tenancy setting",
                    f"allowed: {', '.join(REQUIRED_KEYS + OPTIONAL_KEYS)}",
                )
            )
    allow_destroy = config.get("tenancy:allowDestroy", False)
    # isinstance, not `in (True, False)`: 1 == True, and Pulumi hands the program "1", which
    # it refuses, so the offline check must refuse the YAML integer too.
    if not (isinstance(allow_destroy, bool) or allow_destroy in ("true", "false")):
        issues.append(
            _issue(
                file,
                "tenancy:allowDestroy",
                f"expected true or false, got {allow_destroy!r}",
                "remove it (deletion protection stays on) or set false",
            )
        )
    elif allow_destroy in (True, "true") and cell.is_production:
        issues.append(
            _issue(
                file,
                "tenancy:allowDestroy",
                "deletion protection cannot be switched off in production",
                "remove tenancy:allowDestroy from this prod stack",
            )
        )
    first = config.get("tenancy:logArchiveFirstDeploy", False)
    if not (isinstance(first, bool) or first in ("true", "false")):
        issues.append(
            _issue(
                file,
                "tenancy:logArchiveFirstDeploy",
                f"expected true or false, got {first!r}",
                "set true for a new cell's first deployment only, then remove it",
            )
        )
    if "tenancy:repositoryUrl" in config:
        problem = repository_url_problem(config["tenancy:repositoryUrl"])
        if problem:
            issues.append(_issue(file, "tenancy:repositoryUrl", problem, REPOSITORY_URL_HINT))
    for key in ("tenancy:network", "tenancy:app"):
        if key in config and not isinstance(config[key], dict):
            issues.append(
                _issue(
                    file,
                    key,
                    f"expected a mapping, got {type(config[key]).__name__}",
                    "write it as a YAML mapping",
                )
            )
    network = config.get("tenancy:network")
    if isinstance(network, dict) and network:
        issues += _check_network(traits(cell.cloud).network, network, file)
    return issues


def _is_private_cidr(value: Any) -> bool:
    try:
        return isinstance(value, str) and ipaddress.ip_network(value, strict=False).is_private
    except ValueError:
        return False


def _check_network(rules: NetworkTraits, network: dict[str, Any], file: str) -> list[Issue]:
    """Existing networking must be complete and private: it decides who can reach the data."""
    key = "tenancy:network"
    issues = [
        _issue(
            file, f"{key}.{name}", "unknown network setting", f"allowed: {', '.join(rules.keys)}"
        )
        for name in network
        if name not in rules.keys
    ]
    names_existing = any(name in network for name in rules.existing + rules.optional)
    for name in rules.existing if names_existing else ():
        if name not in network:
            label = rules.labels.get(name, repr(name))
            issues.append(_issue(file, f"{key}.{name}", f"missing {label}", rules.hint))
    for name, value in network.items():
        if name in rules.lists:
            label = rules.labels.get(name, "ids")
            issues += _check_id_list(
                file, f"{key}.{name}", value, rules.lists[name], label, rules.hint
            )
        elif name in rules.keys and name != "allowedCidrs":
            issues += _check_id(file, f"{key}.{name}", value, rules.id_patterns.get(name))
    cidrs = network.get("allowedCidrs", ["10.0.0.0/8"])
    if not (isinstance(cidrs, list) and cidrs and all(_is_private_cidr(c) for c in cidrs)):
        issues.append(
            _issue(
                file,
                f"{key}.allowedCidrs",
                f"expected a list of private CIDR blocks, got {cidrs!r}",
                "allow only private address space (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)",
            )
        )
    return issues


_NUMBERS = {1: "one", 2: "two", 3: "three"}


def _check_id(file: str, path: str, value: Any, pattern: tuple[str, str] | None) -> list[Issue]:
    if not isinstance(value, str) or not value:
        return [
            _issue(file, path, f"expected a non-empty id, got {value!r}", "give the id as text")
        ]
    if pattern is not None and not re.match(pattern[0], value):
        return [
            _issue(file, path, f"{value!r} is not an id of this kind", f"use the form {pattern[1]}")
        ]
    return []


def _check_id_list(
    file: str, path: str, value: Any, minimum: int, label: str, hint: str
) -> list[Issue]:
    if (
        isinstance(value, list)
        and len(value) >= minimum
        and all(isinstance(v, str) and v for v in value)
    ):
        return []
    return [
        _issue(
            file,
            path,
            f"expected a list of at least {_NUMBERS.get(minimum, minimum)} {label}, got {value!r}",
            hint,
        )
    ]


def parse_stack_settings(stack: str, config: dict[str, Any], file: str) -> StackSettings:
    """Validate a stack's config; raise InputError listing every problem."""
    cell = parse_stack_name(stack)
    if cell is None:
        raise InputError(
            [
                _issue(
                    file,
                    "",
                    f"stack name {stack!r} is not <env>-<cloud>-<region>",
                    f"name it like prod-aws-eu-central-1; cloud is one of {', '.join(CLOUDS)}",
                )
            ]
        )
    issues = _check_values(stack, cell, config, file)
    app = AppSettings()
    try:
        raw_app = config.get("tenancy:app") or {}
        if isinstance(raw_app, dict):  # a non-mapping is already reported above
            app = parse_app_settings(raw_app, file, cell.cloud, cell.is_production)
    except InputError as error:
        issues += error.issues
    alerts, alert_issues = parse_alerts(config.get("tenancy:alerts"), file, cell.is_production)
    issues += alert_issues
    prometheus_operator, flag_issues = _flag(config, PROMETHEUS_OPERATOR_KEY, file)
    issues += flag_issues
    entra_admin_group, entra_issues = parse_entra_admin_group(
        config.get(ENTRA_ADMIN_GROUP_KEY), file, cell.cloud
    )
    issues += entra_issues
    if issues:
        raise InputError(issues)
    return StackSettings(
        cell=cell,
        residency=str(config["tenancy:residency"]),
        catalog_path=str(config.get("tenancy:catalog") or "tenants.yaml"),
        network=dict(config.get("tenancy:network") or {}),
        app=app,
        gcp_project=config.get("gcp:project"),
        allow_destroy=config.get("tenancy:allowDestroy") in (True, "true"),
        given=_given_settings(config),
        alerts=alerts,
        log_archive_first_deploy=config.get("tenancy:logArchiveFirstDeploy") in (True, "true"),
        prometheus_operator=prometheus_operator,
        entra_admin_group=entra_admin_group,
    )


def _flag(config: dict[str, Any], key: str, file: str) -> tuple[bool, list[Issue]]:
    """A yes/no setting: YAML true/false, or "true"/"false" as pulumi.Config gives it."""
    value = config.get(key)
    if value is None or value in (False, "false"):
        return False, []
    if value in (True, "true"):
        return True, []
    return False, [
        _issue(file, key, f"expected true or false, got {value!r}", f"write {key}: true")
    ]


def _given_settings(config: dict[str, Any]) -> frozenset[str]:
    given = {key for key, value in config.items() if value not in (None, "", [], {})}
    for key in ("tenancy:app", "tenancy:network"):
        nested = config.get(key)
        if isinstance(nested, dict):
            given |= {f"{key}.{name}" for name, value in nested.items() if value not in (None, "")}
    return frozenset(given)


def check_cell_against_catalog(settings: StackSettings, catalog: Catalog, file: str) -> None:
    """The cell's residency zone must exist and contain the cell's region."""
    cell = settings.cell
    zone = catalog.residency_zones.get(settings.residency)
    if zone is None:
        raise InputError(
            [
                _issue(
                    file,
                    "tenancy:residency",
                    f"unknown residency zone {settings.residency!r}",
                    f"use one of: {', '.join(sorted(catalog.residency_zones))}",
                )
            ]
        )
    if cell.region not in zone.get(cell.cloud, []):
        raise InputError(
            [
                _issue(
                    file,
                    REGION_KEY[cell.cloud],
                    f"region {cell.region!r} is outside residency zone {settings.residency!r}",
                    f"use a region of the zone: {', '.join(zone.get(cell.cloud, [])) or '(none)'}",
                )
            ]
        )
    strays = [
        t.id
        for t in catalog.tenants
        if t.cloud == cell.cloud
        and t.region == cell.region
        and t.residency != settings.residency
        and not t.departed
    ]
    if strays:
        raise InputError(
            [
                _issue(
                    file,
                    "tenancy:residency",
                    f"tenants {strays} are in this region but declare another residency zone",
                    "give this region's tenants the cell's zone, or deploy them from a cell of their zone",
                )
            ]
        )
