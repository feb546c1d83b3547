"""The administration screen's registry import in headless Chromium: an administrator uploads a county's files,
reads the dry run's tables, confirms, takes the credentials once; an imported account must set its own password
at its first sign-in; a team account is refused the screen; the county screen's monthly report downloads.
Screenshots at 1920×1080 and 390×844 in test-artifacts/."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pyotp
import pytest
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from dashboard.access import Role

from ..registry.county_files import write_county
from .accounts import PASSWORD, make_account
from .browser import BIG_SCREEN, WAIT_MS, needs_chromium, screenshot
from .server import dashboard_settings, running_dashboard

pytestmark = pytest.mark.integration
PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "Own-Password-2026"


@pytest.fixture
def admin(conn: psycopg.Connection) -> str:
    """The county in the store and its administrator; the TOTP secret of the second factor."""
    conn.execute("insert into region (code, name, level) values ('xc', '西城县', 'county')")
    created = make_account(conn, "admin.wu", Role.ADMIN, county="xc")
    assert created.totp_uri is not None
    return pyotp.parse_uri(created.totp_uri).secret


@contextmanager
def session(
    browser: Browser, url: str, username: str, password: str, *, totp: str = "", viewport: dict[str, int] = BIG_SCREEN
) -> Iterator[Page]:
    """A signed-in page (administrators with their one-time code)."""
    context = browser.new_context(base_url=url, viewport=viewport, locale="zh-CN", accept_downloads=True)  # type: ignore[arg-type]
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", password)
        if totp:
            page.fill("#totp", pyotp.TOTP(totp).now())
        page.click("#login-submit")
        yield page
    finally:
        context.close()


def _upload(page: Page, directory: Path) -> None:
    page.locator("#registry-upload input[type=file]").set_input_files(sorted(str(p) for p in directory.iterdir()))


@needs_chromium
def test_an_administrator_imports_the_county_from_the_screen(
    db_url: str, admin: str, browser: Browser, tmp_path: Path
) -> None:
    write_county(tmp_path / "county")
    settings = dashboard_settings(db_url, county_code="xc", county_name="西城县", data_dir=tmp_path / "cdm")
    with running_dashboard(settings) as dashboard:
        with session(browser, dashboard.url, "admin.wu", PASSWORD, totp=admin) as page:
            page.wait_for_selector("#nav")
            page.goto(dashboard.url + "/registry")
            expect(page.locator("h1")).to_have_text("导入全县登记数据")
            _upload(page, tmp_path / "county")
            expect(page.locator("#registry-status")).to_contain_text("试导入完成")
            expect(page.locator("#registry-summary")).to_contain_text("高血压、2型糖尿病患者")
            expect(page.locator("#registry-problems")).to_contain_text("与第2行的健康档案号重复")
            screenshot(page, "registry-dry-run.png", full_page=True)
            with psycopg.connect(db_url) as conn:
                assert conn.execute("select count(*) from patient").fetchone() == (0,)  # the dry run changed nothing
            page.click("#registry-confirm")
            expect(page.locator("#registry-result")).to_contain_text("导入完成")
            with page.expect_download(timeout=60_000) as download:
                page.click("#registry-secrets")
            secrets = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
            expect(page.locator("#registry-secrets")).to_be_disabled()
            screenshot(page, "registry-imported.png", full_page=True)
            page.goto(dashboard.url + "/")
            expect(page.locator("#county-updated-at")).not_to_be_empty()  # the screen's callbacks are live
            with page.expect_download(timeout=60_000) as report:
                page.click("#report-download")
            assert report.value.suggested_filename.startswith("慢病管理月报-")
            book = load_workbook(io.BytesIO(Path(report.value.path()).read_bytes()))
            assert book.sheetnames[0] == "全县" and book.sheetnames[-1] == "指标说明"
        with psycopg.connect(db_url) as conn:
            assert conn.execute("select count(*) from patient").fetchone() == (7,)
            actions = [r[0] for r in conn.execute("select action from audit_event where screen = 'registry'")]
        assert {"registry_dry_run", "registry_import", "registry_credentials"} <= set(actions)
        password = next(row[2] for row in secrets if row[1] == "doc.li")

        with session(browser, dashboard.url, "doc.li", password, viewport=PHONE) as page:
            expect(page.locator("h1")).to_have_text("首次登录：请设置您自己的密码")
            page.goto(dashboard.url + "/followups")  # nothing else until the password is changed
            expect(page.locator("h1")).to_have_text("首次登录：请设置您自己的密码")
            screenshot(page, "registry-first-password-phone.png")
            page.fill("#current-password", password)
            page.fill("#new-password", NEW_PASSWORD)
            page.fill("#again-password", NEW_PASSWORD)
            page.click("#password-submit")
            page.wait_for_selector("#nav")
            assert page.url.endswith("/followups")
            page.goto(dashboard.url + "/registry")
            expect(page.locator("#registry-status")).to_have_text("无权查看：登记导入仅供管理员使用")


@needs_chromium
def test_the_import_screen_on_a_phone(db_url: str, admin: str, browser: Browser, tmp_path: Path) -> None:
    write_county(tmp_path / "county")
    settings = dashboard_settings(db_url, county_code="xc", county_name="西城县", data_dir=tmp_path / "cdm")
    with (
        running_dashboard(settings) as dashboard,
        session(browser, dashboard.url, "admin.wu", PASSWORD, totp=admin, viewport=PHONE) as page,
    ):
        page.wait_for_selector("#nav")
        page.goto(dashboard.url + "/registry")
        _upload(page, tmp_path / "county")
        expect(page.locator("#registry-problems")).to_contain_text("身份证号校验位不符")
        screenshot(page, "registry-dry-run-phone.png")
        page.locator("#registry-problems").scroll_into_view_if_needed()
        screenshot(page, "registry-problems-phone.png")
