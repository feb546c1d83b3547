"""Patient detail in headless Chromium: the team opens its patient (charts, history, risk, alerts, visits; the
view audited); another team's patient shows 无权查看 and nothing of the record; screenshots in test-artifacts/."""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import Browser

from .browser import needs_chromium, screenshot, signed_in
from .server import dashboard_settings, running_dashboard
from .test_patient_repo import with_history
from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    return with_history(work_county(conn))


@needs_chromium
def test_the_team_opens_its_patient_and_the_view_is_audited(db_url: str, county: WorkCounty, browser: Browser) -> None:
    from playwright.sync_api import expect

    pid = county.patients["A-red"]
    with (
        running_dashboard(dashboard_settings(db_url)) as dashboard,
        signed_in(browser, dashboard.url, "team.zhao") as page,
    ):
        page.goto(f"{dashboard.url}/patient/{pid}")
        expect(page.locator(".screen-header")).to_contain_text("患者详情 · H33****0001")
        expect(page.locator(".patient-summary").first).to_contain_text("血压达到紧急转诊标准")
        expect(page.locator(".patient-summary").nth(1)).to_contain_text("13812345678")
        expect(page.locator("#patient-bp-chart")).to_contain_text("目标 <150/90 mmHg（2020版）")
        expect(page.locator("#patient-bp-chart .scatterlayer .trace")).to_have_count(3)
        expect(page.locator(".risk-panel")).to_contain_text("China-PAR 10年ASCVD风险：12.5%（高危）")
        expect(page.locator(".risk-panel")).to_contain_text("62%")
        expect(page.get_by_text("黄 → 红")).to_be_visible()
        expect(page.get_by_text("首次评估：绿")).to_be_visible()
        expect(page.locator("table.grid").nth(1)).to_contain_text("待处理")
        screenshot(page, "patient.png", full_page=True)
    views = county.conn.execute(
        "select username, action, patient_id, screen from audit_event where action = 'view_patient'"
    ).fetchall()
    assert views == [("team.zhao", "view_patient", pid, "patient")]


@needs_chromium
def test_another_teams_patient_is_refused_with_nothing_shown(db_url: str, county: WorkCounty, browser: Browser) -> None:
    from playwright.sync_api import expect

    theirs = county.patients["C-red"]
    with (
        running_dashboard(dashboard_settings(db_url)) as dashboard,
        signed_in(browser, dashboard.url, "team.zhao") as page,
    ):
        page.goto(f"{dashboard.url}/patient/{theirs}")
        expect(page.locator("#patient-denied")).to_have_text("无权查看：该患者不在您的管辖范围内")
        body = page.locator("body").inner_text()
        assert "H33****0005" not in body and "河口" not in body and "182" not in body
        screenshot(page, "patient-denied.png")
        page.goto(f"{dashboard.url}/patient/not-a-number")
        expect(page.locator("#patient-denied")).to_have_text("无权查看或患者不存在")
    refused = county.conn.execute(
        "select username, action, patient_id, detail from audit_event where action like 'view_patient%'"
    ).fetchall()
    assert refused == [("team.zhao", "view_patient_denied", None, {"patient_id": theirs})]
