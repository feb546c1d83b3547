"""Headless Chromium screenshots of the live county screen with a busy hand-built county, kept in test-artifacts/."""

from __future__ import annotations

import psycopg
import pytest
from playwright.sync_api import Browser

from dashboard.access import Role

from .accounts import make_account
from .browser import BIG_SCREEN, LAPTOP, needs_chromium, screenshot, signed_in
from .county_builder import busy_county
from .png import colour_counts
from .server import dashboard_settings, running_dashboard

pytestmark = [pytest.mark.integration, needs_chromium]

TRAFFIC_LIGHT = {"red": (0xC6, 0x28, 0x28), "yellow": (0xF9, 0xA8, 0x25), "green": (0x2E, 0x7D, 0x32)}
# Pixels (of the quarter sampled) each colour must fill at least: a KPI card alone is several thousand.
MIN_PIXELS = 2_000


@pytest.mark.parametrize(
    ("name", "viewport", "full_page"),
    [
        ("county.png", BIG_SCREEN, False),
        ("county-laptop.png", LAPTOP, False),
        ("county-full-page.png", BIG_SCREEN, True),
    ],
)
def test_screenshot_of_the_county_screen(
    db_url: str, conn: psycopg.Connection, browser: Browser, name: str, viewport: dict[str, int], full_page: bool
) -> None:
    busy_county(conn)
    make_account(conn, "county.wang", Role.COUNTY, county="demo")
    with (
        running_dashboard(dashboard_settings(db_url, county_name="示范县")) as dashboard,
        signed_in(browser, dashboard.url, "county.wang", viewport=viewport) as page,
    ):
        page.wait_for_selector(".kpi-value")
        page.wait_for_timeout(500)  # let the chart finish drawing
        target = screenshot(page, name, full_page=full_page)
    assert target.stat().st_size > 20_000
    counts = colour_counts(target)
    filled = {colour: counts[rgb] for colour, rgb in TRAFFIC_LIGHT.items()}
    assert all(n >= MIN_PIXELS for n in filled.values()), f"traffic-light colours on screen: {filled}"
