"""Where a silo pod must reach to exchange its ServiceAccount token for cloud credentials.

Every namespace starts from default deny, so a workload identity is useless until the
pod may reach its cloud's token endpoint. One narrow egress allow per cloud:

- AWS: TCP 443 to the cell's private ranges, where the STS *interface VPC endpoint*
  (``com.amazonaws.<region>.sts``) lives. The cell must have one: it keeps the
  web-identity exchange private and is the only STS the pod can reach.
- GCP: the GKE metadata server, 169.254.169.254:80, and on Dataplane V2 also
  169.254.169.252:988. Fixed by GKE, so not configurable.
- Azure: TCP 443 to Microsoft Entra ID (login.microsoftonline.com), which has no fixed
  private address: 443 to everything except the RFC 1918 ranges, so the allow cannot
  reopen east-west traffic to other tenants' pods or services. The trade-off: the pod
  may call any public HTTPS endpoint; narrow it with ``identityEndpointCidrs`` (e.g.
  the ``AzureActiveDirectory`` service tag's ranges) or an egress firewall.

Pure Python: ``components/k8s/network_policy.py`` turns the rules into a NetworkPolicy.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from .clouds import traits

RFC1918 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
HTTPS = 443


@dataclass(frozen=True)
class EgressRule:
    """TCP to ``cidr`` (minus ``except_cidrs``) on ``ports``."""

    cidr: str
    ports: tuple[int, ...]
    except_cidrs: tuple[str, ...] = ()


def _private_inside(cidr: str) -> tuple[str, ...]:
    """The RFC 1918 ranges inside ``cidr`` (a NetworkPolicy ``except`` must lie within it)."""
    network = ipaddress.ip_network(cidr)
    return tuple(
        r
        for r in RFC1918
        if network.version == 4 and ipaddress.ip_network(r).subnet_of(network)  # type: ignore[arg-type]
    )


def identity_egress(
    cloud: str, configured: Sequence[str] | None, private_cidrs: Sequence[str]
) -> tuple[EgressRule, ...]:
    """The egress rules for a silo workload's identity endpoint on ``cloud``.

    ``configured`` is ``tenancy:app.identityEndpointCidrs`` (None: the cloud's default);
    ``private_cidrs`` are the cell's private ranges (``tenancy:app.databaseCidrs``).
    """
    identity = traits(cloud).identity
    if identity.endpoint == "fixed":
        return tuple(EgressRule(cidr, (port,)) for cidr, port in identity.fixed_endpoints)
    if identity.endpoint == "private":
        return tuple(EgressRule(c, (HTTPS,)) for c in (configured or private_cidrs))
    # A public endpoint: never reopen the private ranges (other tenants' pods and services).
    return tuple(
        EgressRule(c, (HTTPS,), _private_inside(c)) for c in (configured or identity.default_cidrs)
    )
