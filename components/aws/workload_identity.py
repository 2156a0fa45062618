"""IRSA: an IAM role that exactly one Kubernetes ServiceAccount may assume (silo tenants),
allowed exactly ``rds-db:connect`` as the tenant's own database user on its own cluster.

The pod reaches STS through the cell's STS interface VPC endpoint (see
``components/model/identity_egress.py``): the cell must have one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

IRSA_AUDIENCE = "sts.amazonaws.com"


def oidc_issuer(provider_arn: str) -> str:
    """``arn:aws:iam::1:oidc-provider/oidc.eks.r.amazonaws.com/id/X`` -> ``oidc.eks.r.amazonaws.com/id/X``."""
    return provider_arn.split(":oidc-provider/", 1)[1]


def trust_policy(provider_arn: str, namespace: str, service_account: str) -> str:
    issuer = oidc_issuer(provider_arn)
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{issuer}:aud": IRSA_AUDIENCE,
                        }
                    },
                }
            ],
        },
        sort_keys=True,
    )


def db_connect_policy(db_user_arn: str) -> str:
    """IAM database authentication as one database user, nothing else."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "ConnectAsTheTenantsOwnDatabaseUser",
                    "Effect": "Allow",
                    "Action": "rds-db:connect",
                    "Resource": db_user_arn,
                }
            ],
        },
        sort_keys=True,
    )


@dataclass(frozen=True)
class IrsaRoleArgs:
    role_name: str  # physical name, from the naming module
    oidc_provider_arn: str  # the cluster's IAM OIDC provider (stack config tenancy:app)
    namespace: str
    service_account: str
    tags: Mapping[str, str]
    # Input[str]: arn:aws:rds-db:<region>:<account>:dbuser:<cluster-resource-id>/<db user>
    db_user_arn: Any


class IrsaRole(pulumi.ComponentResource):
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: IrsaRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:IrsaRole", name, None, opts)
        role = aws.iam.Role(
            f"{name}-role",
            name=args.role_name,
            description=f"Workload identity of {args.namespace}/{args.service_account}",
            assume_role_policy=trust_policy(
                args.oidc_provider_arn, args.namespace, args.service_account
            ),
            max_session_duration=3600,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.iam.RolePolicy(
            f"{name}-db-connect",
            name="rds-db-connect",
            role=role.name,
            policy=pulumi.Output.from_input(args.db_user_arn).apply(db_connect_policy),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = role.arn
        self.register_outputs({"arn": self.arn})
