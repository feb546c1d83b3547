"""Connections to the store. Every part opens its connections here, never on its own."""

from __future__ import annotations

import psycopg
from psycopg_pool import ConnectionPool

APP_NAME = "cdm"


def connect(
    url: str, *, autocommit: bool = False, client_side: bool = False, app: str = APP_NAME
) -> psycopg.Connection:
    """Open one connection; `client_side` binds parameters in the client (needed by the TimescaleDB test server)."""
    kwargs: dict[str, object] = {"autocommit": autocommit, "application_name": app}
    if client_side:
        kwargs["cursor_factory"] = psycopg.ClientCursor
    return psycopg.connect(url, **kwargs)  # type: ignore[arg-type]


def try_lock(conn: psycopg.Connection, name: str) -> bool:
    """Take the session-level advisory lock called `name` if it is free (a singleton job, a scheduler)."""
    row = conn.execute("select pg_try_advisory_lock(hashtext(%s))", (name,)).fetchone()
    return bool(row and row[0])


def unlock(conn: psycopg.Connection, name: str) -> None:
    """Release the advisory lock called `name` taken by `try_lock` on this connection."""
    conn.execute("select pg_advisory_unlock(hashtext(%s))", (name,))


def ping(conn: psycopg.Connection) -> None:
    """Touch the server (a session's advisory locks live as long as its connection)."""
    conn.execute("select 1")


def open_pool(url: str, *, min_size: int = 1, max_size: int = 4, app: str = APP_NAME) -> ConnectionPool:
    """A small pool for request-driven readers such as the dashboard."""
    pool = ConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"application_name": app, "autocommit": True},
        # A connection is checked as it is handed out: after a store restart or a failover the pool drops the dead
        # ones instead of failing one request for each (one round trip; the screens make few requests).
        check=ConnectionPool.check_connection,
        open=False,
    )
    pool.open(wait=True, timeout=30)
    return pool
