"""A headless Chromium screenshot of the live county screen with a busy hand-built county, kept in test-artifacts/."""

from __future__ import annotations

import subprocess
from pathlib import Path

import psycopg
import pytest

from .county_builder import busy_county
from .png import colour_counts
from .server import dashboard_settings, running_dashboard

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
WINDOW = (1600, 1000)
TRAFFIC_LIGHT = {"red": (0xC6, 0x28, 0x28), "yellow": (0xF9, 0xA8, 0x25), "green": (0x2E, 0x7D, 0x32)}
# Pixels (of the quarter sampled) each colour must fill at least: a KPI card alone is several thousand.
MIN_PIXELS = 2_000


def _screenshot(url: str, target: Path, *, window: tuple[int, int] = WINDOW) -> None:
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--hide-scrollbars",
        f"--window-size={window[0]},{window[1]}",
        "--virtual-time-budget=10000",
        f"--screenshot={target}",
        url,
    ]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr.decode(errors="replace")[-2000:]


@pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs headless Chromium at /usr/bin/chromium (apt-get install chromium)"
)
@pytest.mark.parametrize(
    ("name", "window"),
    [("county.png", WINDOW), ("county-laptop.png", (1280, 800)), ("county-full-page.png", (1600, 1900))],
)
def test_screenshot_of_the_county_screen(
    db_url: str, conn: psycopg.Connection, name: str, window: tuple[int, int]
) -> None:
    busy_county(conn)
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    target.unlink(missing_ok=True)
    with running_dashboard(dashboard_settings(db_url, county_name="示范县")) as dashboard:
        _screenshot(dashboard.url + "/", target, window=window)
    assert target.stat().st_size > 20_000
    counts = colour_counts(target)
    filled = {colour: counts[rgb] for colour, rgb in TRAFFIC_LIGHT.items()}
    assert all(n >= MIN_PIXELS for n in filled.values()), f"traffic-light colours on screen: {filled}"
