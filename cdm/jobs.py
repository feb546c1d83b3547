"""Every scheduled job, declared in one place: stable ids, China time, coalesced, one run at a time."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler

from cdm import db, store
from cdm.settings import Settings

log = logging.getLogger(__name__)

RESCORE_CHUNK = 1000  # patients per transaction in the nightly rescore: short locks, steady progress


def ensure_partitions(settings: Settings) -> None:
    """Keep monthly reading partitions ahead of time (plain PostgreSQL only)."""
    with db.connect(settings.database_url or "", app="cdm-jobs") as conn:
        made = store.ensure_partitions(conn)
    log.info("reading partitions created: %s", made)


def rescore_everyone(settings: Settings) -> None:
    """Reassess every patient, so monitoring gaps and overdue follow-ups age into yellow without new readings."""
    from alerts.repo import raise_alerts
    from models.scoring import rescore, rule_settings

    rules = rule_settings(settings)
    done = failed_chunks = 0
    with db.connect(settings.database_url or "", app="cdm-jobs") as conn:
        ids = [r[0] for r in conn.execute("select id from patient order by id")]
        conn.commit()
        for start in range(0, len(ids), RESCORE_CHUNK):
            chunk = ids[start : start + RESCORE_CHUNK]
            try:
                with conn.transaction():
                    now = datetime.now(UTC)
                    raise_alerts(
                        conn, rescore(conn, patient_ids=chunk, now=now, rules=rules), now=now, lang=settings.language
                    )
                done += len(chunk)
            except Exception:  # one chunk's failure must not stop the rest of the county
                failed_chunks += 1
                log.exception("rescore failed for patients %s..%s", chunk[0], chunk[-1])
    log.info("nightly rescore: %s patients, %s chunks failed", done, failed_chunks)


def declare(scheduler: BaseScheduler, settings: Settings) -> None:
    """Add every job to `scheduler` (which runs in settings.timezone)."""
    common = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": 3600,
        "replace_existing": True,
        "kwargs": {"settings": settings},
    }
    scheduler.add_job(ensure_partitions, "cron", id="ensure_partitions", hour=1, minute=5, **common)
    scheduler.add_job(rescore_everyone, "cron", id="rescore_everyone", hour=2, minute=0, **common)
