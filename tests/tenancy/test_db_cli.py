"""``tenancy db plan|apply`` end to end: output, exit codes, orphans, bad servers."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from tenancy.cli import main
from tests.support.pgserver import PgServer, free_port

pytestmark = pytest.mark.postgres

STACK = "dev-aws-eu-west-1"
TIERS = """
version: 1
residency_zones:
  eu: {aws: [eu-west-1]}
tiers:
  free:
    isolation: pool
    database: {min_capacity: 0.5, max_capacity: 8, backup_retention_days: 7, connection_limit: 15}
  standard:
    isolation: bridge
    database: {min_capacity: 1, max_capacity: 16, backup_retention_days: 14}
  enterprise:
    isolation: silo
    database: {min_capacity: 2, max_capacity: 64, backup_retention_days: 35}
tenants:
"""


def _catalog(tmp_path: Path, *tenants: tuple[str, str]) -> Path:
    entries = "".join(
        f"  - {{id: {tid}, name: {tid}, tier: {tier}, cloud: aws, region: eu-west-1, residency: eu}}\n"
        for tid, tier in tenants
    )
    path = tmp_path / "tenants.yaml"
    path.write_text(TIERS + entries)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["db", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_plan_prints_each_servers_sql(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = _catalog(
        tmp_path, ("cli-pa", "free"), ("cli-ba", "standard"), ("cli-sa", "enterprise")
    )
    code, out, _ = _run(capsys, "plan", "--stack", STACK, "--catalog", str(catalog))
    assert code == 0
    assert "-- server cli-sa (silo)" in out and "-- server free-01 (pool)" in out
    assert "-- server standard-01 (bridge)" in out
    assert 'CREATE ROLE "tenant_cli_pa" WITH LOGIN' in out and "CONNECTION LIMIT 15" in out
    assert "FORCE ROW LEVEL SECURITY" in out


def test_plan_of_one_shard(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = _catalog(tmp_path, ("cli-pa", "free"), ("cli-ba", "standard"))
    code, out, _ = _run(
        capsys, "plan", "--stack", STACK, "--shard", "standard-01", "--catalog", str(catalog)
    )
    assert code == 0 and "(bridge)" in out and "(pool)" not in out


def test_plan_unknown_shard_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = _catalog(tmp_path, ("cli-pa", "free"))
    code, _, err = _run(
        capsys, "plan", "--stack", STACK, "--shard", "free-09", "--catalog", str(catalog)
    )
    assert code == 2 and "no server 'free-09'; its servers: free-01" in err


def test_invalid_catalog_exits_2_with_its_issues(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = _catalog(tmp_path, ("cli-pa", "gold"))
    code, _, err = _run(capsys, "plan", "--stack", STACK, "--catalog", str(catalog))
    assert code == 2 and "tenants[0].tier" in err and "unknown tier 'gold'" in err


def test_bad_stack_name_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "plan", "--stack", "not-a-cell")
    assert code == 2 and "not a cell name" in err


def test_apply_with_malformed_dsn_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = _catalog(tmp_path, ("cli-pa", "free"))
    code, _, err = _run(
        capsys, "apply", "--dsn", "host=x bogus", "--stack", STACK, "--catalog", str(catalog)
    )
    assert code == 2 and "invalid --dsn" in err and "Traceback" not in err


def test_apply_to_unreachable_server_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = _catalog(tmp_path, ("cli-pa", "free"))
    dsn = f"host=127.0.0.1 port={free_port()} user=admin password=s3cret connect_timeout=2"
    code, _, err = _run(capsys, "apply", "--dsn", dsn, "--stack", STACK, "--catalog", str(catalog))
    assert code == 2 and "cannot connect to admin@127.0.0.1" in err and "s3cret" not in err


def test_apply_needs_a_shard_when_the_stack_has_several_servers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg: PgServer
) -> None:
    catalog = _catalog(tmp_path, ("cli-pa", "free"), ("cli-ba", "standard"))
    code, _, err = _run(
        capsys, "apply", "--dsn", pg.dsn(), "--stack", STACK, "--catalog", str(catalog)
    )
    assert code == 2 and "--shard is required" in err and "free-01, standard-01" in err


def test_apply_reports_changes_then_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], new_database: Callable[[str], str]
) -> None:
    dsn = new_database("cli_apply")
    catalog = _catalog(tmp_path, ("cli-ba", "standard"), ("cli-bb", "standard"))
    args = (
        "apply",
        "--dsn",
        dsn,
        "--stack",
        STACK,
        "--shard",
        "standard-01",
        "--catalog",
        str(catalog),
    )
    code, out, _ = _run(capsys, *args)
    assert code == 0 and "changed  [cli-ba] create schema tenant_cli_ba" in out
    code, out, _ = _run(capsys, *args)
    assert code == 0 and "\n0 changed," in "\n" + out


def test_apply_reports_removed_tenant_as_orphan_and_keeps_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], new_database: Callable[[str], str]
) -> None:
    dsn = new_database("cli_orphan")
    base = ("apply", "--dsn", dsn, "--stack", STACK, "--shard", "standard-01")
    _run(
        capsys,
        *base,
        "--catalog",
        str(_catalog(tmp_path, ("cli-oa", "standard"), ("cli-ob", "standard"))),
    )
    shrunk = str(_catalog(tmp_path, ("cli-oa", "standard")))
    code, out, _ = _run(capsys, *base, "--catalog", shrunk)
    assert (
        code == 0
        and "orphan: schema tenant_cli_ob (tenant cli-ob)" in out
        and "kept with its data" in out
    )
    code, _, _ = _run(capsys, *base, "--catalog", shrunk, "--fail-on-orphans")
    assert code == 1
    with psycopg.connect(dsn) as admin:
        kept = admin.execute(
            "SELECT count(*) FROM pg_namespace WHERE nspname = 'tenant_cli_ob'"
        ).fetchone()
    assert kept == (1,)


def test_module_entry_point_runs(tmp_path: Path) -> None:
    catalog = _catalog(tmp_path, ("cli-pa", "free"))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tenancy",
            "db",
            "plan",
            "--stack",
            STACK,
            "--catalog",
            str(catalog),
        ],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0 and "-- server free-01 (pool)" in result.stdout


@pytest.mark.parametrize("value", ["0", "17", "four", "-1"])
def test_apply_refuses_a_connection_count_outside_1_to_16(
    value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = _catalog(tmp_path, ("cli-pa", "free"))
    argv = ["db", "apply", "--stack", STACK, "--catalog", str(catalog), "--dsn", "host=x"]
    with pytest.raises(SystemExit) as stopped:
        main([*argv, f"--connections={value}"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2
    assert f"'{value}' is not a number of connections: give 1 to 16" in err
    assert "Traceback" not in err
