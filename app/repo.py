"""SQL of the application itself: the demo's database and the counts its summary reports."""

from __future__ import annotations

import psycopg
from psycopg import sql

COUNT_KEYS = ("stored", "duplicates", "quarantined", "alerts", "delivered", "notifications_open")


def recreate_database(conn: psycopg.Connection, name: str) -> None:
    """Drop database `name` (closing its sessions) and create it empty; `conn` is autocommit."""
    conn.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
    conn.execute(sql.SQL("create database {}").format(sql.Identifier(name)))


def has_readings(conn: psycopg.Connection) -> bool:
    """Whether the store holds any reading at all."""
    row = conn.execute("select exists (select 1 from reading)").fetchone()
    return bool(row and row[0])


def counts(conn: psycopg.Connection) -> dict[str, int]:
    """Readings stored and repeated (the meters' counters), refused, alerts, notifications delivered and open."""
    row = conn.execute(
        "select (select coalesce(sum(readings_count), 0) from device),"
        " (select coalesce(sum(duplicates_count), 0) from device), (select count(*) from quarantine),"
        " (select count(*) from alert), (select count(*) from notification where status = 'delivered'),"
        " (select count(*) from notification where status in ('pending', 'sending'))"
    ).fetchone()
    return dict(zip(COUNT_KEYS, (int(v) for v in row or (0,) * len(COUNT_KEYS)), strict=True))


def colour_counts(conn: psycopg.Connection) -> dict[str, int]:
    """Patients per colour now."""
    return {c: int(n) for c, n in conn.execute("select colour, count(*) from assessment_current group by colour")}
