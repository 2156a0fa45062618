"""In-database isolation as an ordered, idempotent SQL plan for one server.

Pure: builds ``psycopg.sql`` objects and never connects. Tenant ids only ever
reach SQL through ``sql.Identifier`` (role/schema/database names) or
``sql.Literal`` (values), never through string formatting.

Each ``Statement`` carries a ``done`` query answering "is this already in
effect?"; the runtime (``components/postgres/apply.py``) runs a statement only
when the answer is no. That gives idempotency, an exact change report, and
drift repair. Each statement is tagged with its owner (a tenant id or
``"shared"``) so "adding a tenant touches only that tenant's objects" is a
property of the plan that tests can check without a server.

Objects per isolation model (see docs/in-database-isolation.md):

- every model: a login role ``tenant_<id>`` per tenant with the tier's
  CONNECTION LIMIT and statement_timeout, no elevated attributes, NOLOGIN
  while the tenant is suspended.
- silo: database ``tenant_<id>`` owned by the tenant role, no PUBLIC CONNECT,
  no CREATE on its public schema for PUBLIC.
- bridge: schema ``tenant_<id>`` owned by ``tenancy_owner`` (so a tenant can
  never open its schema to others), USAGE+CREATE for its own role only,
  search_path pinned on the role, no PUBLIC EXECUTE on its new functions.
- pool: tables in schema ``app`` owned by ``tenancy_owner`` with RLS enabled
  and forced, a USING + WITH CHECK policy on ``tenancy.tenant_id`` for the
  NOLOGIN NOBYPASSRLS role ``tenancy_app``, and a restrictive policy binding a
  per-tenant login role to its own tenant id.

The tenant data model (``datamodel.py``) is laid out in every tier: the pool's
``app`` schema, each bridge tenant's schema, each silo tenant's database (see
docs/tenant-moves.md). Every server also gets a marker, schema
``tenancy_meta``: which server it is, its isolation, cell and model version,
one home row per tenant, and the tenant mover's journal.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from psycopg import sql
from psycopg.sql import SQL, Composed

from components.model.catalog import TENANT_ID_PATTERN, Catalog
from components.model.cell import (
    Cell,
    PlacedTenant,
    cell_tenants,
    shards_in_use,
    silo_homes,
)

from . import sqlchecks as chk
from .datamodel import (
    DEFAULT_MODEL,
    MODEL_SCHEMA,
    TENANT_COLUMN,
    TENANT_PREFIX,
    Isolation,
    TenantHome,
    TenantTable,
    home_of,
    model_json,
    model_version,
    tenant_role,
)

SHARED = "shared"
META_SCHEMA = "tenancy_meta"  # the server marker: which server, model version, tenant homes
OWNER_ROLE = "tenancy_owner"  # NOLOGIN; owns shared schemas and tables
APP_ROLE = "tenancy_app"  # NOLOGIN NOBYPASSRLS; holds the pool table grants
APP_LOGIN_ROLE = "tenancy_app_login"  # the shared service login behind a connection pool
SETTING = "tenancy.tenant_id"
# On RDS/Aurora, members of this role log in with IAM tokens (the silo workload's IRSA
# role may rds-db:connect as its tenant role). Other servers have no such role: no-op.
# Only silo roles join it: RDS then refuses password logins for the role.
RDS_IAM = "rds_iam"
DEFAULT_STATEMENT_TIMEOUT_MS = 30_000
_TENANT_ID = re.compile(TENANT_ID_PATTERN)
GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# Azure Flexible Server's Entra mapping (the pgaadauth extension): a function that creates a
# login role for one Entra object and records the object id in the role's security label.
ENTRA_MAPPING_FUNCTION = "pgaadauth_create_principal_with_oid"
ENTRA_LABEL_PROVIDER = "pgaadauth"

# The tenant in effect; '' (what a custom setting reads after a transaction
# that set it locally has ended) counts as unset, so access fails closed.
CURRENT_TENANT = sql.SQL("nullif(current_setting({}, true), '')").format(sql.Literal(SETTING))


def tenant_of(name: str) -> str | None:
    """Inverse of ``tenant_role`` (also for schema and database names)."""
    if not name.startswith(TENANT_PREFIX):
        return None
    return name[len(TENANT_PREFIX) :].replace("_", "-")


@dataclass(frozen=True)
class TenantDb:
    """What the plan needs of a tenant; plain data so a Pulumi provider can rebuild it."""

    id: str
    active: bool = True
    connection_limit: int = 20
    statement_timeout_ms: int = DEFAULT_STATEMENT_TIMEOUT_MS
    # Azure silo: object (principal) id of the workload's user-assigned managed identity,
    # mapped to its own login role (entra_login_role) holding the tenant role only.
    entra_object_id: str | None = None

    def __post_init__(self) -> None:
        # Quoting would make any id safe, but an id the catalog rejects must not get this far.
        if not _TENANT_ID.match(self.id):
            raise ValueError(f"invalid tenant id {self.id!r}: must match {TENANT_ID_PATTERN}")
        if self.entra_object_id is not None and not GUID.match(self.entra_object_id):
            raise ValueError(
                f"invalid Entra object id {self.entra_object_id!r} for tenant {self.id}:"
                " must be a GUID (the managed identity's principal id)"
            )

    @classmethod
    def from_placed(cls, placed: PlacedTenant, entra_object_id: str | None = None) -> TenantDb:
        return cls(
            id=placed.id,
            active=placed.tenant.status == "active",
            connection_limit=placed.database.connection_limit,
            statement_timeout_ms=placed.database.statement_timeout_ms,
            entra_object_id=entra_object_id,
        )


@dataclass(frozen=True)
class Statement:
    owner: str  # tenant id, or SHARED
    summary: str  # what it does, for humans ("create role tenant_acme")
    # SQL or Composed, not any Composable: what psycopg's Connection.execute accepts.
    sql: SQL | Composed
    done: SQL | Composed  # one boolean: true when already in effect
    database: str | None = None  # run in this database; None = the connection's own
    transactional: bool = True  # CREATE DATABASE cannot run inside a transaction
    # Changes only role catalogs and needs nothing that a non-role statement of its
    # block creates (a database it names is made by CREATE DATABASE, a batch before),
    # so ``apply`` may run it ahead of its owner's other statements (see
    # ``apply._role_changes_first``). Not part of the fingerprint: it never changes SQL.
    role_change: bool = False

    def render(self) -> str:
        return self.sql.as_string(None) + ";"

    def fingerprint(self) -> str:
        parts = (self.owner, self.database or "", str(self.transactional), self.render())
        return "\x1f".join((*parts, self.done.as_string(None)))


@dataclass(frozen=True)
class SqlPlan:
    server: str
    isolation: Isolation
    tenants: tuple[str, ...]
    statements: tuple[Statement, ...]
    tables: tuple[TenantTable, ...] = ()  # the tenant data model the plan lays out

    def digest(self) -> str:
        """sha256 over every statement and check: equal digests mean equal plans."""
        hasher = hashlib.sha256(f"{self.server}\x1e{self.isolation}".encode())
        for statement in self.statements:
            hasher.update(b"\x1e" + statement.fingerprint().encode())
        return hasher.hexdigest()

    def owned_by(self, owner: str) -> tuple[Statement, ...]:
        return tuple(s for s in self.statements if s.owner == owner)

    def render(self) -> str:
        lines = [
            f"-- server {self.server} ({self.isolation}), tenants: {', '.join(self.tenants) or '-'}"
        ]
        lines.append(f"-- digest {self.digest()}")
        for statement in self.statements:
            where = f" in database {statement.database}" if statement.database else ""
            lines.append(f"-- [{statement.owner}] {statement.summary}{where}")
            lines.append(statement.render())
        return "\n".join(lines) + "\n"


def _ident(*names: str) -> sql.Identifier:
    return sql.Identifier(*names)


def _quoted(ident: sql.Identifier) -> str:
    """``ident`` as SQL text, as psycopg quotes it (each part in double quotes, inner ones
    doubled), without its connection-less escaping, which is slow at 3,000 calls a shard."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in ident._obj)


