"""The Entra administrator stack rule (issue 15, item 6): every Azure Flexible Server with
Entra sign-in on has an administrator; replicas take their primary's. The resource rule
(the administrator is a group) is in test_policy_rules.py (tests/policies/access_cases.py)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.rules import BY_ID
from tests.support.policy_baselines import baseline, changed, ctx, res, urn

RULE = "azure-postgresql-server-enable-entra-administrator"
SERVER, ADMIN = "azure-native:dbforpostgresql:Server", "azure-native:dbforpostgresql:Administrator"
SERVER_URN = urn("silo-stark-db-server", SERVER)
NO_ADMIN = [
    "Entra authentication is on but the server has no Entra administrator: nobody can "
    "create the Entra login roles its tenants' identities need"
]


def _server(entra: Any = "Enabled", create_mode: Any = "Create") -> Any:
    kind, props = baseline("azure_server")
    props = changed(props, "authConfig", {"activeDirectoryAuth": entra, "passwordAuth": "Enabled"})
    props = changed(props, "createMode", create_mode)
    return res("silo-stark-db-server", kind, props)


def _admin(server_name: Any = "tnc-prod-stark-9da4a4", by_dependency: bool = True) -> Any:
    kind, props = baseline("azure_administrator")
    props = changed(props, "serverName", server_name)
    deps = (SERVER_URN,) if by_dependency else ()
    return res("silo-stark-db-entra-admin", kind, props, deps=deps)


def _run(resources: list[Any]) -> list[tuple[str, list[str]]]:
    return BY_ID[RULE].check(resources, ctx())


def test_a_server_with_its_administrator_passes() -> None:
    assert _run([_server(), _admin()]) == [(SERVER_URN, [])]


def test_an_administrator_found_by_server_name_alone_counts() -> None:
    assert _run([_server(), _admin(by_dependency=False)]) == [(SERVER_URN, [])]


def test_an_administrator_found_by_dependency_counts_while_its_name_is_unknown() -> None:
    # `pulumi preview` of a new server: the name output is not known yet, the dependency is.
    assert _run([_server(), _admin(server_name="<unknown>")]) == [(SERVER_URN, [])]


def test_a_server_with_entra_on_and_no_administrator_fails() -> None:
    assert _run([_server()]) == [(SERVER_URN, NO_ADMIN)]


def test_another_servers_administrator_does_not_count() -> None:
    other = _admin(server_name="tnc-prod-other-1a2b3c", by_dependency=False)
    assert _run([_server(), other]) == [(SERVER_URN, NO_ADMIN)]


def test_an_administrator_whose_server_is_unknown_cannot_be_matched() -> None:
    unknown = _admin(server_name="<unknown>", by_dependency=False)
    assert _run([_server(), unknown]) == [
        (
            SERVER_URN,
            [
                "cannot verify the server's Entra administrator: an administrator's "
                "serverName is not known at plan time"
            ],
        )
    ]


@pytest.mark.parametrize("entra", ["Disabled", None])
def test_a_server_without_entra_sign_in_is_not_judged(entra: Any) -> None:
    # Nothing to administer through Entra (None: Azure's default, password sign-in only).
    assert _run([_server(entra=entra)]) == []


def test_a_read_replica_is_not_judged() -> None:
    assert _run([_server(create_mode="Replica")]) == []


def test_unknown_entra_setting_cannot_be_verified() -> None:
    (result,) = _run([_server(entra="<unknown>")])
    assert result == (
        SERVER_URN,
        ["cannot verify authConfig.activeDirectoryAuth: it is not known at plan time"],
    )


def test_the_newer_sdk_token_for_the_administrator_counts_too() -> None:
    admin = _admin()
    newer = admin._replace(type="azure-native:dbforpostgresql:AdministratorsMicrosoftEntra")
    assert _run([_server(), newer]) == [(SERVER_URN, [])]
