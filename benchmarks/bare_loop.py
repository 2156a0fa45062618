"""Baseline for the planning benchmark: raw pulumi-aws resources, no components.

`bare_loop_program(n)` registers n resources cycling through a KMS key, an
Aurora cluster parameter group, an Aurora cluster (wired to the key and the
parameter group) and a cluster instance, so the per-resource cost of a tenant
plan can be compared with the SDK + mock engine cost alone.

Run directly to time it:  python -m benchmarks.bare_loop [N ...]
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Callable

import pulumi
import pulumi_aws as aws

# One "group" registers these four resources.
GROUP_SIZE = 4


def _register_group(i: int, remaining: int) -> None:
    name = f"bare-{i:05d}"
    tags = {"tenant": name, "tier": "silo", "managed-by": "pulumi"}
    key = aws.kms.Key(
        f"{name}-key",
        description=f"Data key for {name}",
        enable_key_rotation=True,
        deletion_window_in_days=30,
        tags=tags,
    )
    if remaining == 1:
        return
    params = aws.rds.ClusterParameterGroup(
        f"{name}-params",
        family="aurora-postgresql16",
        description=f"Parameters for {name}",
        parameters=[
            aws.rds.ClusterParameterGroupParameterArgs(name="rds.force_ssl", value="1"),
            aws.rds.ClusterParameterGroupParameterArgs(
                name="log_min_duration_statement", value="500"
            ),
        ],
        tags=tags,
    )
    if remaining == 2:
        return
    cluster = aws.rds.Cluster(
        f"{name}-cluster",
        engine="aurora-postgresql",
        engine_version="16.4",
        database_name="app",
        master_username="app_admin",
        manage_master_user_password=True,
        storage_encrypted=True,
        kms_key_id=key.arn,
        db_cluster_parameter_group_name=params.name,
        backup_retention_period=14,
        preferred_backup_window="03:00-04:00",
        deletion_protection=True,
        copy_tags_to_snapshot=True,
        skip_final_snapshot=False,
        final_snapshot_identifier=f"{name}-final",
        iam_database_authentication_enabled=True,
        tags=tags,
    )
    if remaining == 3:
        return
    aws.rds.ClusterInstance(
        f"{name}-instance-1",
        cluster_identifier=cluster.id,
        instance_class="db.r6g.large",
        engine=cluster.engine,
        engine_version=cluster.engine_version,
        publicly_accessible=False,
        performance_insights_enabled=True,
        tags=tags,
    )


def bare_loop_program(n_resources: int) -> Callable[[], None]:
    """A Pulumi program registering exactly `n_resources` raw pulumi-aws resources."""

    def program() -> None:
        for i in range(0, n_resources, GROUP_SIZE):
            _register_group(i // GROUP_SIZE, min(GROUP_SIZE, n_resources - i))
        pulumi.export("resources", n_resources)

    return program


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def main(sizes: list[int]) -> None:
    from tenancy.engine import capture

    config = {"aws:region": "eu-west-1"}
    for n in sizes:
        start = time.perf_counter()
        result = capture(bare_loop_program(n), project="bench", stack="bare", config=config)
        seconds = time.perf_counter() - start
        count = len(result.resources)
        print(
            f"N={n}: {seconds:.2f}s, {count} resources, "
            f"{seconds * 1000 / count:.3f} ms/resource, peak RSS {_peak_rss_mb():.0f} MiB"
        )


if __name__ == "__main__":
    main([int(arg) for arg in sys.argv[1:]] or [1000, 10000])
