"""What a rule is, what it sees, and the small readers every rule shares.

A resource rule is ``check(resource_type, props, ctx) -> list[str] | None``:
``None`` means not applicable, ``[]`` compliant, and each string a finding.
A finding made by :func:`cannot_verify` (it starts with ``cannot verify``) is the
*unknown* answer: the value is missing or not known at plan time, and unknown never
counts as a pass. A stack rule is ``check(resources, ctx) -> list[(urn, [messages])]``,
one entry per subject it judged (an empty list is a pass). :func:`outcome_of` turns
messages into an :class:`Outcome`, the one vocabulary of every report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Literal, NamedTuple

UNKNOWN = "<unknown>"
SECRET = "[secret]"
# The one spelling of the unknown answer; rules build it with cannot_verify(), never by hand.
CANNOT_VERIFY = "cannot verify"
NOT_KNOWN_AT_PLAN_TIME = "not known at plan time"


class Outcome(StrEnum):
    """A rule's answer for one subject; reports also use it as the status of a rule,
    control or framework. The values are what plan, check and compliance files say."""

    PASS = "pass"
    FAIL = "fail"
    UNKNOWN = "unknown"  # could not be verified: never counts as a pass
    WAIVED = "waived"  # a finding with a valid waiver: reported, not hidden
    NOT_EVIDENCED = "not evidenced"  # reports only: no subject was judged


# Worst first: a rule, control or framework takes the status of its worst result.
SEVERITY_ORDER = (Outcome.FAIL, Outcome.UNKNOWN, Outcome.WAIVED, Outcome.PASS)

Enforcement = Literal["mandatory", "advisory"]
Severity = Literal["low", "medium", "high", "critical"]
Cloud = Literal["aws", "azure", "gcp", "kubernetes", "multi"]

# The database control families of the control x cloud matrix (tests/policies/test_policy_meta.py).
CMK_AT_REST = "cmk-at-rest"
TLS_ONLY = "tls-only"
NO_PUBLIC_ENDPOINT = "no-public-endpoint"
BACKUPS_PITR = "backups-pitr"
DELETION_PROTECTION = "deletion-protection"
REGION_FENCING = "region-fencing"
# The pooler controls of the matrix (tests/policies/test_policy_meta.py: POOLER_MATRIX).
POOLER_TLS = "pooler-tls"
POOLER_IAM = "pooler-iam-auth"
POOLER_TRANSACTION = "pooler-transaction-mode"
POOLER_PRIVATE = "pooler-private-network"
AUDIT_LOGGING = "audit-logging"
# The log-destination controls (tests/policies/test_policy_meta.py: LOG_MATRIX).
LOGS_IN_ZONE = "logs-in-zone"
LOGS_CMK = "logs-customer-key"
LOGS_RETENTION = "logs-retention"
LOGS_ARCHIVE = "logs-immutable-archive"
# The key control family: one row of the matrix over each cloud's key type (types.KEY_TYPES).
KEY_MANAGEMENT = "key-management"
# The export bucket controls: one row each over every cloud's export store (types.EXPORT_STORES).
EXPORT_CMK = "export-cmk"
EXPORT_IMMUTABLE = "export-immutable"
EXPORT_NO_PUBLIC = "export-no-public"
# Monitoring: every server has its cloud's alarm set; in production they reach a channel.
ALARMS = "server-alarms"
# Database administrators: a managed group, never a user or a workload identity
# (tests/policies/test_policy_meta.py: ADMIN_MATRIX, the clouds with such a resource).
DB_ADMIN_GROUP = "db-admin-group"
ALERT_CHANNEL = "alert-channel"


@dataclass(frozen=True)
class Control:
    framework: str  # gdpr | hipaa | pci | soc2 | iso27001
    id: str  # e.g. "164.312(a)(2)(iv)"
    title: str

    @property
    def label(self) -> str:
        return f"{FRAMEWORK_NAMES[self.framework]} {self.id}"


FRAMEWORK_NAMES = {
    "gdpr": "GDPR",
    "hipaa": "HIPAA",
    "pci": "PCI DSS",
    "soc2": "SOC 2",
    "iso27001": "ISO 27001",
}


class Res(NamedTuple):
    """A resource as a stack rule sees it, whether from a plan file or from Pulumi."""

    urn: str
    type: str
    props: Mapping[str, Any]
    protect: bool | None = None
    dependencies: tuple[str, ...] = ()
    parent: str | None = None


@dataclass
class Ctx:
    """What a rule may know besides the props: config, options and the stack."""

    config: Mapping[str, Any]
    stack: str = ""
    urn: str = ""
    protect: bool | None = None  # Pulumi `protect`; None when not known
    tenants: Sequence[Mapping[str, Any]] | None = None  # plan rows (stack rules)
    waivers: Sequence[Any] = ()  # policies.waivers.Waiver entries
    today: date = field(default_factory=date.today)

    @property
    def stack_environment(self) -> str | None:
        return self.stack.split("-", 1)[0] if self.stack else None


ResourceCheck = Callable[[str, Mapping[str, Any], Ctx], "list[str] | None"]
StackCheck = Callable[[Sequence[Res], Ctx], "list[tuple[str, list[str]]]"]


@dataclass(frozen=True)
class Rule:
    """One policy with the metadata auditors and developers read."""

    id: str  # <cloud>-<service>-<resource>-<enable|disallow|configure>-<what>
    description: str  # what must hold
    why: str  # why it matters
    remediation: str  # how to fix
    severity: Severity
    enforcement: Enforcement
    controls: tuple[Control, ...]
    cloud: Cloud
    family: str  # module family: encryption, transit, network, residency, ...
    types: frozenset[str]  # resource types it judges (stack rules: its subjects)
    check: Callable[..., Any]
    kind: Literal["resource", "stack"] = "resource"
    config_keys: tuple[str, ...] = ()
    matrix: tuple[str, ...] = field(default=())  # database control families it covers

    @property
    def frameworks(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(control.framework for control in self.controls))


def rule(**meta: Any) -> Callable[[Callable[..., Any]], Rule]:
    """Decorator: turn a check function into a ``Rule`` with its metadata."""

    def wrap(function: Callable[..., Any]) -> Rule:
        meta["types"] = frozenset(meta["types"])
        meta.setdefault("matrix", ())
        meta["matrix"] = tuple(meta["matrix"])
        meta["controls"] = tuple(meta["controls"])
        meta["config_keys"] = tuple(meta.get("config_keys", ()))
        return Rule(check=function, **meta)

    return wrap


# ---- readers shared by the rules -------------------------------------------------------


def is_unknown(value: Any) -> bool:
    return value is None or value == UNKNOWN


def get(props: object, *path: str) -> Any:
    """Nested lookup; None when any step is missing, UNKNOWN when a step is unknown.

    ``props`` may be anything a previous lookup returned (None, UNKNOWN, a list ...):
    only a mapping is stepped into."""
    value: Any = props
    for key in path:
        if type(value) is not dict:  # noqa: E721 - the hot path; plain dicts are the norm
            if value == UNKNOWN:
                return UNKNOWN
            if not isinstance(value, Mapping):
                return None
        value = value.get(key)
    return value


def cannot_verify(what: str, value: Any = None, *, reason: str | None = None) -> str:
    """The unknown answer about ``what``: why it cannot be judged, by default because
    ``value`` is not set or not known at plan time."""
    if reason is None:
        reason = f"it is {NOT_KNOWN_AT_PLAN_TIME if value == UNKNOWN else 'not set'}"
    return f"{CANNOT_VERIFY} {what}: {reason}"


def is_cannot_verify(message: str) -> bool:
    return message.startswith(CANNOT_VERIFY)


def outcome_of(messages: Sequence[str], waived: bool = False) -> Outcome:
    """One subject's outcome from a rule's messages (no message is a pass)."""
    if not messages:
        return Outcome.PASS
    if waived:
        return Outcome.WAIVED
    if all(is_cannot_verify(m) for m in messages):
        return Outcome.UNKNOWN
    return Outcome.FAIL


def worst(outcomes: Iterable[str]) -> Outcome:
    """The status of a group of outcomes: its worst, or not evidenced when empty."""
    seen = set(outcomes)
    return next((o for o in SEVERITY_ORDER if o in seen), Outcome.NOT_EVIDENCED)


def flag(props: Mapping[str, Any], path: Sequence[str], want: bool, what: str) -> list[str]:
    """A boolean that must be set explicitly to ``want`` (provider defaults are not trusted)."""
    value = get(props, *path)
    if is_unknown(value):
        return [cannot_verify(what, value)]
    if value is not want:
        return [f"{what} is {str(value).lower()}; it must be {str(want).lower()}"]
    return []


def tags_of(resource_type: str, props: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The tags/labels mapping of a resource, in whichever place its cloud keeps them."""
    if resource_type.startswith("kubernetes:"):
        return get(props, "metadata", "labels")
    if resource_type == "gcp:sql/databaseInstance:DatabaseInstance":
        return get(props, "settings", "userLabels")
    if resource_type.startswith("gcp:"):
        return props.get("labels")
    return props.get("tags")


