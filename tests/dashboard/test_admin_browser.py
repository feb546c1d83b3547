"""The administration screen and the data-quality page in headless Chromium: an administrator adds an account, is
refused a taken name in Chinese, provisions a meter and sees its password once, moves it, adds a contact; the
data-quality page renders its grids with a never-connected meter as 未激活; a county account is refused the
administration screen. Screenshots at 1920×1080 and 390×844 in test-artifacts/."""

from __future__ import annotations

import psycopg
import pyotp
import pytest
from playwright.sync_api import Browser, Page, expect

from dashboard.access import Role

from .accounts import PASSWORD, make_account
from .browser import needs_chromium, screenshot, signed_in
from .server import dashboard_settings, running_dashboard
from .test_quality_repo import with_problems
from .test_registry_browser import PHONE, session
from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration
NEW_PASSWORD = "Harbour-Lantern-2026"  # typed for a new account


@pytest.fixture
def county(conn: psycopg.Connection) -> tuple[WorkCounty, str]:
    c = with_problems(work_county(conn))
    c.device("bp-09", "bp", "v01a")  # registered, never connected
    created = make_account(conn, "admin.wu", Role.ADMIN, county="tc")
    assert created.totp_uri is not None
    return c, pyotp.parse_uri(created.totp_uri).secret


def _fill_and_press(page: Page, fields: dict[str, str], button: str) -> None:
    """Type each value into its field, in order, then press the form's button."""
    for selector, value in fields.items():
        page.fill(selector, value)
    page.click(button)


@needs_chromium
def test_an_administrator_manages_accounts_meters_and_contacts(db_url: str, county: tuple[WorkCounty, str],
                                                               browser: Browser) -> None:  # fmt: skip
    built, totp = county
    with running_dashboard(dashboard_settings(db_url)) as dashboard:
        with session(browser, dashboard.url, "admin.wu", PASSWORD, totp=totp) as page:
            page.wait_for_selector("#nav")
            page.goto(dashboard.url + "/admin")
            expect(page.locator("#admin-accounts")).to_contain_text("town.wang")
            taken = {"#admin-username": "town.wang", "#admin-scope": "t02", "#admin-password": NEW_PASSWORD}
            _fill_and_press(page, taken, "#admin-add")
            expect(page.locator("#admin-accounts-message")).to_have_text("用户名 town.wang 已被使用")
            _fill_and_press(page, {"#admin-username": "town.li", "#admin-password": NEW_PASSWORD}, "#admin-add")
            expect(page.locator("#admin-accounts-message")).to_have_text("已新建账号 town.li")
            expect(page.locator("#admin-accounts")).to_contain_text("town.li")
            assert page.input_value("#admin-password") == ""  # the password typed does not stay on the screen
            _fill_and_press(page, {"#admin-username": "town.li", "#admin-phone": "139 1234 5678"}, "#admin-set-phone")
            expect(page.locator("#admin-accounts-message")).to_have_text("已为 town.li 登记手机号")
            expect(page.locator("#admin-accounts")).to_contain_text("139****678")  # masked: whether, not what
            expect(page.locator("#admin-accounts")).not_to_contain_text("13912345678")
            page.click("#admin-language")
            page.get_by_role("option", name="English（英文）").click()
            page.click("#admin-set-language")
            expect(page.locator("#admin-accounts-message")).to_have_text("town.li 的语言已设为：English（英文）")

            meter = {"#admin-clinic": "v01a", "#admin-serial": "SN7001", "#admin-imei": "490154203237518"}
            _fill_and_press(page, meter, "#admin-provision")
            expect(page.locator("#admin-meters-message")).to_contain_text("设备 BP-SN7001 已登记")
            expect(page.locator("#admin-meters-message")).to_contain_text("仅显示这一次")
            _fill_and_press(page, {"#admin-meter": "BP-SN7001", "#admin-clinic": "v02a"}, "#admin-move")
            expect(page.locator("#admin-meters-message")).to_have_text("设备 BP-SN7001 已移至 南村")

            contact = {"#admin-address": "https://hooks.example/t01", "#admin-owner": "t01"}
            _fill_and_press(page, contact, "#admin-add-contact")
            expect(page.locator("#admin-contacts")).to_contain_text("https://hooks.example/t01")
            screenshot(page, "admin.png", full_page=True)
            page.set_viewport_size(PHONE)
            expect(page.locator("#admin-contacts .ag-center-cols-container")).to_contain_text("hooks.example")
            screenshot(page, "admin-phone.png", tall=True)

            page.set_viewport_size({"width": 1920, "height": 1080})
            page.goto(dashboard.url + "/quality")
            expect(page.locator("#quality-offline")).to_contain_text("bp-09")
            # never connected: bp-09 and the meter just provisioned
            expect(page.locator("#quality-offline-counts")).to_contain_text("离线 1 · 未激活 2")
            expect(page.locator("#quality-latest")).to_contain_text("消息不是合法JSON")
            expect(page.locator("#quality-latest")).not_to_contain_text("why")  # the store's English detail
            screenshot(page, "quality-admin.png", full_page=True)
            page.set_viewport_size(PHONE)
            page.reload()  # as a phone opens it
            expect(page.locator("#quality-offline .ag-center-cols-container")).to_contain_text("bp-09")
            page.locator("#quality-offline").scroll_into_view_if_needed()
            screenshot(page, "quality-phone-offline.png")
            screenshot(page, "quality-phone.png", tall=True)
        with signed_in(browser, dashboard.url, "county.li") as page:
            page.goto(dashboard.url + "/admin")
            expect(page.locator("#admin-status")).to_have_text("无权查看：系统管理仅供管理员使用")
            expect(page.locator("#nav")).not_to_contain_text("系统管理")
    audited = built.conn.execute(
        "select action from audit_event where username = 'admin.wu' and screen = 'admin' order by id"
    ).fetchall()
    assert [a for (a,) in audited] == ["account_created", "account_language_set", "meter_provisioned", "meter_moved",
                                       "contact_added"]  # fmt: skip
    phone_set = built.conn.execute("select detail from audit_event where action = 'account_phone_set'").fetchall()
    assert phone_set == [({"account": "town.li"},)]
    assert built.conn.execute("select language from app_user where username = 'town.li'").fetchone() == ("en",)
