"""The language switch (中文 / English) in headless Chromium: a team switches to English from the navigation bar and
stays on the page it was on; the choice follows the account to another browser after signing out; the log-in page's
switch works before signing in. Screenshots of English screens at 1920x1080 and 390x844 in test-artifacts/."""

from __future__ import annotations

import re

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from .browser import fresh_page, needs_chromium, screenshot, sign_in, signed_in
from .server import dashboard_settings, running_dashboard
from .work_builder import WorkCounty, work_county

pytestmark = [pytest.mark.integration, needs_chromium]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    return work_county(conn)


def _stored(conn: psycopg.Connection, username: str) -> str | None:
    row = conn.execute("select language from app_user where username = %s", (username,)).fetchone()
    assert row is not None
    return row[0]


def _no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), "something is off-screen"


def test_a_team_switches_to_english_and_the_account_keeps_it(
    db_url: str, county: WorkCounty, conn: psycopg.Connection, browser: Browser
) -> None:
    with running_dashboard(dashboard_settings(db_url)) as dashboard:
        with signed_in(browser, dashboard.url, "team.zhao") as p:
            expect(p).to_have_url(re.compile(r"/followups$"))
            expect(p.locator(".count-line")).to_contain_text("共 3 人，其中逾期 2 人")
            expect(p.locator("#nav-lang-zh")).to_have_attribute("aria-pressed", "true")
            p.click("#nav a[href='/township']")  # moved within Dash: the switch must come back here, not home
            expect(p).to_have_url(re.compile(r"/township$"))
            expect(p.locator("#nav-language-next")).to_have_value("/township")  # filled in the browser on each move
            expect(p.locator("#nav")).to_contain_text("退出")
            p.click("#nav-lang-en")
            expect(p.locator("#nav")).to_contain_text("Sign out")
            expect(p).to_have_url(re.compile(r"/township$"))
            expect(p).to_have_title("Township: handle alerts")
            expect(p.locator("#nav-lang-en")).to_have_attribute("aria-pressed", "true")
            assert _stored(conn, "team.zhao") == "en"
            p.click("#nav a[href='/followups']")
            expect(p.locator(".count-line")).to_have_text("3 patients, 2 overdue")
            expect(p.locator(".order-note")).not_to_contain_text("红色")
            expect(p.locator(".followups-grid .ag-header")).to_contain_text("Patient")
            expect(p.locator("#nav")).to_contain_text("Follow-ups")
            assert p.evaluate("document.documentElement.lang") == "en"
            screenshot(p, "language-en-followups.png", full_page=True)
            p.click("#nav-logout")
            p.wait_for_url(re.compile(r"/login"))
            expect(p.locator("#login-submit")).to_have_text("Sign in")  # this browser's log-in page speaks it too
            sign_in(p, "team.zhao")
            expect(p.locator("#nav")).to_contain_text("Sign out")

        # Another browser, which never chose anything: the account's language from the first page after signing in.
        with signed_in(browser, dashboard.url, "team.zhao", viewport=PHONE) as p:
            expect(p.locator("#nav")).to_contain_text("Sign out")
            cards = p.locator("#followups-cards .work-card")
            expect(cards).to_have_count(3)
            expect(cards.first).to_contain_text("Record a visit")
            expect(p.locator(".count-line").first).to_have_text("3 patients, 2 overdue")
            screenshot(p, "language-en-followups-phone.png", full_page=True)
            _no_sideways_scroll(p)
            p.click("#nav-lang-zh")
            expect(p.locator("#nav")).to_contain_text("退出")
            expect(p.locator(".count-line").first).to_have_text("共 3 人，其中逾期 2 人")
            assert _stored(conn, "team.zhao") == "zh"


def test_the_log_in_page_switch_works_before_signing_in(
    db_url: str, county: WorkCounty, conn: psycopg.Connection, browser: Browser
) -> None:
    with running_dashboard(dashboard_settings(db_url)) as dashboard, fresh_page(browser, dashboard.url) as p:
        p.goto("/township")  # sent to the log-in page, which remembers where the person was going
        expect(p.locator("h1")).to_have_text("慢病监测系统 · 登录")
        assert p.evaluate("document.documentElement.lang") == "zh-CN"
        p.click("#lang-en")
        expect(p.locator("h1")).to_have_text("Chronic disease monitor · sign in")
        expect(p.locator("#login-submit")).to_have_text("Sign in")
        expect(p.locator("#lang-en")).to_have_attribute("aria-pressed", "true")
        assert p.evaluate("document.documentElement.lang") == "en"
        screenshot(p, "language-en-login.png")
        sign_in(p, "town.wang")
        expect(p).to_have_url(re.compile(r"/township$"))
        expect(p.locator("#nav")).to_contain_text("Township centre")
        assert _stored(conn, "town.wang") is None  # chosen signed out: the browser keeps it, not the account
        expect(p).to_have_title("Township: handle alerts")
        p.wait_for_selector("table.worklist tr.alert-open")
        screenshot(p, "language-en-township.png")
        p.set_viewport_size(PHONE)
        p.reload()  # drawn again at phone width (the charts size themselves when drawn)
        expect(p.locator("#nav")).to_contain_text("Sign out")
        p.wait_for_selector("table.worklist tr.alert-open")
        screenshot(p, "language-en-township-phone.png", full_page=True)
        _no_sideways_scroll(p)
        p.click("#nav-lang-zh")
        expect(p.locator("#nav")).to_contain_text("乡镇卫生院")
        assert _stored(conn, "town.wang") == "zh"
