"""Every programme indicator on a hand-built county: the pure definition, and the SQL agreeing with it."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest

from dashboard.access import Principal, Role
from dashboard.indicators.logic import Indicator, PatientRecord, Reading, compute, format_rate
from dashboard.indicators.repo import indicators, refresh_activity

NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)  # 14:30 in Asia/Shanghai
TODAY = date(2025, 3, 14)
INF = float("inf")


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def bp(days: float, sbp: int, dbp: int) -> Reading:
    return Reading(ago(days), "bp", systolic=sbp, diastolic=dbp)


def fasting(days: float, mmol: float) -> Reading:
    return Reading(ago(days), "glucose", glucose_mmol=mmol, fasting=True)


def visits(*days: int) -> tuple[date, ...]:
    return tuple(TODAY - timedelta(days=d) for d in days)


# name -> (patient, township); the comments say what each one is in each indicator.
COUNTY: dict[str, tuple[PatientRecord, str]] = {
    # controlled; 4 follow-up days in the year: standardised
    "p1": (PatientRecord(ago(400), True, False, (bp(10, 130, 80),), visits(10, 100, 200, 300)), "t1"),
    # the latest BP counts, not the better older one; 3 follow-up days: not standardised
    "p2": (PatientRecord(ago(400), True, False, (bp(20, 120, 70), bp(5, 150, 85)), visits(5, 50, 90)), "t1"),
    # registered 200 days ago: in the 3-month denominators only; 139/89 at 89 days is controlled; the non-fasting
    # 12.0 is not a fasting reading
    "p3": (
        PatientRecord(
            ago(200),
            True,
            True,
            (bp(89, 139, 89), fasting(30, 6.9), Reading(ago(1), "glucose", glucose_mmol=12.0)),
        ),
        "t1",
    ),
    # BP 91 days ago is outside the window; a follow-up 200 days ago: missed 3 months, not lost
    "p4": (PatientRecord(ago(400), True, False, (bp(91, 120, 70),), visits(200)), "t2"),
    # fasting 7.0 is not below 7.0
    "p5": (PatientRecord(ago(400), False, True, (fasting(2, 7.0),)), "t2"),
    # a meter's HI is above any target
    "p6": (PatientRecord(ago(100), False, True, (fasting(3, INF),)), "t2"),
    # registered 30 days ago: in no denominator
    "p7": (PatientRecord(ago(30), True, False, (bp(1, 120, 70),)), "t2"),
    # never measured, never visited: uncontrolled, missed and lost
    "p8": (PatientRecord(ago(500), True, False), "t2"),
    # 140 systolic is not below 140
    "p9": (PatientRecord(ago(400), True, False, (bp(1, 140, 80),)), "t1"),
    # one of four follow-up days is 366 days ago: not standardised; a meter's LO is below 7.0
    "p10": (PatientRecord(ago(400), False, True, (fasting(1, 0.0),), visits(1, 120, 240, 366)), "t1"),
}

EXPECTED = {
    "bp_control": Indicator(2, 6),  # p1, p3 of p1 p2 p3 p4 p8 p9
    "glucose_control": Indicator(2, 4),  # p3, p10 of p3 p5 p6 p10
    "standard_management": Indicator(1, 7),  # p1 of p1 p2 p4 p5 p8 p9 p10
    "missed_visit_3m": Indicator(2, 9),  # p4, p8 of all but p7
    "lost_12m": Indicator(1, 7),  # p8 of p1 p2 p4 p5 p8 p9 p10
}


def test_every_indicator_on_the_hand_built_county() -> None:
    assert compute([p for p, _ in COUNTY.values()], now=NOW) == EXPECTED


def test_windows_end_at_now() -> None:
    late = PatientRecord(ago(400), True, False, (bp(10, 130, 80), Reading(NOW + timedelta(hours=1), "bp", 200, 100)))
    assert compute([late], now=NOW)["bp_control"] == Indicator(1, 1)  # a reading after `now` is not yet known
    just_in = replace(late, readings=(bp(90, 130, 80),))
    assert compute([just_in], now=NOW)["bp_control"] == Indicator(0, 1)  # exactly 90 days ago is outside


def test_rates() -> None:
    assert Indicator(1, 4).rate == 0.25 and format_rate(Indicator(1, 4)) == "25.0%"
    assert Indicator(0, 0).rate is None and format_rate(Indicator(0, 0)) == "—"
    assert Indicator(1, 2) + Indicator(2, 3) == Indicator(3, 5)


def _store(conn: psycopg.Connection) -> dict[str, int]:
    """Write COUNTY into the store; the township region ids by code."""
    county = conn.execute("insert into region (code, name, level) values ('tc', '测试县', 'county') returning id")
    county_id = county.fetchone()[0]  # type: ignore[index]
    towns = {}
    for code, name in (("t1", "城关镇"), ("t2", "河口乡")):
        row = conn.execute(
            "insert into region (code, name, level, parent_id) values (%s, %s, 'township', %s) returning id",
            (code, name, county_id),
        ).fetchone()
        towns[code] = row[0]  # type: ignore[index]
        conn.execute(
            "insert into region (code, name, level, parent_id) values (%s, %s, 'village', %s)",
            (code + "v", name[:1] + "村", towns[code]),
        )
    conn.execute("insert into care_team (code, name, township_id) values ('team1', '一队', %s)", (towns["t1"],))
    for seq, (p, town) in enumerate(COUNTY.values()):
        pid = conn.execute(
            "insert into patient (health_card_no, sex, birth_year, hypertension, diabetes, village_id, team_id,"
            " registered_at) select %s, 'M', 1955, %s, %s, v.id, (select id from care_team where code = 'team1'"
            " and %s), %s from region v where v.code = %s returning id",
            (f"H{seq:012d}", p.hypertension, p.diabetes, town == "t1", p.registered_at, town + "v"),
        ).fetchone()[0]  # type: ignore[index]
        for k, r in enumerate(p.readings):
            flag = "HI" if r.glucose_mmol == INF else "LO" if r.glucose_mmol == 0.0 else None
            conn.execute(
                "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                " systolic, diastolic, glucose_mmol, glucose_flag, glucose_context)"
                " values (1, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    seq * 100 + k,
                    r.measured_at,
                    r.measured_at,
                    towns[town],
                    r.kind,
                    pid,
                    r.systolic,
                    r.diastolic,
                    None if flag else r.glucose_mmol,
                    flag,
                    ("fasting" if r.fasting else "non_fasting") if r.kind == "glucose" else None,
                ),
            )
        for d in p.follow_up_days:
            conn.execute(
                "insert into follow_up (patient_id, done_on, class, recorded_by) values (%s, %s, 'controlled', 't')",
                (pid, d),
            )
    return {"county": county_id, **towns}


def _principal(role: Role, ids: dict[str, int], **scope: int | None) -> Principal:
    return Principal(user_id=1, username="u", role=role, county_id=ids["county"], **scope)


@pytest.mark.integration
def test_the_sql_agrees_with_the_definitions(conn: psycopg.Connection) -> None:
    ids = _store(conn)
    refresh_activity(conn, now=NOW, lookback_days=30)
    table = indicators(conn, principal=_principal(Role.COUNTY, ids), now=NOW)
    assert table.total == EXPECTED
    assert table.refreshed_at == NOW
    for town in ("t1", "t2"):
        pure = compute([p for p, t in COUNTY.values() if t == town], now=NOW)
        assert table.by_township[ids[town]] == pure


@pytest.mark.integration
def test_the_sql_is_scoped_and_a_second_refresh_changes_nothing(conn: psycopg.Connection) -> None:
    ids = _store(conn)
    refresh_activity(conn, now=NOW, lookback_days=30)
    refresh_activity(conn, now=NOW, lookback_days=30)
    township = indicators(conn, principal=_principal(Role.TOWNSHIP, ids, township_id=ids["t2"]), now=NOW)
    assert set(township.by_township) == {ids["t2"]}
    assert township.total == compute([p for p, t in COUNTY.values() if t == "t2"], now=NOW)
    team_id = conn.execute("select id from care_team").fetchone()[0]  # type: ignore[index]
    team = indicators(conn, principal=_principal(Role.TEAM, ids, township_id=ids["t1"], team_id=team_id), now=NOW)
    assert team.total == compute([p for p, t in COUNTY.values() if t == "t1"], now=NOW)
    assert indicators(conn, principal=_principal(Role.COUNTY, ids), now=NOW).total == EXPECTED


@pytest.mark.integration
def test_a_new_reading_is_folded_in_by_the_next_refresh(conn: psycopg.Connection) -> None:
    ids = _store(conn)
    refresh_activity(conn, now=NOW, lookback_days=30)
    pid = conn.execute("select id from patient where health_card_no = %s", (f"H{7:012d}",)).fetchone()[0]  # type: ignore[index]
    conn.execute(
        "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, systolic,"
        " diastolic) values (2, 1, %s, %s, %s, 'bp', %s, 118, 76)",
        (NOW - timedelta(hours=1), NOW, ids["t2"], pid),
    )
    later = NOW + timedelta(minutes=1)
    refresh_activity(conn, now=later, lookback_days=30)
    total = indicators(conn, principal=_principal(Role.COUNTY, ids), now=later).total
    assert total["bp_control"] == Indicator(3, 6)  # p8 measured at last, and controlled
    assert total["missed_visit_3m"] == Indicator(1, 9) and total["lost_12m"] == Indicator(0, 7)


@pytest.mark.integration
def test_the_scheduled_job_refreshes_the_summary(db_url: str, conn: psycopg.Connection) -> None:
    from app import jobs

    from .server import dashboard_settings

    _store(conn)
    assert "refresh_indicators" in jobs.JOBS
    jobs.JOBS["refresh_indicators"](dashboard_settings(db_url))
    row = conn.execute("select refreshed_at > now() - interval '1 minute' from summary_refresh").fetchone()
    assert row == (True,)
    assert conn.execute("select count(*) from patient_activity").fetchone() == (len(COUNTY),)
