"""Bringing a store up to date: migrations, then the data that follows them (thresholds, partitions)."""

from __future__ import annotations

import logging

import psycopg

from cdm import db, migrate, thresholds

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


def upgrade_store(url: str, *, client_side: bool = False) -> dict[str, object]:
    """Everything `cdm db upgrade` does; safe to run again (a second run changes nothing)."""
    with db.connect(url, client_side=client_side) as conn:
        applied = migrate.upgrade(conn)
        conn.autocommit = False
        changed = sync_thresholds(conn)
        partitions = ensure_partitions(conn)
        engine = migrate.current_engine(conn)
    log.info("store upgraded: %s migrations, %s threshold rows, %s partitions", len(applied), changed, partitions)
    return {"engine": engine, "applied": applied, "thresholds_changed": changed, "partitions_created": partitions}
