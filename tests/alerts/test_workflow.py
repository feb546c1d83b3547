"""The alert workflow on a real PostgreSQL: lifecycle, repeats, escalation, follow-ups closing the loop."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from alerts.followups.service import record_follow_up, team_list
from alerts.workflow import repo as workflow_repo
from alerts.workflow import service as workflow
from alerts.workflow.logic import TransitionError
from cdm.payload import PatientRef, bp_payload, reading_topic
from ingest.batch import IngestContext, process_batch
from ingest.message import InboundMessage
from tests.support.registry import bp_message

pytestmark = pytest.mark.integration


@pytest.fixture
def conn(settings):
    with psycopg.connect(settings.database_url) as connection:
        yield connection


def publish(conn, settings, county, card, seq, sbp, dbp=95, *, ago=timedelta(seconds=5)):
    message = bp_message(
        county, county_code=settings.county_code, card=card, seq=seq, sbp=sbp, dbp=dbp, ago=ago, pulse=80
    )
    with conn.transaction():
        return process_batch(conn, [message], ctx=IngestContext.from_settings(settings))


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()


def test_ack_act_close_each_recorded_with_who_and_when(conn, settings, county):
    card = next(iter(county.patients))
    assert publish(conn, settings, county, card, 1, 190).alerts == 1
    (alert_id,) = one(conn, "select id from alert")
    now = datetime.now(UTC)
    workflow.acknowledge(conn, alert_id=alert_id, actor="zhang.township", now=now)
    workflow.record_action(conn, alert_id=alert_id, actor="li.doctor", action="home_visit", now=now, note="入户测压")
    closed = workflow.close(conn, alert_id=alert_id, actor="li.doctor", outcome="已转诊县医院", now=now)
    assert (closed["status"], closed["acknowledged_by"], closed["action"], closed["outcome"]) == (
        "closed",
        "zhang.township",
        "home_visit",
        "已转诊县医院",
    )
    events = conn.execute("select event, actor from alert_event where alert_id = %s order by id", (alert_id,))
    assert events.fetchall() == [
        ("opened", "system"),
        ("acknowledged", "zhang.township"),
        ("actioned", "li.doctor"),
        ("closed", "li.doctor"),
    ]
    with pytest.raises(TransitionError, match="预警当前为“已关闭”"):
        workflow.acknowledge(conn, alert_id=alert_id, actor="zhang.township", now=now)


def test_a_repeat_critical_reading_updates_the_open_alert_instead_of_raising_another(conn, settings, county):
    card = next(iter(county.patients))
    publish(conn, settings, county, card, 1, 190)
    publish(conn, settings, county, card, 2, 200, 115)
    publish(conn, settings, county, card, 3, 150)  # not urgent: not counted
    assert one(conn, "select count(*), max(occurrences) from alert") == (1, 2)
    assert one(conn, "select latest_evidence from alert") == ([f"{county.bp_meter}:2"],)
    assert one(conn, "select count(*) from notification") == (2,)
    assert one(conn, "select count(*) from alert_event where event = 'repeated'") == (1,)


def test_unacknowledged_alert_escalates_to_on_duty_and_team_then_goes_overdue(conn, settings, county):
    card = next(iter(county.patients))
    with conn.transaction():
        workflow_repo.add_contact(
            conn, role="on_duty", channel="sms", address="13800000001", region_id=county.county_id
        )
        workflow_repo.add_contact(
            conn, role="team", channel="webhook", address="http://127.0.0.1:9/team", team_id=county.team_id
        )
    publish(conn, settings, county, card, 1, 190)
    opened = one(conn, "select opened_at from alert")[0]

    with conn.transaction():
        assert workflow.escalate(conn, now=opened + timedelta(minutes=29), settings=settings) == {
            "escalated": 0,
            "overdue": 0,
        }
    with conn.transaction():
        assert workflow.escalate(conn, now=opened + timedelta(minutes=30), settings=settings)["escalated"] == 1
    with conn.transaction():
        assert workflow.escalate(conn, now=opened + timedelta(minutes=40), settings=settings)["escalated"] == 0
    sent = conn.execute("select recipient, channel, address from notification order by id").fetchall()
    assert sent[2:] == [("county_on_duty", "sms", "13800000001"), ("team", "webhook", "http://127.0.0.1:9/team")]

    with conn.transaction():
        assert workflow.escalate(conn, now=opened + timedelta(days=14), settings=settings)["overdue"] == 1
    overdue = workflow_repo.list_alerts(conn, overdue_only=True)
    assert [a["status"] for a in overdue] == ["open"] and overdue[0]["overdue_at"] is not None


def test_escalation_without_a_contact_on_file_still_leaves_a_visible_notification(conn, settings, county):
    publish(conn, settings, county, next(iter(county.patients)), 1, 190)
    opened = one(conn, "select opened_at from alert")[0]
    with conn.transaction():
        workflow.escalate(conn, now=opened + timedelta(hours=1), settings=settings)
    rows = conn.execute("select recipient, address from notification where recipient in ('county_on_duty', 'team')")
    assert sorted(rows.fetchall()) == [("county_on_duty", None), ("team", None)]


def test_a_follow_up_closes_the_alert_and_two_uncontrolled_visits_turn_red(conn, settings, county):
    card = next(iter(county.patients))
    publish(conn, settings, county, card, 1, 190)
    now = datetime.now(UTC)
    today = now.astimezone(settings.tz).date()
    first = record_follow_up(
        conn,
        card=card,
        done_on=today,
        follow_up_class="uncontrolled",
        recorded_by="li",
        now=now,
        settings=settings,
        next_step="调整用药",
    )
    assert len(first["closed_alerts"]) == 1 and first["new_alerts"] == []
    assert one(conn, "select status, outcome from alert") == ("closed", "控制不满意; 调整用药")
    assert one(conn, "select colour from assessment_current")[0] != "red", "the urgent reading has been answered"

    second = record_follow_up(
        conn,
        card=card,
        done_on=today,
        follow_up_class="uncontrolled",
        recorded_by="li",
        now=now + timedelta(minutes=1),
        settings=settings,
    )
    assert second["colour"] == "red" and len(second["new_alerts"]) == 1
    assert one(conn, "select reasons from assessment_current")[0] == ["uncontrolled_2x"]


def test_follow_up_input_errors_are_explained(conn, settings, county):
    card = next(iter(county.patients))
    now = datetime.now(UTC)
    today = now.astimezone(settings.tz).date()
    with pytest.raises(TransitionError, match="随访分类应为"):
        record_follow_up(
            conn, card=card, done_on=today, follow_up_class="fine", recorded_by="li", now=now, settings=settings
        )
    with pytest.raises(TransitionError, match="不能晚于今天"):
        record_follow_up(
            conn,
            card=card,
            done_on=today + timedelta(days=1),
            follow_up_class="controlled",
            recorded_by="li",
            now=now,
            settings=settings,
        )
    with pytest.raises(TransitionError, match="没有健康卡号"):
        record_follow_up(
            conn,
            card="HNOBODY",
            done_on=today,
            follow_up_class="controlled",
            recorded_by="li",
            now=now,
            settings=settings,
        )


def test_team_list_puts_red_first_and_a_visit_takes_a_patient_off_the_overdue_list(conn, settings, county):
    cards = list(county.patients)
    publish(conn, settings, county, cards[0], 1, 128, 78, ago=timedelta(days=2))
    publish(conn, settings, county, cards[1], 2, 150, 92, ago=timedelta(days=1))
    publish(conn, settings, county, cards[2], 3, 186, 100)
    team = one(conn, "select code from care_team")[0]
    today = datetime.now(settings.tz).date()
    entries = team_list(conn, team_code=team, today=today, tz=settings.tz)
    assert [e.colour.value for e in entries] == ["red", "yellow", "green"]
    assert entries[0].last_bp == "186/100" and entries[0].card != cards[2]
    assert entries[1].due == today + timedelta(days=14) and entries[1].days_overdue == 0

    with conn.transaction():  # the yellow patient has been yellow for 20 days with no visit
        conn.execute(
            "update assessment_current set colour_since = colour_since - interval '20 days' where colour = 'yellow'"
        )
    overdue = [e for e in team_list(conn, team_code=team, today=today, tz=settings.tz) if e.days_overdue > 0]
    assert [(e.colour.value, e.days_overdue) for e in overdue] == [("yellow", 6)]

    record_follow_up(
        conn,
        card=cards[1],
        done_on=today,
        follow_up_class="controlled",
        recorded_by="li",
        now=datetime.now(UTC),
        settings=settings,
    )
    after = [e for e in team_list(conn, team_code=team, today=today, tz=settings.tz) if e.card == overdue[0].card]
    assert after[0].days_overdue == 0 and after[0].due == today + timedelta(days=90)


def test_several_urgent_readings_in_one_batch_are_all_counted_on_the_alert_they_open(conn, settings, county):
    card = next(iter(county.patients))
    now = datetime.now(UTC)
    topic = reading_topic(settings.county_code, county.bp_meter)
    messages = [
        InboundMessage(
            seq,
            1,
            topic,
            bp_payload(
                device_uid=county.bp_meter,
                seq=seq,
                measured_at=now - timedelta(seconds=60 - seq),
                systolic=185 + seq,
                diastolic=100,
                pulse=80,
                patient=PatientRef(scheme="health_card", value=card),
            ),
            now,
        )
        for seq in (1, 2, 3)
    ]
    with conn.transaction():
        assert process_batch(conn, messages, ctx=IngestContext.from_settings(settings)).alerts == 1
    assert one(conn, "select occurrences, latest_evidence from alert") == (
        3,
        [f"{county.bp_meter}:{s}" for s in (1, 2, 3)],
    )
    assert one(conn, "select count(*) from alert_event where event = 'repeated'") == (0,)