def _int(value: int) -> sql.SQL:
    # int() first, so only digits (and a sign) can reach the SQL text.
    return sql.SQL(str(int(value)))


# CREATE ROLE, ALTER ROLE and GRANT <role> TO <role>: statements on role catalogs only.
_ROLE_CHANGE = re.compile(r"(CREATE|ALTER) ROLE |GRANT \{\w+\} TO ")


def _stmt(
    owner: str, summary: str, text: str, done: sql.SQL | sql.Composed, **parts: sql.Composable
) -> Statement:
    role_change = _ROLE_CHANGE.match(text) is not None
    return Statement(owner, summary, sql.SQL(text).format(**parts), done, role_change=role_change)


# --- roles -------------------------------------------------------------------------------


def _group_role(name: str, extra: str = "") -> list[Statement]:
    create = f"CREATE ROLE {{r}} WITH NOLOGIN NOINHERIT{extra}"
    return [_stmt(SHARED, f"create role {name}", create, chk.role_exists(name), r=_ident(name))]


def _admin_member(owner: str, role: str) -> Statement:
    # A non-superuser admin (RDS, Azure, Cloud SQL) must be a member of a role to
    # create objects owned by it or set its default privileges. Superusers skip this.
    return _stmt(
        owner,
        f"make the admin a member of {role}",
        "GRANT {r} TO CURRENT_USER",
        chk.current_user_member_of(role),
        r=_ident(role),
    )


