"""The `cdm worker` process: the notification dispatcher, and the scheduler when this worker holds the lock.

Any number of workers may run: all dispatch (claims skip each other's rows), but only the one holding the
PostgreSQL advisory lock runs the scheduled jobs; the others wait as standbys and take over if it dies.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from apscheduler.schedulers.background import BackgroundScheduler

from alerts.dispatcher import Dispatcher
from cdm import db, jobs
from cdm.settings import Settings

log = logging.getLogger(__name__)

SCHEDULER_LOCK = 0x63646D01
STANDBY_RETRY_S = 15.0


def _scheduler_loop(settings: Settings, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            with db.connect(settings.database_url or "", autocommit=True, app="cdm-scheduler") as conn:
                row = conn.execute("select pg_try_advisory_lock(%s)", (SCHEDULER_LOCK,)).fetchone()
                if not (row and row[0]):
                    stop.wait(STANDBY_RETRY_S)
                    continue
                scheduler = BackgroundScheduler(timezone=settings.tz)
                jobs.declare(scheduler, settings)
                scheduler.start()
                log.info("scheduler active: %s", ", ".join(j.id for j in scheduler.get_jobs()))
                try:
                    while not stop.wait(STANDBY_RETRY_S):
                        conn.execute("select 1")  # the lock lives as long as this connection
                finally:
                    scheduler.shutdown(wait=False)
        except psycopg.OperationalError as exc:
            log.warning("scheduler lost the store (%s); retrying", exc)
            stop.wait(2.0)


def run(settings: Settings, *, stop: threading.Event | None = None) -> None:
    """Dispatch notifications and run the scheduled jobs until `stop` is set."""
    stop = stop or threading.Event()
    scheduler = threading.Thread(target=_scheduler_loop, args=(settings, stop), name="scheduler", daemon=True)
    scheduler.start()
    Dispatcher(settings, stop=stop).run()
    scheduler.join(timeout=5)
