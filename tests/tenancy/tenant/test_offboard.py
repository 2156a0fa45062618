"""``tenancy tenant export|import|erase`` and ``tenancy evidence verify`` on real PostgreSQL 15.

Server A holds one tenant to offboard and one neighbour per tier: pool shard
free-01 (database pooldb: ``opa`` leaves, ``opn`` stays), bridge shard
standard-01 (bridgedb: ``oba`` leaves, ``obn`` stays, plus ``obx`` with no
export and ``ohold`` under legal hold), silo servers for ``osa`` (leaves) and
``osn`` (stays). Server B is the fresh server the exports come back to, each
on another tier. Everything runs as the non-superuser admin; the superuser
only looks, independently, for traces (it sees through RLS).
"""

from __future__ import annotations

import csv
import io
import json
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from components.postgres.datamodel import DEFAULT_MODEL
from components.postgres.session import tenant_session
from tenancy.tenant import chain
from tests.support.pgserver import PgServer, start_server
from tests.tenancy.tenant.movekit import (
    CATALOG_HEAD,
    STACK,
    add_admin,
    lay_out,
    run_cli,
    seed,
    superuser_dsn,
    tenant_dsn,
    tenant_sums,
)

pytestmark = pytest.mark.postgres

# tenant -> (tier on server A, status, extra catalog fields)
LEAVING = {"opa": "free", "oba": "standard", "osa": "enterprise"}
STAYING = {"opn": "free", "obn": "standard", "osn": "enterprise"}
# Where each leaver's export is imported on server B: another tier each.
NEW_TIER = {"opa": "standard", "oba": "enterprise", "osa": "free"}
ISOLATION = {"free": "pool", "standard": "bridge", "enterprise": "silo"}


def _catalog(
    path: Path, tiers: dict[str, str], status: dict[str, str], extra: dict[str, str]
) -> Path:
    lines = [
        f"  - {{id: {tid}, name: {tid}, tier: {tier}, cloud: aws, region: eu-west-1,"
        f" residency: eu, status: {status.get(tid, 'active')}{extra.get(tid, '')}}}\n"
        for tid, tier in tiers.items()
    ]
    path.write_text(CATALOG_HEAD + "".join(lines))
    return path


@dataclass
class Offboarding:
    a: PgServer
    b: PgServer
    dsn: dict[str, str]  # tenant -> admin DSN of its server on A
    new_dsn: dict[str, str]  # leaver -> admin DSN of its new home on B
    catalog: Path
    new_catalog: Path
    chain: Path
    work: Path

    def cli(self, *argv: str) -> tuple[int, str, str]:
        result = run_cli(*argv)
        return result.returncode, result.stdout, result.stderr

    def export(self, tid: str) -> tuple[int, str, str]:
        return self.cli(
            "tenant", "export", tid, "--stack", STACK, "--catalog", str(self.catalog),
            "--dsn", self.dsn[tid], "-o", str(self.work / f"{tid}.zip"), "--chain", str(self.chain),
        )  # fmt: skip

    def erase(self, tid: str, *extra: str, run: str = "") -> tuple[int, str, str]:
        return self.cli(
            "tenant", "erase", tid, "--stack", STACK, "--catalog", str(self.catalog),
            "--dsn", self.dsn[tid], "--evidence", str(self.work / f"{tid}-erasure{run}.json"),
            "--chain", str(self.chain), *extra,
        )  # fmt: skip