def _login_role(owner: str, role: str, login: bool, limit: int, timeout_ms: int) -> list[Statement]:
    r = _ident(role)
    can_login = sql.SQL("LOGIN" if login else "NOLOGIN")
    no_privileges = "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    return [
        _stmt(
            owner,
            f"create role {role}",
            f"CREATE ROLE {{r}} WITH {{login}} {no_privileges} CONNECTION LIMIT {{limit}}",
            chk.role_exists(role),
            r=r,
            login=can_login,
            limit=_int(limit),
        ),
        # Split from the attributes below: only superusers may name those in ALTER
        # ROLE, and this one changes whenever a tier or a suspension does.
        _stmt(
            owner,
            f"set login={str(login).lower()} and connection limit {limit} on {role}",
            "ALTER ROLE {r} WITH {login} CONNECTION LIMIT {limit}",
            chk.role_attributes(role, login, limit),
            r=r,
            login=can_login,
            limit=_int(limit),
        ),
        _stmt(
            owner,
            f"strip elevated attributes from {role}",
            f"ALTER ROLE {{r}} WITH {no_privileges}",
            chk.role_unprivileged(role),
            r=r,
        ),
        _stmt(
            owner,
            f"set statement_timeout {timeout_ms} ms on {role}",
            "ALTER ROLE {r} SET statement_timeout = {ms}",
            chk.role_setting(role, f"statement_timeout={timeout_ms}"),
            r=r,
            ms=_int(timeout_ms),
        ),
    ]


def _tenant_role(tenant: TenantDb) -> list[Statement]:
    role = tenant_role(tenant.id)
    return _login_role(
        tenant.id, role, tenant.active, tenant.connection_limit, tenant.statement_timeout_ms
    )


def _revoke_public_create(owner: str, database: str | None = None) -> Statement:
    statement = _stmt(
        owner,
        "revoke CREATE on schema public from PUBLIC",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        chk.public_lacks("schema", "public", "CREATE"),
    )
    return Statement(statement.owner, statement.summary, statement.sql, statement.done, database)


def _exact_grants(
    owner: str, kind: str, name: str, ident: sql.Identifier, grants: dict[str, tuple[str, ...]]
) -> Statement:
    """Reset the object's ACL to exactly ``grants``: also revokes what drifted in."""
    keyword = sql.SQL(kind.upper())
    parts: list[sql.Composable] = [chk.reset_acl(kind, name, _quoted(ident))]
    for role, privileges in grants.items():
        parts.append(
            sql.SQL("GRANT {} ON {} {} TO {}").format(
                sql.SQL(", ").join(sql.SQL(p) for p in privileges), keyword, ident, _ident(role)
            )
        )
    summary = (
        f"{kind} {name}: grants exactly "
        + (", ".join(f"{'+'.join(p)} to {r}" for r, p in grants.items()) or "nothing")
        + " beyond its owner"
    )
    return Statement(owner, summary, sql.SQL("; ").join(parts), chk.acl_exactly(kind, name, grants))


# --- silo -------------------------------------------------------------------------------


def _silo_tenant(tenant: TenantDb) -> list[Statement]:
    name = tenant_role(tenant.id)
    db = _ident(name)
    create_db = Statement(
        tenant.id,
        f"create database {name}",
        sql.SQL("CREATE DATABASE {} OWNER {}").format(db, db),
        chk.database_exists(name),
        transactional=False,
    )
    return [
        *_tenant_role(tenant),
        _admin_member(tenant.id, name),
        create_db,
        _stmt(
            tenant.id,
            f"database {name} owned by {name}",
            "ALTER DATABASE {d} OWNER TO {r}",
            chk.owned_by("database", name, name),
            d=db,
            r=db,
        ),
        _exact_grants(tenant.id, "database", name, db, {}),
        _stmt(
            tenant.id,
            f"grant {RDS_IAM} to {name} where the server has it (IAM login of the tenant's workload)",
            "GRANT {g} TO {r}",
            chk.member_of_if_present(name, RDS_IAM),
            g=_ident(RDS_IAM),
            r=db,
        ),
        _revoke_public_create(tenant.id, database=name),
        *_entra_login(tenant),
    ]


def entra_login_role(tenant_id: str) -> str:
    """The login role Azure maps a silo tenant's managed identity to: ``entra_tenant_<id>``.

    Its own prefix: ``tenant_<id>_...`` could be another tenant's role.
    """
    return "entra_" + tenant_role(tenant_id)


def entra_label(object_id: str) -> str:
    """The security label pgaadauth writes on a mapped role (a service principal, not admin)."""
    return f"aadauth,oid={object_id.lower()},type=service"


