"""The follow-up list in headless Chromium: a team sees its own patients, records a visit from the list (a bad field
is named, nothing typed is lost) and sees the patient leave the overdue list; screenshots in test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import Browser, Page

from .browser import needs_chromium, screenshot, signed_in
from .server import dashboard_settings, running_dashboard
from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    return work_county(conn)


def _expect_grid_cards(page: Page, cards: list[str]) -> None:
    """The grid lists exactly these patients, in this order (waiting for AG Grid to render the new rows)."""
    from playwright.sync_api import expect

    expect(page.locator(".followups-grid .ag-center-cols-container [col-id='patient']")).to_have_text(cards)


@needs_chromium
def test_a_team_records_a_visit_from_the_list_and_the_patient_leaves_the_overdue_list(
    db_url: str, county: WorkCounty, browser: Browser
) -> None:
    from playwright.sync_api import expect

    with (
        running_dashboard(dashboard_settings(db_url)) as dashboard,
        signed_in(browser, dashboard.url, "team.zhao") as p,
    ):
        p.goto(dashboard.url + "/followups")
        expect(p.locator(".count-line")).to_contain_text("共 3 人，其中逾期 2 人")
        _expect_grid_cards(p, ["H33****0001", "H33****0002", "H33****0003"])
        expect(p.locator(".followups-grid")).to_contain_text("13812345678")  # the team sees the phone it calls
        screenshot(p, "followups.png", full_page=True)

        p.get_by_label("仅显示逾期").check()
        expect(p.locator(".count-line")).to_contain_text("共 2 人，其中逾期 2 人")
        p.locator(".followups-grid [col-id='reasons']", has_text="血压达到紧急转诊标准").first.click()
        expect(p.locator("#followups-selected")).to_contain_text("H33****0001")

        p.fill("#followups-done-on", "2025/3/14")
        p.fill("#followups-next-step", "复测血压，调整用药")
        p.click("#followups-submit")
        expect(p.locator("#followups-error-done_on")).to_have_text("日期格式应为 年-月-日，例如 2025-03-14")
        expect(p.locator("#followups-error-class")).to_have_text("请选择随访分类")
        assert p.input_value("#followups-next-step") == "复测血压，调整用药"  # nothing typed is lost
        screenshot(p, "followups-form-errors.png", full_page=True)

        p.fill("#followups-done-on", county.today.isoformat())
        p.locator("#followups-class").click()
        p.get_by_text("控制不满意", exact=True).click()
        p.click("#followups-submit")
        expect(p.locator("#followups-message")).to_contain_text("已保存患者 H33****0001 的随访")
        expect(p.locator("#followups-error-done_on")).to_have_text("")
        expect(p.locator("#followups-selected")).to_have_text("请在上方列表中点选一位患者")
        expect(p.locator(".count-line")).to_contain_text("共 1 人，其中逾期 1 人")
        _expect_grid_cards(p, ["H33****0003"])
        screenshot(p, "followups-after-visit.png", full_page=True)

        p.get_by_role("link", name="H33****0003").click()  # the list opens the patient's record
        p.wait_for_url(f"**/patient/{county.patients['A-green']}")
        expect(p.locator(".screen-header").last).to_contain_text("患者详情 · H33****0003")

    visits = county.conn.execute(
        "select class, next_step, recorded_by from follow_up where patient_id = %s", (county.patients["A-red"],)
    ).fetchall()
    assert visits == [("uncontrolled", "复测血压，调整用药", "team.zhao")]
    listed = county.conn.execute(
        "select count(*) from audit_event where action = 'view_list' and username = 'team.zhao'"
    )
    assert (listed.fetchone() or (0,))[0] >= 3


@needs_chromium
def test_a_township_user_sees_the_township_without_phone_numbers_and_exports_it(
    db_url: str, county: WorkCounty, browser: Browser, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    with (
        running_dashboard(dashboard_settings(db_url)) as dashboard,
        signed_in(browser, dashboard.url, "town.wang") as p,
    ):
        p.goto(dashboard.url + "/followups")
        expect(p.locator(".count-line")).to_contain_text("共 4 人")
        expect(p.locator(".followups-grid")).not_to_contain_text("13812345678")
        expect(p.locator(".followups-grid .ag-header")).not_to_contain_text("电话")
        with p.expect_download() as download:
            p.click("#followups-export-xlsx")
        target = tmp_path / download.value.suggested_filename
        download.value.save_as(target)
    assert target.suffix == ".xlsx" and target.stat().st_size > 3000
    exported = county.conn.execute(
        "select detail->>'format', (detail->>'rows')::int from audit_event where action = 'export'"
    ).fetchall()
    assert exported == [("xlsx", 4)]


@needs_chromium
def test_the_list_is_in_english_one_setting_away(db_url: str, county: WorkCounty, browser: Browser) -> None:
    from playwright.sync_api import expect

    settings = dashboard_settings(db_url, language="en")
    with running_dashboard(settings) as dashboard, signed_in(browser, dashboard.url, "team.zhao") as p:
        p.goto(dashboard.url + "/followups")
        expect(p.locator(".screen-header").last).to_have_text("Family-doctor follow-up list")
        expect(p.locator(".count-line")).to_contain_text("3 patients, 2 overdue")
        expect(p.locator(".followups-grid")).to_contain_text("BP at urgent-referral level")
        screenshot(p, "followups-en.png")
