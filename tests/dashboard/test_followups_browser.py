"""The follow-up list in headless Chromium: a team sees its own patients, records a visit from the list (a bad field
is named, nothing typed is lost) and sees the patient leave the overdue list; screenshots in test-artifacts/."""

from __future__ import annotations

from datetime import timedelta
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


PHONE = {"width": 390, "height": 844}


def _fill(p: Page, fields: dict[str, str]) -> None:
    for name, value in fields.items():
        p.fill(f"#visit-{name}", value)


def _pick(p: Page, field: str, text: str) -> None:
    p.locator(f"#visit-{field} label", has_text=text).first.click()


def _no_sideways_scroll(p: Page) -> None:
    assert p.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "something is off-screen"


@needs_chromium
def test_a_team_works_its_day_on_a_big_screen_and_a_phone(db_url: str, county: WorkCounty, browser: Browser) -> None:
    """Search, the list's order, a full hypertension visit with refusals and its print view at 1920x1080; the card
    list and a diabetes visit from a card at 390x844."""
    from playwright.sync_api import expect

    with running_dashboard(dashboard_settings(db_url)) as dashboard:
        with signed_in(browser, dashboard.url, "team.zhao") as p:
            p.goto(dashboard.url + "/followups")
            expect(p.locator(".count-line")).to_contain_text("共 3 人，其中逾期 2 人")
            expect(p.locator(".order-note")).to_contain_text("红色患者在前")
            _expect_grid_cards(p, ["H33****0001", "H33****0003", "H33****0002"])  # red, 10 days overdue, due later
            expect(p.locator(".followups-grid")).to_contain_text("张秀英")
            expect(p.locator("#followups-cards")).to_be_hidden()  # the grid on a big screen, the cards on a phone
            p.fill("#followups-search", "5678")
            p.click("#followups-search-button")
            expect(p.locator("#followups-search-results")).to_contain_text("找到 1 人")
            expect(p.locator("#followups-search-results a.tel")).to_have_attribute("href", "tel:13812345678")
            screenshot(p, "followups.png", full_page=True)

            p.goto(dashboard.url + f"/patient/{county.patients['A-red']}")
            expect(p.locator("#patient-name")).to_have_text("张秀英")
            expect(p.locator("a.call")).to_have_attribute("href", "tel:13812345678")
            p.click("#patient-record-visit")
            p.wait_for_url(f"**/visit/{county.patients['A-red']}")
            expect(p.locator("#visit-kind input[value='hypertension']")).to_be_checked()
            _pick(p, "way", "门诊")
            _pick(p, "symptoms", "头痛头晕")
            _fill(p, {"sbp1": "90", "dbp1": "95", "sbp2": "158", "heart_rate": "300", "weight_kg": "66"})
            p.click("#visit-submit")
            expect(p.locator("#visit-error-sbp1")).to_have_text("血压（第1次）收缩压：收缩压应高于舒张压")
            expect(p.locator("#visit-error-dbp2")).to_have_text("血压（第2次）舒张压：收缩压和舒张压需同时填写")
            expect(p.locator("#visit-error-heart_rate")).to_have_text("心率：应在 25–250 次/分 之间")
            expect(p.locator("#visit-error-class")).to_have_text("此次随访分类：请选择")
            expect(p.locator("#visit-message")).to_contain_text("未保存")
            assert p.input_value("#visit-weight_kg") == "66"  # nothing typed is lost
            screenshot(p, "visit-form-errors.png", full_page=True)
            _fill(p, {"sbp1": "162", "dbp1": "98", "dbp2": "96", "heart_rate": "82", "height_cm": "158"})
            _fill(p, {"cigarettes_per_day": "0", "exercise_times_per_week": "3", "exercise_minutes": "30"})
            p.fill("#visit-med-0-name", "氨氯地平")
            p.fill("#visit-med-0-dose", "5mg")
            p.fill("#visit-med-0-frequency", "每日1次")
            for field, text in (("salt", "中"), ("psych", "良好"), ("compliance", "良好"), ("adherence", "间断")):
                _pick(p, field, text)
            _pick(p, "class", "控制不满意")
            p.fill("#visit-next_due", (county.today - timedelta(days=1)).isoformat())
            p.click("#visit-submit")
            expect(p.locator("#visit-error-next_due")).to_have_text("下次随访日期：不能早于今天")
            p.fill("#visit-next_due", "")
            p.click("#visit-submit")
            expect(p.locator("#visit-message")).to_contain_text("已保存H33****0001的随访")
            expect(p.locator("#visit-message")).to_contain_text((county.today + timedelta(days=14)).isoformat())
            expect(p.locator("#visit-submit")).to_be_disabled()
            screenshot(p, "visit-saved.png", full_page=True)
            p.click("#visit-print-link")
            expect(p.locator(".print-title")).to_have_text("高血压患者随访服务记录表")
            expect(p.locator(".national-form-print")).to_contain_text("162/98 ; 158/96 mmHg")
            expect(p.locator(".national-form-print")).to_contain_text("氨氯地平 5mg 每日1次")
            expect(p.locator(".print-head")).to_contain_text("张秀英")
            screenshot(p, "visit-print.png", full_page=True)

        with signed_in(browser, dashboard.url, "team.zhao", viewport=PHONE) as p:
            p.goto(dashboard.url + "/followups")
            cards = p.locator("#followups-cards .work-card")
            expect(cards).to_have_count(3)
            expect(p.locator(".followups-grid")).to_be_hidden()
            expect(cards.first).to_contain_text("李建国")  # A-red visited today: A-green (10 days overdue) leads
            expect(cards.first).to_contain_text("逾期 10 天")
            _no_sideways_scroll(p)
            screenshot(p, "followups-phone.png", full_page=True)
            cards.first.get_by_role("link", name="记录随访").click()
            p.wait_for_url(f"**/visit/{county.patients['A-green']}")
            expect(p.locator("#visit-kind input[value='diabetes']")).to_be_visible()
            _pick(p, "kind", "2型糖尿病")
            expect(p.locator("#visit-diabetes-only")).to_be_visible()
            _pick(p, "way", "家庭")
            _pick(p, "symptoms", "多尿")
            _fill(p, {"sbp1": "128", "dbp1": "78", "fasting_glucose": "40"})
            _pick(p, "dorsalis_pedis", "减弱")
            _pick(p, "adherence", "规律")
            _pick(p, "class", "控制满意")
            p.click("#visit-submit")
            expect(p.locator("#visit-error-fasting_glucose")).to_have_text("空腹血糖：应在 1.1–33.3 mmol/L 之间")
            screenshot(p, "visit-form-phone-errors.png", full_page=True)
            _fill(p, {"fasting_glucose": "6.2", "hba1c": "6.6"})
            p.click("#visit-submit")
            expect(p.locator("#visit-message")).to_contain_text("已保存H33****0003的随访")
            _no_sideways_scroll(p)
            screenshot(p, "visit-form-phone.png", full_page=True)
            p.goto(dashboard.url + f"/patient/{county.patients['A-red']}")
            expect(p.locator("#patient-name")).to_have_text("张秀英")
            expect(p.locator("#patient-record-visit")).to_be_visible()
            expect(p.locator("#patient-bp-chart .main-svg").first).to_be_visible()
            _no_sideways_scroll(p)
            screenshot(p, "patient-phone.png", full_page=True)

        with signed_in(browser, dashboard.url, "county.li") as p:
            p.goto(dashboard.url + f"/patient/{county.patients['A-red']}")
            expect(p.locator("#patient-name")).to_have_text("张**")
            p.fill("#patient-reveal-reason", "转诊")
            p.click("#patient-reveal")
            expect(p.locator("#patient-revealed")).to_contain_text("请写明理由")
            p.fill("#patient-reveal-reason", "县医院转诊核对身份")
            p.click("#patient-reveal")
            expect(p.locator("#patient-name")).to_have_text("张秀英 · 东村3组12号")
            screenshot(p, "patient-county-reveal.png", full_page=True)

    visits = county.conn.execute(
        "select patient_id, form_kind, way, sbp_mean, dbp_mean, class, recorded_by, form->'symptoms' from follow_up"
        " where recorded_by = 'team.zhao' order by id"
    ).fetchall()
    assert visits == [
        (
            county.patients["A-red"],
            "hypertension",
            "clinic",
            160,
            97,
            "uncontrolled",
            "team.zhao",
            ["headache_dizziness"],
        ),
        (county.patients["A-green"], "diabetes", "home", 128, 78, "controlled", "team.zhao", ["polyuria"]),
    ]
    audited = county.conn.execute(
        "select action, detail->>'reason' from audit_event where action in ('reveal_identity', 'search') order by id"
    ).fetchall()
    assert audited == [("search", None), ("reveal_identity", "县医院转诊核对身份")]


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
