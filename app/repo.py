"""SQL of the application itself: the demo's database and the counts its summary reports."""

from __future__ import annotations

from datetime import datetime

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


def past_alert_patients(conn: psycopg.Connection, *, count: int) -> list[tuple[int, int]]:
    """(patient id, township id) of `count` patients registered over 120 days ago, spread over the county."""
    rows = conn.execute(
        "select p.id, case v.level when 'township' then v.id else v.parent_id end from patient p"
        " join region v on v.id = p.village_id"
        " where p.registered_at < now() - interval '120 days' and p.hypertension"
        " order by abs(hashtext(p.health_card_no || 'alert')) limit %s",
        (count,),
    ).fetchall()
    return [(int(a), int(b)) for a, b in rows]


def insert_past_alert(conn: psycopg.Connection, *, patient_id: int, township_id: int, opened_at: datetime) -> int:
    """An alert raised in the past (its events follow through the workflow); its id."""
    row = conn.execute(
        "insert into alert (patient_id, kind, severity, reasons, evidence, township_id, opened_at, last_seen_at,"
        " latest_evidence) values (%s, 'turned_red', 'critical', '{bp_critical}', '{}', %s, %s, %s, '{}')"
        " returning id",
        (patient_id, township_id, opened_at, opened_at),
    ).fetchone()
    assert row is not None
    conn.execute(
        "insert into alert_event (alert_id, at, actor, event) values (%s, %s, 'system', 'opened')", (row[0], opened_at)
    )
    return int(row[0])


def colour_history_days(conn: psycopg.Connection, *, days: int = 90) -> int:
    """Local days of the last `days` on which some patient's colour history has a row."""
    row = conn.execute(
        "select count(distinct (assessed_at at time zone 'Asia/Shanghai')::date) from assessment_history"
        " where assessed_at > now() - make_interval(days => %s)",
        (days,),
    ).fetchone()
    return int(row[0]) if row else 0


def first_county_id(conn: psycopg.Connection) -> int:
    """The region id of the store's first county."""
    row = conn.execute("select id from region where level = 'county' order by id limit 1").fetchone()
    if row is None:
        raise LookupError("the store holds no county")
    return int(row[0])
