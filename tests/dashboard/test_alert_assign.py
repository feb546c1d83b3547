"""Assigning an alert to a named doctor (issue 15), on a real PostgreSQL: who can be picked (the alert's township
health centre and its family-doctor teams, accounts in use), who may assign (the township and the county, not a
team), the refusals in Chinese from the catalogue, and the step kept in the alert's history and the audit trail."""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

from cdm.i18n import t
from dashboard.access import Principal, Role
from dashboard.alerts import repo as alerts_repo
from dashboard.alerts import service as alert_actions

from .accounts import make_account
from .county_builder import NOW, County, small_county

pytestmark = pytest.mark.integration


def _principal(conn: psycopg.Connection, username: str) -> Principal:
    row = conn.execute(
        "select id, role, county_id, township_id, team_id from app_user where username = %s", (username,)
    ).fetchone()
    assert row is not None
    return Principal(row[0], username, Role(row[1]), row[2], township_id=row[3], team_id=row[4])


def _accounts(conn: psycopg.Connection) -> dict[str, int]:
    """town.li and doc.zhang (城关镇's health centre and its team), town.he (河口乡), out.wu (邻县's 乡外镇),
    doc.gone (城关镇, disabled), county.wang (测试县)."""
    made = {
        "town.li": make_account(conn, "town.li", Role.TOWNSHIP, township="t01", display_name="李护士"),
        "doc.zhang": make_account(conn, "doc.zhang", Role.TEAM, team="tc-team1", display_name="张医生"),
        "town.he": make_account(conn, "town.he", Role.TOWNSHIP, township="t02", display_name="何医生"),
        "out.wu": make_account(conn, "out.wu", Role.TOWNSHIP, township="o01", display_name="吴医生"),
        "doc.gone": make_account(conn, "doc.gone", Role.TOWNSHIP, township="t01", display_name="离职医生"),
        "county.wang": make_account(conn, "county.wang", Role.COUNTY, county="tc", display_name="王主任"),
    }
    conn.execute("update app_user set disabled_at = now() where username = 'doc.gone'")
    return {name: created.user_id for name, created in made.items()}


def _open_alert(conn: psycopg.Connection, c: County, town: str = "t01") -> int:
    row = conn.execute(
        "select id from alert where township_id = %s and status = 'open' order by id limit 1", (c.regions[town],)
    ).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture
def county(conn: psycopg.Connection) -> tuple[County, dict[str, int]]:
    """The small county and its accounts (ids by username)."""
    return small_county(conn), _accounts(conn)


def _assign(conn: psycopg.Connection, by: Principal, alert_id: int, assignee_id: int | None) -> str:
    """Assign from the township screen at NOW, as its callback does."""
    return alert_actions.assign(
        conn, principal=by, alert_id=alert_id, assignee_id=assignee_id, now=NOW, screen="township", lang="zh"
    )


def _refusal(conn: psycopg.Connection, by: Principal, alert_id: int, assignee_id: int | None) -> str:
    """The catalogue key of the refusal of that assignment."""
    with pytest.raises(alert_actions.Refused) as refused:
        _assign(conn, by, alert_id, assignee_id)
    return refused.value.key


