"""The outbox dispatcher against a real PostgreSQL and a real HTTP receiver."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from alerts.dispatcher import Dispatcher, backoff
from alerts.service import AlertContext, alert_changes
from assess.rules import RuleSettings
from cdm.domain import Assessment, Change, Colour
from cdm.thresholds import for_edition
from tests.support.registry import build

pytestmark = pytest.mark.integration

ALERTING = AlertContext(RuleSettings(for_edition("2020")))


@pytest.fixture
def outbox(settings):
    """One red patient's alert with its two pending notifications."""
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code)
        pid = next(iter(county.patients.values()))
        change = Change(pid, Colour.YELLOW, Assessment(Colour.RED, ("bp_critical",), 210.0, ("BP-1:1",)))
        alert_changes(conn, [change], now=datetime.now(UTC), ctx=ALERTING)
        conn.commit()
    return county


def notifications(url):
    with psycopg.connect(url) as conn:
        return conn.execute("select recipient, status, attempts from notification order by recipient").fetchall()


def test_both_centres_are_sent_to_at_once_and_each_delivery_is_recorded(settings, sink, outbox):
    dispatcher = Dispatcher(settings)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        assert dispatcher.dispatch_once(conn) == 2
    received = sink.received()
    assert sorted(r.path for r in received) == ["/county", f"/township/{settings.county_code}-tw1"]
    assert received[0].body["title"].startswith("【红色预警】")
    assert abs(received[0].at - received[1].at) < 0.5
    assert notifications(settings.database_url) == [("county", "delivered", 1), ("township", "delivered", 1)]
    with psycopg.connect(settings.database_url) as conn:
        receipts = conn.execute("select ok, http_status, receipt from notification_attempt").fetchall()
    assert all(ok and status == 200 and "receipt" in receipt for ok, status, receipt in receipts)


def test_a_receiver_that_is_down_gets_it_later_and_only_once(settings, sink, outbox):
    sink.fail_next(2)
    dispatcher = Dispatcher(settings)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        dispatcher.dispatch_once(conn)
        assert notifications(settings.database_url) == [("county", "pending", 1), ("township", "pending", 1)]
        assert dispatcher.dispatch_once(conn) == 0, "not due again before its backoff"
        conn.execute("update notification set next_attempt_at = now()")
        dispatcher.dispatch_once(conn)
        dispatcher.dispatch_once(conn)
    assert notifications(settings.database_url) == [("county", "delivered", 2), ("township", "delivered", 2)]
    assert len(sink.received()) == 2 and sink.repeats == 0
    with psycopg.connect(settings.database_url) as conn:
        errors = [r[0] for r in conn.execute("select error from notification_attempt where not ok")]
    assert len(errors) == 2 and all("503" in e for e in errors)


def test_a_send_interrupted_by_a_dead_dispatcher_is_sent_again_with_the_same_key(settings, sink, outbox):
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        keys = dict(conn.execute("select recipient, idempotency_key::text from notification").fetchall())
        conn.execute(
            "update notification set status = 'sending', attempts = 1, next_attempt_at = now() - interval '1s'"
        )
        assert Dispatcher(settings).dispatch_once(conn) == 2
    assert {r.idempotency_key for r in sink.received()} == set(keys.values())


@pytest.mark.parametrize(
    ("language", "worded"),
    [("zh", "县慢病中心没有webhook地址：请设置 CDM_NOTIFY_COUNTY_URL"), ("en", "for the County")],
)
def test_a_missing_endpoint_is_an_error_staff_read_in_the_countys_language(settings, sink, outbox, language, worded):
    settings = settings.model_copy(update={"notify_county_url": None, "language": language})
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        Dispatcher(settings).dispatch_once(conn)
        error = conn.execute("select last_error from notification where recipient = 'county'").fetchone()[0]
    assert "CDM_NOTIFY_COUNTY_URL" in error and worded in error, error


def test_backoff_doubles_and_is_capped():
    assert [backoff(n).total_seconds() for n in (1, 2, 3, 20)] == [2, 4, 8, 600]
