"""Bringing a store up to date: migrations, then the data that follows them (thresholds, partitions)."""

from __future__ import annotations

import logging

import psycopg

from cdm import db, db_roles, migrate, thresholds
from cdm.db_roles import DbRoles

log = logging.getLogger(__name__)

PARTITION_MONTHS_BACK = 2  # ingest refuses readings older than the meter buffer (30 days by default)
PARTITION_MONTHS_AHEAD = 3


def sync_thresholds(conn: psycopg.Connection) -> int:
    """Write the threshold table from cdm.thresholds; returns the number of rows that changed."""
    changed = 0
    with conn.transaction():
        for row in thresholds.as_rows():
            cur = conn.execute(
                "insert into clinical_threshold (edition, name, value, unit, source) values (%s, %s, %s, %s, %s)"
                " on conflict (edition, name) do update set value = excluded.value, unit = excluded.unit,"
                " source = excluded.source where (clinical_threshold.value, clinical_threshold.unit,"
                " clinical_threshold.source) is distinct from (excluded.value, excluded.unit, excluded.source)",
                row,
            )
            changed += cur.rowcount
    return changed


def ensure_partitions(conn: psycopg.Connection) -> int:
    """Create the monthly reading partitions around today on plain PostgreSQL (TimescaleDB makes its own)."""
    if migrate.current_engine(conn) != "native":
        return 0
    row = conn.execute(
        "select cdm_ensure_reading_partitions((date_trunc('month', now()) - make_interval(months => %s))::date, %s)",
        (PARTITION_MONTHS_BACK, PARTITION_MONTHS_BACK + 1 + PARTITION_MONTHS_AHEAD),
    ).fetchone()
    conn.commit()
    return int(row[0]) if row else 0


def _engine_to_be(conn: psycopg.Connection) -> str:
    recorded = conn.execute("select to_regclass('schema_migration') is not null").fetchone()
    return migrate.current_engine(conn) if recorded and recorded[0] else migrate.detect_engine(conn)


def upgrade_store(url: str, *, client_side: bool = False, roles: DbRoles | None = None) -> dict[str, object]:
    """Everything `cdm db upgrade` does; safe to run again (a second run changes nothing).

    With `roles`, `url` is an administrator's: the owner and runtime roles are made and granted (cdm.db_roles)
    and everything else runs as the owner, so every object belongs to it.
    """
    with db.connect(url, client_side=client_side, autocommit=True) as conn:
        if roles is not None:
            if _engine_to_be(conn) == "timescale":
                conn.execute("create extension if not exists timescaledb")  # needs the administrator's rights
            db_roles.prepare(conn, roles)
            db_roles.act_as(conn, roles.owner)
        applied = migrate.upgrade(conn)
        conn.autocommit = False
        changed = sync_thresholds(conn)
        partitions = ensure_partitions(conn)
        engine = migrate.current_engine(conn)
        conn.commit()
        if roles is not None:
            conn.autocommit = True
            db_roles.act_as(conn, None)
            db_roles.grant_runtime(conn, roles)
    log.info("store upgraded: %s migrations, %s threshold rows, %s partitions", len(applied), changed, partitions)
    result: dict[str, object] = {
        "engine": engine,
        "applied": applied,
        "thresholds_changed": changed,
        "partitions_created": partitions,
    }
    if roles is not None:
        result["roles"] = {"owner": roles.owner, "runtime": roles.runtime}
    return result
