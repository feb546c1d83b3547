"""The wall screen (/?kiosk=1) of a county of 20 and of 25 townships in headless Chromium (issue 15): each of its
panels fits one 1920x1080 display without scrolling, every township named and readable; screenshots in
test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.access import Role

from .accounts import make_account
from .browser import BIG_SCREEN, needs_chromium, screenshot, signed_in
from .county_builder import MORE_TOWNSHIP_NAMES, TOWNSHIP_NAMES, busy_county
from .server import RunningDashboard, dashboard_settings, running_dashboard

pytestmark = [pytest.mark.integration, needs_chromium]
TURNS = ("county-kiosk-main", "county-kiosk-trend", "county-kiosk-townships")


@pytest.fixture(params=[20, 25])
def big_county(
    db_url: str, conn: psycopg.Connection, request: pytest.FixtureRequest
) -> Iterator[tuple[RunningDashboard, list[str]]]:
    names = [*TOWNSHIP_NAMES, *MORE_TOWNSHIP_NAMES][: request.param]
    busy_county(conn, townships=names)
    make_account(conn, "county.wang", Role.COUNTY, county="demo")
    settings = dashboard_settings(db_url, county_name="示范县", dashboard_refresh_s=2)
    with running_dashboard(settings) as dashboard:
        yield dashboard, names


# Holds one panel on screen whatever the rotation does meanwhile: its style is put back after each change (a rule
# of our own would be an inline style, which the Content-Security-Policy rightly refuses).
HOLD_TURN = """turn => {
  window.wallTurn = turn;
  const apply = () => document.querySelectorAll('.kiosk-turn').forEach(e => {
    const want = e.id === window.wallTurn ? '' : 'none';
    if (e.style.display !== want) e.style.display = want;
  });
  if (!window.wallHold) {
    window.wallHold = new MutationObserver(apply);
    document.querySelectorAll('.kiosk-turn').forEach(e => window.wallHold.observe(e, {attributeFilter: ['style']}));
  }
  apply();
}"""


def _show(page: Page, turn: str) -> None:
    """One panel of the wall, held on screen (without waiting for the rotation)."""
    page.evaluate(HOLD_TURN, turn)


def test_the_wall_of_a_county_of_20_or_25_townships_fits_one_display(
    big_county: tuple[RunningDashboard, list[str]], browser: Browser
) -> None:
    dashboard, names = big_county
    n = len(names)
    with signed_in(browser, dashboard.url, "county.wang", viewport=BIG_SCREEN) as page:
        page.goto("/?kiosk=1")
        _show(page, TURNS[0])
        page.wait_for_selector("#county-chart .ytick text")
        expect(page.locator("#county-chart .ytick text")).to_have_count(n)
        expect(page.locator("table.townships tbody tr")).to_have_count(n)
        for turn in TURNS:
            _show(page, turn)
            page.wait_for_timeout(300)
            size = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
                " document.body.scrollHeight]"
            )
            screenshot(page, f"wall-{n}-{turn.removeprefix('county-kiosk-')}.png", full_page=True)
            assert size[0] <= 1920 and max(size[1:]) <= 1080, (turn, size)
            if turn == "county-kiosk-main":
                ticks = page.locator("#county-chart .ytick text")
                shown = [str(ticks.nth(i).text_content()) for i in range(n)]
                assert {s.split()[0] for s in shown} == set(names)  # every township named on the chart
                sizes = page.evaluate(
                    "[...document.querySelectorAll('#county-chart .ytick text')]"
                    ".map(e => parseFloat(getComputedStyle(e).fontSize))"
                )
                assert min(sizes) >= 14, sizes  # readable from across the room
                bottoms = page.evaluate(
                    "[...document.querySelectorAll('#county-chart .ytick text')]"
                    ".map(e => e.getBoundingClientRect().bottom)"
                )
                assert len(bottoms) == n and max(bottoms) <= 1080, bottoms  # the last township's bar on screen
            if turn == "county-kiosk-townships":
                # read in one step: the live refresh redraws the table, and a row found then measured may be gone
                box = page.evaluate(
                    "(() => { const rows = document.querySelectorAll('table.townships tbody tr');"
                    " const r = rows[rows.length - 1].getBoundingClientRect(); return [r.height, r.bottom]; })()"
                )
                assert box[0] > 0 and box[1] <= 1080, box  # the last township shown, and on screen
                font = page.evaluate(
                    "parseFloat(getComputedStyle(document.querySelector('table.townships td')).fontSize)"
                )
                assert font >= 14, font
