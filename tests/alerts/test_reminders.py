"""The pure reminder rules, pinned at their boundaries: quiet hours, the N-th day, the daily cap, the texts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.reminders.logic import (
    MEDICATION_LATE,
    Kind,
    PatientFacts,
    Policy,
    in_quiet_hours,
    local_day,
    plan,
    quiet_hours_end,
    recheck,
    render,
)
from cdm.i18n import CATALOGUE

SHANGHAI = ZoneInfo("Asia/Shanghai")
POLICY = Policy(tz=SHANGHAI, quiet_start=time(21), quiet_end=time(8), daily_cap=2, measure_after_days=7)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    """A moment in March 2025, China time, as the UTC the store keeps."""
    return datetime(2025, month, day, hour, minute, tzinfo=SHANGHAI).astimezone(UTC)


def hypertensive(**changes: object) -> PatientFacts:
    """Measured blood pressure on 3 March at 09:00; registered long ago; nothing else."""
    base = PatientFacts(
        patient_id=1,
        needs=frozenset({"bp"}),
        last_reading={"bp": at(3, 9)},
        registered_at=at(1, 9, month=1),
    )
    return replace(base, **changes)


def kinds(decisions):
    return [(d.kind, d.planned_for, d.skip_reason) for d in decisions]


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"),
    [(20, 59, False), (21, 0, True), (23, 59, True), (0, 0, True), (7, 59, True), (8, 0, False), (12, 0, False)],
)
def test_quiet_hours_cross_midnight(hour, minute, quiet):
    assert in_quiet_hours(at(10, hour, minute), POLICY) is quiet


@pytest.mark.parametrize(
    ("moment", "end"),
    [(at(10, 21, 0), at(11, 8)), (at(10, 23, 30), at(11, 8)), (at(11, 0, 10), at(11, 8)), (at(11, 7, 59), at(11, 8))],
)
def test_the_quiet_hours_end_at_the_next_eight_oclock(moment, end):
    assert quiet_hours_end(moment, POLICY) == end


@pytest.mark.parametrize(
    ("hour", "minute", "quiet"), [(11, 59, False), (12, 0, True), (13, 59, True), (14, 0, False), (23, 0, False)]
)
def test_a_daytime_quiet_window_does_not_wrap(hour, minute, quiet):
    noon = replace(POLICY, quiet_start=time(12), quiet_end=time(14))
    assert in_quiet_hours(at(10, hour, minute), noon) is quiet


def test_equal_start_and_end_mean_no_quiet_hours():
    never = replace(POLICY, quiet_start=time(8), quiet_end=time(8))
    assert not any(in_quiet_hours(at(10, h), never) for h in range(24))


def test_the_cap_counts_the_local_day_not_the_utc_day():
    start, end = local_day(at(10, 0, 30), POLICY)
    assert (start, end) == (at(10, 0), at(11, 0))
    assert start.hour == 16  # midnight in China is 16:00 UTC the day before


@pytest.mark.parametrize(("day", "due"), [(9, False), (10, True)])
def test_measure_is_due_on_day_n_not_day_n_minus_1(day, due):
    now = at(day, 10)
    decisions = plan(hypertensive(), now=now, policy=POLICY)
    assert kinds(decisions) == ([(Kind.MEASURE, now, None)] if due else [])


def test_days_are_counted_in_local_dates():
    after_midnight = hypertensive(last_reading={"bp": at(4, 0, 30)})  # 4 March in China, still 3 March in UTC
    assert plan(after_midnight, now=at(10, 9), policy=POLICY) == []
    [decision] = plan(after_midnight, now=at(11, 9), policy=POLICY)
    assert decision.params == {"days": "7", "what": "bp"}


@pytest.mark.parametrize(("hour", "minute", "planned"), [(20, 59, at(10, 20, 59)), (21, 0, at(11, 8))])
def test_a_measure_reminder_planned_in_the_quiet_hours_waits_for_eight(hour, minute, planned):
    [decision] = plan(hypertensive(), now=at(10, hour, minute), policy=POLICY)
    assert (decision.planned_for, decision.skip_reason) == (planned, None)


def test_one_measure_reminder_per_step_of_n_days():
    keys = {d: plan(hypertensive(), now=at(d, 10), policy=POLICY)[0].due_key for d in range(10, 18)}
    assert {keys[d] for d in range(10, 17)} == {"2025-03-10"}, "days 7-13 of the gap share one reminder"
    assert keys[17] == "2025-03-17"


def test_a_patient_who_never_measured_is_counted_from_registration():
    new = hypertensive(last_reading={}, registered_at=at(3, 15))
    assert plan(new, now=at(9, 10), policy=POLICY) == []
    assert plan(new, now=at(10, 10), policy=POLICY)[0].params == {"days": "7", "what": "bp"}


def test_only_the_readings_a_patient_needs_are_asked_for():
    both = hypertensive(needs=frozenset({"bp", "glucose"}), last_reading={"bp": at(9, 9), "glucose": at(1, 9)})
    [decision] = plan(both, now=at(10, 10), policy=POLICY)
    assert decision.params == {"days": "9", "what": "glucose"}


@pytest.mark.parametrize(
    ("appointment", "expected"),
    [
        (date(2025, 3, 9), None),
        (date(2025, 3, 10), at(10, 10)),
        (date(2025, 3, 11), at(10, 10)),
        (date(2025, 3, 12), None),
    ],
)
def test_follow_up_is_reminded_the_day_before_and_on_the_day(appointment, expected):
    facts = hypertensive(last_reading={"bp": at(9, 9)}, next_follow_up=appointment)
    decisions = plan(facts, now=at(10, 10), policy=POLICY)
    assert kinds(decisions) == ([(Kind.FOLLOW_UP, expected, None)] if expected else [])
    if expected:
        assert decisions[0].due_key == appointment.isoformat()


def test_a_follow_up_reminder_that_would_arrive_after_the_appointment_is_skipped():
    facts = hypertensive(last_reading={"bp": at(9, 9)})
    today = plan(replace(facts, next_follow_up=date(2025, 3, 10)), now=at(10, 21, 30), policy=POLICY)
    tomorrow = plan(replace(facts, next_follow_up=date(2025, 3, 11)), now=at(10, 21, 30), policy=POLICY)
    assert [d.skip_reason for d in today] == ["too_late"]
    assert kinds(tomorrow) == [(Kind.FOLLOW_UP, at(11, 8), None)]


def test_medication_at_each_time_but_never_moved_out_of_the_night():
    facts = hypertensive(last_reading={"bp": at(9, 9)}, medication_times=(time(12, 30), time(8), time(21, 30)))
    decisions = plan(facts, now=at(10, 7), policy=POLICY)
    assert kinds(decisions) == [
        (Kind.MEDICATION, at(10, 8), None),
        (Kind.MEDICATION, at(10, 12, 30), None),
        (Kind.MEDICATION, at(10, 21, 30), "quiet_hours"),
    ]
    assert [d.due_key for d in decisions] == ["2025-03-10T08:00", "2025-03-10T12:30", "2025-03-10T21:30"]


def test_a_dose_time_long_past_is_not_planned():
    facts = hypertensive(last_reading={"bp": at(9, 9)}, medication_times=(time(8),))
    assert len(plan(facts, now=at(10, 8) + MEDICATION_LATE, policy=POLICY)) == 1
    assert plan(facts, now=at(10, 8) + MEDICATION_LATE + timedelta(minutes=1), policy=POLICY) == []


def test_an_opted_out_patient_gets_nothing_and_the_reason_is_recorded():
    facts = hypertensive(opted_out=True, next_follow_up=date(2025, 3, 11), medication_times=(time(12),))
    decisions = plan(facts, now=at(10, 10), policy=POLICY)
    assert {d.kind for d in decisions} == set(Kind)
    assert {d.skip_reason for d in decisions} == {"opted_out"}


@pytest.mark.parametrize(("sent", "capped"), [(1, False), (2, True), (3, True)])
def test_the_daily_cap_reached_exactly(sent, capped):
    facts = hypertensive(sent_today=sent, next_follow_up=date(2025, 3, 11), medication_times=(time(12),))
    got = kinds(plan(facts, now=at(10, 10), policy=POLICY))
    if not capped:
        assert got == [
            (Kind.MEASURE, at(10, 10), None),
            (Kind.FOLLOW_UP, at(10, 10), None),
            (Kind.MEDICATION, at(10, 12), None),
        ]
    else:  # measuring and tomorrow's appointment wait for tomorrow morning; a dose reminder cannot wait
        assert got == [
            (Kind.MEASURE, at(11, 8), None),
            (Kind.FOLLOW_UP, at(11, 8), None),
            (Kind.MEDICATION, at(10, 12), "daily_cap"),
        ]


def test_at_send_time_a_reading_since_the_plan_cancels_the_measure_reminder():
    facts = hypertensive()
    [d] = plan(facts, now=at(10, 10), policy=POLICY)
    args = {"planned_for": d.planned_for, "now": at(10, 11), "policy": POLICY}
    assert recheck(d.kind, d.due_key, facts=facts, **args).action == "send"
    measured = replace(facts, last_reading={"bp": at(10, 10, 30)})
    assert recheck(d.kind, d.due_key, facts=measured, **args).reason == "measured"
    assert recheck(d.kind, d.due_key, facts=replace(facts, opted_out=True), **args).reason == "opted_out"
    capped = recheck(d.kind, d.due_key, facts=replace(facts, sent_today=2), **args)
    assert (capped.action, capped.until) == ("defer", at(11, 8))


@pytest.mark.parametrize(("now", "action", "until"), [(at(10, 20, 59), "send", None), (at(10, 21), "defer", at(11, 8))])
def test_at_send_time_the_quiet_hours_are_checked_again(now, action, until):
    facts = hypertensive()
    verdict = recheck(Kind.MEASURE, "2025-03-10", planned_for=at(10, 10), facts=facts, now=now, policy=POLICY)
    assert (verdict.action, verdict.until) == (action, until)


@pytest.mark.parametrize(
    ("late", "reason"), [(MEDICATION_LATE, None), (MEDICATION_LATE + timedelta(seconds=1), "late")]
)
def test_a_dose_reminder_sent_too_late_is_dropped(late, reason):
    facts = hypertensive(medication_times=(time(12),))
    verdict = recheck(
        Kind.MEDICATION, "2025-03-10T12:00", planned_for=at(10, 12), facts=facts, now=at(10, 12) + late, policy=POLICY
    )
    assert verdict.reason == reason


def test_a_dose_reminder_due_at_night_or_no_longer_prescribed_is_dropped():
    facts = hypertensive(medication_times=(time(20, 50),))
    args = {"planned_for": at(10, 20, 50), "policy": POLICY}
    assert recheck(Kind.MEDICATION, "2025-03-10T20:50", facts=facts, now=at(10, 21), **args).reason == "quiet_hours"
    stopped = replace(facts, medication_times=())
    assert recheck(Kind.MEDICATION, "2025-03-10T20:50", facts=stopped, now=at(10, 20, 55), **args).reason == "cancelled"


def test_a_moved_appointment_cancels_the_follow_up_reminder():
    facts = hypertensive(last_reading={"bp": at(9, 9)}, next_follow_up=date(2025, 3, 14))
    verdict = recheck(Kind.FOLLOW_UP, "2025-03-11", planned_for=at(10, 10), facts=facts, now=at(10, 10), policy=POLICY)
    assert verdict.reason == "rescheduled"


def test_texts_are_plain_chinese_and_english_is_one_setting_away():
    measure = render(Kind.MEASURE, {"days": "7", "what": "bp"}, now=at(10, 10), policy=POLICY)
    assert measure == ("测量提醒", "【县慢病中心】您已7天未测量血压，请到村卫生室测量。")
    both = render(Kind.MEASURE, {"days": "9", "what": "bp+glucose"}, now=at(10, 10), policy=POLICY)[1]
    assert "9天未测量血压和血糖" in both
    follow_up = render(Kind.FOLLOW_UP, {"date": "2025-03-11"}, now=at(10, 10), policy=POLICY)[1]
    assert follow_up == "【县慢病中心】您的慢病随访在明天（3月11日），请按时到村卫生室随访。"
    on_the_day = render(Kind.FOLLOW_UP, {"date": "2025-03-11"}, now=at(11, 8), policy=POLICY)[1]
    assert "在今天（3月11日）" in on_the_day
    assert (
        render(Kind.MEDICATION, {"time": "08:00"}, now=at(10, 8), policy=POLICY)[1]
        == "【县慢病中心】现在是08:00，请按医嘱服药。"
    )
    english = replace(POLICY, lang="en", sign="County CDC")
    assert render(Kind.MEASURE, {"days": "7", "what": "bp+glucose"}, now=at(10, 10), policy=english)[1] == (
        "[County CDC] You have not measured your blood pressure and blood glucose for 7 days. "
        "Please measure at the village clinic."
    )


def test_every_reminder_text_has_both_languages():
    keys = [k for k in CATALOGUE if k.startswith("reminder.")]
    assert len(keys) >= 12
    assert all(CATALOGUE[k].get("zh") and CATALOGUE[k].get("en") for k in keys)
