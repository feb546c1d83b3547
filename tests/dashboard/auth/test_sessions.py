"""The sessions of the screens, as a security tester probes them over HTTP against the real dashboard: no forged
cookie opens anything, a cookie saved before signing out is worthless after it, password changes, disabling and
"sign out everywhere" end every session, sessions end at an absolute time, log-out is a POST with the form token,
no redirect leaves the site, guessing from one address meets HTTP 429, and each one-time code works once."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import psycopg
import pyotp
import pytest

from dashboard.access import Role
from dashboard.auth.sessions import service as sessions

from ..accounts import PASSWORD, login, logout, make_account
from ..server import RunningDashboard, dashboard_settings, running_dashboard
from .two_accounts import county_with_accounts

pytestmark = pytest.mark.integration


@pytest.fixture
def dashboard(db_url: str, conn: psycopg.Connection) -> Iterator[RunningDashboard]:
    county_with_accounts(conn)
    # One trusted proxy, so each test client can stand at an address of its own (X-Forwarded-For).
    settings = dashboard_settings(db_url, login_max_failures=3, dashboard_proxy_hops=1, login_throttle_failures=5)
    with running_dashboard(settings) as running:
        yield running


def _client(dashboard: RunningDashboard, address: str = "10.0.0.1", **headers: str) -> httpx.Client:
    return httpx.Client(base_url=dashboard.url, timeout=30, headers={"X-Forwarded-For": address, **headers})


def _signed_in(client: httpx.Client) -> bool:
    return client.get("/_dash-layout").status_code == 200


def test_a_cookie_signed_with_the_secret_but_not_issued_by_the_store_opens_nothing(dashboard: RunningDashboard) -> None:
    serializer = dashboard.app.server.session_interface.get_signing_serializer(dashboard.app.server)  # type: ignore[attr-defined]
    forged = [
        serializer.dumps({"sid": "made-up-token"}),
        serializer.dumps({"_user_id": "1", "_fresh": True, "principal": {"user_id": 1, "role": "admin"}}),
    ]
    for cookie in forged:
        with _client(dashboard, cdm_session=cookie) as client:
            client.cookies.set("cdm_session", cookie)
            assert client.get("/_dash-layout").status_code == 401
            assert client.get("/township").status_code == 302


def test_a_cookie_saved_before_signing_out_is_worthless_after(dashboard: RunningDashboard) -> None:
    with _client(dashboard) as client:
        login(client, "county.wang")
        saved = client.cookies.get("cdm_session")
        assert saved and _signed_in(client)
        client.get("/logout")  # a link (or an image on another site) cannot sign anyone out
        assert _signed_in(client)
        assert client.post("/logout", data={"csrf": "wrong"}).status_code == 400 and _signed_in(client)
        assert logout(client).status_code == 302
    with _client(dashboard) as replay:
        replay.cookies.set("cdm_session", saved)
        assert replay.get("/_dash-layout").status_code == 401


@pytest.mark.parametrize("how", ["password", "disable", "everywhere", "admin"])
def test_every_session_of_the_account_ends_at_once(
    dashboard: RunningDashboard, conn: psycopg.Connection, db_url: str, how: str
) -> None:
    with _client(dashboard, "10.0.0.2") as phone, _client(dashboard, "10.0.0.3") as desk:
        login(phone, "town.li")
        login(desk, "town.li")
        assert _signed_in(phone) and _signed_in(desk)
        if how == "everywhere":
            logout(desk, "/logout/everywhere")
        elif how == "admin":
            created = make_account(conn, "root.admin", Role.ADMIN, county="tc")
            assert created.totp_uri
            with _client(dashboard, "10.0.0.4") as admin:
                login(admin, "root.admin", totp=pyotp.TOTP(pyotp.parse_uri(created.totp_uri).secret).now())
                assert logout(admin, "/logout/everywhere", username="town.li").status_code == 204
                assert _signed_in(admin)
        else:
            args = (
                ["set-password", "--username", "town.li"] if how == "password" else ["disable", "--username", "town.li"]
            )
            done = subprocess.run(
                [sys.executable, "-m", "app.cli", "users", *args, "--by", "root.admin"],
                env={"CDM_DATABASE_URL": db_url, "PATH": "/usr/bin:/bin"}, input="Tiger-lamp-93\n",
                capture_output=True, text=True, timeout=120, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        assert not _signed_in(phone) and not _signed_in(desk)
    ended = conn.execute("select count(*) from app_session where ended_at is not null").fetchone()
    assert ended is not None and ended[0] >= 2


def test_a_session_ends_at_its_absolute_time_however_much_it_is_used(
    dashboard: RunningDashboard, conn: psycopg.Connection
) -> None:
    with _client(dashboard) as client:
        login(client, "county.wang")
        for _ in range(3):
            assert _signed_in(client)
        row = conn.execute("select expires_at - created_at from app_session").fetchone()
        assert row is not None and abs(row[0] - timedelta(hours=12)) < timedelta(seconds=5)
        conn.execute("update app_session set expires_at = now() - interval '1 second'")  # 12 hours later
        assert not _signed_in(client)


@pytest.mark.parametrize(
    "target",
    ["//evil.example/x", "/%09/evil.example", "/\t/evil.example", "/\\evil.example", "/\\/evil.example",
     "https://evil.example/", "/%0d%0a/evil.example", " //evil.example", "/ /evil.example"],
)  # fmt: skip
def test_no_redirect_leaves_the_site(dashboard: RunningDashboard, target: str) -> None:
    with _client(dashboard) as client:
        page = client.get("/login", params={"next": target})
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        response = client.post(
            "/login", data={"csrf": token, "next": target, "username": "county.wang", "password": PASSWORD}
        )
    location = response.headers["location"]
    assert response.status_code == 302 and location == "/", location


def test_a_path_on_the_site_is_kept_after_signing_in(dashboard: RunningDashboard) -> None:
    with _client(dashboard) as client:
        first = client.get("/alerts?x=1")
        assert first.status_code == 302
        page = client.get(first.headers["location"])
        token = page.text.split('name="csrf" value="')[1].split('"')[0]
        response = client.post(
            "/login", data={"csrf": token, "next": "/alerts?x=1", "username": "county.wang", "password": PASSWORD}
        )
    assert response.headers["location"] == "/alerts?x=1"


def test_guessing_from_one_address_meets_429_and_cannot_lock_out_others(
    dashboard: RunningDashboard, conn: psycopg.Connection
) -> None:
    with _client(dashboard, "10.9.9.9") as guesser:
        answers = [login(guesser, f"guess{i}", "Wrong-password-1") for i in range(5)]
        blocked = login(guesser, "county.wang")  # even the right password waits
    assert [a.status_code for a in answers] == [401] * 5
    assert blocked.status_code == 429 and 1 <= int(blocked.headers["Retry-After"]) <= 60
    assert "秒后再试" in blocked.text
    # Names nobody has cannot lock anyone; another address signs in at once.
    assert conn.execute(
        "select count(*) from app_user where failed_logins > 0 or locked_until is not null"
    ).fetchone() == (0,)
    with _client(dashboard, "10.1.1.1") as colleague:
        assert login(colleague, "county.wang").status_code == 200
    # The next wait of the same address is twice as long.
    conn.execute("update login_throttle set blocked_until = now() - interval '1 second'")
    with _client(dashboard, "10.9.9.9") as guesser:
        for i in range(5):
            login(guesser, f"again{i}", "Wrong-password-1")
        again = login(guesser, "county.wang")
    assert again.status_code == 429 and 60 < int(again.headers["Retry-After"]) <= 120


def test_a_typed_name_nobody_has_is_not_kept(dashboard: RunningDashboard, conn: psycopg.Connection) -> None:
    typed = "330102198001011248"
    with _client(dashboard) as client:
        login(client, typed, "Wrong-password-1")
        login(client, typed, "Wrong-password-2")
    rows = conn.execute("select username, detail::text from audit_event where action = 'login_failed'").fetchall()
    assert len(rows) == 2 and all(typed not in r[0] + r[1] for r in rows)
    assert rows[0][1] == rows[1][1]  # the same name tried twice shows as such


def test_a_one_time_code_works_once(dashboard: RunningDashboard, conn: psycopg.Connection) -> None:
    created = make_account(conn, "root.admin", Role.ADMIN, county="tc")
    assert created.totp_uri
    code = pyotp.TOTP(pyotp.parse_uri(created.totp_uri).secret).now()
    with _client(dashboard, "10.0.0.5") as first, _client(dashboard, "10.0.0.6") as second:
        assert login(first, "root.admin", totp=code).status_code == 200
        replay = login(second, "root.admin", totp=code)
    assert replay.status_code == 401 and "动态口令错误" in replay.text


def test_a_session_token_is_kept_only_as_its_hash(dashboard: RunningDashboard, conn: psycopg.Connection) -> None:
    with _client(dashboard) as client:
        login(client, "county.wang")
    rows = conn.execute("select token_hash from app_session").fetchall()
    assert len(rows) == 1 and len(bytes(rows[0][0])) == 32
    assert sessions.principal_of(conn, "not-a-token", now=datetime.now(UTC)) is None


def test_while_the_store_is_down_only_a_session_it_confirmed_goes_on(dashboard: RunningDashboard) -> None:
    from dashboard.runtime import runtime_of

    serializer = dashboard.app.server.session_interface.get_signing_serializer(dashboard.app.server)  # type: ignore[attr-defined]
    with _client(dashboard) as client, _client(dashboard, "10.0.0.8") as forger:
        login(client, "county.wang")
        assert _signed_in(client)
        forger.cookies.set("cdm_session", serializer.dumps({"sid": "never-confirmed"}))
        runtime_of(dashboard.app.server).pool.close()  # the store goes away
        assert _signed_in(client)
        assert forger.get("/_dash-layout").status_code == 401


def test_a_confirmed_session_is_remembered_only_for_the_grace_period() -> None:
    from dashboard.access import Principal

    memory = sessions.RecentlyConfirmed(grace_s=0.2)
    who = Principal(user_id=1, username="x", role=Role.COUNTY, county_id=1, township_id=None, team_id=None)
    memory.put("t", who)
    assert memory.get("t") == who and memory.get("other") is None
    import time

    time.sleep(0.3)
    assert memory.get("t") is None
    memory.put("t", who)
    memory.forget("t")
    assert memory.get("t") is None