@pytest.fixture(scope="module")
def off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Offboarding]:
    a, b = start_server(), start_server()
    work = tmp_path_factory.mktemp("offboard")
    try:
        for server in (a, b):
            add_admin(server)
        pool = lay_out(a, "pooldb", "free-01", "pool", ["opa", "opn"])
        bridged = ["oba", "obn", "obx", "ohold", "ostray"]
        bridge = lay_out(a, "bridgedb", "standard-01", "bridge", bridged)
        dsn = {"opa": pool, "opn": pool, **{tid: bridge for tid in bridged}}
        for tid in ("osa", "osn"):
            dsn[tid] = lay_out(a, f"silo_{tid}", tid, "silo", [tid])
        new_dsn = {
            "opa": lay_out(b, "bridgedb", "standard-01", "bridge", ["opa"]),
            "oba": lay_out(b, "silo_oba", "oba", "silo", ["oba"]),
            "osa": lay_out(b, "pooldb", "free-01", "pool", ["osa"]),
            "obn": lay_out(b, "bridge2", "standard-02", "bridge", ["obn"]),  # an empty home
        }
        tiers = {**LEAVING, **STAYING, **{tid: "standard" for tid in ("obx", "ohold", "ostray")}}
        for tid, tier in tiers.items():
            seed(dsn[tid], ISOLATION[tier], tid, documents=12)
        for tid in LEAVING:  # what CSV must quote: newlines, commas, quotes, non-ASCII
            _tricky_row(dsn[tid], ISOLATION[tiers[tid]], tid)
        status = {tid: "offboarded" for tid in (*LEAVING, "obx", "ohold", "ostray")}
        hold = {"ohold": ", legal_hold: true, legal_hold_reason: 'case 2026-17 (litigation)'"}
        yield Offboarding(
            a, b, dsn, new_dsn,
            _catalog(work / "catalog.yaml", tiers, status, hold),
            _catalog(work / "new-catalog.yaml", NEW_TIER, {}, {}),
            work / "evidence" / "chain.jsonl", work,
        )  # fmt: skip
    finally:
        a.stop()
        b.stop()


TRICKY = 'line one\nline two, with "quotes", a comma and ünïcödé ✓'


def _tricky_row(site_dsn: str, isolation: str, tid: str) -> None:
    table = "app.documents" if isolation != "bridge" else f"tenant_{tid}.documents"
    with psycopg.connect(tenant_dsn(site_dsn, isolation, tid)) as conn, tenant_session(conn, tid):
        conn.execute(
            f"INSERT INTO {table} (tenant_id, title, body) VALUES (%s, '', %s)", [tid, TRICKY]
        )


