"""Patient detail data: read only inside the viewer's scope, the readings that changed the colour found from the
history, trend charts with the patient's own target, and the risk model's main factors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from cdm.thresholds import for_edition
from dashboard.patient import figures as patient_figures
from dashboard.patient.repo import colour_changing_evidence, patient_detail, reading_key
from dashboard.patient.risk_factors import GROUPS, contributions, main_factors

from .server import dashboard_settings
from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration
TZ = ZoneInfo("Asia/Shanghai")


def with_history(county: WorkCounty) -> WorkCounty:
    """A-red: green at first (its first BP reading), then red on the second; a reason change without a colour
    change in between must not mark a reading."""
    pid = county.patients["A-red"]
    for days, colour, before, reasons, evidence in (
        (40, "green", None, ["at_target"], ["bp-01:1"]),
        (5, "yellow", "green", ["bp_above_target"], ["bp-01:1"]),
        (4, "yellow", "yellow", ["bp_above_target", "monitoring_gap"], ["bp-01:9"]),
        (0, "red", "yellow", ["bp_critical"], ["bp-01:2"]),
    ):
        county.conn.execute(
            "insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence,"
            " assessed_at, rules_edition) values (%s, %s, %s, %s, 1, %s, %s, '2020')",
            (pid, colour, before, reasons, evidence, county.now - timedelta(days=days, minutes=-1)),
        )
    county.conn.execute(
        "insert into risk_score (patient_id, scored_at, model_version, probability, ascvd_10y_percent,"
        " ascvd_category) values (%s, %s, 'risk-test', 0.62, 12.5, 'high')",
        (pid, county.now - timedelta(hours=6)),
    )
    return county


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    return with_history(work_county(conn))


def _detail(county: WorkCounty, username: str, patient: str):  # type: ignore[no-untyped-def]
    return patient_detail(
        county.conn,
        principal=county.users[username],
        patient_id=county.patients[patient],
        since=county.now - timedelta(days=90),
        now=county.now,
    )


def test_the_team_reads_its_patients_whole_record(county: WorkCounty) -> None:
    detail = _detail(county, "team.zhao", "A-red")
    assert detail is not None
    h = detail.header
    assert (h["card"], h["colour"], h["township"], h["village"], h["team"]) == (
        "H33****0001",
        "red",
        "城关镇",
        "东村",
        "城关一队",
    )
    assert "health_card_no" not in h
    assert h["phone"] == "13812345678"
    assert [(r["systolic"], r["diastolic"]) for r in detail.readings] == [(150, 92), (186, 112)]
    assert [r["colour"] for r in detail.history] == ["red", "yellow", "yellow", "green"]
    assert [a["status"] for a in detail.alerts] == ["open"]
    assert (h["scored_probability"], h["scored_category"]) == (pytest.approx(0.62), "high")


def test_a_township_reads_the_record_without_the_phone(county: WorkCounty) -> None:
    detail = _detail(county, "town.wang", "A-red")
    assert detail is not None and detail.header["phone"] is None and detail.header["id_card_masked"] is None


@pytest.mark.parametrize(
    ("username", "patient"), [("team.zhao", "C-red"), ("team.zhao", "B-yellow"), ("town.wang", "C-red")]
)
def test_a_patient_outside_the_scope_is_not_read(county: WorkCounty, username: str, patient: str) -> None:
    assert _detail(county, username, patient) is None


def test_the_county_reads_every_patient_and_an_unknown_id_is_none(county: WorkCounty) -> None:
    assert _detail(county, "county.li", "C-red") is not None
    assert (
        patient_detail(
            county.conn, principal=county.users["county.li"], patient_id=10**9, since=county.now, now=county.now
        )
        is None
    )


def test_only_readings_behind_a_change_of_colour_are_marked(county: WorkCounty) -> None:
    detail = _detail(county, "team.zhao", "A-red")
    assert detail is not None
    changed = colour_changing_evidence(detail.history)
    assert changed == {"bp-01:1", "bp-01:2"}  # bp-01:9 came with a change of reasons only
    assert [reading_key(r) for r in detail.readings] == ["bp-01:1", "bp-01:2"]


def test_the_bp_chart_draws_the_target_band_and_rings_the_colour_changing_readings(county: WorkCounty) -> None:
    detail = _detail(county, "team.zhao", "A-red")
    assert detail is not None
    th = for_edition("2020")
    target = th.target_65_79  # born 1958: 65-79 in the years these tests run
    view = patient_figures.ChartView(th, colour_changing_evidence(detail.history), days=90, lang="zh", tz=TZ)
    fig = patient_figures.bp_figure(detail.readings, target=target, view=view)
    names = [trace.name for trace in fig.data]
    assert names == ["收缩压", "舒张压", "改变颜色的读数"]
    assert list(fig.data[2].y) == [150, 186]
    bands = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(bands) == 1 and bands[0].y1 == target.systolic
    assert "目标 <150/90 mmHg（2020版）" in fig.layout.title.text
    empty = patient_figures.glucose_figure([], view=patient_figures.ChartView(th, set(), days=90, lang="zh", tz=TZ))
    assert empty.layout.annotations[-1].text == "此期间无读数"


def test_main_factors_are_none_without_a_model(county: WorkCounty, db_url: str, tmp_path: Path) -> None:
    detail = _detail(county, "team.zhao", "A-red")
    assert detail is not None
    assert main_factors(detail, settings=dashboard_settings(db_url, data_dir=tmp_path)) is None


def test_main_factors_name_what_raises_the_probability(county: WorkCounty, db_url: str, tmp_path: Path) -> None:
    from assess.risk.cohort import generate_cohort, training_set
    from assess.risk.model import save, train

    loaded = save(train(training_set(generate_cohort(patients=300, seed=11)), seed=3), tmp_path / "models")
    detail = _detail(county, "team.zhao", "A-red")
    assert detail is not None
    settings = dashboard_settings(db_url, data_dir=tmp_path)
    factors = main_factors(detail, settings=settings, now=county.now)
    assert factors and 1 <= len(factors) <= 3
    assert all("个百分点" in f or f == "无明显使风险升高的因素" for f in factors)
    from assess.risk.features import build_features
    from cdm.domain import PatientProfile

    features = build_features(
        profile=PatientProfile(1, "F", 1958, True, False), readings=[], follow_ups=[], as_of=datetime.now(UTC)
    )
    effects = contributions(loaded, features)
    assert sorted(g for g, _ in effects) == sorted(g for g, *_ in GROUPS)
