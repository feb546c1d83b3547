"""The real app over HTTP: the page is served, and its refresh callback returns the database's numbers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import psycopg
import pytest

from dashboard.access import Role
from dashboard.runtime import runtime_of

from .accounts import login, make_account
from .county_builder import small_county
from .server import RunningDashboard, dashboard_settings, running_dashboard

pytestmark = pytest.mark.integration

REFRESH_INPUT = "county-refresh"


def _nodes(tree: Any) -> Iterator[dict[str, Any]]:
    """Every serialised Dash component in a callback response."""
    if isinstance(tree, dict):
        if "type" in tree and "props" in tree:
            yield tree
        for value in tree.values():
            yield from _nodes(value)
    elif isinstance(tree, list):
        for item in tree:
            yield from _nodes(item)


def _texts_of_class(tree: Any, class_name: str) -> list[Any]:
    return [n["props"].get("children") for n in _nodes(tree) if n["props"].get("className") == class_name]


def _refresh(client: httpx.Client) -> dict[str, Any]:
    """POST the county page's refresh callback the way the browser does."""
    dependencies = client.get("/_dash-dependencies").json()
    (spec,) = [d for d in dependencies if any(i["id"] == REFRESH_INPUT for i in d["inputs"])]
    outputs = [
        dict(zip(("id", "property"), o.rsplit(".", 1), strict=True)) for o in spec["output"].strip(".").split("...")
    ]
    body = {
        "output": spec["output"],
        "outputs": outputs,
        "inputs": [{"id": REFRESH_INPUT, "property": "n_intervals", "value": 1}],
        "changedPropIds": [f"{REFRESH_INPUT}.n_intervals"],
        "state": [{**state, "value": None} for state in spec["state"]],  # the page's stored state, as first loaded
    }
    response = client.post("/_dash-update-component", json=body)
    assert response.status_code == 200, response.text
    return response.json()["response"]


@pytest.fixture
def dashboard(db_url: str, conn: psycopg.Connection) -> Iterator[RunningDashboard]:
    small_county(conn)
    make_account(conn, "county.wang", Role.COUNTY, county="tc")
    with running_dashboard(dashboard_settings(db_url, county_name="测试县", dashboard_refresh_s=7)) as running:
        yield running


def test_the_county_page_is_served(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        login(client, "county.wang")
        page = client.get("/")
        layout = client.get("/_dash-layout")
        css = client.get("/assets/screen.css")
    assert page.status_code == 200
    assert "慢病管理 · 县级红黄绿大屏" in page.text
    assert layout.status_code == 200 and css.status_code == 200


def test_refresh_returns_the_databases_numbers(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        login(client, "county.wang")
        response = _refresh(client)
    # the store holds a neighbouring county too (one red patient): a county user sees only their own county
    assert _texts_of_class(response["county-kpis"], "kpi-value") == ["13", "3", "3", "6", "1"]
    red, yellow, green, grey = response["county-chart"]["figure"]["data"]
    assert [label.split()[0] for label in red["y"]] == ["城关镇", "河口乡", "山后乡", "石桥乡"]
    assert red["customdata"] == [3, 0, 0, 0]
    assert yellow["customdata"] == [1, 2, 0, 0]
    assert green["customdata"] == [3, 3, 0, 0]
    assert grey["customdata"] == [1, 0, 0, 0]
    assert _texts_of_class(response["county-indicators"], "ind-label")[0] == "血压控制率"
    assert _texts_of_class(response["county-meters"], "meter-label") == ["在线", "离线", "未知"]
    assert response["county-updated-at"]["children"].startswith("更新于 ")
    assert response["county-stale"]["children"] == ""


def test_refresh_lists_the_latest_alerts_masked_with_their_delivery(dashboard: RunningDashboard) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        login(client, "county.wang")
        response = _refresh(client)
    alerts = response["county-alerts"]
    links = _texts_of_class(alerts, "patient")[:2]  # each patient a link to their record
    assert [(a["props"]["children"], a["props"]["href"].startswith("/patient/")) for a in links] == [
        ("H33****0002", True),
        ("H33****0009", True),
    ]
    assert _texts_of_class(alerts, "notified notified-ok") == ["2/2 已送达"]
    assert _texts_of_class(alerts, "notified notified-failed") == ["1/2 已送达 · 1 条失败"]
    assert "血糖≤3.9 mmol/L（低血糖），需紧急处理" in _texts_of_class(alerts, "reasons")[0]
    everything = str(response)
    assert "H330000000" not in everything  # no full health card number leaves the server


def test_refresh_keeps_the_last_picture_and_says_so_when_the_store_is_unreachable(
    dashboard: RunningDashboard,
) -> None:
    with httpx.Client(base_url=dashboard.url, timeout=30) as client:
        login(client, "county.wang")
        _refresh(client)
        runtime_of(dashboard.app.server).pool.close()
        response = _refresh(client)
    assert response == {"county-stale": {"children": "数据库暂时无法连接，仍显示上次数据"}}


def test_a_township_user_gets_only_its_townships_numbers(db_url: str, conn: psycopg.Connection) -> None:
    small_county(conn)
    make_account(conn, "town.he", Role.TOWNSHIP, township="t02")
    with (
        running_dashboard(dashboard_settings(db_url, county_name="测试县")) as running,
        httpx.Client(base_url=running.url, timeout=30) as client,
    ):
        login(client, "town.he")
        response = _refresh(client)
    assert _texts_of_class(response["county-kpis"], "kpi-value") == ["5", "0", "2", "3", "0"]
    assert [label.split()[0] for label in response["county-chart"]["figure"]["data"][0]["y"]] == ["河口乡"]
    assert set(_texts_of_class(response["county-alerts"], "place")) <= {"河口乡", "南村"}