def traces(server: PgServer, tid: str) -> list[str]:
    """Every trace of the tenant on the server, found by the superuser (it bypasses RLS)."""
    role = f"tenant_{tid}"
    found: list[str] = []
    with psycopg.connect(superuser_dsn(server, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT FROM pg_roles WHERE rolname = %s", [role]).fetchone():
            found.append(f"pg_roles {role}")
        if conn.execute("SELECT FROM pg_database WHERE datname = %s", [role]).fetchone():
            found.append(f"pg_database {role}")
        databases = [
            r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datallowconn")
        ]
    for database in databases:
        with psycopg.connect(superuser_dsn(server, database), autocommit=True) as conn:
            if conn.execute("SELECT FROM pg_namespace WHERE nspname = %s", [role]).fetchone():
                found.append(f"pg_namespace {database}.{role}")
            tables = conn.execute(
                "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.columns"
                " WHERE column_name = 'tenant_id' AND table_schema NOT IN"
                " ('pg_catalog', 'information_schema')"
            ).fetchall()
            for (table,) in tables:
                row = conn.execute(
                    f"SELECT count(*) FROM {table} WHERE tenant_id::text = %s", [tid]
                ).fetchone()
                if row and row[0]:
                    found.append(f"{database}.{table}: {row[0]} rows")
    return found


def _sums(off: Offboarding, tid: str, tier: str) -> dict[str, tuple[int, str]]:
    return tenant_sums(off.dsn[tid], ISOLATION[tier], tid)


@pytest.mark.parametrize("tid", list(LEAVING))
def test_export_erase_import_elsewhere_round_trips_and_leaves_no_trace(
    off: Offboarding, tid: str
) -> None:
    tier = LEAVING[tid]
    before = _sums(off, tid, tier)
    neighbours = {n: _sums(off, n, t) for n, t in STAYING.items()}
    code, out, err = off.export(tid)
    assert code == 0, err
    archive = off.work / f"{tid}.zip"
    recorded = chain.latest(chain.read_entries(off.chain), "export", tid)
    assert recorded is not None and recorded["content_sha256"] == json.loads(out)["sha256"]
    with zipfile.ZipFile(archive) as z:
        manifest = json.loads(z.read("manifest.json"))
        assert sorted(z.namelist()) == ["comments.csv", "documents.csv", "manifest.json"]
        documents = z.read("documents.csv").decode()
    assert manifest["isolation"] == ISOLATION[tier] and manifest["tier"] == tier
    assert {n: (t["rows"], t["checksum"]) for n, t in manifest["tables"].items()} == before
    rows = list(csv.reader(io.StringIO(documents)))
    assert rows[0][:2] == ["tenant_id", "id"]
    assert {row[0] for row in rows[1:]} == {tid}  # no neighbour's row
    assert len(rows) - 1 == manifest["tables"]["documents"]["rows"] == 13
    assert TRICKY in {row[rows[0].index("body")] for row in rows[1:]}

    code, out, err = off.erase(tid, "--yes")
    assert code == 0, err
    assert traces(off.a, tid) == []
    assert {n: _sums(off, n, t) for n, t in STAYING.items()} == neighbours
    evidence = json.loads((off.work / f"{tid}-erasure.json").read_text())
    assert evidence["outcome"] == "erased" and evidence["checks_found_nothing"] is True
    assert evidence["export"]["archive"] == f"{tid}.zip"
    removed = {
        t["name"].split(".")[-1]: (t["before"], t["after"])
        for t in evidence["removed"]
        if t["kind"] == "rows"
    }
    assert removed == {name: (count, 0) for name, (count, _) in before.items()}
    markdown = (off.work / f"{tid}-erasure.md").read_text()
    assert evidence["content_sha256"] in markdown and "found no trace" in markdown
    assert evidence["remaining"]["crypto_shredding"] is (tier == "enterprise")
    if tier == "enterprise":  # the silo key's destruction, from the erasure schedule
        assert "AWS KMS ScheduleKeyDeletion" in markdown
        assert evidence["remaining"]["key"]["destroyed_on"] <= evidence["remaining"]["fully_erased"]
    if tier == "free":  # batched: one log entry per table, with its transactions
        deletes = [s for s in evidence["statements"] if s["sql"].startswith('DELETE FROM "app"')]
        assert [d["rows"] for d in deletes] == [before["comments"][0], before["documents"][0]]
        assert all(d["batches"] >= 2 for d in deletes)
        assert any(s["sql"].startswith("VACUUM") for s in evidence["statements"])

    new_tier = NEW_TIER[tid]
    code, out, err = off.cli(
        "tenant", "import", tid, "--stack", STACK, "--catalog", str(off.new_catalog),
        "--dsn", off.new_dsn[tid], str(archive),
    )  # fmt: skip
    assert code == 0, err
    assert tenant_sums(off.new_dsn[tid], ISOLATION[new_tier], tid) == before


def test_second_erase_is_a_no_op_and_the_evidence_says_so(off: Offboarding) -> None:
    if chain.latest(chain.read_entries(off.chain), "erasure", "opa") is None:  # run alone (-k)
        assert off.export("opa")[0] == 0 and off.erase("opa", "--yes")[0] == 0
    code, out, err = off.erase("opa", "--yes")
    assert (
        code == 2 and "exists: give --evidence a new file" in err
    )  # evidence is never overwritten
    code, out, err = off.erase("opa", "--yes", run="-2")
    assert code == 0, err
    evidence = json.loads((off.work / "opa-erasure-2.json").read_text())
    assert evidence["outcome"].startswith("nothing to erase")
    assert evidence["statements"] == []
    assert all(t["before"] == 0 and t["after"] == 0 for t in evidence["removed"])
    assert "nothing to run" in (off.work / "opa-erasure-2.md").read_text()


def _state(off: Offboarding, tid: str) -> tuple[object, ...]:
    return (
        _sums(off, tid, "standard"),
        traces(off.a, tid),
        off.chain.read_bytes() if off.chain.exists() else b"",
    )


@pytest.mark.parametrize(
    ("tid", "why"),
    [
        ("ohold", "legal hold (case 2026-17"),
        ("obn", "obn is active in the catalog"),
        ("obx", "records no export of obx"),
    ],
)
def test_erase_refuses_and_changes_nothing(off: Offboarding, tid: str, why: str) -> None:
    if tid == "ohold":
        assert off.export(tid)[0] == 0  # an export does not lift the hold
    before = _state(off, tid)
    code, _, err = off.erase(tid, "--yes")
    assert code == 1 and why in err, err
    assert _state(off, tid) == before
    assert not (off.work / f"{tid}-erasure.json").exists()


def test_erase_without_confirmation_on_a_non_terminal_refuses(off: Offboarding) -> None:
    before = _state(off, "obx")
    code, _, err = off.erase("obx", "--without-export", "contract: customer declined its copy")
    assert code == 1 and "not confirmed" in err
    assert _state(off, "obx") == before


def test_erase_without_export_records_the_reason(off: Offboarding) -> None:
    code, out, err = off.erase("obx", "--yes", "--without-export", "customer declined its copy")
    assert code == 0, err
    assert json.loads(out)["catalog"]["erasure"]["evidence"] == str(off.work / "obx-erasure.json")
    evidence = json.loads((off.work / "obx-erasure.json").read_text())
    assert evidence["export"] == {"waived": "customer declined its copy"}
    assert traces(off.a, "obx") == []
    markdown = (off.work / "obx-erasure.md").read_text()
    for cited in (
        "GDPR Art. 17",
        "GDPR Art. 28(3)(g)",
        "ISO/IEC 27001:2022 A.8.10",
        "no crypto-shredding",
    ):
        assert cited in markdown
    assert evidence["remaining"]["crypto_shredding"] is False
    code, out, _ = off.cli("evidence", "verify", "--chain", str(off.chain))
    assert code == 0 and json.loads(out)["entries"] == len(off.chain.read_text().splitlines())


def test_import_refuses_a_home_that_holds_rows_and_a_damaged_archive(off: Offboarding) -> None:
    assert off.export("obn")[0] == 0
    archive = off.work / "obn.zip"
    code, _, err = off.cli(
        "tenant", "import", "obn", "--stack", STACK, "--catalog", str(off.catalog),
        "--dsn", off.dsn["obn"], str(archive),
    )  # fmt: skip
    assert code == 2 and "already holds 24 rows of obn" in err
    damaged = off.work / "damaged.zip"
    with zipfile.ZipFile(archive) as src, zipfile.ZipFile(damaged, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(
                name, data.replace(b"doc 3", b"doc 9") if name == "documents.csv" else data
            )
    into_b = ("--stack", STACK, "--catalog", str(off.catalog), "--dsn", off.new_dsn["obn"])
    code, _, err = off.cli("tenant", "import", "obn", *into_b, str(damaged))
    assert code == 1 and "altered or damaged" in err, err
    assert sum(n for n, _ in tenant_sums(off.new_dsn["obn"], "bridge", "obn").values()) == 0
    code, _, err = off.cli("tenant", "import", "opa", *into_b, str(archive))
    assert code == 2 and "export of tenant 'obn'" in err
    code, _, err = off.cli("tenant", "import", "obn", *into_b, str(archive))
    assert code == 0, err
    assert tenant_sums(off.new_dsn["obn"], "bridge", "obn") == _sums(off, "obn", "standard")


def test_model_tables_are_the_archive_tables() -> None:
    assert {t.name for t in DEFAULT_MODEL} == {"documents", "comments"}


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "confirmed"), [("opa\n", True), ("yes\n", False), ("", False)])
def test_confirmation_at_a_terminal_needs_the_tenant_id(
    monkeypatch: pytest.MonkeyPatch, typed: str, confirmed: bool
) -> None:
    from tenancy.commands.tenant import _confirmation

    monkeypatch.setattr(sys, "stdin", _Terminal(typed))
    assert _confirmation(False, "opa")("erase opa from …") is confirmed
    assert _confirmation(True, "opa")("erase opa from …") is True


def test_a_trace_left_elsewhere_or_a_table_it_cannot_read_fails_the_checks(
    off: Offboarding,
) -> None:
    """A hand-made copy in another database, and a table the admin may not read: exit 1."""
    with psycopg.connect(superuser_dsn(off.a, "postgres"), autocommit=True) as conn:
        conn.execute("CREATE DATABASE strays")
    try:
        with psycopg.connect(superuser_dsn(off.a, "strays"), autocommit=True) as conn:
            conn.execute("CREATE TABLE copied (tenant_id text, note text)")
            conn.execute("INSERT INTO copied VALUES ('ostray', 'a copy someone made by hand')")
            conn.execute("GRANT SELECT ON copied TO admin")
            conn.execute("CREATE TABLE hidden (tenant_id text)")  # no grant: admin cannot look
        code, out, err = off.erase("ostray", "--yes", "--without-export", "test of the checks")
        assert code == 1 and "the checks after erasure found traces" in err
        evidence = json.loads((off.work / "ostray-erasure.json").read_text())
        assert evidence["checks_found_nothing"] is False
        flagged = {(c["database"], c["where"].split(":")[0], c["found"]) for c in evidence["checks"]
                   if c["found"] != 0}  # fmt: skip
        assert flagged == {("strays", "public.copied", 1), ("strays", "public.hidden", None)}
        markdown = (off.work / "ostray-erasure.md").read_text()
        assert "did NOT come back clean" in markdown and "not verifiable" in markdown
        assert traces(off.a, "ostray") == ["strays.public.copied: 1 rows"]  # the rest is gone
    finally:
        with psycopg.connect(superuser_dsn(off.a, "postgres"), autocommit=True) as conn:
            conn.execute("DROP DATABASE strays WITH (FORCE)")


def test_bad_input_exits_2_and_names_the_problem(off: Offboarding) -> None:
    common = ("--stack", STACK, "--catalog", str(off.catalog))
    cases = [
        (("export", "nobody", "--dsn", off.dsn["opn"], "-o", str(off.work / "x.zip")),
         "'nobody' is not in the catalog"),
        (("export", "opn", "--dsn", off.dsn["obn"], "-o", str(off.work / "x.zip")),
         "pass the DSN of the tenant's pool server"),
        (("export", "opn", "--dsn", off.dsn["opn"], "-o", str(off.work / "no" / "x.zip")),
         "does not exist"),
        (("import", "opn", "--dsn", off.dsn["opn"], str(off.work / "missing.zip")),
         "no such file"),
        (("erase", "obx", "--dsn", "host=127.0.0.1 port=1 user=admin dbname=x",
          "--evidence", str(off.work / "never.json"), "--yes", "--without-export", "r",
          "--chain", str(off.chain)),
         "cannot connect"),
    ]  # fmt: skip
    chain_before = off.chain.read_bytes() if off.chain.exists() else b""
    for argv, message in cases:
        code, _, err = off.cli("tenant", argv[0], argv[1], *common, *argv[2:])
        assert code == 2 and message in err, (argv, err)
        assert "Traceback" not in err
    assert not (off.work / "x.zip").exists() and not (off.work / "never.json").exists()
    assert (off.chain.read_bytes() if off.chain.exists() else b"") == chain_before
