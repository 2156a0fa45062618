"""``tenancy tenant export|import``: one tenant's rows as a portable zip, and back.

The archive holds one CSV per model table (``COPY ... TO STDOUT WITH (FORMAT
csv, HEADER)``, rows ordered by primary key, ``tenant_id`` first) and
``manifest.json`` (tenant, tier, isolation, the server's marker, model version,
per table: columns, row count, sha256 of the CSV bytes and the order-independent
row checksum the mover uses; when; tool version). The layout is the same from
every tier, because the model is.

Memory stays flat: each table streams from COPY chunk by chunk into a zip
member (zipfile writes members of unknown size with a data descriptor), and
import streams the members back into COPY FROM STDIN.

A pool export reads in one REPEATABLE READ snapshot *as the tenant's role with
the tenant set* (``tenant_session``), so RLS cannot hand it a neighbour's row,
and checks the CSV's row count against a count of the same snapshot.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import os
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import IsolationLevel, sql

from components.postgres.datamodel import (
    TENANT_COLUMN,
    TenantHome,
    TenantTable,
    model_version,
    parents_first,
    tenant_role,
)
from components.postgres.session import tenant_session
from components.postgres.sqlplan import APP_ROLE, SETTING
from tenancy.tenant.chain import now_utc
from tenancy.tenant.errors import MoveInputError, VerificationFailed
from tenancy.tenant.freeze import join
from tenancy.tenant.rows import MOVE_WRITER, Place, checksums, create_stage, insert_from_stage
from tenancy.tenant.site import Site, read_site

FORMAT = "tenancy-export/1"
MANIFEST = "manifest.json"
TOOL_VERSION = "0.1.0"  # pyproject.toml's version
_CHUNK = 1 << 20

Say = Callable[[str], None]


@dataclass(frozen=True)
class Exported:
    path: Path
    sha256: str
    manifest: dict[str, Any]

    def summary(self) -> dict[str, Any]:
        """What the chain records of an export (no row data, no column lists)."""
        tables = self.manifest["tables"]
        return {
            "archive": self.path.name,
            "server": self.manifest["server"]["server"],
            "isolation": self.manifest["isolation"],
            "model_version": self.manifest["model_version"],
            "rows": {name: table["rows"] for name, table in tables.items()},
            "rows_total": sum(table["rows"] for table in tables.values()),
        }


def lives_here(conn: psycopg.Connection, tenant_id: str) -> bool:
    row = conn.execute(
        "SELECT state FROM tenancy_meta.homes WHERE tenant_id = %s", [tenant_id]
    ).fetchone()
    return bool(row and row[0] == "home")


def site_of(dsn: str, tenant_id: str, isolation: str, label: str) -> Site:
    site = read_site(dsn, label)
    if site.isolation != isolation:
        raise MoveInputError(
            f"{tenant_id}'s tier is {isolation} in the catalog, but {site.where} is a"
            f" {site.isolation} server: pass the DSN of the tenant's {isolation} server"
        )
    return site


# --- export ---------------------------------------------------------------------------------


def export_tenant(
    dsn: str, tenant_id: str, tier: str, isolation: str, out: Path, say: Say
) -> Exported:
    site = site_of(dsn, tenant_id, isolation, "source")
    home = site.home(tenant_id)
    with site.session() as conn:
        if not lives_here(conn, tenant_id):
            raise MoveInputError(f"tenant {tenant_id} does not live on {site.where}")
        if home.rls:
            join(conn, APP_ROLE)
            join(conn, tenant_role(tenant_id))
    partial = out.with_name(out.name + ".partial")
    try:
        with (
            site.session(home.database) as conn,
            zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        ):
            tables = _export_tables(conn, archive, home, tenant_id, site.model)
            manifest = _manifest(site, tenant_id, tier, tables)
            archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True) + "\n")
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    total = sum(t["rows"] for t in tables.values())
    say(f"exported {total} rows of {tenant_id} from {site.where} to {out}")
    return Exported(out, file_sha256(out), manifest)


def _manifest(
    site: Site, tenant_id: str, tier: str, tables: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "tenant": tenant_id,
        "tier": tier,
        "isolation": site.isolation,
        "server": {"server": site.server, "isolation": site.isolation, "cell": site.cell},
        "model_version": model_version(site.model),
        "tables": tables,
        "encoding": "UTF-8",
        "exported_at": now_utc(),
        "tool": {"name": "tenancy", "version": TOOL_VERSION},
    }


def _export_tables(
    conn: psycopg.Connection,
    archive: zipfile.ZipFile,
    home: TenantHome,
    tenant_id: str,
    model: tuple[TenantTable, ...],
) -> dict[str, dict[str, Any]]:
    place = Place(home, home.schema)
    # One snapshot for every table: the archive is one consistent moment of the tenant.
    conn.isolation_level = IsolationLevel.REPEATABLE_READ
    conn.read_only = True
    result: dict[str, dict[str, Any]] = {}
    with tenant_session(conn, tenant_id):
        _csv_settings(conn)
        for table in parents_first(model):
            if home.rls:  # the tenant's own role: RLS shows it its rows and nobody else's
                conn.execute(
                    sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(tenant_role(tenant_id)))
                )
            with archive.open(f"{table.name}.csv", "w", force_zip64=True) as member:
                digest, rows = _copy_out(conn, place, table, tenant_id, member)
            count, checksum = _count_and_checksum(conn, place, table, tenant_id)
            if rows != count:
                raise VerificationFailed(
                    f"{table.name}: the CSV holds {rows} rows, the source counts {count}"
                )
            result[table.name] = {
                "file": f"{table.name}.csv",
                "columns": list(table.column_names),
                "primary_key": list(table.primary_key),
                "rows": rows,
                "sha256": digest,
                "checksum": checksum,
            }
    conn.isolation_level = None
    conn.read_only = None
    return result


def _csv_settings(conn: psycopg.Connection) -> None:
    # The CSV's text must not depend on the session: same bytes from every server.
    for name, value in (
        ("client_encoding", "UTF8"),
        ("TimeZone", "UTC"),
        ("DateStyle", "ISO, YMD"),
        ("IntervalStyle", "iso_8601"),
        ("extra_float_digits", "3"),
    ):
        conn.execute("SELECT set_config(%s, %s, true)", [name, value])


def _select(place: Place, table: TenantTable, tenant_id: str) -> sql.Composed:
    return sql.SQL("SELECT {} FROM {} WHERE {} = {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names),
        place.table(table),
        sql.Identifier(TENANT_COLUMN),
        sql.Literal(tenant_id),
        sql.SQL(", ").join(sql.Identifier(c) for c in table.primary_key),
    )


def _copy_out(
    conn: psycopg.Connection, place: Place, table: TenantTable, tenant_id: str, sink: IO[bytes]
) -> tuple[str, int]:
    """Stream the table's CSV into ``sink``; returns (sha256, data rows parsed)."""
    digest = hashlib.sha256()

    def stream() -> Iterator[bytes]:
        query = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
            _select(place, table, tenant_id)
        )
        with conn.cursor().copy(query) as copy:
            for chunk in copy:
                data = bytes(chunk)
                digest.update(data)
                sink.write(data)
                yield data

    rows = _count_csv_rows(stream())
    return digest.hexdigest(), rows


