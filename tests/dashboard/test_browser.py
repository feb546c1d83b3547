"""The screens in headless Chromium, signed in through the log-in page: each role sees only its own data, a
township acknowledges an alert, wrong passwords lock the account; screenshots of each screen in test-artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.access import Role

from .accounts import make_account
from .browser import LAPTOP, needs_chromium, screenshot, signed_in
from .county_builder import BusyScene, busiest_township, busy_county
from .png import colour_counts
from .server import dashboard_settings, running_dashboard

pytestmark = [pytest.mark.integration, needs_chromium]


@pytest.fixture
def scene(db_url: str, conn: psycopg.Connection) -> Iterator[BusyScene]:
    busy_county(conn)
    code, name = busiest_township(conn)  # the township with the most open alerts, whose account is town.li
    make_account(conn, "county.wang", Role.COUNTY, county="demo")
    make_account(conn, "town.li", Role.TOWNSHIP, township=code)
    make_account(conn, "team.zhao", Role.TEAM, team="demo-team01")
    settings = dashboard_settings(db_url, county_name="示范县", login_max_failures=3, dashboard_refresh_s=2)
    with running_dashboard(settings) as dashboard:
        yield BusyScene(dashboard, conn, code, name)


def _managed(conn: psycopg.Connection, where: str, *params: object) -> int:
    """Patients counted independently of the screens' SQL."""
    row = conn.execute(
        "select count(*) from patient p join region v on v.id = p.village_id join region t on t.id = v.parent_id"
        f" where {where}",
        params,
    ).fetchone()
    assert row is not None
    return int(row[0])


def _expect_managed(page: Page, n: int) -> None:
    """The managed-patients card shows `n` (waiting for the live callback that fills it)."""
    expect(page.locator(".kpi-managed .kpi-value")).to_have_text(re.compile(rf"^({n:,}|{n})$"))


def test_each_role_sees_only_its_own_patients_and_alerts(scene: BusyScene, browser: Browser) -> None:
    url, conn = scene.dashboard.url, scene.conn
    with signed_in(browser, url, "county.wang") as page:
        _expect_managed(page, _managed(conn, "true"))
        expect(page.locator("#nav")).to_contain_text("县慢病中心")
        screenshot(page, "county-signed-in.png")
    with signed_in(browser, url, "town.li") as page:
        expect(page).to_have_url(re.compile(r"/township$"))
        page.goto("/")
        _expect_managed(page, _managed(conn, "t.code = %s", scene.township_code))
        page.wait_for_selector("table.alerts td.place")
        places = set(page.locator("table.alerts tbody tr td:nth-child(3)").all_inner_texts())
        assert places == {scene.township_name}
        bars = page.locator("#county-chart .ytick text")
        expect(bars).to_have_count(1)
        assert bars.first.text_content().startswith(scene.township_name)  # type: ignore[union-attr]
    with signed_in(browser, url, "team.zhao") as page:
        expect(page).to_have_url(re.compile(r"/followups$"))
        page.goto("/")
        _expect_managed(page, _managed(conn, "p.team_id = (select id from care_team where code = 'demo-team01')"))
        expect(page.locator("#nav")).not_to_contain_text("预警监控")


def test_a_township_acknowledges_an_alert_on_its_screen(scene: BusyScene, browser: Browser) -> None:
    conn = scene.conn
    with signed_in(browser, scene.dashboard.url, "town.li") as page:
        page.wait_for_selector("table.worklist tr.alert-open")
        row = page.locator("table.worklist tr.alert-open").first
        alert_id = int(str(row.get_attribute("id")).removeprefix("alert-row-"))
        page.wait_for_timeout(300)
        screenshot(page, "township.png")
        row.locator(".btn-ack").click()
        expect(page.locator(f"#alert-row-{alert_id} td.status")).to_have_text("已确认", timeout=15_000)
        expect(page.locator(f"#alert-row-{alert_id} td.ack")).to_contain_text("town.li")
        screenshot(page, "township-acknowledged.png", full_page=True)
    state = conn.execute("select status, acknowledged_by from alert where id = %s", (alert_id,)).fetchone()
    assert state == ("acknowledged", "town.li")
    audit = conn.execute(
        "select username, role, screen, detail->>'alert_id' from audit_event where action = 'alert_acknowledge'"
    ).fetchall()
    assert audit == [("town.li", "township", "township", str(alert_id))]
    event = conn.execute("select actor from alert_event where alert_id = %s and event = 'acknowledged'", (alert_id,))
    assert event.fetchall() == [("town.li",)]


