"""The data-quality screen in headless Chromium: a township sees its meters' refusals (raw content masked), offline
meters and a reading without a patient, and matches it to a patient; a team account is refused; screenshots."""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import Browser

from .browser import ARTIFACTS, needs_chromium, screenshot, signed_in
from .png import colour_counts
from .server import dashboard_settings, running_dashboard
from .test_quality_repo import ID_CARD, with_problems
from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    return with_problems(work_county(conn))


@needs_chromium
def test_a_township_matches_a_reading_to_a_patient(db_url: str, county: WorkCounty, browser: Browser) -> None:
    from playwright.sync_api import expect

    with (
        running_dashboard(dashboard_settings(db_url)) as dashboard,
        signed_in(browser, dashboard.url, "town.wang") as page,
    ):
        page.goto(dashboard.url + "/quality")
        expect(page.locator("#quality-by-meter")).to_contain_text("消息不是合法JSON")
        expect(page.locator("#quality-by-meter")).not_to_contain_text("ghost-9")
        # The store already masks an ID-card number in kept raw bytes (migration 0014); the screen masks the rest.
        expect(page.locator("#quality-latest")).to_contain_text("110105********002X")
        expect(page.locator("#quality-latest")).to_contain_text("138****5678")
        assert ID_CARD not in page.locator("body").inner_text()
        expect(page.locator("#quality-offline")).to_contain_text("glu-01")
        expect(page.locator("#quality-unattributed")).to_contain_text("H33****9999")
        screenshot(page, "quality.png", full_page=True)

        page.locator("#quality-unattributed [col-id='value']", has_text="176/104").click()
        expect(page.locator("#quality-selected")).to_contain_text("176/104")
        page.fill("#quality-card", "H330000000005")  # a 河口乡 patient
        page.click("#quality-attribute")
        expect(page.locator("#quality-message")).to_have_text("您的管辖范围内没有该健康卡号的患者")
        page.fill("#quality-card", "H330000000002")
        page.click("#quality-attribute")
        expect(page.locator("#quality-message")).to_contain_text("已将读数匹配到患者 H33****0002")
        expect(page.locator("#quality-unattributed")).not_to_contain_text("H33****9999")
    matched = county.conn.execute("select count(*) from reading where patient_id = %s", (county.patients["A-yellow"],))
    assert matched.fetchone() == (1,)


@needs_chromium
def test_a_team_account_is_refused_the_data_quality_screen(db_url: str, county: WorkCounty, browser: Browser) -> None:
    from playwright.sync_api import expect

    with (
        running_dashboard(dashboard_settings(db_url)) as dashboard,
        signed_in(browser, dashboard.url, "team.zhao") as page,
    ):
        page.goto(dashboard.url + "/quality")
        expect(page.locator("#quality-status")).to_have_text("无权查看：数据质量页面供乡镇和县级人员使用")
        expect(page.locator("#quality-by-meter")).not_to_contain_text("bp-01")


PHONE_GRIDS = {  # what each grid's first row shows, by who looks (a township sees only its own meters)
    "town.wang": {"quality-by-meter": "bp-01", "quality-offline": "glu-01", "quality-unattributed": "bp-01"},
    "county.li": {
        "quality-by-meter": "bp-01",
        "quality-offline": "glu-01",
        "quality-skewed": "bp-02",
        "quality-unattributed": "bp-01",
    },
}


@needs_chromium
@pytest.mark.parametrize("who", sorted(PHONE_GRIDS))
def test_every_grid_of_the_data_quality_screen_shows_its_rows_on_a_phone(
    db_url: str, county: WorkCounty, browser: Browser, who: str
) -> None:
    from playwright.sync_api import expect

    phone = {"width": 390, "height": 844}
    with (
        running_dashboard(dashboard_settings(db_url)) as dashboard,
        signed_in(browser, dashboard.url, who, viewport=phone) as page,
    ):
        page.goto(dashboard.url + "/quality")
        for grid, text in PHONE_GRIDS[who].items():
            rows = page.locator(f"#{grid} .ag-center-cols-container .ag-row")
            expect(rows.first).to_contain_text(text)
            rows.first.scroll_into_view_if_needed()
            expect(rows.first).to_be_visible()
            box = rows.first.bounding_box()  # drawn, not an empty box: the row has a size and sits in the screen
            assert box is not None and box["width"] > 100 and box["height"] > 10, (grid, box)
            assert box["x"] >= 0 and box["x"] < phone["width"], (grid, box)
            cell = rows.first.locator(".ag-cell").first
            expect(cell).to_be_in_viewport()
            shot = screenshot(page, f"quality-phone-{who.split('.')[0]}-{grid.removeprefix('quality-')}.png")
            drawn = ARTIFACTS / f"quality-phone-row-{grid}.png"
            rows.first.screenshot(path=str(drawn))
            ink = sum(n for rgb, n in colour_counts(drawn).items() if sum(rgb) < 300)
            assert ink > 50, (grid, ink, shot)  # the row's text is painted, not a blank box
        assert page.evaluate("document.documentElement.scrollWidth") <= phone["width"]
        screenshot(page, f"quality-phone-{who.split('.')[0]}.png", tall=True)