def tenancy_tags(tags: Mapping[str, Any] | None) -> dict[str, str]:
    """``{'tenant': .., 'tier': .., ...}`` from AWS/Azure ``tenancy:x``, GCP ``tenancy-x``
    or Kubernetes ``tenancy.io/x`` keys; ``managed-by`` with or without a prefix."""
    out: dict[str, str] = {}
    if type(tags) is not dict and not isinstance(tags, Mapping):  # noqa: E721
        return out
    for key, value in tags.items():  # type: ignore[union-attr]
        if key.startswith("tenancy"):
            if "/" in key:
                out[key.split("/", 1)[1]] = value
            elif len(key) > 8 and key[7] in ":-_.":
                out[key[8:]] = value
        elif key == "managed-by" or key.endswith("/managed-by"):
            out["managed-by"] = value
    return out


def frameworks_of(tags: Mapping[str, str]) -> set[str]:
    value = tags.get("compliance", "")
    return set() if value in ("", "none") else set(value.split("-"))


def environment_of(tags: Mapping[str, str], ctx: Ctx) -> str | None:
    return tags.get("environment") or ctx.stack_environment


def is_production(tags: Mapping[str, str], ctx: Ctx) -> bool | None:
    env = environment_of(tags, ctx)
    if env is None:
        return None
    return env in ctx.config.get("productionEnvironments", ("prod",))


def location_segment(path: Any) -> str | None:
    """``projects/p/locations/europe-west3/keyRings/k`` -> ``europe-west3``."""
    if not isinstance(path, str) or "/locations/" not in path:
        return None
    return path.split("/locations/", 1)[1].split("/", 1)[0]


def first(items: Iterable[Any]) -> Any:
    return next(iter(items), None)