def _entra_login(tenant: TenantDb) -> list[Statement]:
    """The narrow Entra mapping: the tenant's managed identity logs in as a role that holds
    the tenant role and nothing else (never an Entra administrator of the server).

    ``pgaadauth_create_principal_with_oid(roleName, objectId, objectType, isAdmin, isMfa)``
    creates the role and labels it; it is not idempotent (the role then exists), so its
    check reads the label: a role of that name mapped to another object, or made an
    admin, is not "done" and the function then fails on the existing role, loudly.
    Per-role settings are not inherited, so the login gets the tenant role's own.
    """
    if tenant.entra_object_id is None:
        return []
    login, role = entra_login_role(tenant.id), tenant_role(tenant.id)
    oid = tenant.entra_object_id.lower()
    can_login = sql.SQL("LOGIN" if tenant.active else "NOLOGIN")
    mapping = _stmt(
        tenant.id,
        f"map Entra identity {oid} (the workload's managed identity) to login role {login}",
        f"SELECT * FROM {ENTRA_MAPPING_FUNCTION}({{r}}, {{oid}}, 'service', false, false)",
        chk.security_label("role", login, ENTRA_LABEL_PROVIDER, entra_label(oid)),
        r=sql.Literal(login),
        oid=sql.Literal(oid),
    )
    return [
        # The function creates the login role: a role change the grants below build on.
        replace(mapping, role_change=True),
        _stmt(
            tenant.id,
            f"grant {role} to {login}",
            "GRANT {g} TO {r}",
            chk.member_of(login, role),
            g=_ident(role),
            r=_ident(login),
        ),
        _stmt(
            tenant.id,
            f"set login={str(tenant.active).lower()} and connection limit"
            f" {tenant.connection_limit} on {login}",
            "ALTER ROLE {r} WITH {login} CONNECTION LIMIT {limit}",
            chk.role_attributes(login, tenant.active, tenant.connection_limit),
            r=_ident(login),
            login=can_login,
            limit=_int(tenant.connection_limit),
        ),
        _stmt(
            tenant.id,
            f"set statement_timeout {tenant.statement_timeout_ms} ms on {login}",
            "ALTER ROLE {r} SET statement_timeout = {ms}",
            chk.role_setting(login, f"statement_timeout={tenant.statement_timeout_ms}"),
            r=_ident(login),
            ms=_int(tenant.statement_timeout_ms),
        ),
        _stmt(
            tenant.id,
            f"search_path of {login} in database {role} is {MODEL_SCHEMA}, as for {role}",
            "ALTER ROLE {r} IN DATABASE {d} SET search_path = {s}",
            chk.role_database_setting(login, role, f"search_path={MODEL_SCHEMA}"),
            r=_ident(login),
            d=_ident(role),
            s=_ident(MODEL_SCHEMA),
        ),
    ]


# --- bridge -----------------------------------------------------------------------------


def _bridge_tenant(tenant: TenantDb) -> list[Statement]:
    name = tenant_role(tenant.id)
    ident = _ident(name)
    owner = _ident(OWNER_ROLE)
    return [
        *_tenant_role(tenant),
        _stmt(
            tenant.id,
            f"create schema {name}",
            "CREATE SCHEMA {s} AUTHORIZATION {o}",
            chk.schema_exists(name),
            s=ident,
            o=owner,
        ),
        _stmt(
            tenant.id,
            f"schema {name} owned by {OWNER_ROLE}",
            "ALTER SCHEMA {s} OWNER TO {o}",
            chk.owned_by("schema", name, OWNER_ROLE),
            s=ident,
            o=owner,
        ),
        _exact_grants(tenant.id, "schema", name, ident, {name: ("CREATE", "USAGE")}),
        _stmt(
            tenant.id,
            f"pin search_path of {name} to its schema",
            "ALTER ROLE {r} SET search_path = {s}",
            chk.role_setting(name, f"search_path={name}"),
            r=ident,
            s=ident,
        ),
        _admin_member(tenant.id, name),
        _stmt(
            tenant.id,
            f"no default PUBLIC EXECUTE on functions of {name}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {r} REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC",
            chk.default_acl_revoked_from_public(name, "f"),
            r=ident,
        ),
        _stmt(
            tenant.id,
            f"no default PUBLIC USAGE on types of {name}",
            "ALTER DEFAULT PRIVILEGES FOR ROLE {r} REVOKE USAGE ON TYPES FROM PUBLIC",
            chk.default_acl_revoked_from_public(name, "T"),
            r=ident,
        ),
    ]


def _bridge_shared() -> list[Statement]:
    return [
        *_group_role(OWNER_ROLE),
        _admin_member(SHARED, OWNER_ROLE),
        _revoke_public_create(SHARED),
    ]


# --- pool -------------------------------------------------------------------------------


def _pool_tenant(tenant: TenantDb) -> list[Statement]:
    role = tenant_role(tenant.id)
    grant = _stmt(
        tenant.id,
        f"grant {APP_ROLE} to {role}",
        "GRANT {g} TO {r}",
        chk.member_of(role, APP_ROLE),
        g=_ident(APP_ROLE),
        r=_ident(role),
    )
    return [*_tenant_role(tenant), grant]


