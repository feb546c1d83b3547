"""Signing in to the real dashboard over HTTP: the log-in page, lock-out, the administrators' second factor,
log-out, and the audit trail of each."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import psycopg
import pyotp
import pytest

from dashboard.access import Role

from ..accounts import PASSWORD, login, logout, make_account
from ..server import RunningDashboard, dashboard_settings, running_dashboard
from .two_accounts import county_with_accounts

pytestmark = pytest.mark.integration


@pytest.fixture
def dashboard(db_url: str, conn: psycopg.Connection) -> Iterator[RunningDashboard]:
    county_with_accounts(conn)
    settings = dashboard_settings(db_url, county_name="测试县", login_max_failures=3, login_lockout_minutes=15)
    with running_dashboard(settings) as running:
        yield running


def _audit(conn: psycopg.Connection) -> list[tuple[str, str, str | None]]:
    rows = conn.execute("select username, action, detail->>'reason' from audit_event order by id").fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def test_signed_out_requests_go_to_the_log_in_page(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        page = client.get("/township")
        callback = client.post("/_dash-update-component", json={})
        layout = client.get("/_dash-layout")
        login_page = client.get("/login")
    assert page.status_code == 302 and page.headers["location"].startswith("/login?next=/township")
    assert callback.status_code == 401 and layout.status_code == 401
    assert login_page.status_code == 200
    assert "用户名" in login_page.text and "密码" in login_page.text and 'lang="zh-CN"' in login_page.text


def test_a_county_user_signs_in_and_out_and_both_are_audited(
    dashboard: RunningDashboard, conn: psycopg.Connection
) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        home = login(client, "county.wang")
        layout = client.get("/_dash-layout")
        logout(client)
        after = client.get("/_dash-layout")
    assert home.status_code == 200 and str(home.url).endswith("/")
    assert layout.status_code == 200
    nav = json.dumps(layout.json(), ensure_ascii=False)
    assert "county.wang · 县慢病中心" in nav and "退出" in nav
    assert after.status_code == 401
    assert _audit(conn) == [("county.wang", "login", None), ("county.wang", "logout", None)]


def test_a_township_user_lands_on_the_township_screen(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        home = login(client, "Town.Li ")  # names are compared in lower case, without surrounding blanks
    assert home.status_code == 200 and str(home.url).endswith("/township")


def test_wrong_passwords_lock_the_account_even_against_the_right_one(
    dashboard: RunningDashboard, conn: psycopg.Connection
) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        first = login(client, "town.li", "Wrong-password-1")
        unknown = login(client, "nobody", "Wrong-password-1")
        login(client, "town.li", "Wrong-password-2")
        third = login(client, "town.li", "Wrong-password-3")
        right_but_locked = login(client, "town.li", PASSWORD)
    assert first.status_code == 401 and "用户名或密码错误" in first.text
    assert unknown.status_code == 401 and "用户名或密码错误" in unknown.text  # the same words: no name probing
    assert third.status_code == 401 and "账户已锁定 15 分钟" in third.text
    assert right_but_locked.status_code == 401 and "账户已锁定" in right_but_locked.text
    row = conn.execute("select failed_logins, locked_until > now() from app_user where username = 'town.li'")
    assert row.fetchone() == (0, True)
    assert _audit(conn) == [
        ("town.li", "login_failed", "bad_password"),
        ("?", "login_failed", "unknown_user"),  # what was typed is not kept
        ("town.li", "login_failed", "bad_password"),
        ("town.li", "login_failed", "bad_password"),
        ("town.li", "login_failed", "locked"),
    ]


def test_a_success_before_the_limit_clears_the_count(dashboard: RunningDashboard, conn: psycopg.Connection) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        login(client, "town.li", "Wrong-password-1")
        login(client, "town.li", "Wrong-password-2")
        ok = login(client, "town.li")
    assert ok.status_code == 200
    assert conn.execute("select failed_logins, locked_until from app_user where username = 'town.li'").fetchone() == (
        0,
        None,
    )


def test_administrators_need_their_one_time_code(dashboard: RunningDashboard, conn: psycopg.Connection) -> None:
    created = make_account(conn, "root.admin", Role.ADMIN, county="tc")
    assert created.totp_uri is not None and created.totp_uri.startswith("otpauth://totp/")
    secret = pyotp.parse_uri(created.totp_uri).secret
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        without = login(client, "root.admin")
        wrong = login(client, "root.admin", totp="000000" if pyotp.TOTP(secret).now() != "000000" else "111111")
        right = login(client, "root.admin", totp=pyotp.TOTP(secret).now())
    assert without.status_code == 401 and "动态口令错误" in without.text
    assert wrong.status_code == 401
    assert right.status_code == 200 and str(right.url).endswith("/")


def test_a_log_in_form_without_its_token_is_refused(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        response = client.post("/login", data={"username": "county.wang", "password": PASSWORD})
    assert response.status_code == 400 and "页面已过期" in response.text


def test_an_off_site_next_is_ignored(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        page = client.get("/login", params={"next": "//evil.example/x"})
    assert 'name="next" value=""' in page.text
