"""Catalog queries that tell whether a plan statement is already in effect.

PostgreSQL has no ``CREATE ROLE IF NOT EXISTS`` and a re-run GRANT is silent,
so "apply twice, change nothing" and "report what changed" both need a
question per statement: each helper here returns a query yielding one boolean,
true when the desired state already holds. ACL checks read the effective ACL
(``coalesce(acl, acldefault(...))``), because a NULL ACL means the built-in
default -- which, for a database, includes CONNECT for PUBLIC.
"""

from __future__ import annotations

from psycopg import sql

# kind -> (catalog, acl column, owner column, acldefault code, name predicate, GRANT keyword)
_ACL_OBJECTS = {
    "schema": ("pg_namespace", "nspacl", "nspowner", "n", "o.nspname = {name}", "SCHEMA"),
    "table": ("pg_class", "relacl", "relowner", "r", "o.oid = to_regclass({name})", "TABLE"),
    "database": ("pg_database", "datacl", "datdba", "d", "o.datname = {name}", "DATABASE"),
}


def exists(query: str, **params: object) -> sql.Composed:
    """``SELECT EXISTS (<query>)`` with each ``{param}`` bound as a literal."""
    literals = {key: sql.Literal(value) for key, value in params.items()}
    return sql.SQL("SELECT EXISTS ({})").format(sql.SQL(query).format(**literals))


def role_exists(role: str) -> sql.Composed:
    return exists("SELECT FROM pg_roles WHERE rolname = {role}", role=role)


def role_attributes(role: str, login: bool, connection_limit: int) -> sql.Composed:
    return exists(
        "SELECT FROM pg_roles WHERE rolname = {role} AND rolcanlogin = {login}"
        " AND rolconnlimit = {limit}",
        role=role,
        login=login,
        limit=connection_limit,
    )


def role_unprivileged(role: str) -> sql.Composed:
    return exists(
        "SELECT FROM pg_roles WHERE rolname = {role} AND NOT (rolsuper OR rolcreatedb"
        " OR rolcreaterole OR rolreplication OR rolbypassrls)",
        role=role,
    )


def role_setting(role: str, setting: str) -> sql.Composed:
    """``setting`` as stored by ALTER ROLE ... SET, e.g. ``statement_timeout=30000``."""
    return exists(
        "SELECT FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole"
        " WHERE r.rolname = {role} AND s.setdatabase = 0 AND {setting} = ANY (s.setconfig)",
        role=role,
        setting=setting,
    )


def member_of(member: str, group: str) -> sql.Composed:
    """Direct membership only: an inherited path is not what the plan granted."""
    return exists(
        "SELECT FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
        " JOIN pg_roles u ON u.oid = m.member WHERE g.rolname = {group} AND u.rolname = {member}",
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


def current_user_member_of(role: str) -> sql.Composed:
    # Superusers count as members of every role, so this is a no-op for them.
    return sql.SQL("SELECT pg_has_role(current_user, {}, 'MEMBER')").format(sql.Literal(role))


def schema_exists(schema: str) -> sql.Composed:
    return exists("SELECT FROM pg_namespace WHERE nspname = {schema}", schema=schema)


def owned_by(kind: str, name: str, owner: str) -> sql.Composed:
    catalog, _, owner_column, _, predicate, _ = _ACL_OBJECTS[kind]
    query = sql.SQL("SELECT EXISTS (SELECT FROM {} o WHERE {} AND o.{} = {})").format(
        sql.Identifier(catalog),
        sql.SQL(predicate).format(name=sql.Literal(name)),
        sql.Identifier(owner_column),
        sql.SQL("(SELECT oid FROM pg_roles WHERE rolname = {})").format(sql.Literal(owner)),
    )
    return query


def _acl_rows(kind: str, name: str) -> sql.Composed:
    catalog, acl, owner, code, predicate, _ = _ACL_OBJECTS[kind]
    return sql.SQL(
        "FROM {catalog} o, aclexplode(coalesce(o.{acl}, acldefault({code}, o.{owner}))) a"
        " WHERE {predicate} AND a.grantee <> o.{owner}"
    ).format(
        catalog=sql.Identifier(catalog),
        acl=sql.Identifier(acl),
        owner=sql.Identifier(owner),
        code=sql.Literal(code),
        predicate=sql.SQL(predicate).format(name=sql.Literal(name)),
    )


def acl_exactly(kind: str, name: str, grants: dict[str, tuple[str, ...]]) -> sql.Composed:
    """Non-owner ACL entries are exactly ``grants`` (role -> privileges); PUBLIC is "-"."""
    expected = sorted(f"{role}:{priv}" for role, privs in grants.items() for priv in privs)
    return sql.SQL(
        "SELECT coalesce((SELECT array_agg(DISTINCT x ORDER BY x) FROM (SELECT"
        " a.grantee::regrole::text || ':' || a.privilege_type AS x {rows}) s), '{{}}')"
        " = {expected}::text[]"
    ).format(rows=_acl_rows(kind, name), expected=sql.Literal(expected))


def public_lacks(kind: str, name: str, privilege: str) -> sql.Composed:
    return sql.SQL(
        "SELECT NOT EXISTS (SELECT {rows} AND a.grantee = 0 AND a.privilege_type = {privilege})"
    ).format(rows=_acl_rows(kind, name), privilege=sql.Literal(privilege))


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


def default_acl_revoked_from_public(role: str, objtype: str) -> sql.Composed:
    """Global default privileges of ``role`` for ``objtype`` ('f' functions, 'T' types) omit PUBLIC."""
    return exists(
        "SELECT FROM pg_default_acl d JOIN pg_roles r ON r.oid = d.defaclrole"
        " WHERE r.rolname = {role} AND d.defaclnamespace = 0 AND d.defaclobjtype = {objtype}"
        " AND NOT EXISTS (SELECT FROM aclexplode(d.defaclacl) a WHERE a.grantee = 0)",
        role=role,
        objtype=objtype,
    )


def database_exists(database: str) -> sql.Composed:
    return exists("SELECT FROM pg_database WHERE datname = {db}", db=database)


def relation_exists(qualified: str) -> sql.Composed:
    return sql.SQL("SELECT to_regclass({}) IS NOT NULL").format(sql.Literal(qualified))


def row_security_forced(qualified: str) -> sql.Composed:
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


def columns_exist(qualified: str, columns: list[str]) -> sql.Composed:
    """Every column in ``columns`` exists on the table (added columns are the additive change)."""
    return sql.SQL(
        "SELECT (SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass({t})"
        " AND attnum > 0 AND NOT attisdropped AND attname = ANY ({cols}::text[])) = {n}"
    ).format(t=sql.Literal(qualified), cols=sql.Literal(columns), n=sql.Literal(len(columns)))


def role_database_setting(role: str, database: str, setting: str) -> sql.Composed:
    """``setting`` of ``ALTER ROLE role IN DATABASE database SET ...``."""
    return exists(
        "SELECT FROM pg_db_role_setting s JOIN pg_roles r ON r.oid = s.setrole"
        " JOIN pg_database d ON d.oid = s.setdatabase WHERE r.rolname = {role}"
        " AND d.datname = {db} AND {setting} = ANY (s.setconfig)",
        role=role,
        db=database,
        setting=setting,
    )