def _pool_shared(tables: Sequence[TenantTable], timeout_ms: int) -> list[Statement]:
    schema = _ident(MODEL_SCHEMA)
    statements = [
        *_group_role(OWNER_ROLE),
        *_group_role(APP_ROLE, " NOBYPASSRLS"),
        _admin_member(SHARED, OWNER_ROLE),
        # The shared service login: no per-tenant CONNECTION LIMIT (the pool size is its limit).
        *_login_role(SHARED, APP_LOGIN_ROLE, True, -1, timeout_ms),
        _stmt(
            SHARED,
            f"grant {APP_ROLE} to {APP_LOGIN_ROLE}",
            "GRANT {g} TO {r}",
            chk.member_of(APP_LOGIN_ROLE, APP_ROLE),
            g=_ident(APP_ROLE),
            r=_ident(APP_LOGIN_ROLE),
        ),
        _revoke_public_create(SHARED),
        _stmt(
            SHARED,
            f"create schema {MODEL_SCHEMA}",
            "CREATE SCHEMA {s} AUTHORIZATION {o}",
            chk.schema_exists(MODEL_SCHEMA),
            s=schema,
            o=_ident(OWNER_ROLE),
        ),
        _stmt(
            SHARED,
            f"schema {MODEL_SCHEMA} owned by {OWNER_ROLE}",
            "ALTER SCHEMA {s} OWNER TO {o}",
            chk.owned_by("schema", MODEL_SCHEMA, OWNER_ROLE),
            s=schema,
            o=_ident(OWNER_ROLE),
        ),
        _exact_grants(SHARED, "schema", MODEL_SCHEMA, schema, {APP_ROLE: ("USAGE",)}),
    ]
    home = home_of("pool", "shared")
    for table in tables:
        statements += _model_table(SHARED, home, table, OWNER_ROLE, {APP_ROLE: _DML})
        statements += _pool_policies(table)
    return statements


_DML = ("DELETE", "INSERT", "SELECT", "UPDATE")  # no TRUNCATE (it ignores RLS), REFERENCES, TRIGGER


def _column_sql(
    name: str, type_: str, default: sql.Composable | None, not_null: bool
) -> sql.Composed:
    parts: list[sql.Composable] = [_ident(name), sql.SQL(type_)]
    if default is not None:
        parts += [sql.SQL("DEFAULT"), default]
    if not_null:
        parts.append(sql.SQL("NOT NULL"))
    return sql.SQL(" ").join(parts)


def _columns(names: Iterable[str]) -> sql.Composed:
    return _column_list(tuple(names))


# The pieces of a model table's SQL that are the same in every tenant's home, composed
# once per process: a 1,000-tenant bridge shard has 2,000 tables of two kinds.
@functools.cache
def _column_list(names: tuple[str, ...]) -> sql.Composed:
    return sql.SQL(", ").join(_ident(name) for name in names)


@functools.cache
def _model_column_sql(table: TenantTable) -> tuple[sql.Composed, ...]:
    return tuple(
        _column_sql(c.name, c.type, sql.SQL(c.default) if c.default else None, c.not_null)
        for c in table.columns
    )


def _tenant_column(home: TenantHome) -> sql.Composed:
    # Pool: with no tenant set the default is NULL and NOT NULL rejects the row (fail
    # closed). Bridge/silo: the home belongs to one tenant, so its id is the default.
    default = CURRENT_TENANT if home.pinned is None else sql.Literal(home.pinned)
    return _column_sql(TENANT_COLUMN, "text", default, True)


def foreign_key_sql(schema: str, table: TenantTable, index: int) -> sql.Composed:
    """``CONSTRAINT <name> FOREIGN KEY (...) REFERENCES schema.t (...) ON DELETE ...``."""
    fk = table.foreign_keys[index]
    return sql.SQL("CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({}) ON DELETE {}").format(
        _ident(fk.constraint_name(table.name)),
        _columns(fk.columns),
        _ident(schema, fk.table),
        _columns(fk.ref_columns),
        sql.SQL(fk.on_delete),
    )


def create_table_sql(
    home: TenantHome, table: TenantTable, schema: str | None = None, foreign_keys: bool = True
) -> sql.Composed:
    """CREATE TABLE of one model table in ``home`` (or in ``schema``: a move's staging copy).

    A move's staging copy leaves the foreign keys out: logical replication's
    initial copy fills tables in parallel, children before their parents.
    """
    schema = schema or home.schema
    items = [_tenant_column(home), *_model_column_sql(table)]
    items.append(sql.SQL("PRIMARY KEY ({})").format(_columns(table.primary_key)))
    if home.pinned is not None:
        items.append(
            sql.SQL("CONSTRAINT {} CHECK ({} = {})").format(
                _ident(table.check_name()), _ident(TENANT_COLUMN), sql.Literal(home.pinned)
            )
        )
    if foreign_keys:
        items += [foreign_key_sql(schema, table, i) for i in range(len(table.foreign_keys))]
    return sql.SQL("CREATE TABLE {} ({})").format(
        _ident(schema, table.name), sql.SQL(", ").join(items)
    )


