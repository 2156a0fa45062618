"""Catalog queries that tell whether a plan statement is already in effect.

PostgreSQL has no ``CREATE ROLE IF NOT EXISTS`` and a re-run GRANT is silent,
so "apply twice, change nothing" and "report what changed" both need a
question per statement: each helper here returns a query yielding one boolean,
true when the desired state already holds. ACL checks read the effective ACL
(``coalesce(acl, acldefault(...))``), because a NULL ACL means the built-in
default -- which, for a database, includes CONNECT for PUBLIC.
"""

from __future__ import annotations

import functools
import string

from psycopg import sql

# kind -> (catalog, acl column, owner column, acldefault code, name predicate, GRANT keyword)
_ACL_OBJECTS = {
    "schema": ("pg_namespace", "nspacl", "nspowner", "n", "o.nspname = {name}", "SCHEMA"),
    "table": ("pg_class", "relacl", "relowner", "r", "o.oid = to_regclass({name})", "TABLE"),
    "database": ("pg_database", "datacl", "datdba", "d", "o.datname = {name}", "DATABASE"),
}


class Check(sql.Composed):
    """A check query that also keeps the template and the values it was made from.

    As SQL it is exactly ``template`` with each ``{param}`` bound as a literal. The
    template lets ``apply`` ask every check of one kind at once: the same text with
    each ``{param}`` read from a row of ``unnest(<arrays of values>)``, planned once
    and answered from the catalogs' indexes, instead of one query per statement.
    """

    def __init__(self, template: str, **params: object) -> None:
        # What ``sql.SQL(template).format(...)`` gives, with the template parsed once per
        # process: a 1,000-tenant shard's plan makes 22,000 checks from a dozen templates.
        parts: list[sql.Composable] = []
        for text, name in _parsed(template):
            if text is not None:
                parts.append(text)
            if name is not None:
                parts.append(sql.Literal(params[name]))
        super().__init__(parts)
        self.template = template
        self.params = params


@functools.cache
def _parsed(template: str) -> tuple[tuple[sql.SQL | None, str | None], ...]:
    """``template`` as (literal text, placeholder name) pairs, as ``SQL.format`` reads it."""
    pieces = []
    for text, name, spec, _ in string.Formatter().parse(template):
        if spec or (name is not None and not name.isidentifier()):
            raise ValueError(f"check templates take named placeholders only: {template!r}")
        pieces.append((sql.SQL(text) if text else None, name))
    return tuple(pieces)


def exists(query: str, **params: object) -> Check:
    """``SELECT EXISTS (<query>)`` with each ``{param}`` bound as a literal."""
    return Check(f"SELECT EXISTS ({query})", **params)


# Catalog lookups by oid through a scalar subquery: the planner then uses the catalogs'
# unique indexes, whatever their (often stale) statistics say. A join on role names
# instead scanned pg_auth_members once per check: quadratic in a 1,000-tenant shard.
_ROLE_OID = "(SELECT oid FROM pg_roles WHERE rolname = {%s})"


def role_exists(role: str) -> Check:
    return exists("SELECT FROM pg_roles WHERE rolname = {role}", role=role)


def role_attributes(role: str, login: bool, connection_limit: int) -> Check:
    return exists(
        "SELECT FROM pg_roles WHERE rolname = {role} AND rolcanlogin = {login}"
        " AND rolconnlimit = {limit}",
        role=role,
        login=login,
        limit=connection_limit,
    )


def role_unprivileged(role: str) -> Check:
    return exists(
        "SELECT FROM pg_roles WHERE rolname = {role} AND NOT (rolsuper OR rolcreatedb"
        " OR rolcreaterole OR rolreplication OR rolbypassrls)",
        role=role,
    )


def role_setting(role: str, setting: str) -> Check:
    """``setting`` as stored by ALTER ROLE ... SET, e.g. ``statement_timeout=30000``."""
    return exists(
        "SELECT FROM pg_db_role_setting WHERE setdatabase = 0 AND setrole = "
        + _ROLE_OID % "role"
        + " AND {setting} = ANY (setconfig)",
        role=role,
        setting=setting,
    )


def member_of(member: str, group: str) -> Check:
    """Direct membership only: an inherited path is not what the plan granted."""
    return exists(
        f"SELECT FROM pg_auth_members WHERE roleid = {_ROLE_OID % 'group'}"
        f" AND member = {_ROLE_OID % 'member'}",
        group=group,
        member=member,
    )


