"""The traffic-light rules, pinned at every threshold of clinical-reference §3."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from assess.rules import URGENT_REASONS, RuleSettings, assess, bp_target, latest_sitting
from cdm.domain import Colour, FollowUpClass, HealthRecord
from cdm.thresholds import for_edition
from tests.assess.factories import (
    NOW,
    bp,
    controlled_visit,
    diabetic_at_target,
    glucose,
    patient,
    under_control_bp,
    visit,
)

RULES = RuleSettings(thresholds=for_edition("2020"))
RULES_2017 = RuleSettings(thresholds=for_edition("2017"))
HYPO = {"glucose_hypo", "glucose_hypo_level1", "glucose_hypo_level2"}  # each in URGENT_REASONS


def assess_of(readings, *, profile=None, follow_ups=None, rules=RULES):
    return assess(
        profile=profile or patient(),
        readings=readings,
        follow_ups=follow_ups or [controlled_visit()],
        now=NOW,
        rules=rules,
    )


def colour_of(readings, *, profile=None, follow_ups=None, rules=RULES):
    result = assess_of(readings, profile=profile, follow_ups=follow_ups, rules=rules)
    return result.colour, set(result.reasons)


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (179, 109, Colour.YELLOW),
        (180, 90, Colour.RED),
        (150, 110, Colour.RED),
        (179, 110, Colour.RED),
        (181, 111, Colour.RED),
    ],
)
def test_urgent_bp_boundary_179_180_and_109_110(systolic, diastolic, expected):
    colour, reasons = colour_of([bp(systolic, diastolic)])
    assert colour is expected
    assert ("bp_critical" in reasons) is (expected is Colour.RED)


@pytest.mark.parametrize(
    ("mmol", "reason"),
    [
        (16.6, None),
        (16.7, "glucose_high_critical"),
        (4.0, None),
        (3.9, "glucose_hypo"),  # the hypoglycaemia levels below: test_hypoglycaemia_levels_3_9_and_3_0
    ],
)
def test_urgent_glucose_boundaries(mmol, reason):
    colour, reasons = colour_of([glucose(mmol, fasting=False)], profile=patient(diabetes=True))
    assert (colour is Colour.RED) is (reason is not None)
    if reason:
        assert reason in reasons


@pytest.mark.parametrize(("flag", "reason"), [("HI", "glucose_high_critical"), ("LO", "glucose_hypo")])
def test_meter_hi_lo_display_is_urgent(flag, reason):
    colour, reasons = colour_of([glucose(None, flag=flag)], profile=patient(diabetes=True))
    assert colour is Colour.RED and reason in reasons


@pytest.mark.parametrize(
    ("mmol", "flag", "expected"),
    [
        (4.0, None, set()),
        (3.9, None, {"glucose_hypo"}),
        (3.8, None, {"glucose_hypo", "glucose_hypo_level1"}),
        (3.0, None, {"glucose_hypo", "glucose_hypo_level1"}),
        (2.9, None, {"glucose_hypo", "glucose_hypo_level2"}),
        (None, "LO", {"glucose_hypo", "glucose_hypo_level2"}),
    ],
)
def test_hypoglycaemia_levels_3_9_and_3_0(mmol, flag, expected):
    colour, reasons = colour_of([glucose(mmol, flag=flag, fasting=False)], profile=patient(diabetes=True))
    assert reasons & HYPO == expected
    assert (colour is Colour.RED) is bool(expected) and expected <= URGENT_REASONS


@pytest.mark.parametrize(
    ("pulses", "diabetes", "expected"),
    [
        ((100, 100), True, False),
        ((101, 101), True, True),
        ((101, 99), True, False),
        ((130,), True, False),
        ((120, 120), False, False),
    ],
)
def test_heart_rate_above_100_on_the_latest_two_readings_is_red_with_diabetes(pulses, diabetes, expected):
    readings = diabetic_at_target(pulses=pulses)
    result = assess(
        profile=patient(diabetes=diabetes), readings=readings, follow_ups=[controlled_visit()], now=NOW, rules=RULES
    )
    assert (result.colour is Colour.RED, "heart_rate_high" in result.reasons) == (expected, expected)
    if expected:
        assert set(result.evidence) == {f"{r.device_uid}:{r.seq}" for r in readings[-2:]}


def test_a_follow_up_after_the_fast_heart_rate_readings_clears_it():
    readings = diabetic_at_target(pulses=(120, 120))
    colour, reasons = colour_of(
        readings, profile=patient(diabetes=True), follow_ups=[visit(FollowUpClass.CONTROLLED, days_ago=0)]
    )
    assert colour is Colour.GREEN and "heart_rate_high" not in reasons and "heart_rate_high" in URGENT_REASONS


def test_urgent_reading_holds_red_until_a_follow_up_is_recorded_after_it():
    critical = bp(190, 100, ago=timedelta(days=3))
    assert colour_of([critical], follow_ups=[controlled_visit(days_ago=20)])[0] is Colour.RED
    colour, reasons = colour_of([critical], follow_ups=[controlled_visit(days_ago=1)])
    assert colour is not Colour.RED and "bp_critical" not in reasons


@pytest.mark.parametrize(
    ("systolic", "diastolic", "expected"),
    [
        (139, 89, Colour.GREEN),
        (140, 85, Colour.YELLOW),
        (135, 90, Colour.YELLOW),
    ],
)
def test_mean_bp_against_the_general_target_139_140(systolic, diastolic, expected):
    readings = [bp(systolic, diastolic, ago=timedelta(days=d)) for d in (1, 5)]
    colour, reasons = colour_of(readings)
    assert colour is expected
    assert ("bp_above_target" in reasons) is (expected is Colour.YELLOW)


@pytest.mark.parametrize(
    ("age", "diabetes", "edition", "expected"),
    [
        (60, False, "2020", (140, 90)),
        (60, True, "2020", (130, 80)),
        (64, True, "2020", (130, 80)),
        (65, True, "2020", (130, 80)),  # with diabetes the diabetes target governs below 80
        (79, True, "2020", (130, 80)),
        (80, True, "2020", (140, 90)),  # an older diabetic: loosened to <140/90 at most, never <150/90
        (70, False, "2020", (150, 90)),
        (80, False, "2020", (150, 90)),
        (60, True, "2017", (140, 90)),
        (70, True, "2017", (140, 90)),
        (70, True, "2025", (130, 80)),
        (80, True, "2025", (140, 90)),
        (80, False, "2025", (150, 90)),
    ],
)
def test_the_diabetes_target_governs_below_80_and_never_loosens_past_140_90(age, diabetes, edition, expected):
    target = bp_target(patient(age=age, diabetes=diabetes), for_edition(edition), on=NOW)
    assert (target.systolic, target.diastolic) == expected


@pytest.mark.parametrize(
    ("age", "diabetes", "systolic", "diastolic", "rules", "expected"),
    [
        (70, False, 145, 85, RULES, Colour.GREEN),
        (60, False, 145, 85, RULES, Colour.YELLOW),
        (70, True, 145, 85, RULES, Colour.YELLOW),  # the diabetes 130/80, not the age's 150/90
        (60, True, 132, 78, RULES, Colour.YELLOW),
        (60, False, 139, 89, RULES_2017, Colour.GREEN),
        (60, False, 140, 90, RULES_2017, Colour.YELLOW),
        (65, False, 149, 89, RULES_2017, Colour.GREEN),
        (60, True, 135, 85, RULES_2017, Colour.GREEN),
        (60, True, 135, 85, RULES, Colour.YELLOW),
    ],
)
def test_bp_targets_by_age_diabetes_and_edition(age, diabetes, systolic, diastolic, rules, expected):
    readings = [bp(systolic, diastolic, ago=timedelta(days=d)) for d in (1, 5)] + [glucose(6.0)]
    colour, reasons = colour_of(readings, profile=patient(age=age, diabetes=diabetes), rules=rules)
    assert colour is expected
    assert ("bp_above_target" in reasons) is (expected is Colour.YELLOW)


def test_2025_edition_uses_130_80_below_age_80():
    rules = RuleSettings(thresholds=for_edition("2025"))
    readings = [bp(132, 78, ago=timedelta(days=d)) for d in (1, 5)]
    assert colour_of(readings, rules=rules)[0] is Colour.YELLOW
    assert colour_of(readings, rules=RULES)[0] is Colour.GREEN
    assert colour_of(readings, profile=patient(age=85), rules=rules)[0] is Colour.GREEN


def test_grade_2_on_the_latest_sitting_is_yellow_even_when_the_mean_is_at_target():
    old = [bp(120, 70, ago=timedelta(days=d)) for d in range(2, 12)]
    latest = [bp(162, 85, ago=timedelta(minutes=3)), bp(160, 84, ago=timedelta(minutes=1))]
    colour, reasons = colour_of(old + latest)
    assert colour is Colour.YELLOW and reasons == {"bp_grade2"}


def test_a_sitting_is_one_meters_readings_within_ten_minutes():
    a = bp(150, 90, ago=timedelta(minutes=25))
    b, c = bp(140, 88, ago=timedelta(minutes=9)), bp(138, 86, ago=timedelta(minutes=1))
    assert latest_sitting([a, b, c]) == [b, c]
    other_meter = bp(160, 95, ago=timedelta(minutes=5), device="BP-2")
    assert latest_sitting([b, other_meter, c]) == [c]


@pytest.mark.parametrize(
    ("fasting", "mean", "expected"),
    [
        (True, 6.9, Colour.GREEN),
        (True, 7.0, Colour.YELLOW),
        (False, 9.9, Colour.GREEN),
        (False, 10.0, Colour.YELLOW),
    ],
)
def test_glucose_targets_fasting_7_and_non_fasting_10(fasting, mean, expected):
    profile = patient(hypertension=False, diabetes=True)
    readings = [glucose(mean, fasting=fasting, ago=timedelta(days=d)) for d in (1, 3)]
    assert colour_of(readings, profile=profile)[0] is expected


@pytest.mark.parametrize(
    ("diabetes", "hba1c", "expected"),
    [(True, 6.9, False), (True, 7.0, True), (True, None, False), (False, 8.0, False)],
)
def test_hba1c_at_or_above_7_percent_is_yellow_with_diabetes(diabetes, hba1c, expected):
    profile = patient(diabetes=diabetes, record=HealthRecord(hba1c_percent=hba1c))
    colour, reasons = colour_of(diabetic_at_target(), profile=profile)
    assert colour is (Colour.YELLOW if expected else Colour.GREEN)
    assert ("hba1c_above_target" in reasons) is expected
    assert colour_of(diabetic_at_target(), profile=patient(diabetes=True, record=None))[0] is Colour.GREEN


def test_old_complications_in_the_health_record_raise_the_priority_not_the_colour():
    plain = assess_of(under_control_bp(), profile=patient())
    profile = patient(record=HealthRecord(complications=("retinopathy",)))
    with_old = assess_of(under_control_bp(), profile=profile)
    assert plain.colour is with_old.colour is Colour.GREEN
    assert with_old.priority > plain.priority
    at_visit = colour_of(
        under_control_bp(), profile=profile, follow_ups=[visit(FollowUpClass.COMPLICATION, days_ago=2)]
    )
    assert at_visit == (Colour.RED, {"complication"})


def test_two_uncontrolled_follow_ups_in_a_row_are_red_one_is_not():
    two = [visit(FollowUpClass.UNCONTROLLED, days_ago=20), visit(FollowUpClass.UNCONTROLLED, days_ago=5)]
    colour, reasons = colour_of(under_control_bp(), follow_ups=two)
    assert colour is Colour.RED and "uncontrolled_2x" in reasons
    broken = [
        visit(FollowUpClass.UNCONTROLLED, days_ago=40),
        visit(FollowUpClass.CONTROLLED, days_ago=20),
        visit(FollowUpClass.UNCONTROLLED, days_ago=5, next_due_in=9),
    ]
    assert colour_of(under_control_bp(), follow_ups=broken)[0] is Colour.GREEN


def test_a_complication_recorded_at_the_last_follow_up_is_red():
    colour, reasons = colour_of(under_control_bp(), follow_ups=[visit(FollowUpClass.COMPLICATION, days_ago=2)])
    assert colour is Colour.RED and reasons == {"complication"}


def test_no_reading_within_the_monitoring_interval_is_yellow():
    stale = [bp(125, 75, ago=timedelta(days=31))]
    colour, reasons = colour_of(stale)
    assert colour is Colour.YELLOW and reasons == {"monitoring_gap"}
    fresh = [bp(125, 75, ago=timedelta(days=29))]
    assert colour_of(fresh) == (Colour.YELLOW, {"bp_not_recent"})


def test_newly_registered_patients_have_no_monitoring_gap_yet_but_are_not_green_without_a_reading():
    profile = patient(registered_on=(NOW - timedelta(days=3)).date())
    assert colour_of([], profile=profile, follow_ups=[]) == (Colour.YELLOW, {"bp_not_recent"})


def test_follow_up_overdue_is_yellow():
    overdue = [visit(FollowUpClass.CONTROLLED, days_ago=100, next_due_in=-10)]
    colour, reasons = colour_of(under_control_bp(), follow_ups=overdue)
    assert colour is Colour.YELLOW and reasons == {"follow_up_overdue"}


def test_priority_orders_patients_within_a_colour_and_red_above_yellow():
    worse = assess(profile=patient(), readings=[bp(220, 120)], follow_ups=[], now=NOW, rules=RULES)
    milder = assess(profile=patient(), readings=[bp(181, 100)], follow_ups=[], now=NOW, rules=RULES)
    yellow = assess(profile=patient(), readings=[bp(170, 100)], follow_ups=[], now=NOW, rules=RULES)
    assert worse.priority > milder.priority > yellow.priority


def test_evidence_names_the_readings_that_decided_the_colour():
    critical = bp(190, 100)
    result = assess(
        profile=patient(),
        readings=[bp(130, 80, ago=timedelta(days=2)), critical],
        follow_ups=[controlled_visit()],
        now=NOW,
        rules=RULES,
    )
    assert result.evidence == (f"{critical.device_uid}:{critical.seq}",)


def test_readings_after_now_are_ignored_when_recomputing_the_past():
    future = replace(bp(200, 120), measured_at=NOW + timedelta(hours=1))
    assert colour_of([future, *under_control_bp()])[0] is Colour.GREEN