def _lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """Text lines (with their ends) out of byte chunks, for csv.reader."""
    decoder = codecs.getincrementaldecoder("utf-8")()  # a chunk may end inside a character
    pending = ""
    for chunk in chunks:
        pending += decoder.decode(chunk)
        *complete, pending = pending.split("\n")
        for line in complete:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


def _count_csv_rows(chunks: Iterable[bytes]) -> int:
    # Counted by parsing, not by newlines: a quoted value may hold newlines.
    rows = sum(1 for _ in csv.reader(_lines(chunks)))
    return max(rows - 1, 0)  # minus the header


def _count_and_checksum(
    conn: psycopg.Connection, place: Place, table: TenantTable, tenant_id: str
) -> tuple[int, str]:
    """The mover's count and checksum, in the caller's transaction (a savepoint of it, so
    the export's snapshot); in a pool as the app role with the tenant set."""
    return checksums(conn, place, tenant_id, [table])[table.name]


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


# --- import ---------------------------------------------------------------------------------


def read_manifest(path: Path, tenant_id: str) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as archive:
            manifest = json.loads(archive.read(MANIFEST))
            names = set(archive.namelist())
    except FileNotFoundError:
        raise MoveInputError(f"{path}: no such file") from None
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as error:
        raise MoveInputError(
            f"{path} is not a tenancy export (a zip with {MANIFEST}): {error}"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise MoveInputError(f"{path}: {MANIFEST} is not of format {FORMAT}")
    if manifest.get("tenant") != tenant_id:
        raise MoveInputError(
            f"{path} is the export of tenant {manifest.get('tenant')!r}, not {tenant_id!r}"
        )
    missing = [t["file"] for t in manifest["tables"].values() if t["file"] not in names]
    if missing:
        raise MoveInputError(f"{path}: {MANIFEST} lists {', '.join(missing)}, the zip lacks it")
    return manifest


def import_tenant(dsn: str, tenant_id: str, isolation: str, path: Path, say: Say) -> dict[str, Any]:
    manifest = read_manifest(path, tenant_id)
    site = site_of(dsn, tenant_id, isolation, "target")
    home = site.home(tenant_id)
    _check_model(manifest, site, path)
    with site.session() as conn:
        if not lives_here(conn, tenant_id):
            raise MoveInputError(
                f"{site.where} is not {tenant_id}'s home (no tenancy_meta.homes row):"
                f" lay it out first (`tenancy db apply` with the tenant in the catalog)"
            )
        if home.rls:
            join(conn, APP_ROLE)
    place = Place(home, home.schema)
    with site.session(home.database) as conn:
        present = sum(n for n, _ in checksums(conn, place, tenant_id, site.model).values())
        if present:
            raise MoveInputError(
                f"{site.where} already holds {present} rows of {tenant_id}: import only into"
                " an empty home (erase or purge them first)"
            )
        with zipfile.ZipFile(path) as archive:
            loaded = _load(conn, archive, place, tenant_id, site.model, manifest)
    total = sum(loaded.values())
    say(f"imported {total} rows of {tenant_id} into {site.where}; checksums verified")
    return {"tenant": tenant_id, "server": site.server, "isolation": site.isolation, "rows": loaded}


def _check_model(manifest: dict[str, Any], site: Site, path: Path) -> None:
    ours = {t.name: list(t.column_names) for t in site.model}
    theirs = {name: t["columns"] for name, t in manifest["tables"].items()}
    if ours != theirs:
        raise MoveInputError(
            f"{path} was exported with model version {manifest.get('model_version')},"
            f" {site.where} has {model_version(site.model)} and other tables or columns:"
            " bring both to the same model (`tenancy db apply`) first"
        )


def _load(
    conn: psycopg.Connection,
    archive: zipfile.ZipFile,
    place: Place,
    tenant_id: str,
    model: tuple[TenantTable, ...],
    manifest: dict[str, Any],
) -> dict[str, int]:
    """All tables in one transaction, verified before it commits (all or nothing)."""
    ordered = parents_first(model)
    loaded: dict[str, int] = {}
    with conn.transaction():
        _csv_settings(conn)
        stages = {
            table.name: _stage(conn, archive, table, manifest["tables"][table.name])
            for table in ordered
        }
        if place.home.rls:  # the policy's WITH CHECK guards every row written into the pool
            conn.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(APP_ROLE)))
            conn.execute("SELECT set_config(%s, %s, true)", [SETTING, tenant_id])
            conn.execute("SELECT set_config(%s, %s, true)", [MOVE_WRITER, tenant_id])
        for table in ordered:
            loaded[table.name] = insert_from_stage(conn, place, table, stages[table.name])
        for table in ordered:
            _verify_loaded(conn, place, table, tenant_id, manifest["tables"][table.name])
    return loaded


