"""Reminder planning and sending against a real PostgreSQL and a real HTTP SMS gateway (the sink under /sms)."""

from __future__ import annotations

import logging
import threading
import time as clock
from collections import Counter
from contextlib import closing
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
import time_machine
from pydantic import SecretStr

from alerts.channels.base import OutboundMessage, Receipt
from alerts.reminders.service import plan_reminders, send_due_reminders, sms_channel
from app import jobs
from cdm.settings import Settings
from tests.support.registry import build

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 3, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


NOW = at(10, 10)  # Monday 10 March 2025, 10:00 in China


@pytest.fixture
def rsettings(db_url, sink, tmp_path) -> Settings:
    """Settings with the SMS gateway pointed at the sink; no broker needed."""
    return Settings(
        database_url=db_url,
        sms_gateway_url=f"{sink.url}/sms",
        sms_api_key=SecretStr("test-sms-key"),
        data_dir=tmp_path / "cdm",
        _env_file=None,  # type: ignore[call-arg]
    )


def phone(i: int) -> str:
    return f"1380013{i:04d}"


def county(url: str, *, patients: int, last_bp: datetime | None = None, **contact) -> list[int]:
    """A small county whose patients all have a phone; with `last_bp`, each measured what they need then."""
    with psycopg.connect(url) as conn:
        small = build(conn, code="r", patients=patients)
        ids = sorted(small.patients.values())
        meters = dict(conn.execute("select kind, id from device").fetchall())
        clinic = small.village_id
        for i, pid in enumerate(ids):
            conn.execute(
                "insert into patient_contact (patient_id, phone, medication_times) values (%s, %s, %s)",
                (pid, phone(i), contact.get("medication_times", [])),
            )
            # registered long ago, so only the readings decide whether measuring is due
            conn.execute("update patient set registered_at = %s where id = %s", (at(1, 9) - timedelta(days=60), pid))
            diabetic = conn.execute("select diabetes from patient where id = %s", (pid,)).fetchone()[0]
            if last_bp:
                conn.execute(
                    "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                    " systolic, diastolic) values (%s, %s, %s, %s, %s, 'bp', %s, 132, 84)",
                    (meters["bp"], i, last_bp, last_bp, clinic, pid),
                )
            if last_bp and diabetic:
                conn.execute(
                    "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                    " glucose_mmol, glucose_context) values (%s, %s, %s, %s, %s, 'glucose', %s, 6.1, 'fasting')",
                    (meters["glucose"], i, last_bp + timedelta(hours=1), last_bp, clinic, pid),
                )
    return ids


def reminders(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select patient_id, kind, status, skip_reason, attempts, planned_for from reminder order by patient_id, id"
        ).fetchall()


class Unhurried:
    """The real SMS channel, taking 20 ms longer per send, so that two workers' sends surely interleave."""

    def __init__(self, settings: Settings) -> None:
        self.inner = sms_channel(settings)
        self.name = "sms"

    def send(self, message: OutboundMessage) -> Receipt:
        clock.sleep(0.02)
        return self.inner.send(message)

    def close(self) -> None:
        self.inner.close()


def race(settings: Settings, *, now: datetime) -> list[Counter]:
    """Two workers, each with its own connection and channel, calling send_due_reminders at the same moment."""
    start, results = threading.Barrier(2), [Counter(), Counter()]

    def worker(i: int) -> None:
        channel = Unhurried(settings)
        start.wait()
        try:
            results[i] = send_due_reminders(settings, channel, now=now)
        finally:
            channel.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def test_planning_twice_makes_no_second_reminder(rsettings):
    ids = county(rsettings.database_url, patients=3, last_bp=at(3, 9))
    assert plan_reminders(rsettings, now=NOW) == 3
    assert plan_reminders(rsettings, now=NOW) == 0
    assert plan_reminders(rsettings, now=NOW + timedelta(days=3)) == 0, "the same gap step"
    planners = [threading.Thread(target=plan_reminders, args=(rsettings,), kwargs={"now": NOW}) for _ in range(2)]
    for thread in planners:
        thread.start()
    for thread in planners:
        thread.join(30)
    assert [(pid, kind, status) for pid, kind, status, *_ in reminders(rsettings.database_url)] == [
        (pid, "measure", "pending") for pid in ids
    ]


