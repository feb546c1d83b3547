"""Accounts for the dashboard tests, made through the same service as `cdm users add`, and signing in over HTTP."""

from __future__ import annotations

import re

import httpx
import psycopg

from dashboard.access import Role
from dashboard.auth import service

PASSWORD = "Screen-test-2025"


def make_account(
    conn: psycopg.Connection,
    username: str,
    role: Role,
    *,
    township: str | None = None,
    team: str | None = None,
    county: str | None = None,
    password: str = PASSWORD,
    display_name: str = "",
) -> service.Created:
    """Create an account (committed when `conn` is in autocommit)."""
    return service.create_account(
        conn,
        username=username,
        password=password,
        role=role,
        display_name=display_name,
        township_code=township,
        team_code=team,
        county_code=county,
        min_password_length=10,
    )


def login(client: httpx.Client, username: str, password: str = PASSWORD, totp: str = "") -> httpx.Response:
    """Fill in and send the log-in form the way a browser does; the response after redirects."""
    page = client.get("/login")
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, page.text[:500]
    return client.post(
        "/login",
        data={"csrf": match.group(1), "next": "", "username": username, "password": password, "totp": totp},
        follow_redirects=True,
    )


def form_token(client: httpx.Client) -> str:
    """The signed-in session's form token, as the navigation bar's log-out form carries it."""
    layout = client.get("/_dash-layout")
    assert layout.status_code == 200, layout.text[:300]
    match = re.search(r'"name":\s*"csrf",[^{}]*?"value":\s*"([^"]+)"|"value":\s*"([^"]+)",[^{}]*?"name":\s*"csrf"',
                      layout.text)  # fmt: skip
    assert match, layout.text[:500]
    return match.group(1) or match.group(2)


def logout(client: httpx.Client, path: str = "/logout", **extra: str) -> httpx.Response:
    """Press the navigation bar's log-out button (a POST with the session's form token)."""
    return client.post(path, data={"csrf": form_token(client), **extra})