def create_index_sql(schema: str, table: TenantTable, columns: tuple[str, ...]) -> sql.Composed:
    return sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
        _ident(table.index_name(columns)), _ident(schema, table.name), _columns(columns)
    )


def _add_missing_columns(table: TenantTable, home: TenantHome) -> sql.Composed:
    # IF NOT EXISTS: only the columns a newer model added are created; the model
    # diff (datamodel.destructive_changes) already refused NOT NULL without default.
    return sql.SQL("ALTER TABLE {} {}").format(
        _ident(home.schema, table.name), _add_column_clauses(table)
    )


@functools.cache
def _add_column_clauses(table: TenantTable) -> sql.Composed:
    return sql.SQL(", ").join(
        sql.SQL("ADD COLUMN IF NOT EXISTS {}").format(column) for column in _model_column_sql(table)
    )


def _in(home: TenantHome, statement: Statement) -> Statement:
    return Statement(
        statement.owner, statement.summary, statement.sql, statement.done, home.database
    )


def _model_table(
    owner: str,
    home: TenantHome,
    table: TenantTable,
    table_owner: str,
    grants: dict[str, tuple[str, ...]],
) -> list[Statement]:
    """One model table in one home: created, its new columns added, owned, granted, indexed."""
    qualified = f"{home.schema}.{table.name}"
    ident = _ident(home.schema, table.name)
    statements = [
        Statement(
            owner,
            f"create table {qualified}",
            create_table_sql(home, table),
            chk.relation_exists(qualified),
        ),
        Statement(
            owner,
            f"columns of {qualified} up to date with the model",
            _add_missing_columns(table, home),
            chk.columns_exist(qualified, [c.name for c in table.columns]),
        ),
        _stmt(
            owner,
            f"table {qualified} owned by {table_owner}",
            "ALTER TABLE {t} OWNER TO {o}",
            chk.owned_by("table", qualified, table_owner),
            t=ident,
            o=_ident(table_owner),
        ),
        _exact_grants(owner, "table", qualified, ident, grants),
    ]
    for columns in table.indexes:
        index = table.index_name(columns)
        statements.append(
            Statement(
                owner,
                f"index {index} on {qualified} ({', '.join(columns)})",
                create_index_sql(home.schema, table, columns),
                chk.relation_exists(f"{home.schema}.{index}"),
            )
        )
    return [_in(home, statement) for statement in statements]


def _policy(
    table: TenantTable, name: str, restrictive: bool, predicate: sql.Composable
) -> Statement:
    qualified = f"{MODEL_SCHEMA}.{table.name}"
    ident, policy = _ident(MODEL_SCHEMA, table.name), _ident(name)
    create = sql.SQL(
        "CREATE POLICY {p} ON {t} AS {kind} FOR ALL TO {app} USING ({pred}) WITH CHECK ({pred})"
    ).format(
        p=policy,
        t=ident,
        kind=sql.SQL("RESTRICTIVE" if restrictive else "PERMISSIVE"),
        app=_ident(APP_ROLE),
        pred=predicate,
    )
    salt = hashlib.sha256(create.as_string(None).encode()).hexdigest()
    # Record the fingerprint of what the server now holds (see sqlchecks.policy_fingerprint).
    comment = sql.SQL(
        "DO $tenancy$ BEGIN EXECUTE format('COMMENT ON POLICY %I ON %s IS %L', {name}, {quoted},"
        " (SELECT {fp} FROM pg_policy p WHERE p.polrelid = to_regclass({q}) AND p.polname = {name}));"
        " END $tenancy$"
    ).format(
        name=sql.Literal(name),
        quoted=sql.Literal(ident.as_string(None)),
        fp=chk.policy_fingerprint(salt),
        q=sql.Literal(qualified),
    )
    drop = sql.SQL("DROP POLICY IF EXISTS {} ON {}").format(policy, ident)
    return Statement(
        SHARED,
        f"policy {name} on {qualified}",
        sql.SQL("; ").join([drop, create, comment]),
        chk.policy_current(qualified, name, salt),
    )


def _tenant_predicate() -> sql.Composed:
    return sql.SQL("{} = {}").format(_ident(TENANT_COLUMN), CURRENT_TENANT)


def _login_binding_predicate() -> sql.Composed:
    # A per-tenant login may only act as its own tenant; the shared service login
    # (any other role) is trusted to set the tenant. The scalar subquery becomes an
    # InitPlan, evaluated once per statement: left bare, PostgreSQL keeps a security
    # qual as a per-row filter even though it references no column.
    return sql.SQL(
        "(SELECT NOT starts_with(session_user, {prefix})"
        " OR session_user = {prefix} || translate({tenant}, '-', '_'))"
    ).format(prefix=sql.Literal(TENANT_PREFIX), tenant=CURRENT_TENANT)


