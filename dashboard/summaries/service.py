"""The dashboard's scheduled work (declared in app.jobs): keeping the screens' summaries current.

Every minute: fold new readings and follow-ups into patient_activity, store the indicators, recount colours per
township and team, and fold settled colour changes into the daily moves. Late readings up to the meters'
buffer age are picked up.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import psycopg

from cdm import db
from cdm.settings import Settings
from dashboard.indicators.repo import refresh_activity, store_indicators
from dashboard.summaries import repo as summary_repo

log = logging.getLogger(__name__)

LOCK = "cdm.refresh_indicators"


def refresh_screens(conn: psycopg.Connection, *, now: datetime, lookback_days: int) -> dict[str, int]:
    """Bring every summary up to date at `now`, in the caller's (repeatable-read) transaction."""
    return {
        "patients_with_new_readings": refresh_activity(conn, now=now, lookback_days=lookback_days),
        "indicator_rows": store_indicators(conn, now=now),
        "count_rows": summary_repo.rebuild_counts(conn, now=now),
        "history_rows_folded": summary_repo.fold_daily_moves(conn, now=now),
    }


def refresh_indicators(settings: Settings) -> dict[str, int]:
    """The scheduled job: one refresher at a time (another running one means this run is skipped)."""
    with db.connect(settings.database_url or "", app="cdm-indicators", autocommit=True) as conn:
        if not db.try_lock(conn, LOCK):
            log.info("screen summaries: another refresh is running; skipped")
            return {}
        try:
            # One snapshot for the counts and the history watermark they are exact at.
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with conn.transaction():
                counts = refresh_screens(conn, now=datetime.now(UTC), lookback_days=settings.max_buffer_age_days)
        finally:
            db.unlock(conn, LOCK)
    log.debug("screen summaries: %s", counts)
    return counts