def member_of_if_present(member: str, group: str) -> sql.Composed:
    """True when ``group`` does not exist on this server, or ``member`` is in it already."""
    return sql.SQL("SELECT NOT ({}) OR ({})").format(
        sql.SQL("SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = {})").format(
            sql.Literal(group)
        ),
        member_of(member, group),
    )


def current_user_member_of(role: str) -> Check:
    """True when the current user holds ``role``'s privileges: a superuser, or a direct
    membership that passes privileges on.

    Read from the catalogs rather than with ``pg_has_role``: that recomputes the user's
    whole membership list after any role change, and the admin belongs to every tenant
    role, so at fleet size each check cost a walk over a thousand roles. PostgreSQL 16
    records INHERIT per membership (a CREATEROLE admin gets a non-inheriting grant of
    each role it creates, which is not enough); 15 has no such column, so it is read
    through ``to_jsonb`` and one query serves both. By oid, so a role that does not
    exist yet answers false rather than failing the query.
    """
    return Check(
        "SELECT coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false)"
        " OR EXISTS (SELECT FROM pg_auth_members m WHERE m.roleid = "
        + _ROLE_OID
        % "role"
        + " AND m.member = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        " AND coalesce((to_jsonb(m) ->> 'inherit_option')::boolean, true))",
        role=role,
    )


def schema_exists(schema: str) -> Check:
    return exists("SELECT FROM pg_namespace WHERE nspname = {schema}", schema=schema)


def owned_by(kind: str, name: str, owner: str) -> Check:
    catalog, _, owner_column, _, predicate, _ = _ACL_OBJECTS[kind]
    return Check(
        f"SELECT EXISTS (SELECT FROM {catalog} o WHERE {predicate} AND o.{owner_column} ="
        f" {_ROLE_OID % 'owner'})",
        name=name,
        owner=owner,
    )


def _acl_rows(kind: str, name: str) -> sql.Composed:
    return sql.SQL(_quoted_acl_rows(kind)).format(name=sql.Literal(name))


@functools.cache
def _quoted_acl_rows(kind: str) -> str:
    """``FROM <catalog> o, aclexplode(...) a WHERE <predicate>`` with quoted identifiers and
    ``{name}`` left open; quoted once per kind (quoting without a connection is slow)."""
    catalog, acl, owner, code, predicate, _ = _ACL_OBJECTS[kind]
    text = (
        sql.SQL(
            "FROM {catalog} o, aclexplode(coalesce(o.{acl}, acldefault({code}, o.{owner}))) a"
            " WHERE "
        )
        .format(
            catalog=sql.Identifier(catalog),
            acl=sql.Identifier(acl),
            owner=sql.Identifier(owner),
            code=sql.Literal(code),
        )
        .as_string(None)
    )
    quoted_owner = sql.Identifier(owner).as_string(None)
    return text + predicate + " AND a.grantee <> o." + quoted_owner


def _acl_rows_template(kind: str) -> str:
    """``_acl_rows`` as a ``Check`` template, the object's name left as ``{name}``."""
    catalog, acl, owner, code, predicate, _ = _ACL_OBJECTS[kind]
    return (
        f"FROM {catalog} o, aclexplode(coalesce(o.{acl}, acldefault('{code}', o.{owner}))) a"
        f" WHERE {predicate} AND a.grantee <> o.{owner}"
    )


def acl_exactly(kind: str, name: str, grants: dict[str, tuple[str, ...]]) -> Check:
    """Non-owner ACL entries are exactly ``grants`` (role -> privileges); PUBLIC is "-"."""
    expected = sorted(f"{role}:{priv}" for role, privs in grants.items() for priv in privs)
    return Check(
        "SELECT coalesce((SELECT array_agg(DISTINCT x ORDER BY x) FROM (SELECT"
        f" a.grantee::regrole::text || ':' || a.privilege_type AS x {_acl_rows_template(kind)})"
        " s), '{{}}') = {expected}::text[]",
        name=name,
        expected=expected,
    )


def public_lacks(kind: str, name: str, privilege: str) -> Check:
    return Check(
        f"SELECT NOT EXISTS (SELECT {_acl_rows_template(kind)} AND a.grantee = 0"
        " AND a.privilege_type = {privilege})",
        name=name,
        privilege=privilege,
    )