def _pool_policies(table: TenantTable) -> list[Statement]:
    qualified = f"{MODEL_SCHEMA}.{table.name}"
    return [
        _stmt(
            SHARED,
            f"enable and force row level security on {qualified}",
            "ALTER TABLE {t} ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY",
            chk.row_security_forced(qualified),
            t=_ident(MODEL_SCHEMA, table.name),
        ),
        _policy(table, "tenant_isolation", False, _tenant_predicate()),
        _policy(table, "tenant_login_binding", True, _login_binding_predicate()),
    ]


# --- the tenant's own copy of the model (bridge schema, silo database) -------------------


def tenant_model_statements(
    isolation: Isolation, tenant_id: str, tables: Sequence[TenantTable]
) -> list[Statement]:
    """The model's tables in a bridge tenant's schema or a silo tenant's database.

    Bridge tables belong to ``tenancy_owner`` (the tenant can neither drop the
    CHECK that pins its id nor alter the table) and the tenant role gets DML.
    Silo tables belong to the tenant role, which owns the whole database anyway.
    """
    home = home_of(isolation, tenant_id)
    role = tenant_role(tenant_id)
    statements: list[Statement] = []
    if isolation == "silo":
        statements += [
            _in(
                home,
                _stmt(
                    tenant_id,
                    f"create schema {MODEL_SCHEMA} in database {role}",
                    "CREATE SCHEMA IF NOT EXISTS {s} AUTHORIZATION {r}",
                    chk.schema_exists(MODEL_SCHEMA),
                    s=_ident(MODEL_SCHEMA),
                    r=_ident(role),
                ),
            ),
            _stmt(
                tenant_id,
                f"search_path of {role} in its database is {MODEL_SCHEMA} (as in bridge: unqualified names)",
                "ALTER ROLE {r} IN DATABASE {d} SET search_path = {s}",
                chk.role_database_setting(role, role, f"search_path={MODEL_SCHEMA}"),
                r=_ident(role),
                d=_ident(role),
                s=_ident(MODEL_SCHEMA),
            ),
        ]
    grants: dict[str, tuple[str, ...]] = {} if isolation == "silo" else {role: _DML}
    table_owner = role if isolation == "silo" else OWNER_ROLE
    for table in tables:
        statements += _model_table(tenant_id, home, table, table_owner, grants)
    return statements


# --- the server marker ------------------------------------------------------------------


def _marker_shared(server: str, isolation: Isolation, cell: str) -> list[Statement]:
    schema = _ident(META_SCHEMA)
    tables = {
        "server": "one boolean PRIMARY KEY DEFAULT true CHECK (one), server text NOT NULL,"
        " isolation text NOT NULL, cell text NOT NULL, model_version text NOT NULL,"
        " model jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()",
        "homes": "tenant_id text PRIMARY KEY, location text NOT NULL,"
        " state text NOT NULL DEFAULT 'home' CHECK (state IN ('home', 'moved-out')),"
        " since timestamptz NOT NULL DEFAULT now()",
        # The mover's journal; see tenancy/tenant/journal.py.
        "moves": "tenant_id text PRIMARY KEY, side text NOT NULL, peer_server text NOT NULL,"
        " source_isolation text NOT NULL, target_isolation text NOT NULL, phase text NOT NULL,"
        " started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL"
        " DEFAULT now(), detail jsonb NOT NULL DEFAULT '{}'",
    }
    statements = [
        # Owned by the admin that applies: no tenant or app role gets USAGE on it.
        _stmt(
            SHARED,
            f"create schema {META_SCHEMA} (server marker, tenant homes, move journal)",
            "CREATE SCHEMA {s}",
            chk.schema_exists(META_SCHEMA),
            s=schema,
        )
    ]
    for name, columns in tables.items():
        statements.append(
            Statement(
                SHARED,
                f"create table {META_SCHEMA}.{name}",
                sql.Composed(
                    [
                        sql.SQL("CREATE TABLE "),
                        _ident(META_SCHEMA, name),
                        sql.SQL(" (" + columns + ")"),
                    ]
                ),
                chk.relation_exists(f"{META_SCHEMA}.{name}"),
            )
        )
    return statements


def _marker_server_row(
    server: str, isolation: Isolation, cell: str, tables: Sequence[TenantTable]
) -> Statement:
    values = {
        "server": sql.Literal(server),
        "isolation": sql.Literal(isolation),
        "cell": sql.Literal(cell),
        "version": sql.Literal(model_version(tables)),
        "model": sql.Literal(model_json(tables)),
    }
    return Statement(
        SHARED,
        f"marker: server {server} ({isolation}), model version {model_version(tables)}",
        sql.SQL(
            "INSERT INTO tenancy_meta.server (server, isolation, cell, model_version, model)"
            " VALUES ({server}, {isolation}, {cell}, {version}, {model}::jsonb)"
            " ON CONFLICT (one) DO UPDATE SET server = excluded.server,"
            " isolation = excluded.isolation, cell = excluded.cell,"
            " model_version = excluded.model_version, model = excluded.model, updated_at = now()"
        ).format(**values),
        sql.SQL(
            "SELECT EXISTS (SELECT FROM tenancy_meta.server WHERE server = {server}"
            " AND isolation = {isolation} AND cell = {cell} AND model_version = {version})"
        ).format(**values),
    )


