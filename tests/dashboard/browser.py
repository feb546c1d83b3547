"""Headless Chromium (Debian's /usr/bin/chromium) driven by Playwright, signed in through the real log-in page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from .accounts import PASSWORD

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
BIG_SCREEN = {"width": 1920, "height": 1080}
LAPTOP = {"width": 1366, "height": 768}
# A Dash callback round trip on a loaded CI machine: generous, since a timeout fails loudly anyway.
WAIT_MS = 20_000

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="needs headless Chromium at /usr/bin/chromium (apt-get install chromium)"
)


@contextmanager
def chromium() -> Iterator[Browser]:
    """A headless Chromium for one test module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]
        )
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def fresh_page(browser: Browser, base_url: str, *, viewport: dict[str, int] = BIG_SCREEN) -> Iterator[Page]:
    """A page of a fresh browser context (no cookie), failing on any Content-Security-Policy violation: every
    screen a browser test opens must render and run its callbacks under the policy."""
    context = browser.new_context(base_url=base_url, viewport=viewport, locale="zh-CN")  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    violations: list[str] = []
    try:
        page = context.new_page()
        watch_csp(page, violations)
        yield page
        assert violations == [], violations
    finally:
        context.close()


@contextmanager
def signed_in(
    browser: Browser, base_url: str, username: str, *, password: str = PASSWORD, viewport: dict[str, int] = BIG_SCREEN
) -> Iterator[Page]:
    """A page of a fresh browser context, signed in as `username` through the log-in form."""
    with fresh_page(browser, base_url, viewport=viewport) as page:
        page.goto("/login")
        sign_in(page, username, password=password)
        yield page


def sign_in(page: Page, username: str, *, password: str = PASSWORD) -> None:
    """Fill in and send the log-in form the page shows, and wait for the screens' navigation bar."""
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#login-submit")
    page.wait_for_selector("#nav")


def watch_csp(page: Page, violations: list[str]) -> None:
    """Collect every Content-Security-Policy violation the page reports (console and securitypolicyviolation)."""
    page.on(
        "console",
        lambda msg: (
            violations.append(msg.text)
            if "Content Security Policy" in msg.text or "Content-Security-Policy" in msg.text
            else None
        ),
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => console.error("
        "'Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI));"
    )


def screenshot(page: Page, name: str, *, full_page: bool = False, tall: bool = False) -> Path:
    """Save the page under test-artifacts/ and return the file. `tall`: the whole page as one tall viewport (then
    the viewport as it was). Chromium's full-page capture of a phone-sized viewport can leave a scrolling box
    below the fold blank (an AG Grid whose rows a person scrolling down does see), so phone pages use `tall`."""
    ARTIFACTS.mkdir(exist_ok=True)
    target = ARTIFACTS / name
    size = page.viewport_size
    if tall and size is not None:
        page.set_viewport_size(
            {"width": size["width"], "height": page.evaluate("document.documentElement.scrollHeight")}
        )
        page.wait_for_timeout(300)  # let the grids lay out their rows for the new height
        try:
            page.screenshot(path=str(target), full_page=True)
        finally:
            page.set_viewport_size(size)
        return target
    page.screenshot(path=str(target), full_page=full_page)
    return target
