"""The language switch: each account keeps its language in the store (audited), the log-in page's choice is kept in
the browser, and every request reads the account's, else the browser's, else the county's."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import flask
import httpx
import psycopg
import pytest

from cdm.i18n import CATALOGUE
from dashboard.access import Principal, Role
from dashboard.auth import preferences, repo
from dashboard.language import COOKIE, LANGUAGES, request_language

from ..accounts import form_token, login, make_account
from ..county_builder import small_county
from ..server import RunningDashboard, dashboard_settings, running_dashboard


def _principal(lang: str | None) -> Principal:
    return Principal(user_id=1, username="u", role=Role.COUNTY, county_id=1, language=lang)


@pytest.mark.parametrize(
    ("account", "cookie", "county", "expected"),
    [
        ("en", "zh", "zh", "en"),  # the account's own choice wins over the browser's
        ("zh", "en", "en", "zh"),
        (None, "en", "zh", "en"),  # an account that never chose: the log-in page's choice
        (None, None, "en", "en"),  # neither: the county's
        (None, "fr", "zh", "zh"),  # a cookie naming no language of the screens is ignored
    ],
)
def test_each_request_reads_the_account_then_the_browser_then_the_county(
    account: str | None, cookie: str | None, county: str, expected: str
) -> None:
    settings = dashboard_settings(None, language=county)
    headers = {"Cookie": f"{COOKIE}={cookie}"} if cookie else {}
    with flask.Flask(__name__).test_request_context("/", headers=headers):
        flask.g.principal = _principal(account)
        assert request_language(settings) == expected


def test_signed_out_the_browser_choice_counts_and_outside_a_request_the_county() -> None:
    with flask.Flask(__name__).test_request_context("/login", headers={"Cookie": f"{COOKIE}=en"}):
        assert request_language(dashboard_settings(None)) == "en"
    assert request_language(dashboard_settings(None, language="en")) == "en"
    assert request_language(dashboard_settings(None)) == "zh"


def test_the_switch_words_are_in_both_languages_and_each_language_is_named_in_itself() -> None:
    keys = [k for k in CATALOGUE if k.startswith("language.")]
    assert {"language.switch", "language.zh", "language.en", "language.unknown"} <= set(keys)
    assert all(CATALOGUE[k]["zh"].strip() and CATALOGUE[k]["en"].strip() for k in keys)
    assert [CATALOGUE[f"language.{code}"]["en"] for code in LANGUAGES] == ["中文", "English"]
    assert [CATALOGUE[f"language.{code}"]["zh"] for code in LANGUAGES] == ["中文", "English"]


@pytest.mark.integration
def test_an_account_keeps_its_language_and_each_change_is_audited(conn: psycopg.Connection) -> None:
    small_county(conn)
    make_account(conn, "town.li", Role.TOWNSHIP, township="t01")
    assert preferences.account_language(conn, "town.li") is None  # null: the county's language
    before = repo.account_by_username(conn, "town.li")
    assert before is not None
    preferences.save_language(conn, principal=before.principal, language="en", client_addr="10.0.0.7")
    assert preferences.account_language(conn, "town.li") == "en"
    principal = repo.active_principal(conn, before.principal.user_id)  # what each signed-in request reads
    assert principal is not None and principal.language == "en"
    preferences.save_language(conn, principal=principal, language="zh", client_addr=None)
    assert preferences.account_language(conn, "Town.Li ") == "zh"
    audit = conn.execute(
        "select username, action, screen, detail->>'language', detail->>'was', host(client_addr) from audit_event"
        " where action = 'language_changed' order by id"
    ).fetchall()
    assert audit == [
        ("town.li", "language_changed", "language", "en", None, "10.0.0.7"),
        ("town.li", "language_changed", "language", "zh", "en", None),
    ]


@pytest.mark.integration
def test_the_store_and_the_service_refuse_a_language_the_screens_do_not_speak(conn: psycopg.Connection) -> None:
    small_county(conn)
    created = make_account(conn, "town.li", Role.TOWNSHIP, township="t01")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("update app_user set language = 'fr' where username = 'town.li'")
    account = repo.account_by_username(conn, "town.li")
    assert account is not None and account.principal.user_id == created.user_id
    with pytest.raises(ValueError, match="fr"):
        preferences.save_language(conn, principal=account.principal, language="fr", client_addr=None)
    assert preferences.account_language(conn, "town.li") is None
    assert conn.execute("select count(*) from audit_event where action = 'language_changed'").fetchone() == (0,)


@pytest.fixture
def dashboard(db_url: str, conn: psycopg.Connection) -> Iterator[RunningDashboard]:
    small_county(conn)
    make_account(conn, "town.li", Role.TOWNSHIP, township="t01")
    with running_dashboard(dashboard_settings(db_url, county_name="测试县")) as running:
        yield running


def _login_token(client: httpx.Client, path: str = "/login") -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


@pytest.mark.integration
def test_the_log_in_page_switch_is_kept_in_the_browser_only(
    dashboard: RunningDashboard, conn: psycopg.Connection
) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        chinese = client.get("/login?next=/alerts")
        forged = client.post("/login/language", data={"csrf": "guess", "lang": "en"})
        token = _login_token(client, "/login?next=/alerts")
        switched = client.post("/login/language", data={"csrf": token, "lang": "en", "next": "/alerts"})
        english = client.get(switched.headers["location"])
        unknown = client.post("/login/language", data={"csrf": _login_token(client), "lang": "fr"})
    assert 'lang="zh-CN"' in chinese.text and "登录" in chinese.text and 'id="lang-en"' in chinese.text
    assert forged.status_code == 400 and COOKIE not in forged.headers.get("set-cookie", "")
    assert switched.status_code == 302 and switched.headers["location"] == "/login?next=/alerts"
    assert f"{COOKIE}=en" in switched.headers["set-cookie"]
    assert english.status_code == 200 and 'lang="en"' in english.text and "Sign in" in english.text
    assert 'name="next" value="/alerts"' in english.text  # still going where the person was going
    assert unknown.status_code == 400 and "Not a language of these screens" in unknown.text
    assert preferences.account_language(conn, "town.li") is None  # nobody signed in: no account changed


@pytest.mark.integration
def test_signed_in_the_switch_keeps_the_language_on_the_account(
    dashboard: RunningDashboard, conn: psycopg.Connection
) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        login(client, "town.li")
        refused = client.post("/login/language", data={"csrf": "guess", "lang": "en", "next": "/alerts"})
        switched = client.post("/login/language", data={"csrf": form_token(client), "lang": "en", "next": "/alerts"})
        nav = json.dumps(client.get("/_dash-layout").json(), ensure_ascii=False)
    assert refused.status_code == 400
    assert switched.status_code == 302 and switched.headers["location"] == "/alerts"
    assert preferences.account_language(conn, "town.li") == "en"
    assert "Sign out" in nav and "Township centre" in nav and "退出" not in nav
    with httpx.Client(base_url=dashboard.url, timeout=30) as elsewhere:  # another browser: no cookie of its own
        home = login(elsewhere, "town.li")
        nav_elsewhere = json.dumps(elsewhere.get("/_dash-layout").json(), ensure_ascii=False)
        page = elsewhere.get("/alerts")
    assert str(home.url).endswith("/township")
    assert "Sign out" in nav_elsewhere and "Follow-ups" in nav_elsewhere
    assert '<html lang="en">' in page.text and "<title>Chronic" in page.text


@pytest.mark.integration
def test_the_first_password_page_has_the_switch_too(dashboard: RunningDashboard, conn: psycopg.Connection) -> None:
    conn.execute("update app_user set password_change_required = true where username = 'town.li'")
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        held = login(client, "town.li")  # held on the change page until the first password is replaced
        token = _login_token(client, "/password")  # the switch's token comes first: the session's form token
        switched = client.post("/login/language", data={"csrf": token, "lang": "en", "next": "/password"})
        english = client.get("/password")
    assert str(held.url).endswith("/password") and 'id="lang-en"' in held.text and 'lang="zh-CN"' in held.text
    assert switched.status_code == 302 and switched.headers["location"] == "/password"
    assert 'lang="en"' in english.text and "First sign-in: set your own password" in english.text
    assert preferences.account_language(conn, "town.li") == "en"