def test_a_township_handles_an_alert_step_by_step_and_what_it_types_survives_refreshes(
    scene: BusyScene, browser: Browser
) -> None:
    conn, typed = scene.conn, "已电话随访，复测血压 138/86"
    with signed_in(browser, scene.dashboard.url, "town.li") as page:
        page.wait_for_selector("table.worklist tr.alert-open")
        first = page.locator("table.worklist tr.alert-open").first
        alert_id = int(str(first.get_attribute("id")).removeprefix("alert-row-"))
        row = page.locator(f"#alert-row-{alert_id}")
        expect(row.locator("td.due")).to_contain_text("升级")  # the time left before escalation, or that it came
        row.locator(".wl-outcome input").fill(typed)
        row.locator(".btn-act").click()  # before acknowledging: refused, in Chinese, and nothing done
        expect(row.locator(".wl-msg")).to_contain_text("请先点击“确认”")
        row.locator(".btn-ack").click()
        expect(row.locator("td.status")).to_have_text("已确认", timeout=15_000)  # updated in place
        clock = page.locator("#township-updated-at")
        before = clock.inner_text()
        expect(clock).not_to_have_text(before, timeout=15_000)  # another refresh has come and gone
        expect(row.locator(".wl-outcome input")).to_have_value(typed)
        row.locator(".btn-act").click()
        expect(row.locator("td.status")).to_have_text("已处置", timeout=15_000)
        expect(row.locator(".wl-outcome input")).to_have_value(typed)
        page.once("dialog", lambda dialog: dialog.accept())  # 确定关闭此预警？
        row.locator(".btn-close").click()
        expect(page.locator(f"#alert-row-{alert_id}")).to_have_count(0, timeout=15_000)
        expect(page.locator(f"#closed-row-{alert_id}")).to_contain_text(typed, timeout=15_000)
        screenshot(page, "township-closed.png", full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        other = page.locator("table.worklist tr.alert-row").first
        other.scroll_into_view_if_needed()
        expect(other.locator(".btn-ack")).to_be_in_viewport()
        screenshot(page, "township-phone.png")
    state = conn.execute("select status, action, outcome from alert where id = %s", (alert_id,)).fetchone()
    assert state == ("closed", "phone_call", typed)
    events = conn.execute(
        "select event from alert_event where alert_id = %s and actor = 'town.li' order by id", (alert_id,)
    )
    assert events.fetchall() == [("acknowledged",), ("actioned",), ("closed",)]  # each step explicit, none silent
    actions = conn.execute("select action from audit_event where action like 'alert_%' order by id").fetchall()
    assert actions == [("alert_acknowledge",), ("alert_act",), ("alert_close",)]


def test_the_alert_console_and_the_log_in_page(scene: BusyScene, browser: Browser) -> None:
    with signed_in(browser, scene.dashboard.url, "county.wang") as page:
        page.goto("/alerts")
        page.wait_for_selector("table.timings")
        page.wait_for_selector("table.console")
        expect(page.locator("table.console").first).to_contain_text("已升级")
        screenshot(page, "alerts.png")
    context = browser.new_context(base_url=scene.dashboard.url, viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    page.goto("/")
    assert "/login" in page.url
    screenshot(page, "login.png")
    context.close()


def test_wrong_passwords_then_lock_out_in_the_browser(scene: BusyScene, browser: Browser) -> None:
    context = browser.new_context(base_url=scene.dashboard.url, viewport=LAPTOP, locale="zh-CN")
    page = context.new_page()
    messages = []
    for attempt in range(4):
        page.goto("/login")
        page.fill("#username", "town.li")
        page.fill("#password", f"Wrong-password-{attempt}" if attempt < 3 else "Screen-test-2025")
        with page.expect_navigation():
            page.click("#login-submit")
        messages.append(page.inner_text("#login-error"))
    screenshot(page, "login-locked.png")
    context.close()
    assert messages[0] == "用户名或密码错误"
    assert "账户已锁定" in messages[2] and "账户已锁定" in messages[3]  # locked: the right password too


def test_screens_are_drawn_in_the_traffic_light_colours(scene: BusyScene, browser: Browser) -> None:
    with signed_in(browser, scene.dashboard.url, "county.wang") as page:
        page.goto("/township")
        page.wait_for_selector(".kpi-value")
        page.wait_for_selector("#township-mix .scatterlayer")
        target = screenshot(page, "township-county-view.png")
    counts = colour_counts(target)
    assert counts[(0xC6, 0x28, 0x28)] > 2_000 and counts[(0x2E, 0x7D, 0x32)] > 2_000


def test_the_wall_screen_fits_one_1920x1080_display_and_a_township_sees_its_own_name(
    scene: BusyScene, browser: Browser
) -> None:
    with signed_in(browser, scene.dashboard.url, "county.wang") as page:
        page.set_viewport_size({"width": 1920, "height": 1080})
        page.goto("/?kiosk=1")
        _expect_managed(page, _managed(scene.conn, "true"))
        page.wait_for_selector("#county-chart .ytick text")
        for turn in ("county-kiosk-main", "county-kiosk-trend", "county-kiosk-townships"):
            show = (
                "turn => document.querySelectorAll('.kiosk-turn')"
                ".forEach(e => e.style.display = e.id === turn ? '' : 'none')"
            )
            page.evaluate(show, turn)  # each panel in its turn, without waiting for the rotation
            height = page.evaluate("document.documentElement.scrollHeight")
            assert height <= 1080, (turn, height)
            screenshot(page, f"wall-{turn.removeprefix('county-kiosk-')}.png")
        expect(page.locator("#nav")).to_be_hidden()
    with signed_in(browser, scene.dashboard.url, "town.li") as page:
        page.goto("/")
        expect(page.locator(".screen-header h1")).to_contain_text(scene.township_name)
        expect(page.locator(".screen-header h1")).not_to_contain_text("示范县")
