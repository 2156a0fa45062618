"""Stack config ``tenancy:app`` -> the Kubernetes workload settings of a cell.

tenancy:app:
  image: ghcr.io/acme/tenant-api:1.4.2   # the tenant-facing service
  port: 8080
  ingressNamespace: ingress-nginx         # the only namespace that may call it
  databaseCidrs: [10.20.0.0/16]           # where the cell's databases live
  identityEndpointCidrs: [10.20.0.0/16]   # optional, silo pods' token endpoint (TCP 443):
                                          #   AWS: private ranges of the STS VPC endpoint
                                          #   (default databaseCidrs); Azure: Entra ID
                                          #   (default 0.0.0.0/0 except RFC 1918); not on GCP
  oidcProviderArn: arn:aws:iam::...:oidc-provider/oidc.eks...   # AWS (IRSA)
  oidcIssuerUrl: https://westeurope.oic.prod-aks.azure.com/...  # Azure Workload Identity
  kubeContext: prod-eu                    # optional: kubeconfig context of the cell's cluster
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .clouds import CLOUD_TRAITS
from .errors import InputError, Issue

DEFAULT_IMAGE = "ghcr.io/tenancy/tenant-api:0.1.0"
# The GCP pooler (components/k8s/pgbouncer.py): CloudNativePG's PgBouncer 1.25.1 image,
# pinned by digest so every cell runs the same reviewed build.
DEFAULT_POOLER_IMAGE = (
    "ghcr.io/cloudnative-pg/pgbouncer:1.25.1"
    "@sha256:e6ddfe22d845e603825e235dd8334b21ecd125abea2a2172478f556b8dee2bb8"
)
DEFAULT_POOLER_TLS_ISSUER = "tenancy-internal-ca"  # a cert-manager ClusterIssuer
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
DEFAULT_PORT = 8080
KNOWN_KEYS = (
    "image",
    "port",
    "ingressNamespace",
    "databaseCidrs",
    "identityEndpointCidrs",
    "oidcProviderArn",
    "oidcIssuerUrl",
    "kubeContext",
    "poolerImage",
    "poolerTlsIssuer",
)
_OIDC_ARN = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:oidc-provider/[^\s]+$")
# A tag on the last path segment (a registry port is not one) or a sha256 digest: a bare
# name is pulled as :latest, so the pods of one deployment could run different code.
_PINNED_IMAGE = re.compile(r"[\w.\-/:]+(:\w[\w.\-]{0,127}|@sha256:[0-9a-f]{64})", re.ASCII)
# repo[:tag]@sha256:<64 hex>: a digest names one image forever; a tag can be moved.
DIGEST_IMAGE = re.compile(r"^[\w.\-/:]+@sha256:[0-9a-f]{64}$")
DIGEST_FORM = "registry/name@sha256:<64 hex digits>"


@dataclass(frozen=True)
class AppSettings:
    image: str = DEFAULT_IMAGE
    port: int = DEFAULT_PORT
    ingress_namespace: str = "ingress-nginx"
    database_cidrs: tuple[str, ...] = ("10.0.0.0/8",)  # private space, as the DB firewalls allow
    # Silo pods' identity endpoint; None: the cloud's default (components/model/identity_egress.py).
    identity_endpoint_cidrs: tuple[str, ...] | None = None
    oidc_provider_arn: str | None = None
    oidc_issuer_url: str | None = None
    kube_context: str | None = None
    pooler_image: str = DEFAULT_POOLER_IMAGE
    pooler_tls_issuer: str = DEFAULT_POOLER_TLS_ISSUER

    @property
    def image_pull_policy(self) -> str:
        return pull_policy(self.image)


def pull_policy(image: str) -> str:
    # A digest cannot change under the node, so a cached copy is the same image; a tag
    # (dev only) can be moved, so it is pulled again on every start.
    return "IfNotPresent" if DIGEST_IMAGE.match(image) else "Always"


def _identity_cidrs(
    raw: Any, cloud: str | None, bad: Callable[[str, str, str], None]
) -> tuple[str, ...] | None:
    """``identityEndpointCidrs``, checked against the cloud's kind of token endpoint
    (``IdentityTraits.endpoint``): private ranges only, public ranges only (RFC 1918 is
    always excepted), or not settable where the platform fixes the addresses."""
    if raw is None:
        return None
    key = "identityEndpointCidrs"
    cloud_traits = CLOUD_TRAITS.get(cloud) if cloud else None
    endpoint = cloud_traits.identity if cloud_traits else None
    if endpoint is not None and endpoint.endpoint == "fixed":
        fixed = " and ".join(
            f"{cidr.split('/')[0]}:{port}" for cidr, port in endpoint.fixed_endpoints
        )
        bad(
            key,
            f"{endpoint.kind}'s token endpoint has fixed addresses",
            f"remove it: {cloud} always allows {fixed}",
        )
        return None
    try:
        networks = [ipaddress.ip_network(c) for c in raw] if isinstance(raw, list) else []
    except (TypeError, ValueError):
        networks = []
    if not networks:
        bad(key, f"{raw!r} is not a list of CIDRs", "list CIDRs like 10.20.0.0/16")
        return None
    kind = endpoint.endpoint if endpoint is not None else None
    if kind == "private" and not all(n.is_private for n in networks):
        bad(
            key,
            f"{raw!r} is not a list of private CIDRs",
            endpoint.cidrs_hint if endpoint else "",
        )
    if kind == "public" and any(n.is_private and n.prefixlen > 0 for n in networks):
        bad(
            key,
            f"{raw!r} includes a private range",
            endpoint.cidrs_hint if endpoint else "",
        )
    return tuple(str(n) for n in networks)


def _check_image(
    image: Any, production: bool, bad: Callable[[str, str, str], None], key: str = "image"
) -> None:
    if (
        not isinstance(image, str)
        or not _PINNED_IMAGE.fullmatch(image)
        or image.endswith(":latest")
    ):
        bad(
            key,
            f"image {image!r} is not a pinned image reference",
            "use registry/name:version or @sha256:digest",
        )
    elif production and not DIGEST_IMAGE.match(image):
        # What runs in prod must be exactly what was reviewed and scanned.
        bad(
            key,
            f"image {image!r} is not a digest reference; prod runs images by digest only",
            f"use {DIGEST_FORM}, e.g. ghcr.io/acme/tenant-api@sha256:{'0' * 64}"
            " (docker buildx imagetools inspect IMAGE:TAG prints it)",
        )


def parse_app_settings(
    raw: dict[str, Any], file: str, cloud: str | None = None, production: bool = False
) -> AppSettings:
    """``production``: the image must be a digest reference (a tag is fine elsewhere)."""
    issues: list[Issue] = []

    def bad(key: str, message: str, hint: str) -> None:
        issues.append(Issue(file, f"config.tenancy:app.{key}", message, hint))

    for key in raw:
        if key not in KNOWN_KEYS:
            bad(key, "unknown app setting", f"allowed: {', '.join(KNOWN_KEYS)}")
    port = raw.get("port", DEFAULT_PORT)
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if not isinstance(port, int) or isinstance(port, bool) or not 1024 <= port <= 65535:
        bad(
            "port",
            f"port {port!r} is not an unprivileged TCP port",
            "use 1024-65535 (pods run as non-root)",
        )
        port = DEFAULT_PORT
    image = raw.get("image", DEFAULT_IMAGE)
    _check_image(image, production, bad)
    pooler_image = raw.get("poolerImage", DEFAULT_POOLER_IMAGE)
    _check_image(pooler_image, production, bad, "poolerImage")
    issuer_name = raw.get("poolerTlsIssuer", DEFAULT_POOLER_TLS_ISSUER)
    if not (isinstance(issuer_name, str) and _K8S_NAME.match(issuer_name)):
        bad(
            "poolerTlsIssuer",
            f"{issuer_name!r} is not a Kubernetes object name",
            "name the cert-manager ClusterIssuer that signs the pooler's TLS certificate",
        )
    cidrs = raw.get("databaseCidrs", ["10.0.0.0/8"])
    try:
        networks = [ipaddress.ip_network(c) for c in cidrs] if isinstance(cidrs, list) else []
    except ValueError:
        networks = []
    if not networks or not all(n.is_private for n in networks):
        bad(
            "databaseCidrs",
            f"{cidrs!r} is not a list of private CIDRs",
            "list the private ranges of the database subnets",
        )
    arn = raw.get("oidcProviderArn")
    if arn is not None and not (isinstance(arn, str) and _OIDC_ARN.match(arn)):
        bad(
            "oidcProviderArn",
            f"{arn!r} is not an IAM OIDC provider ARN",
            "copy it from the EKS cluster's IAM OIDC provider",
        )
    issuer = raw.get("oidcIssuerUrl")
    if issuer is not None and not (isinstance(issuer, str) and issuer.startswith("https://")):
        bad(
            "oidcIssuerUrl",
            f"{issuer!r} is not an https issuer URL",
            "use the AKS cluster's oidcIssuerProfile.issuerURL",
        )
    identity_cidrs = _identity_cidrs(raw.get("identityEndpointCidrs"), cloud, bad)
    if issues:
        raise InputError(issues)
    return AppSettings(
        image=image,
        port=port,
        ingress_namespace=str(raw.get("ingressNamespace", "ingress-nginx")),
        database_cidrs=tuple(str(n) for n in networks),
        identity_endpoint_cidrs=identity_cidrs,
        oidc_provider_arn=arn,
        oidc_issuer_url=issuer,
        kube_context=raw.get("kubeContext"),
        pooler_image=pooler_image,
        pooler_tls_issuer=issuer_name,
    )