def test_two_workers_at_the_same_moment_deliver_each_reminder_exactly_once(rsettings, sink):
    county(rsettings.database_url, patients=20, last_bp=at(3, 9))
    assert plan_reminders(rsettings, now=NOW) == 20
    first, second = race(rsettings, now=NOW)
    assert first["sent"] + second["sent"] == 20
    assert first["sent"] > 0 and second["sent"] > 0, "both workers took part"
    received = sink.wait_for(20, timeout=10)
    assert len(received) == 20 and sink.requests == 20 and sink.repeats == 0
    assert sorted(r.body["phone"] for r in received) == sorted(phone(i) for i in range(20))
    assert {r.path for r in received} == {"/sms"}
    assert received[0].body["template"] == "reminder.measure"
    assert {r.body["params"]["what"] for r in received} == {"血压", "血压和血糖"}  # odd patients are diabetic
    assert {r.body["params"]["days"] for r in received} == {"7"}
    assert received[0].body["sign_name"] == "县慢病中心"
    rows = reminders(rsettings.database_url)
    assert {(status, attempts) for _, _, status, _, attempts, _ in rows} == {("sent", 1)}


def test_the_daily_cap_holds_when_two_workers_send_to_one_patient(rsettings, sink):
    county(
        rsettings.database_url, patients=1, last_bp=at(9, 9), medication_times=[time(9, 10), time(9, 20), time(9, 30)]
    )
    now = at(10, 9, 40)
    assert plan_reminders(rsettings, now=now) == 3
    first, second = race(rsettings, now=now)
    assert first["sent"] + second["sent"] == 2
    assert [(status, reason) for _, _, status, reason, *_ in reminders(rsettings.database_url)] == [
        ("sent", None),
        ("sent", None),
        ("skipped", "daily_cap"),
    ]
    clock.sleep(0.2)
    assert len(sink.received()) == 2 and sink.requests == 2


def test_quiet_hours_hold_at_send_time_even_when_the_plan_was_made_by_day(rsettings, sink):
    county(rsettings.database_url, patients=1, last_bp=at(3, 9))
    plan_reminders(rsettings, now=at(10, 20, 50))
    with closing(sms_channel(rsettings)) as channel:
        assert send_due_reminders(rsettings, channel, now=at(10, 21, 5)) == Counter(deferred=1)
        assert sink.requests == 0
        assert reminders(rsettings.database_url)[0][2:] == ("pending", None, 0, at(11, 8))
        assert send_due_reminders(rsettings, channel, now=at(11, 7, 59)) == Counter()
        assert send_due_reminders(rsettings, channel, now=at(11, 8)) == Counter(sent=1)
    assert len(sink.wait_for(1, timeout=5)) == 1


def test_a_patient_who_opts_out_after_planning_gets_nothing(rsettings, sink):
    [pid] = county(rsettings.database_url, patients=1, last_bp=at(3, 9))
    plan_reminders(rsettings, now=NOW)
    with psycopg.connect(rsettings.database_url) as conn:
        conn.execute("update patient_contact set reminders_opt_out_at = %s where patient_id = %s", (NOW, pid))
    with closing(sms_channel(rsettings)) as channel:
        assert send_due_reminders(rsettings, channel, now=NOW) == Counter(skipped=1)
    assert reminders(rsettings.database_url)[0][2:4] == ("skipped", "opted_out")
    assert sink.requests == 0
    assert plan_reminders(rsettings, now=NOW + timedelta(days=7)) == 1
    assert reminders(rsettings.database_url)[1][2:4] == ("skipped", "opted_out"), "and nothing new is planned to send"


