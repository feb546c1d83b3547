"""Every response of the dashboard carries the security headers, from the production server (waitress), with no
version banner; data (pages, callbacks, exports) is never cached; HSTS when served over https."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import psycopg
import pytest

from dashboard.access import Role

from .accounts import login, make_account
from .county_builder import small_county
from .server import RunningDashboard, dashboard_settings, running_dashboard

pytestmark = pytest.mark.integration


@pytest.fixture
def dashboard(db_url: str, conn: psycopg.Connection) -> Iterator[RunningDashboard]:
    small_county(conn)
    make_account(conn, "county.wang", Role.COUNTY, county="tc")
    with running_dashboard(dashboard_settings(db_url, dashboard_proxy_hops=1)) as running:
        yield running


def _check(response: httpx.Response, *, data: bool) -> None:
    headers = response.headers
    csp = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "default-src 'self'" in csp and "object-src 'none'" in csp
    assert "'unsafe-eval'" not in csp and "script-src 'self' 'sha256-" in csp
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "server" not in headers, headers.get("server")  # no name, no version
    assert "werkzeug" not in str(headers).lower() and "python" not in str(headers).lower()
    if data:
        assert headers["cache-control"] == "no-store", response.url


def test_every_response_carries_the_headers(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        _check(client.get("/login"), data=True)
        _check(client.get("/"), data=True)  # the redirect to the log-in page
        _check(client.get("/_dash-layout"), data=True)  # 401 signed out
        _check(client.get("/assets/screen.css"), data=False)
        login(client, "county.wang")
        _check(client.get("/"), data=True)
        _check(client.get("/_dash-layout"), data=True)
        _check(client.get("/_dash-dependencies"), data=True)
        callback = client.post(
            "/_dash-update-component", json={"output": "x.children", "inputs": [], "changedPropIds": []}
        )
        _check(callback, data=True)
        _check(client.get("/no/such/page"), data=True)
        assert "strict-transport-security" not in client.get("/").headers


def test_hsts_when_served_over_https(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30, headers={"X-Forwarded-Proto": "https"}) as client:
        response = client.get("/login")
    assert response.headers["strict-transport-security"].startswith("max-age=31536000")


def test_no_trusted_proxy_means_forwarded_headers_are_ignored(db_url: str, conn: psycopg.Connection) -> None:
    small_county(conn)
    with running_dashboard(dashboard_settings(db_url)) as running, httpx.Client(base_url=running.url) as client:
        response = client.get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"})
    assert "strict-transport-security" not in response.headers
