"""tenancy:alerts: channels parse, bad ones are reported with path and fix, prod needs one."""

from __future__ import annotations

from typing import Any

import pytest

from components.model.alerts import AlertChannel
from components.model.errors import InputError
from components.model.stack import parse_stack_settings

FILE = "stacks/Pulumi.prod-aws-eu-central-1.yaml"


def _settings(stack: str, alerts: Any) -> Any:
    config: dict[str, Any] = {
        "aws:region": "eu-central-1",
        "tenancy:environment": stack.split("-")[0],
        "tenancy:cloud": "aws",
        "tenancy:residency": "eu",
    }
    if alerts is not None:
        config["tenancy:alerts"] = alerts
    if stack.startswith("prod-"):  # prod runs images by digest only (issue 15)
        config["tenancy:app"] = {"image": "ghcr.io/acme/tenant-api@sha256:" + "0" * 64}
    return parse_stack_settings(stack, config, FILE)


def _issues(stack: str, alerts: Any) -> dict[str, tuple[str, str]]:
    with pytest.raises(InputError) as caught:
        _settings(stack, alerts)
    return {i.path: (i.message, i.hint) for i in caught.value.issues}


def test_channels_of_every_kind_parse() -> None:
    alerts = [
        {"kind": "email", "target": "oncall@example.com"},
        {"kind": "webhook", "target": "https://hooks.example.com/db"},
        {"kind": "opsgenie", "target": "https://api.eu.opsgenie.com/v1/json/amazonsns?apiKey=x"},
    ]
    settings = _settings("prod-aws-eu-central-1", alerts)
    assert settings.alerts[0] == AlertChannel("email", "oncall@example.com")
    assert [c.kind for c in settings.alerts] == ["email", "webhook", "opsgenie"]


def test_prod_refuses_to_plan_without_a_channel() -> None:
    issues = _issues("prod-aws-eu-central-1", None)
    message, hint = issues["config.tenancy:alerts"]
    assert message == "a production stack needs at least one alert channel"
    assert "tenancy:alerts: [{kind: email" in hint


def test_dev_may_go_without_channels() -> None:
    assert _settings("dev-aws-eu-central-1", None).alerts == ()


def test_unknown_channel_kind_is_reported_with_the_kinds() -> None:
    issues = _issues("dev-aws-eu-central-1", [{"kind": "pager", "target": "x"}])
    message, hint = issues["config.tenancy:alerts[0].kind"]
    assert message == "unknown channel kind 'pager'"
    assert hint == "use one of: email, webhook, pagerduty, opsgenie"


@pytest.mark.parametrize(
    ("channel", "path", "message"),
    [
        (
            {"kind": "email", "target": "oncall"},
            "config.tenancy:alerts[0].target",
            "email target 'oncall' is not an e-mail address",
        ),
        (
            {"kind": "webhook", "target": "http://hooks.example.com"},
            "config.tenancy:alerts[0].target",
            "webhook target 'http://hooks.example.com' is not an https URL",
        ),
        ({"kind": "email"}, "config.tenancy:alerts[0]", "expected kind and target"),
        (
            {"kind": "pagerduty", "target": "https://hooks.example.com/pd"},
            "config.tenancy:alerts[0].target",
            "pagerduty target 'https://hooks.example.com/pd' is not a PagerDuty integration URL",
        ),
    ],
)
def test_bad_channel_targets_are_reported(channel: dict[str, str], path: str, message: str) -> None:
    issues = _issues("dev-aws-eu-central-1", [channel])
    assert issues[path][0].startswith(message)


def test_a_pagerduty_channel_carries_its_integration_key() -> None:
    target = "https://events.eu.pagerduty.com/integration/0123abcd/enqueue"
    (channel,) = _settings("dev-aws-eu-central-1", [{"kind": "pagerduty", "target": target}]).alerts
    assert channel.pagerduty_key == "0123abcd"
    assert AlertChannel("webhook", "https://hooks.example.com").pagerduty_key is None


def test_pagerduty_hint_names_the_url_form() -> None:
    issues = _issues("dev-aws-eu-central-1", [{"kind": "pagerduty", "target": "https://x.io/a"}])
    assert (
        "events.pagerduty.com/integration/<integration key>/enqueue"
        in (issues["config.tenancy:alerts[0].target"][1])
    )


@pytest.mark.parametrize(("value", "want"), [(None, False), (True, True), ("false", False)])
def test_prometheus_operator_is_a_yes_no_setting(value: Any, want: bool) -> None:
    config: dict[str, Any] = {
        "aws:region": "eu-central-1",
        "tenancy:environment": "dev",
        "tenancy:cloud": "aws",
        "tenancy:residency": "eu",
        "tenancy:prometheusOperator": value,
    }
    assert parse_stack_settings("dev-aws-eu-central-1", config, FILE).prometheus_operator is want


def test_prometheus_operator_other_than_true_or_false_is_reported() -> None:
    config: dict[str, Any] = {
        "aws:region": "eu-central-1",
        "tenancy:environment": "dev",
        "tenancy:cloud": "aws",
        "tenancy:residency": "eu",
        "tenancy:prometheusOperator": "yes please",
    }
    with pytest.raises(InputError) as caught:
        parse_stack_settings("dev-aws-eu-central-1", config, FILE)
    (issue,) = caught.value.issues
    assert issue.path == "config.tenancy:prometheusOperator"
    assert issue.message == "expected true or false, got 'yes please'"
    assert issue.hint == "write tenancy:prometheusOperator: true"
