"""Every scheduled job, declared in one place: stable ids, China time, coalesced, one run at a time."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial

from apscheduler.schedulers.base import BaseScheduler

from alerts.reminders.service import plan_reminders as plan
from alerts.reminders.service import send_due_reminders
from alerts.service import AlertContext, alert_changes
from alerts.service import settle_sittings as settle
from alerts.workflow.service import run_escalation
from assess.risk.service import score_everyone
from assess.service import rescore_all
from cdm import db, store
from cdm.metrics import observe_job
from cdm.settings import Settings
from dashboard.summaries.service import refresh_indicators as refresh
from ingest.status.service import refresh_status

log = logging.getLogger(__name__)


def ensure_partitions(settings: Settings) -> None:
    """Keep monthly reading partitions ahead of time (plain PostgreSQL only)."""
    with db.connect(settings.database_url or "", app="cdm-jobs") as conn:
        made = store.ensure_partitions(conn)
    log.info("reading partitions created: %s", made)


def rescore_everyone(settings: Settings) -> None:
    """Reassess every patient, so monitoring gaps and overdue follow-ups age into yellow without new readings."""
    now = datetime.now(UTC)
    ctx = AlertContext.from_settings(settings)
    # Each chunk's alerts are raised in that chunk's transaction, so a patient who turned red is alerted once.
    totals = rescore_all(
        settings.database_url or "", now=now, rules=ctx.rules, on_changes=partial(alert_changes, now=now, ctx=ctx)
    )
    log.info(
        "nightly rescore: %s patients, %s changes, %s left to ingest, %s chunks failed, %.1f s",
        totals.patients, totals.changes, totals.skipped, totals.failed_chunks, totals.seconds,
    )  # fmt: skip


def score_risk(settings: Settings) -> None:
    """Score every patient's China-PAR risk and the trained model's 90-day probability (before the rescore)."""
    score_everyone(settings)


def plan_reminders(settings: Settings) -> None:
    """Record the reminders patients are due (measure, follow-up, medication); each patient in its own savepoint."""
    plan(settings)


def send_reminders(settings: Settings) -> None:
    """Send the reminders that are due through the SMS channel; each reminder in its own transaction."""
    send_due_reminders(settings)


def escalate_alerts(settings: Settings) -> None:
    """Notify the county's on-duty person and the team when a township has not acknowledged; mark overdue."""
    run_escalation(settings)


def settle_sittings(settings: Settings) -> None:
    """Record whether the sitting of each critical BP alert confirmed it, once the gap alone has closed the sitting
    (ingest does this with every batch; this covers a county whose meters have gone quiet)."""
    ctx = AlertContext.from_settings(settings)
    with db.connect(settings.database_url or "", app="cdm-jobs") as conn:
        settled = settle(conn, patient_ids=(), now=datetime.now(UTC), rules=ctx.rules, ctx=ctx)
        conn.commit()
    if settled:
        log.info("sittings settled for %s alerts", len(settled))


def flag_silent_meters(settings: Settings) -> None:
    """Mark meters silent past heartbeat interval x CDM_DEVICE_OFFLINE_GRACE offline, and heard-from ones online."""
    with db.connect(settings.database_url or "", app="cdm-jobs") as conn:
        changed = refresh_status(conn, now=datetime.now(UTC), grace=settings.device_offline_grace)
        conn.commit()
    if changed["offline"] or changed["online"]:
        log.info("meters now offline: %s; back online: %s", len(changed["offline"]), len(changed["online"]))


def refresh_indicators(settings: Settings) -> None:
    """Bring the screens' per-patient summary (latest readings, follow-ups) up to date for the indicators."""
    refresh(settings)


# What the job store records is a job's name, never its settings: pickled settings would put the webhook and SMS
# secrets in a database table, and would go stale when a setting changes. `declare` binds them for this process.
JOBS: dict[str, Callable[[Settings], None]] = {
    "ensure_partitions": ensure_partitions,
    "score_risk": score_risk,
    "rescore_everyone": rescore_everyone,
    "plan_reminders": plan_reminders,
    "send_reminders": send_reminders,
    "escalate_alerts": escalate_alerts,
    "flag_silent_meters": flag_silent_meters,
    "settle_sittings": settle_sittings,
    "refresh_indicators": refresh_indicators,
}
_bound: dict[str, Settings] = {}


def run_job(name: str) -> None:
    """The callable every stored job points at: run job `name` with the settings this process was started with."""
    settings = _bound.get("settings")
    if settings is None:
        raise RuntimeError("app.jobs.declare() was not called in this process; the job has no settings")
    try:
        JOBS[name](settings)
    except BaseException:
        observe_job(name, ok=False)
        raise
    observe_job(name, ok=True)


def declare(scheduler: BaseScheduler, settings: Settings) -> None:
    """Add every job to `scheduler` (which runs in settings.timezone); stored jobs of the same id are replaced."""
    _bound["settings"] = settings
    common = {
        "coalesce": True,
        "max_instances": 1,
        "misfire_grace_time": 3600,
        "replace_existing": True,
    }
    tz = settings.tz

    def add(job_id: str, **trigger: object) -> None:
        scheduler.add_job(run_job, "cron", id=job_id, args=[job_id], timezone=tz, **common, **trigger)

    add("ensure_partitions", hour=1, minute=5)
    add("score_risk", hour=1, minute=30)  # the rescore at 02:00 applies these scores
    add("rescore_everyone", hour=2, minute=0)
    # Planning every quarter hour catches each medication time and each new gap; the unique key makes reruns free.
    add("plan_reminders", minute="*/15")
    # Half a minute after each planning run, so a reminder planned for "now" goes out within the same minute.
    add("send_reminders", minute="*", second=30)
    # Every minute: the policy counts in minutes (30 by default), so an escalation is at most a minute late.
    add("escalate_alerts", minute="*", second=15)
    # Every minute: the shortest heartbeat interval a meter may declare is 10 s, the grace at least 1x.
    add("flag_silent_meters", minute="*", second=45)
    # Every minute: a sitting closes CDM_SITTING_MINUTES after its last reading.
    add("settle_sittings", minute="*", second=5)
    # Every minute: the screens' indicators are "live" to within this (and say when they were computed).
    add("refresh_indicators", minute="*", second=50)


def prune(scheduler: BaseScheduler) -> list[str]:
    """Remove stored jobs this code no longer declares (a job store outlives the code that filled it)."""
    stale = [job.id for job in scheduler.get_jobs() if job.id not in JOBS]
    for job_id in stale:
        scheduler.remove_job(job_id)
    return stale