def _stage(
    conn: psycopg.Connection, archive: zipfile.ZipFile, table: TenantTable, entry: dict[str, Any]
) -> sql.Identifier:
    """COPY FROM STDIN into the table's stage (COPY FROM is refused on RLS tables),
    checking the member's sha256 against the manifest on the way."""
    stage = create_stage(conn, table)
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in table.column_names)
    digest = hashlib.sha256()
    query = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, HEADER MATCH)").format(
        stage, columns
    )
    with archive.open(entry["file"]) as member, conn.cursor().copy(query) as copy:
        for block in iter(lambda: member.read(_CHUNK), b""):
            digest.update(block)
            copy.write(block)
    if digest.hexdigest() != entry["sha256"]:
        raise VerificationFailed(
            f"{entry['file']}: its sha256 is {digest.hexdigest()}, the manifest says"
            f" {entry['sha256']}: the archive was altered or damaged; nothing was imported"
        )
    return stage


def _verify_loaded(
    conn: psycopg.Connection,
    place: Place,
    table: TenantTable,
    tenant_id: str,
    entry: dict[str, Any],
) -> None:
    """Re-read what was loaded, in the export's order: the same CSV bytes, the same checksum."""
    digest = hashlib.sha256()
    query = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(
        _select(place, table, tenant_id)
    )
    with conn.cursor().copy(query) as copy:
        for chunk in copy:
            digest.update(bytes(chunk))
    count, checksum = _count_and_checksum(conn, place, table, tenant_id)
    if digest.hexdigest() != entry["sha256"] or (count, checksum) != (
        entry["rows"],
        entry["checksum"],
    ):
        raise VerificationFailed(
            f"{table.name}: after loading, {count} rows (checksum {checksum}, CSV sha256"
            f" {digest.hexdigest()}); the archive has {entry['rows']} rows (checksum"
            f" {entry['checksum']}, sha256 {entry['sha256']}); nothing was imported"
        )
