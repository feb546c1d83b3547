"""The dashboard's scheduled work (declared in cdm.jobs): keeping the indicators' per-patient summary current."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from cdm import db
from cdm.settings import Settings
from dashboard.indicators_repo import refresh_activity

log = logging.getLogger(__name__)


def refresh_indicators(settings: Settings) -> int:
    """Fold new readings and follow-ups into patient_activity; late readings up to the meters' buffer age count."""
    with db.connect(settings.database_url or "", app="cdm-indicators") as conn, conn.transaction():
        # One refresher at a time, whatever the number of worker processes (the scheduler lock is per job store).
        conn.execute("select pg_advisory_xact_lock(hashtext('cdm.refresh_indicators'))")
        touched = refresh_activity(conn, now=datetime.now(UTC), lookback_days=settings.max_buffer_age_days)
    log.debug("indicator summary: %d patients with new readings", touched)
    return touched
