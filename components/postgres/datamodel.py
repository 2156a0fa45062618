"""The tenant data model: the application's tables, laid out the same way in every tier.

One definition, three homes (see docs/tenant-moves.md):

- pool: ``app.<table>`` in the shard's database, shared by its tenants, RLS on;
- bridge: ``tenant_<id>.<table>`` in the shard's database (the tenant's schema);
- silo: ``app.<table>`` in the tenant's own database ``tenant_<id>``.

The columns and keys are identical everywhere, so the application's queries do
not change with the tier and a move between tiers is a plain row copy.

Every table gets a ``tenant_id text`` column first, and every key and index
must lead with it. In the pool it defaults from the transaction's
``tenancy.tenant_id`` setting; in bridge and silo it defaults to the tenant's
id and a CHECK pins it there. Why tenant_id leads every key: the RLS predicate
``tenant_id = <setting>`` becomes an index condition instead of a filter over
other tenants' rows; a unique key without tenant_id would let one tenant probe
for another's values through unique-violation errors; foreign keys are checked
by PostgreSQL *without* RLS, so only a composite ``(tenant_id, ...)`` reference
keeps a child row from pointing at another tenant's parent; and a logical
replication row filter on tenant_id needs tenant_id in the replica identity
(the primary key), or UPDATE/DELETE of *every* tenant of the table fails
while the publication exists.

Column types and defaults are SQL snippets written by engineers in code (never
catalog input); names are always quoted with ``psycopg.sql.Identifier``.
Pure: no Pulumi, no connection.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

MODEL_SCHEMA = "app"  # the pool's shared schema, and the silo database's schema
TENANT_COLUMN = "tenant_id"
TENANT_PREFIX = "tenant_"

Isolation = Literal["pool", "bridge", "silo"]


def tenant_role(tenant_id: str) -> str:
    """``o-brien`` -> ``tenant_o_brien``; injective because ids have no underscores."""
    return TENANT_PREFIX + tenant_id.replace("-", "_")


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # SQL type, e.g. "text", "timestamptz"
    default: str | None = None  # SQL expression; None means no default
    not_null: bool = True


@dataclass(frozen=True)
class ForeignKey:
    """A reference to another model table; must include tenant_id first (see module doc)."""

    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "CASCADE"  # CASCADE | RESTRICT | NO ACTION

    def constraint_name(self, table: str) -> str:
        # PostgreSQL's own default name, spelled out so a move can re-create it exactly.
        return f"{table}_{'_'.join(self.columns)}_fkey"[:63]


@dataclass(frozen=True)
class TenantTable:
    """One table of the tenant data model; tenant_id is added by the planner, not listed here."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = (TENANT_COLUMN, "id")
    indexes: tuple[tuple[str, ...], ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = field(default=())

    def __post_init__(self) -> None:
        names = [column.name for column in self.columns]
        if TENANT_COLUMN in names:
            raise ValueError(f"{self.name}: do not list {TENANT_COLUMN}; the planner adds it")
        keys = [self.primary_key, *self.indexes]
        keys += [fk.columns for fk in self.foreign_keys] + [
            fk.ref_columns for fk in self.foreign_keys
        ]
        for key in keys:
            if not key or key[0] != TENANT_COLUMN:
                raise ValueError(f"{self.name}: key {key} must lead with {TENANT_COLUMN}")
        if self.foreign_keys and any(
            fk.on_delete not in ("CASCADE", "RESTRICT", "NO ACTION") for fk in self.foreign_keys
        ):
            raise ValueError(f"{self.name}: on_delete must be CASCADE, RESTRICT or NO ACTION")

    @property
    def column_names(self) -> tuple[str, ...]:
        """Every column in table order, tenant_id first (what a row copy lists)."""
        return (TENANT_COLUMN, *(column.name for column in self.columns))

    def index_name(self, columns: tuple[str, ...]) -> str:
        return f"{self.name}_{'_'.join(columns)}_idx"

    def check_name(self) -> str:
        return f"{self.name}_tenant_pinned"


_UUID = Column("id", "uuid", "gen_random_uuid()")
_CREATED = Column("created_at", "timestamptz", "now()")

# A small, realistic default: documents with comments. uuid keys rather than a
# shared sequence, whose values would leak other tenants' write volume.
DEFAULT_MODEL: tuple[TenantTable, ...] = (
    TenantTable(
        name="documents",
        columns=(
            _UUID,
            Column("title", "text"),
            Column("body", "text", "''"),
            _CREATED,
            Column("updated_at", "timestamptz", "now()"),
        ),
        indexes=((TENANT_COLUMN, "created_at"),),
    ),
    TenantTable(
        name="comments",
        columns=(
            _UUID,
            Column("document_id", "uuid"),
            Column("author", "text"),
            Column("body", "text"),
            _CREATED,
        ),
        indexes=((TENANT_COLUMN, "document_id"),),
        foreign_keys=(
            ForeignKey((TENANT_COLUMN, "document_id"), "documents", (TENANT_COLUMN, "id")),
        ),
    ),
)


@dataclass(frozen=True)
class TenantHome:
    """Where one tenant's copy of the model lives on its server."""

    isolation: Isolation
    schema: str
    database: str | None  # None: the server's admin database (the DSN's); silo: its own
    pinned: str | None  # the tenant id bridge/silo pin with a CHECK; None in the pool

    @property
    def rls(self) -> bool:
        return self.isolation == "pool"


def home_of(isolation: Isolation, tenant_id: str) -> TenantHome:
    if isolation == "pool":
        return TenantHome("pool", MODEL_SCHEMA, None, None)
    if isolation == "bridge":
        return TenantHome("bridge", tenant_role(tenant_id), None, tenant_id)
    return TenantHome("silo", MODEL_SCHEMA, tenant_role(tenant_id), tenant_id)


def parents_first(tables: Sequence[TenantTable]) -> tuple[TenantTable, ...]:
    """Tables ordered so every foreign key points at an earlier table (row copies need it)."""
    by_name = {table.name: table for table in tables}
    ordered: list[TenantTable] = []

    def visit(table: TenantTable, path: tuple[str, ...]) -> None:
        if table in ordered:
            return
        if table.name in path:
            raise ValueError(f"foreign keys form a cycle through {' -> '.join(path)}")
        for fk in table.foreign_keys:
            if fk.table != table.name and fk.table in by_name:
                visit(by_name[fk.table], (*path, table.name))
        ordered.append(table)

    for table in tables:
        visit(table, ())
    return tuple(ordered)


def table_to_dict(table: TenantTable) -> dict[str, object]:
    """Plain data for Pulumi inputs and the server marker (both rebuild the model from it)."""
    return {
        "name": table.name,
        "columns": [[c.name, c.type, c.default, c.not_null] for c in table.columns],
        "primaryKey": list(table.primary_key),
        "indexes": [list(index) for index in table.indexes],
        "foreignKeys": [
            [list(fk.columns), fk.table, list(fk.ref_columns), fk.on_delete]
            for fk in table.foreign_keys
        ],
    }


def table_from_dict(data: dict[str, object]) -> TenantTable:
    columns = tuple(Column(n, t, d, bool(nn)) for n, t, d, nn in data["columns"])  # type: ignore[attr-defined]
    fks = tuple(
        ForeignKey(tuple(cols), str(ref), tuple(ref_cols), str(on_delete))
        for cols, ref, ref_cols, on_delete in data["foreignKeys"]  # type: ignore[attr-defined]
    )
    return TenantTable(
        name=str(data["name"]),
        columns=columns,
        primary_key=tuple(data["primaryKey"]),  # type: ignore[arg-type]
        indexes=tuple(tuple(index) for index in data["indexes"]),  # type: ignore[attr-defined]
        foreign_keys=fks,
    )


def model_json(tables: Sequence[TenantTable]) -> str:
    """Canonical JSON of the model, as the server marker records it."""
    return json.dumps([table_to_dict(t) for t in tables], sort_keys=True, separators=(",", ":"))


def model_version(tables: Sequence[TenantTable]) -> str:
    return hashlib.sha256(model_json(tables).encode()).hexdigest()[:12]


def destructive_changes(old: Sequence[TenantTable], new: Sequence[TenantTable]) -> list[str]:
    """What going from ``old`` to ``new`` would destroy or break; empty when purely additive.

    Additive (applied by ``db apply`` in every tier): a new table, a new column
    that is nullable or has a default, a new index. Everything else loses data
    or fails on existing rows, so it needs a hand-written migration.
    """
    changes: list[str] = []
    new_by_name = {table.name: table for table in new}
    for before in old:
        after = new_by_name.get(before.name)
        if after is None:
            changes.append(f"table {before.name} dropped")
            continue
        changes += _table_changes(before, after)
    return changes


def _table_changes(before: TenantTable, after: TenantTable) -> list[str]:
    name = before.name
    changes: list[str] = []
    if before.primary_key != after.primary_key:
        changes.append(
            f"primary key of {name} changed from ({', '.join(before.primary_key)})"
            f" to ({', '.join(after.primary_key)})"
        )
    after_columns = {column.name: column for column in after.columns}
    before_names = {column.name for column in before.columns}
    for column in before.columns:
        new = after_columns.get(column.name)
        if new is None:
            changes.append(f"column {name}.{column.name} dropped")
            continue
        if new.type.strip().lower() != column.type.strip().lower():
            changes.append(
                f"column {name}.{column.name} type changed from {column.type} to {new.type}"
            )
        if new.not_null and not column.not_null:
            changes.append(f"NOT NULL added to existing column {name}.{column.name}")
    for column in after.columns:
        if column.name not in before_names and column.not_null and column.default is None:
            changes.append(
                f"new column {name}.{column.name} is NOT NULL without a default"
                " (existing rows would violate it): add it nullable or with a default"
            )
    return changes