def test_the_county_assigns_an_alert_to_a_doctor_of_its_township_and_it_is_kept_and_shown(
    conn: psycopg.Connection, county: tuple[County, dict[str, int]]
) -> None:
    c, ids = county
    alert_id = _open_alert(conn, c)
    centre = _principal(conn, "county.wang")
    assert _assign(conn, centre, alert_id, ids["doc.zhang"]) == "doc.zhang"
    kept = conn.execute("select assigned_to, assigned_at, assigned_by, status from alert where id = %s", (alert_id,))
    assert kept.fetchone() == (ids["doc.zhang"], NOW, "county.wang", "open")  # assigning does not acknowledge
    events = conn.execute("select actor, event, detail->>'assignee' from alert_event where alert_id = %s", (alert_id,))
    assert events.fetchall() == [("county.wang", "assigned", "doc.zhang")]
    audit = conn.execute(
        "select username, action, screen, detail->>'alert_id', detail->>'assignee', patient_id is not null"
        " from audit_event"
    ).fetchall()
    assert audit == [("county.wang", "alert_assign", "township", str(alert_id), "doc.zhang", True)]
    li = _principal(conn, "town.li")
    for frame in (
        alerts_repo.open_alerts(conn, principal=li, limit=10),
        alerts_repo.console_alerts(conn, principal=centre, limit=10),
    ):
        shown = dict(zip(frame["alert_id"], frame["assignee"], strict=True))
        assert shown[alert_id] == "张医生"
        assert all(pd.isna(v) for k, v in shown.items() if k != alert_id)  # nobody yet
    # and again, to someone else: the latest assignment holds, both steps in the history
    _assign(conn, li, alert_id, ids["town.li"])
    assert alerts_repo.open_alerts(conn, principal=li, limit=10).set_index("alert_id").loc[alert_id, "assignee"] == (
        "李护士"
    )
    assert conn.execute("select count(*) from alert_event where event = 'assigned'").fetchone() == (2,)


def test_only_people_of_the_alerts_township_are_offered_and_anyone_else_is_refused_in_chinese(
    conn: psycopg.Connection, county: tuple[County, dict[str, int]]
) -> None:
    c, ids = county
    alert_id = _open_alert(conn, c)
    li, centre = _principal(conn, "town.li"), _principal(conn, "county.wang")
    offered = alerts_repo.assignable_people(conn, principal=li, township_id=c.regions["t01"])
    assert [(u, n) for _, u, n in offered] == [("doc.zhang", "张医生"), ("town.li", "李护士")]  # by name
    assert alerts_repo.assignable_people(conn, principal=li, township_id=c.regions["t02"]) == []  # not li's
    assert [u for _, u, _ in alerts_repo.assignable_people(conn, principal=centre, township_id=c.regions["o01"])] == []
    team = _principal(conn, "doc.zhang")
    assert alerts_repo.assignable_people(conn, principal=team, township_id=c.regions["t01"]) == []
    refusals = {
        "town.he": "alerts.refused.assignee_scope",  # another township of the county
        "out.wu": "alerts.refused.assignee_scope",  # another county
        "doc.gone": "alerts.refused.assignee_scope",  # an account no longer in use
        "county.wang": "alerts.refused.assignee_scope",  # the county's staff are not the township's doctors
    }
    for who, key in refusals.items():
        for by in (li, centre):
            assert _refusal(conn, by, alert_id, ids[who]) == key, who
    assert "只能指派给此预警所属乡镇卫生院" in t("alerts.refused.assignee_scope", "zh")
    assert _refusal(conn, li, alert_id, None) == "alerts.refused.assignee_missing"
    # a team does not assign, even to itself
    assert _refusal(conn, team, alert_id, ids["doc.zhang"]) == "alerts.refused.assign_role"
    he = _principal(conn, "town.he")
    assert _refusal(conn, he, alert_id, ids["town.he"]) == "alerts.refused.other"  # an alert it cannot see
    assert conn.execute("select assigned_to from alert where id = %s", (alert_id,)).fetchone() == (None,)
    assert conn.execute("select count(*) from audit_event where action = 'alert_assign'").fetchone() == (0,)
    assert conn.execute("select count(*) from alert_event where event = 'assigned'").fetchone() == (0,)


def test_a_closed_alert_is_not_assigned(conn: psycopg.Connection, county: tuple[County, dict[str, int]]) -> None:
    c, ids = county
    closed = conn.execute(
        "select id from alert where township_id = %s and status = 'closed'", (c.regions["t01"],)
    ).fetchone()
    assert closed is not None
    refusal = _refusal(conn, _principal(conn, "town.li"), closed[0], ids["doc.zhang"])
    assert refusal == "alerts.refused.closed"
