"""The circuit breaker around real channels talking to a real local receiver."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from alerts.channels import CircuitBreaker, DeliveryError, OutboundMessage, SmsChannel, WebhookChannel

COOLDOWN_S = 0.3


def note(address: str) -> OutboundMessage:
    return OutboundMessage(address, "t", "x", str(uuid.uuid4()), body={"n": 1})


@pytest.fixture
def webhook():
    channel = WebhookChannel(secret="s", timeout_s=0.5)
    yield channel
    channel.close()


@pytest.fixture
def breaker(webhook):
    return CircuitBreaker(webhook, failure_threshold=3, cooldown_s=COOLDOWN_S)


def fail(breaker: CircuitBreaker, address: str) -> DeliveryError:
    with pytest.raises(DeliveryError) as caught:
        breaker.send(note(address))
    return caught.value


def test_it_opens_after_n_failures_in_a_row_and_then_leaves_the_receiver_alone(sink, breaker):
    sink.fail_next(3)
    for _ in range(3):
        assert "503" in str(fail(breaker, f"{sink.url}/county"))
    assert breaker.state == "open" and sink.requests == 3
    error = fail(breaker, f"{sink.url}/county")
    assert error.key == "delivery.circuit_open" and not error.permanent, "the dispatcher retries it later"
    assert sink.requests == 3, "the receiver was not called while open"
    snapshot = breaker.snapshot()
    assert snapshot.channel == "webhook" and snapshot.consecutive_failures == 3
    assert snapshot.retry_in_s is not None and 0 < snapshot.retry_in_s <= COOLDOWN_S


def test_fewer_failures_than_the_threshold_keep_it_closed_and_a_success_resets_the_count(sink, breaker):
    sink.fail_next(2)
    fail(breaker, f"{sink.url}/county")
    fail(breaker, f"{sink.url}/county")
    breaker.send(note(f"{sink.url}/county"))
    sink.fail_next(2)
    fail(breaker, f"{sink.url}/county")
    fail(breaker, f"{sink.url}/county")
    assert breaker.state == "closed" and breaker.snapshot().consecutive_failures == 2


def test_after_the_cool_down_one_trial_that_succeeds_closes_it(sink, breaker, closed_port):
    for _ in range(3):
        fail(breaker, f"http://127.0.0.1:{closed_port}/down")
    time.sleep(COOLDOWN_S + 0.05)
    assert breaker.state == "half_open"
    assert breaker.send(note(f"{sink.url}/county")).status == 200
    assert breaker.state == "closed" and breaker.snapshot().consecutive_failures == 0
    assert breaker.send(note(f"{sink.url}/county")).status == 200


def test_a_failed_trial_opens_it_again_for_another_cool_down(sink, breaker):
    sink.fail_next(4)
    for _ in range(3):
        fail(breaker, f"{sink.url}/county")
    time.sleep(COOLDOWN_S + 0.05)
    assert "503" in str(fail(breaker, f"{sink.url}/county")), "the trial reached the receiver"
    assert breaker.state == "open" and sink.requests == 4
    assert fail(breaker, f"{sink.url}/county").key == "delivery.circuit_open" and sink.requests == 4


def test_while_the_trial_is_under_way_other_sends_are_refused_without_calling(sink, breaker, closed_port, silent_port):
    for _ in range(3):
        fail(breaker, f"http://127.0.0.1:{closed_port}/down")
    time.sleep(COOLDOWN_S + 0.05)
    trial_started = threading.Event()

    def trial() -> DeliveryError:
        trial_started.set()
        return fail(breaker, f"http://127.0.0.1:{silent_port}/hangs")  # times out after 0.5 s

    with ThreadPoolExecutor(1) as pool:
        outcome = pool.submit(trial)
        trial_started.wait(1)
        time.sleep(0.1)
        assert fail(breaker, f"{sink.url}/county").key == "delivery.circuit_trial"
        assert "Timeout" in str(outcome.result())
    assert sink.requests == 0 and breaker.state == "open"


def test_permanent_errors_do_not_trip_it(sink, breaker):
    sink.fail_next(5, status=400)
    for _ in range(5):
        assert fail(breaker, f"{sink.url}/county").permanent
    assert breaker.state == "closed" and breaker.snapshot().consecutive_failures == 0
    assert breaker.send(note(f"{sink.url}/county")).status == 200


def test_bad_phone_numbers_do_not_trip_the_sms_breaker(sink):
    sms = SmsChannel(gateway_url=f"{sink.url}/sms", api_key="k", sign_name="s")
    breaker = CircuitBreaker(sms, failure_threshold=2, cooldown_s=60)
    for _ in range(5):
        with pytest.raises(DeliveryError):
            breaker.send(OutboundMessage("123", "t", "x", str(uuid.uuid4()), template="T"))
    assert breaker.state == "closed"
    assert breaker.send(OutboundMessage("13812345678", "t", "x", str(uuid.uuid4()), template="T")).status == 200
    breaker.close()


def test_a_permanent_error_during_half_open_leaves_the_next_call_as_the_trial(sink, breaker, closed_port):
    for _ in range(3):
        fail(breaker, f"http://127.0.0.1:{closed_port}/down")
    time.sleep(COOLDOWN_S + 0.05)
    assert fail(breaker, "ftp://127.0.0.1/bad").permanent
    assert breaker.state == "half_open"
    assert breaker.send(note(f"{sink.url}/county")).status == 200 and breaker.state == "closed"


def test_concurrent_sends_from_a_thread_pool_all_arrive(sink, breaker):
    with ThreadPoolExecutor(8) as pool:
        receipts = list(pool.map(lambda i: breaker.send(note(f"{sink.url}/t/{i}")), range(40)))
    assert all(r.status == 200 for r in receipts) and len(sink.received()) == 40
    assert breaker.state == "closed"


def test_concurrent_failures_open_it_exactly_once(sink, webhook, caplog):
    breaker = CircuitBreaker(webhook, failure_threshold=5, cooldown_s=60)
    sink.fail_next(1000)
    with ThreadPoolExecutor(8) as pool:
        errors = list(pool.map(lambda i: fail(breaker, f"{sink.url}/t/{i}"), range(40)))
    assert breaker.state == "open"
    assert sum(e.key == "delivery.circuit_open" for e in errors) == 40 - sink.requests
    assert 5 <= sink.requests <= 5 + 8, "at most the calls already in flight when it opened reached the receiver"
    assert sum("circuit open for" in r.getMessage() for r in caplog.records) == 1


def test_bad_breaker_settings_are_refused(webhook):
    with pytest.raises(ValueError):
        CircuitBreaker(webhook, failure_threshold=0)
