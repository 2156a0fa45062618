"""No public access: no public IP, no public network access, no public snapshots."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import controls as c
from .. import types as t
from ..framework import (
    NO_PUBLIC_ENDPOINT,
    POOLER_PRIVATE,
    Ctx,
    cannot_verify,
    flag,
    get,
    is_unknown,
    rule,
)

_ANYWHERE = ("0.0.0.0/0", "::/0")


@rule(
    id="aws-rds-instance-disallow-public-access",
    description="Aurora cluster instances and RDS instances are not publicly accessible.",
    why="A publicly accessible instance gets a public DNS name and IP; one leaked credential then suffices to reach every tenant's data from the internet.",
    remediation="Set publiclyAccessible=false explicitly (never rely on the provider default) and keep the subnet group private.",
    severity="critical",
    enforcement="mandatory",
    controls=c.NO_PUBLIC,
    cloud="aws",
    family="network",
    types=[t.RDS_CLUSTER_INSTANCE, t.RDS_INSTANCE, t.RDS_CLUSTER],
    matrix=[NO_PUBLIC_ENDPOINT],
)
def aws_rds_private(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    if resource_type == t.RDS_CLUSTER:
        # Aurora has no cluster-level public flag; the cluster must sit in a private subnet group.
        group = props.get("dbSubnetGroupName")
        return (
            [cannot_verify("dbSubnetGroupName (the private subnet group)", group)]
            if is_unknown(group)
            else []
        )
    return flag(props, ("publiclyAccessible",), False, "publiclyAccessible")


@rule(
    id="aws-rds-snapshot-disallow-public-sharing",
    description="RDS and Aurora snapshots are never shared with 'all' (public).",
    why="A public snapshot can be restored by any AWS account, which hands over the whole database.",
    remediation="Remove 'all' from sharedAccounts; share with named accounts of the organisation only.",
    severity="critical",
    enforcement="mandatory",
    controls=c.NO_PUBLIC,
    cloud="aws",
    family="network",
    types=[
        t.RDS_CLUSTER_SNAPSHOT,
        t.RDS_SNAPSHOT,
        t.RDS_CLUSTER_SNAPSHOT_COPY,
        t.RDS_SNAPSHOT_COPY,
    ],
)
def aws_snapshot_private(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    shared = props.get("sharedAccounts") or ()
    if shared == "<unknown>":
        return [cannot_verify("sharedAccounts", shared)]
    if "all" in shared:
        return ["sharedAccounts contains 'all': the snapshot is public"]
    return []


def _open_cidrs(rules: Any) -> list[str]:
    found = []
    for entry in rules or ():
        if not isinstance(entry, Mapping):
            continue
        cidrs = list(entry.get("cidrBlocks") or ()) + list(entry.get("ipv6CidrBlocks") or ())
        found += [cidr for cidr in cidrs if cidr in _ANYWHERE]
    return found


@rule(
    id="aws-ec2-securitygroup-disallow-public-ingress",
    description="Security groups admit no ingress from 0.0.0.0/0 or ::/0.",
    why="An open ingress rule turns a private database into an internet-facing one the moment a route or public IP appears.",
    remediation="Restrict ingress to the private CIDRs of the application (tenancy:network.allowedCidrs).",
    severity="high",
    enforcement="mandatory",
    controls=c.NO_PUBLIC,
    cloud="aws",
    family="network",
    types=[t.SECURITY_GROUP, t.SECURITY_GROUP_RULE, t.INGRESS_RULE],
)
def aws_sg_ingress(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str] | None:
    if resource_type == t.SECURITY_GROUP:
        open_cidrs = _open_cidrs(props.get("ingress"))
    elif resource_type == t.SECURITY_GROUP_RULE:
        if props.get("type") != "ingress":
            return None
        open_cidrs = _open_cidrs([props])
    else:
        open_cidrs = [v for v in (props.get("cidrIpv4"), props.get("cidrIpv6")) if v in _ANYWHERE]
    return [f"ingress is open to {cidr}" for cidr in open_cidrs]


@rule(
    id="azure-postgresql-server-disallow-public-network-access",
    description="Flexible Servers have public network access disabled, sit in a delegated subnet and have no firewall rules; Key Vaults deny public network access.",
    why="Public network access gives the server a public endpoint guarded only by firewall rules; a vault reachable from the internet exposes the keys' management plane.",
    remediation="Set network.publicNetworkAccess=Disabled with network.delegatedSubnetResourceId; delete FirewallRule resources; set the vault's properties.publicNetworkAccess=Disabled and networkAcls.defaultAction=Deny.",
    severity="critical",
    enforcement="mandatory",
    controls=c.NO_PUBLIC,
    cloud="azure",
    family="network",
    types=[t.AZ_SERVER, t.AZ_FIREWALL_RULE, t.AZ_VAULT],
    matrix=[NO_PUBLIC_ENDPOINT, POOLER_PRIVATE],  # the built-in PgBouncer shares its network
)
def azure_private(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    if resource_type == t.AZ_FIREWALL_RULE:
        start, end = props.get("startIpAddress"), props.get("endIpAddress")
        return [f"firewall rule {start}-{end} opens the server to public addresses"]
    if resource_type == t.AZ_VAULT:
        access = get(props, "properties", "publicNetworkAccess")
        action = get(props, "properties", "networkAcls", "defaultAction")
        if is_unknown(access) and is_unknown(action):
            return [cannot_verify("the vault's publicNetworkAccess", access)]
        if access not in (None, "Disabled"):
            return [f"the vault's publicNetworkAccess is {access}; it must be Disabled"]
        if access is None and action != "Deny":
            return [f"the vault's networkAcls.defaultAction is {action}; it must be Deny"]
        return []
    access = get(props, "network", "publicNetworkAccess")
    if is_unknown(access):
        return [cannot_verify("network.publicNetworkAccess", access)]
    if access != "Disabled":
        return [f"network.publicNetworkAccess is {access}; it must be Disabled"]
    return []


@rule(
    id="gcp-sql-instance-disallow-public-ip",
    description="Cloud SQL instances have no public IPv4 address and no authorized networks; they use a private network.",
    why="A public IP with authorized networks makes the database reachable from the internet; private services access keeps it inside the VPC.",
    remediation="Set settings.ipConfiguration.ipv4Enabled=false, privateNetwork to the VPC, and remove authorizedNetworks.",
    severity="critical",
    enforcement="mandatory",
    controls=c.NO_PUBLIC,
    cloud="gcp",
    family="network",
    types=[t.SQL_INSTANCE],
    matrix=[NO_PUBLIC_ENDPOINT],
)
def gcp_private(resource_type: str, props: Mapping[str, Any], ctx: Ctx) -> list[str]:
    found = flag(props, ("settings", "ipConfiguration", "ipv4Enabled"), False, "ipv4Enabled")
    network = get(props, "settings", "ipConfiguration", "privateNetwork")
    if is_unknown(network) or network == "":
        found.append(cannot_verify("settings.ipConfiguration.privateNetwork", network))
    if get(props, "settings", "ipConfiguration", "authorizedNetworks"):
        found.append(
            "authorizedNetworks is not empty; no network may reach the instance from outside the VPC"
        )
    return found


RULES = (aws_rds_private, aws_snapshot_private, aws_sg_ingress, azure_private, gcp_private)
