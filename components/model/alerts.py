"""Where alarms notify: the stack's ``tenancy:alerts`` channels (pure; no Pulumi).

```yaml
tenancy:alerts:
  - {kind: email, target: oncall@example.com}
  - {kind: pagerduty, target: https://events.pagerduty.com/integration/<key>/enqueue}
```

A production stack must name at least one channel: an alarm nobody receives is no alarm.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from .errors import Issue

ChannelKind = Literal["email", "webhook", "pagerduty", "opsgenie"]
CHANNEL_KINDS: tuple[ChannelKind, ...] = get_args(ChannelKind)
KEY = "tenancy:alerts"
EXAMPLE = "tenancy:alerts: [{kind: email, target: oncall@example.com}]"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.IGNORECASE)
_HTTPS = re.compile(r"^https://[^\s/]+\.[^\s/]+(/\S*)?$")
# PagerDuty's integration URL carries the integration key, which Cloud Monitoring's
# PagerDuty channel takes on its own (SNS and Azure post to the URL).
_PAGERDUTY = re.compile(r"^https://events(\.eu)?\.pagerduty\.com/integration/(?P<key>\w+)/enqueue$")
PAGERDUTY_FORM = "https://events.pagerduty.com/integration/<integration key>/enqueue"


@dataclass(frozen=True)
class AlertChannel:
    kind: ChannelKind
    target: str  # an e-mail address, or the https endpoint of a webhook/PagerDuty/Opsgenie

    @property
    def is_email(self) -> bool:
        return self.kind == "email"

    @property
    def pagerduty_key(self) -> str | None:
        """The integration key of a PagerDuty channel (None for other kinds)."""
        found = _PAGERDUTY.match(self.target) if self.kind == "pagerduty" else None
        return found["key"] if found else None


def _issue(file: str, path: str, message: str, hint: str) -> Issue:
    return Issue(file=file, path=f"config.{path}", message=message, hint=hint)


def _channel(file: str, index: int, raw: Any) -> tuple[AlertChannel | None, list[Issue]]:
    path = f"{KEY}[{index}]"
    if not isinstance(raw, dict) or set(raw) != {"kind", "target"}:
        hint = "write {kind: email|webhook|pagerduty|opsgenie, target: ...}"
        return None, [_issue(file, path, f"expected kind and target, got {raw!r}", hint)]
    kind, target = raw["kind"], raw["target"]
    if kind not in CHANNEL_KINDS:
        hint = f"use one of: {', '.join(CHANNEL_KINDS)}"
        return None, [_issue(file, f"{path}.kind", f"unknown channel kind {kind!r}", hint)]
    pattern, want = {
        "email": (_EMAIL, "an e-mail address"),
        "pagerduty": (_PAGERDUTY, f"a PagerDuty integration URL ({PAGERDUTY_FORM})"),
    }.get(kind, (_HTTPS, "an https URL"))
    if not isinstance(target, str) or not pattern.match(target):
        message = f"{kind} target {target!r} is not {want}"
        return None, [_issue(file, f"{path}.target", message, f"give {want}")]
    return AlertChannel(kind, target), []


def parse_alerts(
    raw: Any, file: str, production: bool
) -> tuple[tuple[AlertChannel, ...], list[Issue]]:
    """The channels, and every problem with them (all at once)."""
    if raw is None or raw == []:
        if production:
            message = "a production stack needs at least one alert channel"
            return (), [_issue(file, KEY, message, f"add {EXAMPLE}")]
        return (), []
    if not isinstance(raw, list):
        return (), [_issue(file, KEY, f"expected a list of channels, got {raw!r}", EXAMPLE)]
    channels, issues = [], []
    for index, item in enumerate(raw):
        channel, found = _channel(file, index, item)
        issues += found
        if channel is not None:
            channels.append(channel)
    return tuple(channels), issues
