"""Sittings, pinned at the gap: BP readings of one meter less than the gap apart are one sitting, averaged."""

from __future__ import annotations

from datetime import timedelta

import pytest

from assess.rules import RuleSettings, sitting_verdict
from assess.summary.logic import sittings, summarise
from cdm.thresholds import for_edition
from tests.assess.factories import NOW, bp, controlled_visit

RULES = RuleSettings(thresholds=for_edition("2020"))
MIN = timedelta(minutes=1)


@pytest.mark.parametrize(
    ("apart", "one_sitting"),
    [
        (timedelta(seconds=1), True),
        (timedelta(minutes=2), True),
        (timedelta(minutes=9, seconds=59), True),
        (timedelta(minutes=10), False),
        (timedelta(minutes=10, seconds=1), False),
    ],
)
def test_the_sitting_boundary_is_less_than_ten_minutes_apart(apart, one_sitting):
    first, second = bp(150, 90, ago=30 * MIN), bp(140, 80, ago=30 * MIN - apart)
    assert (len(sittings([second, first], RULES.sitting_gap)) == 1) is one_sitting


def test_each_reading_counts_from_the_one_before_not_from_the_sittings_first():
    chain = [bp(150, 90, ago=30 * MIN - i * 9 * MIN) for i in range(3)]  # 18 minutes from first to last
    assert sittings(chain, RULES.sitting_gap) == [chain]


def test_another_meter_starts_a_new_sitting_even_a_minute_later():
    a = bp(150, 90, ago=10 * MIN)
    b = bp(150, 90, ago=9 * MIN, device="BP-2")
    assert sittings([a, b], RULES.sitting_gap) == [[a], [b]]


def test_the_gap_is_a_setting():
    a, b = bp(150, 90, ago=30 * MIN), bp(140, 80, ago=18 * MIN)  # 12 minutes apart
    assert len(sittings([a, b], RULES.sitting_gap)) == 2
    assert len(sittings([a, b], timedelta(minutes=15))) == 1


def test_the_bp_mean_is_the_mean_of_sitting_means_not_of_readings():
    # Three readings at one sitting (mean 170/100) and one at another (130/80): per reading the mean would be
    # 160/95; per sitting it is 150/90, each sitting counting once as the guidelines average a sitting.
    sitting = [bp(170, 100, ago=timedelta(days=2) - i * MIN) for i in range(3)]
    other = bp(130, 80, ago=timedelta(days=1))
    s = summarise(readings=[*sitting, other], follow_ups=[controlled_visit()], now=NOW, rules=RULES)
    assert (s.bp_count, s.bp_sittings, s.sbp_mean, s.dbp_mean) == (4, 2, 150.0, 90.0)
    assert (s.sitting_sbp_mean, s.sitting_dbp_mean) == (130.0, 80.0)


def test_a_single_critical_reading_is_red_at_once_whatever_its_sitting_says():
    critical, normal = bp(190, 100, ago=3 * MIN), bp(140, 85, ago=2 * MIN)
    s = summarise(readings=[critical, normal], follow_ups=[controlled_visit()], now=NOW, rules=RULES)
    assert s.urgent_codes == ("bp_critical",)


@pytest.mark.parametrize(
    ("later", "wait", "expected"),
    [
        ([], timedelta(minutes=9, seconds=59), None),  # alone, the gap not passed: the next reading may still join
        ([], 10 * MIN, True),  # alone for the whole gap: a sitting of one, critical
        ([(185, 100)], 5 * MIN, None),  # grown, still open
        ([(185, 100)], 10 * MIN, True),  # mean 187.5/100
        ([(150, 90)], 10 * MIN, False),  # mean 170/95
        ([(170, 120)], 10 * MIN, True),  # mean 180/110: both at the criterion
        ([(168, 120)], 10 * MIN, True),  # mean 179/110: the diastolic meets it
        ([(168, 118)], 10 * MIN, False),  # mean 179/109
    ],
)
def test_the_sitting_verdict(later, wait, expected):
    """`later` readings follow the critical 190/100 a minute apart; `wait` is how long after the last one we ask."""
    critical = bp(190, 100, ago=30 * MIN)
    rest = [bp(s, d, ago=30 * MIN - (i + 1) * MIN) for i, (s, d) in enumerate(later)]
    now = (rest[-1] if rest else critical).measured_at + wait
    assert sitting_verdict(bp=[critical, *rest], critical=critical, now=now, rules=RULES) is expected


def test_a_later_reading_on_another_meter_closes_the_sitting_at_once():
    critical = bp(190, 100, ago=2 * MIN)
    elsewhere = bp(120, 80, ago=1 * MIN, device="BP-2")
    assert sitting_verdict(bp=[critical, elsewhere], critical=critical, now=NOW, rules=RULES) is True
    assert sitting_verdict(bp=[critical], critical=critical, now=NOW, rules=RULES) is None
