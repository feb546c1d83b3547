"""The simulated county: sizes, determinism, unique topic-safe codes, meters per clinic, teams, patient mix."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from cdm.payload import DEVICE_UID, parse_topic, reading_topic
from device_sim.county import County, generate_county

YEAR = 2026


@pytest.fixture(scope="module")
def county() -> County:
    return generate_county(code="lin_an-1", name="临安县", seed=7, as_of_year=YEAR)


def test_default_sizes(county: County) -> None:
    assert len(county.townships) == 12
    assert len(county.clinics) == 336
    assert len(county.teams) == 24
    assert len(county.meters) == 672
    assert len(county.patients) == 3000


def test_same_seed_same_county_and_another_seed_another() -> None:
    a = generate_county(code="x1", name="甲县", patients=200, seed=3, as_of_year=YEAR)
    b = generate_county(code="x1", name="甲县", patients=200, seed=3, as_of_year=YEAR)
    c = generate_county(code="x1", name="甲县", patients=200, seed=4, as_of_year=YEAR)
    assert a == b
    assert a.patients != c.patients


def test_every_clinic_has_exactly_one_bp_and_one_glucose_meter(county: County) -> None:
    kinds = Counter((m.clinic_code, m.kind) for m in county.meters)
    assert set(kinds) == {(c.code, k) for c in county.clinics for k in ("bp", "glucose")}
    assert set(kinds.values()) == {1}
    assert county.meter_for(county.clinics[5].code, "glucose").uid == "GLU-lin_an-1-0006"


def test_codes_and_names_are_unique(county: County) -> None:
    for values in (
        [t.code for t in county.townships],
        [t.name for t in county.townships],
        [c.code for c in county.clinics],
        [c.name for c in county.clinics],
        [t.code for t in county.teams],
        [t.name for t in county.teams],
        [m.uid for m in county.meters],
        [p.health_card_no for p in county.patients],
        [p.qr_code for p in county.patients],
    ):
        assert len(values) == len(set(values))
    assert county.townships[0].name == "城关镇"
    assert all(re.fullmatch(r"..?.(镇|乡)", t.name) for t in county.townships)
    assert all(c.name.endswith("村卫生室") for c in county.clinics)


def test_meter_uids_are_device_ids_and_make_parseable_topics(county: County) -> None:
    for m in county.meters:
        assert re.fullmatch(DEVICE_UID, m.uid)
        assert re.fullmatch(r"(BP|GLU)-lin_an-1-\d{4}", m.uid)
        assert parse_topic(reading_topic(county.code, m.uid)) == (county.code, m.uid)
    assert all(
        re.fullmatch(r"[a-z0-9_-]+", c)
        for c in [t.code for t in county.townships] + [c.code for c in county.clinics] + [t.code for t in county.teams]
    )


def test_clinics_are_spread_evenly_over_townships(county: County) -> None:
    sizes = Counter(c.township_code for c in county.clinics)
    assert set(sizes) == {t.code for t in county.townships}
    assert max(sizes.values()) - min(sizes.values()) <= 1
    uneven = generate_county(code="u", name="乙县", townships=5, clinics=23, patients=0)
    assert sorted(Counter(c.township_code for c in uneven.clinics).values()) == [4, 4, 5, 5, 5]


def test_two_teams_per_township_and_each_patient_in_a_team_of_their_township(county: County) -> None:
    assert set(Counter(t.township_code for t in county.teams).values()) == {2}
    assert county.teams[0].name == "城关镇家庭医生团队1"
    township_of_clinic = {c.code: c.township_code for c in county.clinics}
    township_of_team = {t.code: t.township_code for t in county.teams}
    for p in county.patients:
        assert township_of_team[p.team_code] == township_of_clinic[p.village_code]


def test_patient_mix_is_plausible(county: County) -> None:
    ps = county.patients
    assert all(p.hypertension or p.diabetes for p in ps)
    assert 0.72 <= sum(p.hypertension for p in ps) / len(ps) <= 0.78
    assert 0.32 <= sum(p.diabetes for p in ps) / len(ps) <= 0.38
    ages = [YEAR - p.birth_year for p in ps]
    assert min(ages) >= 35 and max(ages) <= 90
    assert sum(55 <= a <= 75 for a in ages) / len(ages) > 0.6
    assert {p.sex for p in ps} == {"M", "F"}
    assert all(0.2 <= p.visits_per_week <= 3.0 for p in ps)
    assert all(re.fullmatch(r"H\d{13}", p.health_card_no) for p in ps)
    dm = [p.fasting_glucose for p in ps if p.diabetes]
    no_dm = [p.fasting_glucose for p in ps if not p.diabetes]
    assert sum(dm) / len(dm) > sum(no_dm) / len(no_dm) + 1.5
    assert all(p.systolic > p.diastolic + 20 for p in ps)


@pytest.mark.parametrize(("share", "low", "high"), [(0.0, 0, 0), (0.02, 35, 85), (0.10, 250, 350)])
def test_unstable_share_is_roughly_honoured(share: float, low: int, high: int) -> None:
    county = generate_county(code="s", name="丙县", unstable_share=share, seed=11)
    unstable = [p for p in county.patients if p.unstable]
    assert low <= len(unstable) <= high
    assert all(p.critical_chance > 0 for p in unstable)
    assert all(p.critical_chance == 0 for p in county.patients if not p.unstable)


def test_two_counties_do_not_share_health_card_numbers() -> None:
    a = generate_county(code="east", name="东县", patients=500)
    b = generate_county(code="west", name="西县", patients=500)
    assert not {p.health_card_no for p in a.patients} & {p.health_card_no for p in b.patients}


@pytest.mark.parametrize("code", ["Demo", "a/b", "a+b", "", "x" * 33])
def test_refuses_county_codes_that_are_not_topic_safe(code: str) -> None:
    with pytest.raises(ValueError):
        generate_county(code=code, name="县", patients=1)