def test_a_patient_whose_phone_is_removed_after_planning_gets_nothing(rsettings, sink):
    first, second = county(rsettings.database_url, patients=2, last_bp=at(3, 9))
    plan_reminders(rsettings, now=NOW)
    with psycopg.connect(rsettings.database_url) as conn:
        conn.execute("update patient_contact set phone = null where patient_id = %s", (first,))
        conn.execute("delete from patient_contact where patient_id = %s", (second,))
    with closing(sms_channel(rsettings)) as channel:
        assert send_due_reminders(rsettings, channel, now=NOW) == Counter(skipped=1)
    assert [row[2:4] for row in reminders(rsettings.database_url)] == [("skipped", "no_contact")] * 2
    assert sink.requests == 0


def test_a_gateway_that_is_down_gets_the_reminder_later_with_the_same_key_and_no_phone_in_the_logs(
    rsettings, sink, caplog
):
    county(rsettings.database_url, patients=1, last_bp=at(3, 9))
    plan_reminders(rsettings, now=NOW)
    sink.fail_next(1)
    caplog.set_level(logging.DEBUG)
    with closing(sms_channel(rsettings)) as channel:
        assert send_due_reminders(rsettings, channel, now=NOW) == Counter(retrying=1)
        assert reminders(rsettings.database_url)[0][2:] == ("pending", None, 1, NOW + timedelta(minutes=1))
        assert send_due_reminders(rsettings, channel, now=NOW + timedelta(seconds=59)) == Counter()
        assert send_due_reminders(rsettings, channel, now=NOW + timedelta(minutes=1)) == Counter(sent=1)
    with psycopg.connect(rsettings.database_url) as conn:
        key, sent_at = conn.execute("select idempotency_key::text, sent_at from reminder").fetchone()
    [received] = sink.received()
    assert received.idempotency_key == received.body["request_id"] == key
    assert sent_at == NOW + timedelta(minutes=1)
    assert phone(0) not in caplog.text and "reminder" in caplog.text


def test_the_jobs_the_worker_runs_plan_and_send_with_the_processes_settings(rsettings, sink):
    county(rsettings.database_url, patients=2, last_bp=at(3, 9))
    from apscheduler.schedulers.background import BackgroundScheduler

    jobs.declare(BackgroundScheduler(timezone=rsettings.tz), rsettings)  # binds the settings, as the worker does
    with time_machine.travel(NOW, tick=True):
        jobs.run_job("plan_reminders")
        jobs.run_job("send_reminders")
    assert len(sink.wait_for(2, timeout=5)) == 2


def test_the_follow_up_reminder_names_the_date_of_the_visit_the_doctors_list_takes_as_last(rsettings):
    """Two visits kept for one day: the later-recorded one is the last, as in the summary and the follow-up list,
    even when it holds the smaller id (a visit typed in on paper first, saved second)."""
    from alerts.reminders.repo import load_facts

    pid = county(rsettings.database_url, patients=1)[0]
    day = at(10, 0), at(11, 0)
    with psycopg.connect(rsettings.database_url) as conn:
        for recorded, due in ((at(9, 16), date(2025, 4, 20)), (at(9, 11), date(2025, 6, 8))):
            conn.execute(
                "insert into follow_up (patient_id, done_on, class, next_due, recorded_by, recorded_at)"
                " values (%s, '2025-03-09', 'controlled', %s, 'doc', %s)",
                (pid, due, recorded),
            )
        (facts,) = load_facts(conn, [pid], day=day)
        # the date the follow-up list shows a green patient (the store's own function, migration 0119)
        (listed,) = conn.execute("select cdm_followup_due(%s, 'green', now())", (pid,)).fetchone()
    assert listed == date(2025, 4, 20)
    assert facts.next_follow_up == listed
