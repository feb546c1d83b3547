"""SQL of changing one's own password: whether a change is due, the stored hash, the new hash."""

from __future__ import annotations

import psycopg


def change_required(conn: psycopg.Connection, user_id: int) -> bool:
    """Whether the account still has the first password an import gave it."""
    row = conn.execute("select password_change_required from app_user where id = %s", (user_id,)).fetchone()
    return bool(row and row[0])


def password_hash(conn: psycopg.Connection, user_id: int) -> str | None:
    """The account's argon2id hash (locked for the change)."""
    row = conn.execute("select password_hash from app_user where id = %s for update", (user_id,)).fetchone()
    return str(row[0]) if row else None


def set_password(conn: psycopg.Connection, user_id: int, new_hash: str) -> None:
    """Store the new hash; the change is no longer due."""
    conn.execute(
        "update app_user set password_hash = %s, password_change_required = false where id = %s", (new_hash, user_id)
    )
