"""RDS Proxy in front of one Aurora cluster: TLS required, IAM auth, private subnets only.

The proxy reads the cluster's RDS-managed master secret (Secrets Manager, encrypted
with the server's CMK) through a role of its own, and clients must present an IAM
token over TLS. Pinning, and why tenancy accepts it: docs/connection-pooling.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.args import PoolerArgs, PoolerEndpoint, ServerArgs
from components.aws.aurora import POSTGRES_PORT
from components.aws.trust import service_trust_policy
from components.model.naming import physical_name

# Seconds a client waits for a pooled connection when all are busy (AWS default 120).
BORROW_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class RdsProxyArgs:
    server: ServerArgs  # the cluster's settings; ``server.pooler`` must be set
    cluster_identifier: Any  # Input[str]
    secret_arn: Any  # Input[str]: the cluster's managed master secret
    kms_key_arn: Any  # Input[str]: the CMK that secret is encrypted with


def _pooler(server: ServerArgs) -> PoolerArgs:
    if server.pooler is None:
        raise ValueError(f"{server.owner}: its tier does not pool; build no proxy")
    return server.pooler


class RdsProxy(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]

    def __init__(self, name: str, args: RdsProxyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("tenancy:aws:RdsProxy", name, None, opts)
        server, pooler = args.server, _pooler(args.server)
        child = pulumi.ResourceOptions(parent=self)
        role = self._secret_reader(name, args, child)
        security_group = self._security_group(name, server, child)
        proxy_name = physical_name("aws.rds_proxy", server.physical_name, "proxy")
        proxy = aws.rds.Proxy(
            f"{name}-proxy",
            name=proxy_name,
            engine_family="POSTGRESQL",
            require_tls=True,
            auths=[
                {
                    "auth_scheme": "SECRETS",
                    "secret_arn": args.secret_arn,
                    "iam_auth": "REQUIRED",
                    "client_password_auth_type": "POSTGRES_SCRAM_SHA_256",
                    "description": f"managed master secret of {server.owner}",
                }
            ],
            role_arn=role.arn,
            vpc_subnet_ids=list(server.network.subnet_ids),
            vpc_security_group_ids=[security_group.id],
            idle_client_timeout=pooler.idle_timeout_seconds,
            debug_logging=False,  # it would log SQL text, tenant data included
            region=server.region,
            tags=dict(server.tags),
            opts=child,
        )
        target_group = aws.rds.ProxyDefaultTargetGroup(
            f"{name}-target-group",
            db_proxy_name=proxy.name,
            connection_pool_config={
                "max_connections_percent": pooler.max_connections_percent,
                "max_idle_connections_percent": max(pooler.max_connections_percent // 2, 1),
                "connection_borrow_timeout": BORROW_TIMEOUT_SECONDS,
            },
            region=server.region,
            opts=child,
        )
        aws.rds.ProxyTarget(
            f"{name}-target",
            db_proxy_name=proxy.name,
            target_group_name=target_group.name,
            db_cluster_identifier=args.cluster_identifier,
            region=server.region,
            opts=child,
        )
        self.endpoint = proxy.endpoint
        self.register_outputs({"endpoint": self.endpoint})

    @property
    def facts(self) -> PoolerEndpoint:
        return PoolerEndpoint(self.endpoint, POSTGRES_PORT)

    @staticmethod
    def _secret_reader(
        name: str, args: RdsProxyArgs, child: pulumi.ResourceOptions
    ) -> aws.iam.Role:
        """A role only RDS may assume, reading only this cluster's secret and its key."""
        server = args.server
        role = aws.iam.Role(
            f"{name}-role",
            name=physical_name("aws.resource", server.physical_name, "proxy"),
            assume_role_policy=service_trust_policy("rds.amazonaws.com"),
            tags=dict(server.tags),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-role-policy",
            role=role.id,
            policy=pulumi.Output.json_dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["secretsmanager:GetSecretValue"],
                            "Resource": args.secret_arn,
                        },
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Decrypt"],
                            "Resource": args.kms_key_arn,
                            "Condition": {
                                "StringEquals": {
                                    "kms:ViaService": f"secretsmanager.{server.region}.amazonaws.com"
                                }
                            },
                        },
                    ],
                }
            ),
            opts=child,
        )
        return role

    @staticmethod
    def _security_group(
        name: str, server: ServerArgs, child: pulumi.ResourceOptions
    ) -> aws.ec2.SecurityGroup:
        # Its own group: clients reach the proxy, the proxy reaches the cluster, nothing else.
        private = list(server.network.allowed_cidrs)
        return aws.ec2.SecurityGroup(
            f"{name}-sg",
            description=f"RDS Proxy of {server.owner}: private clients only",
            vpc_id=server.network.network_id,
            ingress=[
                {
                    "description": "PostgreSQL clients from private address space",
                    "protocol": "tcp",
                    "from_port": POSTGRES_PORT,
                    "to_port": POSTGRES_PORT,
                    "cidr_blocks": private,
                }
            ],
            egress=[
                {
                    "description": "to the Aurora cluster",
                    "protocol": "tcp",
                    "from_port": POSTGRES_PORT,
                    "to_port": POSTGRES_PORT,
                    "cidr_blocks": private,
                }
            ],
            revoke_rules_on_delete=True,
            region=server.region,
            tags=dict(server.tags),
            opts=child,
        )