def _marker_home(isolation: Isolation, tenant_id: str) -> Statement:
    home = home_of(isolation, tenant_id)
    location = f"{home.database}/{home.schema}" if home.database else home.schema
    # DO NOTHING: after a move the mover owns the row (state 'moved-out'); apply never resets it.
    return _stmt(
        tenant_id,
        f"marker: home of {tenant_id} is {location}",
        "INSERT INTO tenancy_meta.homes (tenant_id, location) VALUES ({t}, {loc})"
        " ON CONFLICT (tenant_id) DO NOTHING",
        chk.exists("SELECT FROM tenancy_meta.homes WHERE tenant_id = {t}", t=tenant_id),
        t=sql.Literal(tenant_id),
        loc=sql.Literal(location),
    )


# --- entry points -----------------------------------------------------------------------


def tenant_statements(
    isolation: Isolation, tenant: TenantDb, tables: Sequence[TenantTable] = DEFAULT_MODEL
) -> list[Statement]:
    """Everything one tenant owns on a server of ``isolation`` (what a move prepares)."""
    per_tenant = {"silo": _silo_tenant, "bridge": _bridge_tenant, "pool": _pool_tenant}[isolation]
    statements = per_tenant(tenant)
    if isolation != "pool":
        statements += tenant_model_statements(isolation, tenant.id, tables)
    return [*statements, _marker_home(isolation, tenant.id)]


def build_plan(
    server: str,
    isolation: Isolation,
    tenants: Sequence[TenantDb],
    tables: Sequence[TenantTable] = DEFAULT_MODEL,
    cell: str = "",
) -> SqlPlan:
    """The plan for one server: shared statements first, then each tenant by id, then the marker."""
    ordered = sorted(tenants, key=lambda t: t.id)
    statements: list[Statement] = _marker_shared(server, isolation, cell)
    if isolation == "bridge":
        statements += _bridge_shared()
    elif isolation == "pool":
        # A tier-level value: adding a tenant of the same tier leaves it unchanged.
        timeout = max(
            (t.statement_timeout_ms for t in ordered), default=DEFAULT_STATEMENT_TIMEOUT_MS
        )
        statements += _pool_shared(tables, timeout)
    # Imported here: audit.py builds on this module's Statement.
    from . import audit

    statements += audit.audit_shared_statements()
    for tenant in ordered:
        statements += tenant_statements(isolation, tenant, tables)
        if isolation == "silo":
            statements += audit.audit_tenant_database(tenant.id, tenant_role(tenant.id))
    # Last: the recorded model version is the one every copy now has.
    statements.append(_marker_server_row(server, isolation, cell, tables))
    return SqlPlan(
        server, isolation, tuple(t.id for t in ordered), tuple(statements), tuple(tables)
    )


def plan_for_server(
    server: str,
    isolation: Isolation,
    tenants: Sequence[PlacedTenant],
    tables: Sequence[TenantTable] = DEFAULT_MODEL,
    cell: str = "",
    entra_object_ids: Mapping[str, str] | None = None,
) -> SqlPlan:
    """``entra_object_ids``: silo tenant id -> its workload identity's principal id (Azure),
    known once the stack is deployed (``tenancy db apply --stack-outputs``)."""
    wrong = [t.id for t in tenants if t.isolation != isolation]
    if wrong:
        raise ValueError(f"tenants {wrong} are not {isolation} tenants")
    ids = entra_object_ids or {}
    if ids and isolation != "silo":
        raise ValueError("Entra identities are mapped on silo servers only")
    specs = [TenantDb.from_placed(t, ids.get(t.id)) for t in tenants]
    return build_plan(server, isolation, specs, tables, cell)


def cell_servers(catalog: Catalog, cell: Cell) -> dict[str, tuple[Isolation, list[PlacedTenant]]]:
    """Every database server of a cell: shared shards by name, silo servers by tenant id."""
    tenants = cell_tenants(catalog, cell)
    servers: dict[str, tuple[Isolation, list[PlacedTenant]]] = {}
    for shard, members in shards_in_use(tenants).items():
        servers[shard] = (members[0].isolation, members)
    # A tenant in motion keeps its old silo server (and its place in an old shard, above).
    for placed in silo_homes(tenants):
        servers[placed.id] = ("silo", [placed])
    return dict(sorted(servers.items()))