def reset_acl(kind: str, name: str, quoted_name: str) -> sql.Composed:
    """A DO block revoking every non-owner grant on the object (drift repair).

    The grantee list is only known at apply time, hence dynamic SQL; the object
    name enters it as a literal of its already-quoted identifier.
    """
    keyword = _ACL_OBJECTS[kind][5]
    return sql.SQL(
        "DO $tenancy$ DECLARE g text; BEGIN FOR g IN SELECT DISTINCT CASE WHEN a.grantee = 0"
        " THEN 'PUBLIC' ELSE a.grantee::regrole::text END {rows} LOOP"
        " EXECUTE format('REVOKE ALL ON {keyword} %s FROM %s', {quoted}, g);"
        " END LOOP; END $tenancy$"
    ).format(rows=_acl_rows(kind, name), keyword=sql.SQL(keyword), quoted=sql.Literal(quoted_name))


def default_acl_revoked_from_public(role: str, objtype: str) -> Check:
    """Global default privileges of ``role`` for ``objtype`` ('f' functions, 'T' types) omit PUBLIC."""
    return exists(
        f"SELECT FROM pg_default_acl d WHERE d.defaclrole = {_ROLE_OID % 'role'}"
        " AND d.defaclnamespace = 0 AND d.defaclobjtype = {objtype}"
        " AND NOT EXISTS (SELECT FROM aclexplode(d.defaclacl) a WHERE a.grantee = 0)",
        role=role,
        objtype=objtype,
    )


def database_exists(database: str) -> Check:
    return exists("SELECT FROM pg_database WHERE datname = {db}", db=database)


def relation_exists(qualified: str) -> Check:
    return Check("SELECT to_regclass({t}) IS NOT NULL", t=qualified)


def row_security_forced(qualified: str) -> Check:
    return exists(
        "SELECT FROM pg_class WHERE oid = to_regclass({t}) AND relrowsecurity"
        " AND relforcerowsecurity",
        t=qualified,
    )


def policy_fingerprint(fingerprint_of: str) -> sql.Composed:
    """md5 of a policy's definition as the server holds it, salted with the plan's SQL.

    Comparing deparsed expressions to hard-coded text would break across
    PostgreSQL versions; instead the plan stores this fingerprint in the
    policy's comment right after creating it, and any later ALTER POLICY (or
    a change of the planned SQL) makes comment and fingerprint disagree.
    """
    return sql.SQL(
        "md5(concat_ws('|', {salt}, p.polcmd, p.polpermissive, p.polroles::regrole[]::text,"
        " pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)))"
    ).format(salt=sql.Literal(fingerprint_of))


def policy_current(qualified: str, policy: str, salt: str) -> sql.Composed:
    return sql.SQL(
        "SELECT EXISTS (SELECT FROM pg_policy p WHERE p.polrelid = to_regclass({t})"
        " AND p.polname = {name} AND obj_description(p.oid, 'pg_policy') = {fingerprint})"
    ).format(
        t=sql.Literal(qualified), name=sql.Literal(policy), fingerprint=policy_fingerprint(salt)
    )


def columns_exist(qualified: str, columns: list[str]) -> Check:
    """Every column in ``columns`` exists on the table (added columns are the additive change)."""
    return Check(
        "SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass({t})"
        " AND attnum > 0 AND NOT attisdropped AND attname = ANY ({cols}::text[])) = {n}",
        t=qualified,
        cols=columns,
        n=len(columns),
    )


def role_database_setting(role: str, database: str, setting: str) -> Check:
    """``setting`` of ``ALTER ROLE role IN DATABASE database SET ...``."""
    return exists(
        "SELECT FROM pg_db_role_setting WHERE setdatabase ="
        " (SELECT oid FROM pg_database WHERE datname = {db}) AND setrole = "
        + _ROLE_OID % "role"
        + " AND {setting} = ANY (setconfig)",
        role=role,
        db=database,
        setting=setting,
    )


def security_label(kind: str, name: str, provider: str, label: str) -> Check:
    """The object (only ``role`` so far) carries exactly ``label`` from ``provider``."""
    if kind != "role":
        raise ValueError(f"security labels are only checked on roles, not {kind}")
    return exists(
        "SELECT FROM pg_shseclabel WHERE classoid = 'pg_authid'::regclass"
        f" AND objoid = {_ROLE_OID % 'name'} AND provider = {{provider}} AND label = {{label}}",
        name=name,
        provider=provider,
        label=label,
    )
