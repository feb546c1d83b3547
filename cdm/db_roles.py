"""The store's two roles: an owner that migrations run as, and a runtime role the services connect as.

`cdm db upgrade` (connected as a superuser, or a role with CREATEROLE that owns the database: CDM_DATABASE_ADMIN_URL)
creates both when they are missing, hands every object of the schema to the owner, runs the migrations as the
owner, then grants the runtime role only what the services use: reading and writing the tables, the sequences, the
functions — and on the audit trail, `audit_event`, INSERT and SELECT alone. The runtime role owns nothing, so it can
neither change nor empty the audit trail, nor disable the triggers that guard it; what it needs of the owner's
rights (new monthly partitions) it gets through SECURITY DEFINER functions (migration 0052).

Roles belong to the whole PostgreSQL cluster, databases to it one by one: the names are settings
(CDM_DB_OWNER_ROLE, CDM_DB_RUNTIME_ROLE) so that two deployments, or a test run beside a real store, need not share
them; a database cloned from a template (the test fixtures) carries its grants along.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
APPEND_ONLY = ("audit_event",)  # tables the runtime role may only INSERT into and SELECT from


@dataclass(frozen=True, slots=True)
class DbRoles:
    """The owner and runtime roles' names, and the runtime role's password when the deployment gives one."""

    owner: str = "cdm_owner"
    runtime: str = "cdm_runtime"
    runtime_password: str | None = None

    def __post_init__(self) -> None:
        for name in (self.owner, self.runtime):
            if not ROLE_NAME.match(name):
                raise ValueError(f"role name {name!r}: lower-case letters, digits and '_', at most 63")
        if self.owner == self.runtime:
            raise ValueError("the owner and runtime roles must differ")


def runtime_url(url: str, roles: DbRoles) -> str:
    """`url` with the runtime role (and its password, if any) as the user: what the services connect with."""
    parts = urlsplit(url)
    user = quote(roles.runtime, safe="")
    if roles.runtime_password:
        user += ":" + quote(roles.runtime_password, safe="")
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, f"{user}@{host}", parts.path, parts.query, parts.fragment))


def url_user(url: str) -> tuple[str | None, str | None]:
    """(user, password) named by a postgresql:// URL."""
    parts = urlsplit(url)
    return parts.username, parts.password


def _exists(conn: psycopg.Connection, role: str) -> bool:
    return conn.execute("select 1 from pg_roles where rolname = %s", (role,)).fetchone() is not None


def prepare(conn: psycopg.Connection, roles: DbRoles) -> None:
    """As the administrator (autocommit): both roles exist, the owner may create in the schema and owns every object
    already there, and the administrator may act as the owner."""
    if not _exists(conn, roles.owner):
        conn.execute(sql.SQL("create role {} nologin").format(sql.Identifier(roles.owner)))
    if not _exists(conn, roles.runtime):
        conn.execute(sql.SQL("create role {} login").format(sql.Identifier(roles.runtime)))
    if roles.runtime_password:
        conn.execute(
            sql.SQL("alter role {} login password {}").format(
                sql.Identifier(roles.runtime), sql.Literal(roles.runtime_password)
            )
        )
    superuser = conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone()
    if not (superuser and superuser[0]):
        conn.execute(sql.SQL("grant {} to current_user").format(sql.Identifier(roles.owner)))
    conn.execute(sql.SQL("grant usage, create on schema public to {}").format(sql.Identifier(roles.owner)))
    conn.execute(sql.SQL("revoke create on schema public from public"))
    _hand_over(conn, roles.owner)


def _hand_over(conn: psycopg.Connection, owner: str) -> None:
    """Every table, view, sequence and function of the public schema owned by the owner (a store made before the
    roles existed was owned by whoever ran its migrations)."""
    relations = conn.execute(
        "select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace"
        " where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')"
        " and pg_get_userbyid(c.relowner) <> %s",
        (owner,),
    ).fetchall()
    for name, kind in relations:
        what = {"v": "view", "m": "materialized view", "f": "foreign table"}.get(kind, "table")
        conn.execute(
            sql.SQL("alter {} {} owner to {}").format(sql.SQL(what), sql.Identifier(name), sql.Identifier(owner))
        )
    functions = conn.execute(
        "select p.oid::regprocedure::text from pg_proc p join pg_namespace n on n.oid = p.pronamespace"
        " left join pg_depend d on d.objid = p.oid and d.deptype = 'e'"
        " where n.nspname = 'public' and d.objid is null and pg_get_userbyid(p.proowner) <> %s",
        (owner,),
    ).fetchall()
    for (signature,) in functions:
        conn.execute(sql.SQL("alter routine {} owner to {}").format(sql.SQL(signature), sql.Identifier(owner)))


def grant_runtime(conn: psycopg.Connection, roles: DbRoles) -> None:
    """What the services may do, and no more; the append-only tables INSERT and SELECT only."""
    runtime, owner = sql.Identifier(roles.runtime), sql.Identifier(roles.owner)
    statements = [
        sql.SQL("grant usage on schema public to {}").format(runtime),
        sql.SQL("grant select, insert, update, delete on all tables in schema public to {}").format(runtime),
        sql.SQL("grant usage, select on all sequences in schema public to {}").format(runtime),
        sql.SQL("grant execute on all functions in schema public to {}").format(runtime),
        sql.SQL(
            "alter default privileges for role {} in schema public grant select, insert, update, delete on tables to {}"
        ).format(owner, runtime),
        sql.SQL("alter default privileges for role {} in schema public grant usage, select on sequences to {}").format(
            owner, runtime
        ),
    ]
    for table in APPEND_ONLY:
        statements += [
            sql.SQL("revoke all on table {} from {}").format(sql.Identifier(table), runtime),
            sql.SQL("grant select, insert on table {} to {}").format(sql.Identifier(table), runtime),
        ]
    for statement in statements:
        conn.execute(statement)


def act_as(conn: psycopg.Connection, role: str | None) -> None:
    """Run what follows on this connection as `role` (None: as the one who connected)."""
    conn.execute(sql.SQL("set role {}").format(sql.Identifier(role)) if role else sql.SQL("reset role"))
