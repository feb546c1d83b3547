"""The worker's scheduler: jobs persisted in the store's PostgreSQL, one active instance, the others standing by."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest
from pydantic import SecretStr

from app import jobs
from app.worker import JOBSTORE_TABLE, SCHEDULER_LOCK, SchedulerGuard, build_scheduler, sqlalchemy_url
from cdm.settings import Settings
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
def wsettings(db_url, tmp_path) -> Settings:
    return Settings(
        database_url=db_url,
        sms_api_key=SecretStr("sms-secret-not-for-the-job-table"),
        data_dir=tmp_path / "cdm",
        _env_file=None,  # type: ignore[call-arg]
    )


def stored_jobs(url: str) -> dict[str, bytes]:
    with psycopg.connect(url) as conn:
        return {row[0]: bytes(row[1]) for row in conn.execute(f"select id, job_state from {JOBSTORE_TABLE}")}


def wait(condition, timeout: float = 10.0) -> bool:
    return wait_until(condition, timeout, every=0.05)


def start(guard: SchedulerGuard) -> threading.Thread:
    thread = threading.Thread(target=guard.run, daemon=True)
    thread.start()
    return thread


def test_the_unix_socket_url_becomes_a_psycopg3_sqlalchemy_url():
    assert (
        sqlalchemy_url("postgresql://postgres:@/cdm?host=/tmp/pg") == "postgresql+psycopg://postgres:@/cdm?host=/tmp/pg"
    )
    assert sqlalchemy_url("postgres://u:p@db:5432/cdm") == "postgresql+psycopg://u:p@db:5432/cdm"


def test_a_multi_host_url_becomes_host_parameters_sqlalchemy_accepts():
    from sqlalchemy.engine import make_url

    url = sqlalchemy_url("postgresql://cdm:pw@10.0.0.1:5432,10.0.0.2:5433/cdm?target_session_attrs=read-write")
    assert url == (
        "postgresql+psycopg://cdm:pw@/cdm?host=10.0.0.1:5432&host=10.0.0.2:5433&target_session_attrs=read-write"
    )
    parsed = make_url(url)
    assert parsed.query["host"] == ("10.0.0.1:5432", "10.0.0.2:5433") and parsed.database == "cdm"


def test_jobs_live_in_postgres_and_a_second_scheduler_stands_by_until_the_first_stops(wsettings):
    url = wsettings.database_url
    # A job left in the store by an older version of the code: the active scheduler must remove it.
    old = build_scheduler(wsettings)
    old.add_job(jobs.run_job, "interval", hours=1, id="retired_job", args=["retired_job"])
    old.start(paused=True)
    old.shutdown(wait=False)
    assert "retired_job" in stored_jobs(url)

    stop_first, stop_second = threading.Event(), threading.Event()
    first = SchedulerGuard(wsettings, stop=stop_first, retry_s=0.2)
    second = SchedulerGuard(wsettings, stop=stop_second, retry_s=0.2)
    threads = [start(first)]
    try:
        assert first.active.wait(15)
        threads.append(start(second))
        time.sleep(1.5)  # several of the standby's attempts at the lock
        assert not second.active.is_set(), "a second scheduler must not run on the same job store"
        stored = stored_jobs(url)
        assert set(stored) == set(jobs.JOBS) >= {"plan_reminders", "send_reminders", "rescore_everyone"}
        assert not any(b"sms-secret" in state or b"dev-only-webhook" in state for state in stored.values()), (
            "the job table must not hold the settings' secrets"
        )
        with psycopg.connect(url) as conn:
            holders = conn.execute(
                "select count(*) from pg_locks where locktype = 'advisory' and granted"
                " and objid::bigint = (hashtext(%s)::bigint & 4294967295)"
                " and database = (select oid from pg_database where datname = current_database())",
                (SCHEDULER_LOCK,),
            ).fetchone()[0]
        assert holders == 1

        stop_first.set()
        assert wait(lambda: not first.active.is_set())
        assert second.active.wait(15), "the standby takes over when the active scheduler stops"
        assert set(stored_jobs(url)) == set(jobs.JOBS), "a restart replaces the stored jobs, never duplicates them"
    finally:
        stop_first.set()
        stop_second.set()
        for thread in threads:
            thread.join(15)
    assert not second.active.is_set()


def test_a_stored_job_runs_with_the_settings_of_the_process(wsettings):
    scheduler = build_scheduler(wsettings)
    scheduler.start(paused=True)
    try:
        job = scheduler.get_job("send_reminders")
        assert (job.func, job.args, job.kwargs) == (jobs.run_job, ("send_reminders",), {})
        assert job.coalesce and job.max_instances == 1 and str(job.trigger.timezone) == "Asia/Shanghai"
    finally:
        scheduler.shutdown(wait=False)
