"""The `cdm worker` process: the notification dispatcher, and the scheduler when this worker holds the lock.

Any number of workers may run: all dispatch (claims skip each other's rows), but only the one holding the
PostgreSQL advisory lock runs the scheduled jobs; the others wait as standbys and take over if it dies.
"""

from __future__ import annotations

import logging
import threading

import psycopg
import sqlalchemy
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from alerts.dispatcher import Dispatcher
from app import jobs
from cdm import db
from cdm.metrics import metrics
from cdm.settings import Settings

log = logging.getLogger(__name__)

SCHEDULER_LOCK = "cdm-scheduler"
STANDBY_RETRY_S = 15.0
HEARTBEAT_S = 5.0  # how soon an active scheduler notices it lost its lock connection (and so its lock)
JOBSTORE_TABLE = "apscheduler_jobs"


def sqlalchemy_url(url: str) -> str:
    """The store's URL for SQLAlchemy's psycopg 3 driver (a unix socket's `?host=/dir` passes through as is).

    A multi-host URL (postgresql://u@h1:p1,h2:p2/db?target_session_attrs=read-write, a Patroni pair) is spelled
    the way SQLAlchemy accepts it: `postgresql+psycopg://u@/db?host=h1:p1&host=h2:p2&…`.
    """
    _, sep, rest = url.partition("://")
    if not sep:
        raise ValueError("CDM_DATABASE_URL is not a URL")
    netloc, _, path = rest.partition("/")
    auth, at, hosts = netloc.rpartition("@")
    if "," not in hosts:
        return "postgresql+psycopg://" + rest
    dbname, _, query = path.partition("?")
    params = "&".join(f"host={h}" for h in hosts.split(","))
    return f"postgresql+psycopg://{auth}{at}/{dbname}?{params}" + (f"&{query}" if query else "")


def build_scheduler(settings: Settings) -> BackgroundScheduler:
    """A scheduler whose jobs live in the store's database, with every job of app.jobs declared."""
    engine = sqlalchemy.create_engine(
        sqlalchemy_url(settings.database_url or ""),
        pool_pre_ping=True,  # the store may restart under a long-running worker
        connect_args={"application_name": "cdm-jobstore"},
    )
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
    scheduler = BackgroundScheduler(jobstores={"default": store}, timezone=settings.tz)
    jobs.declare(scheduler, settings)
    return scheduler


class SchedulerGuard:
    """Runs the scheduler only while holding the advisory lock; otherwise waits as a standby.

    APScheduler 3 must never run two schedulers on one job store (runs would be doubled or missed), so the lock,
    held by a connection of its own for as long as the scheduler runs, is what lets many workers share one store.
    """

    def __init__(self, settings: Settings, *, stop: threading.Event, retry_s: float = STANDBY_RETRY_S) -> None:
        self.settings = settings
        self.stop = stop
        self.retry_s = retry_s
        self.active = threading.Event()  # set while this instance's scheduler runs

    def run(self) -> None:
        """Until `stop`: take the lock when it is free and run the scheduler; reconnect when the store goes away."""
        while not self.stop.is_set():
            try:
                with db.connect(self.settings.database_url or "", autocommit=True, app="cdm-scheduler") as conn:
                    if db.try_lock(conn, SCHEDULER_LOCK):
                        self._lead(conn)
                    else:
                        self.stop.wait(self.retry_s)
            except (psycopg.OperationalError, sqlalchemy.exc.OperationalError) as exc:
                log.warning("scheduler lost the store (%s); retrying", exc)
                self.stop.wait(2.0)
            except Exception:  # a worker keeps dispatching even when its scheduler cannot start
                log.exception("scheduler failed; retrying")
                self.stop.wait(self.retry_s)

    def _lead(self, conn: psycopg.Connection) -> None:
        scheduler = build_scheduler(self.settings)
        scheduler.start(paused=True)  # prune before anything stale can fire
        try:
            stale = jobs.prune(scheduler)
            if stale:
                log.info("removed stored jobs no longer declared: %s", ", ".join(stale))
            scheduler.resume()
            self.active.set()
            metrics().scheduler_active.set(1)
            log.info("scheduler active: %s", ", ".join(j.id for j in scheduler.get_jobs()))
            while not self.stop.wait(HEARTBEAT_S):
                db.ping(conn)  # the lock lives as long as this connection
        finally:
            self.active.clear()
            metrics().scheduler_active.set(0)
            scheduler.shutdown(wait=False)


def run(settings: Settings, *, stop: threading.Event | None = None) -> None:
    """Dispatch notifications and run the scheduled jobs until `stop` is set."""
    stop = stop or threading.Event()
    guard = SchedulerGuard(settings, stop=stop)
    scheduler = threading.Thread(target=guard.run, name="scheduler", daemon=True)
    scheduler.start()
    Dispatcher(settings, stop=stop).run()
    scheduler.join(timeout=5)
