"""The shared tables of a pool server, kept as data so app teams can extend them.

Every pool table gets a ``tenant_id text`` column first, defaulting from the
transaction's ``tenancy.tenant_id`` setting, and every key and index must lead
with it. Three reasons: the RLS predicate ``tenant_id = <setting>`` becomes an
index condition instead of a filter over other tenants' rows; a unique key
without tenant_id would let one tenant probe for another's values through
unique-violation errors; and foreign keys are checked by PostgreSQL *without*
RLS, so only a composite ``(tenant_id, ...)`` reference keeps a child row from
pointing at another tenant's parent.

Column types and defaults are SQL snippets written by engineers in code (never
catalog input); names are always quoted with ``psycopg.sql.Identifier``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

POOL_SCHEMA = "app"
TENANT_COLUMN = "tenant_id"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # SQL type, e.g. "text", "timestamptz"
    default: str | None = None  # SQL expression; None means no default
    not_null: bool = True


@dataclass(frozen=True)
class ForeignKey:
    """A reference to another pool table; must include tenant_id first (see module doc)."""

    columns: tuple[str, ...]
    table: str
    ref_columns: tuple[str, ...]
    on_delete: str = "CASCADE"  # CASCADE | RESTRICT | NO ACTION


@dataclass(frozen=True)
class PoolTable:
    """One shared table in schema ``app``; tenant_id is added by the planner, not listed here."""

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

    def index_name(self, columns: tuple[str, ...]) -> str:
        return f"{self.name}_{'_'.join(columns)}_idx"


_UUID = Column("id", "uuid", "gen_random_uuid()")
_CREATED = Column("created_at", "timestamptz", "now()")

# A small, realistic default: documents with comments. uuid keys rather than a
# shared sequence, whose values would leak other tenants' write volume.
DEFAULT_POOL_TABLES: tuple[PoolTable, ...] = (
    PoolTable(
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
    PoolTable(
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


def table_to_dict(table: PoolTable) -> dict[str, object]:
    """Plain data for Pulumi inputs (the dynamic provider rebuilds the plan from it)."""
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


def table_from_dict(data: dict[str, object]) -> PoolTable:
    columns = tuple(Column(n, t, d, bool(nn)) for n, t, d, nn in data["columns"])  # type: ignore[attr-defined]
    fks = tuple(
        ForeignKey(tuple(cols), str(ref), tuple(ref_cols), str(on_delete))
        for cols, ref, ref_cols, on_delete in data["foreignKeys"]  # type: ignore[attr-defined]
    )
    return PoolTable(
        name=str(data["name"]),
        columns=columns,
        primary_key=tuple(data["primaryKey"]),  # type: ignore[arg-type]
        indexes=tuple(tuple(index) for index in data["indexes"]),  # type: ignore[attr-defined]
        foreign_keys=fks,
    )
