"""Issue 12 item 9 wherever reasons are shown: each reason carries its figure and its target, worded from the stored
facts (assessment_current / assessment_history / alert .reason_facts) by the one formatter, assess.reasons.

A real PostgreSQL: a red patient (one reading of 186/112) and a yellow diabetic (mean 146/85 against <130/80) are
assessed and alerted as ingest does it (alerts.service.assess_and_alert); then the county's alert feed, the
township's work list, the alert console, the follow-up list (cards and export), the patient's page (now, history,
alerts), both centres' notifications, the escalation's notifications and the SMS and text made from them must all
show the figures and the targets, not only the words "近期血压均值未达标"."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from alerts.message import outbound
from alerts.service import AlertContext, assess_and_alert
from alerts.workflow.service import escalate
from assess.rules import RuleSettings
from cdm.settings import Settings
from dashboard.access import Principal, Role
from dashboard.alerts import repo as alerts_repo
from dashboard.followups import export as followup_export
from dashboard.followups.layout import card
from dashboard.followups.repo import followup_rows
from dashboard.overview.tables import alerts_table
from dashboard.overview.worklist import work_list
from dashboard.patient.repo import patient_detail
from tests.support.registry import SmallCounty, build

from .server import dashboard_settings, running_dashboard

pytestmark = pytest.mark.integration
CHINA = ZoneInfo("Asia/Shanghai")
NOW = datetime.now(UTC).replace(microsecond=0)
CRITICAL_AT = NOW - timedelta(minutes=30)  # alone in its sitting, which is complete: it confirms itself
RED = (f"最近一次 186/112 mmHg（{CRITICAL_AT.astimezone(CHINA):%m-%d %H:%M}）", "≥180/110 需紧急转诊")
YELLOW = ("近14天均值 146/85 mmHg", "目标 <130/80（合并糖尿病）")
BARE = ("近期血压均值未达标", "血压达到紧急转诊标准")  # the plain words, without figures, must not be what is shown


@dataclass(frozen=True)
class Store:
    conn: psycopg.Connection
    county: SmallCounty
    settings: Settings
    red: int  # patient ids
    yellow: int

    def county_user(self) -> Principal:
        return Principal(1, "county.wang", Role.COUNTY, self.county.county_id)

    def township_user(self) -> Principal:
        return Principal(2, "town.li", Role.TOWNSHIP, self.county.county_id, township_id=self.county.township_id)


def _reading(conn: psycopg.Connection, c: SmallCounty, pid: int, seq: int, at: datetime, **values: object) -> None:
    meter = c.bp_meter if "systolic" in values else c.glucose_meter
    kind = "bp" if "systolic" in values else "glucose"
    conn.execute(
        "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, systolic,"
        " diastolic, glucose_mmol, glucose_context)"
        " values ((select id from device where uid = %s), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (meter, seq, at, at, c.village_id, kind, pid, values.get("systolic"), values.get("diastolic"),
         values.get("mmol"), values.get("context")),
    )  # fmt: skip


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> Iterator[Store]:
    settings = dashboard_settings(db_url, data_dir=tmp_path / "cdm", county_code="rf")
    with psycopg.connect(db_url) as conn:
        county = build(conn, code="rf")
        red, yellow, _ = county.patients.values()  # build: the second patient is diabetic
        _reading(conn, county, red, 1, CRITICAL_AT, systolic=186, diastolic=112)
        _reading(conn, county, yellow, 2, NOW - timedelta(days=1), systolic=146, diastolic=85)
        _reading(conn, county, yellow, 3, NOW - timedelta(days=3), systolic=146, diastolic=85)
        _reading(conn, county, yellow, 4, NOW - timedelta(days=1, hours=1), mmol=6.0, context="fasting")
        ctx = AlertContext(RuleSettings.from_settings(settings))
        assess_and_alert(conn, patient_ids=[red, yellow], fresh=[red, yellow], now=NOW, ctx=ctx)
        conn.commit()
        yield Store(conn, county, settings, red, yellow)


def _page_module(name: str) -> Any:
    """A page's module as the running app loaded it: Dash loads dashboard/pages/*.py as `pages.<name>`, and importing
    `dashboard.pages.<name>` as well would register the page twice and break every later app in this process."""
    return sys.modules[f"pages.{name}"]


def _has(text: str, figures: tuple[str, ...]) -> bool:
    return all(part in text for part in figures)


def test_the_alert_screens_show_the_figure_and_the_target(store: Store) -> None:
    feed = alerts_table(
        alerts_repo.latest_alerts(store.conn, principal=store.county_user(), limit=10), tz=CHINA, now=NOW
    )
    township = work_list(
        alerts_repo.open_alerts(store.conn, principal=store.township_user(), limit=10), lang="zh", tz=CHINA, now=NOW
    )
    with running_dashboard(store.settings):  # the console's page module registers itself with the app
        console_table = _page_module("alerts").console_table
        console = console_table(
            alerts_repo.console_alerts(store.conn, principal=store.county_user(), limit=10),
            lang="zh",
            tz=CHINA,
            now=NOW,
        )
    for screen in (feed, township, console):
        assert _has(str(screen), RED), str(screen)
        assert BARE[1] not in str(screen)


def test_a_further_critical_reading_updates_the_open_alerts_figure(store: Store) -> None:
    later = NOW + timedelta(minutes=20)
    _reading(store.conn, store.county, store.red, 9, later - timedelta(minutes=1), systolic=192, diastolic=114)
    ctx = AlertContext(RuleSettings.from_settings(store.settings))
    assess_and_alert(
        store.conn, patient_ids=[store.red], fresh=[store.red], now=later, ctx=ctx, urgent={store.red: ["x:9"]}
    )
    feed = str(alerts_table(alerts_repo.latest_alerts(store.conn, principal=store.county_user(), limit=10), tz=CHINA,
                            now=later))  # fmt: skip
    assert "最近一次 192/114 mmHg" in feed and "186/112" not in feed


def test_the_follow_up_list_shows_the_figure_and_the_target(store: Store) -> None:
    today = NOW.astimezone(CHINA).date()
    rows = {r.patient_id: r for r in followup_rows(store.conn, principal=store.county_user(), today=today)}
    yellow, red = rows[store.yellow], rows[store.red]
    assert _has(str(card(yellow, today=today, lang="zh")), YELLOW)
    assert _has(str(card(red, today=today, lang="zh")), RED)
    grid_row = followup_export.display_row(yellow, lang="zh", tz=CHINA, identity=False)  # the grid and exports
    exported = followup_export.to_csv([grid_row], lang="zh", identity=False).decode("utf-8-sig")
    assert _has(str(grid_row["reasons"]), YELLOW) and _has(exported, YELLOW) and BARE[0] not in exported


def test_the_patients_page_shows_the_figures_now_in_history_and_on_alerts(store: Store) -> None:
    with running_dashboard(store.settings):
        _page = _page_module("patient")._page
        pages = {}
        for pid in (store.red, store.yellow):
            detail = patient_detail(
                store.conn, principal=store.county_user(), patient_id=pid, since=NOW - timedelta(days=90), now=NOW
            )
            assert detail is not None
            pages[pid] = str(_page(detail, principal=store.county_user(), settings=store.settings, now=NOW, who=None))
    # the red patient: the header, the history row and the alert row each say it
    assert pages[store.red].count(RED[0]) >= 3, pages[store.red]
    assert pages[store.yellow].count(YELLOW[0]) >= 2 and YELLOW[1] in pages[store.yellow]
    assert BARE[0] not in pages[store.yellow]


def test_every_notification_and_its_sms_carry_the_figure(store: Store) -> None:
    bodies = [
        r[0]
        for r in store.conn.execute(
            "select n.body from notification n join alert a on a.id = n.alert_id where a.patient_id = %s",
            (store.red,),
        )
    ]
    assert len(bodies) == 2  # both centres
    escalate(store.conn, now=NOW + timedelta(hours=1), settings=store.settings)  # nobody acknowledged it
    escalated = [
        r[0]
        for r in store.conn.execute(
            "select n.body from notification n join alert a on a.id = n.alert_id"
            " where a.patient_id = %s and n.recipient in ('county_on_duty', 'team')",
            (store.red,),
        )
    ]
    assert escalated, "the escalation notified someone"
    for body in bodies + escalated:
        (reason,) = body["reasons"]
        assert reason["code"] == "bp_critical" and _has(reason["text"], RED), body
        message = outbound(body=body, address="13800138000", idempotency_key="k")
        assert _has(message.text, RED) and _has(message.params["reasons"], RED)  # WeCom / e-mail text, SMS


def test_the_patients_page_says_why_china_par_has_no_figure_and_counts_completed_age(store: Store) -> None:
    today = NOW.astimezone(CHINA).date()
    tomorrow = today + timedelta(days=1 if (today.month, today.day) != (2, 28) else 2)
    born = tomorrow.replace(year=tomorrow.year - 66)  # 66 tomorrow: 65 today, whatever the registry's birth year
    store.conn.execute(
        "insert into health_record (patient_id, birth_date, complications) values (%s, %s, '{脑梗死}')",
        (store.red, born),
    )
    store.conn.execute(  # everything China-PAR needs of a woman but the HDL cholesterol
        "insert into health_record (patient_id, birth_date, total_cholesterol_mmol, waist_cm, smoker, north,"
        " on_bp_treatment) values (%s, '1960-03-01', 5.2, 85, false, true, true)",
        (store.yellow,),
    )
    ages = {r.patient_id: r.age for r in followup_rows(store.conn, principal=store.county_user(), today=today)}
    assert ages[store.red] == 65  # the follow-up list
    with running_dashboard(store.settings):
        patient_page = _page_module("patient")
        _page, _risk = patient_page._page, patient_page._risk
        notes = {}
        for pid in (store.red, store.yellow):
            detail = patient_detail(
                store.conn, principal=store.county_user(), patient_id=pid, since=NOW - timedelta(days=90), now=NOW
            )
            assert detail is not None
            notes[pid] = str(_risk(detail, store.settings))
            if pid == store.red:
                page = str(_page(detail, principal=store.county_user(), settings=store.settings, now=NOW, who=None))
                assert "65岁" in page and "66岁" not in page  # the patient's page
    assert "已有心脑血管疾病，不适用一级预防评估" in notes[store.red]
    assert "缺少计算所需的信息，未计算：高密度脂蛋白胆固醇" in notes[store.yellow], notes[store.yellow]
