"""repo.py and alerts_repo.py on a real PostgreSQL with a hand-built county: exact counts per role's scope,
zero-patient townships, the latest alerts masked, meters, and the alert console's timings."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from cdm.db import open_pool
from cdm.privacy import mask_card
from dashboard.access import Principal, Role
from dashboard.alerts import repo as alerts_repo
from dashboard.overview import repo

from .county_builder import NOW, County, small_county

pytestmark = pytest.mark.integration

TC_COUNTS = {  # township: (managed, red, yellow, green, not_assessed)
    "城关镇": (8, 3, 1, 3, 1),
    "河口乡": (5, 0, 2, 3, 0),
    "山后乡": (0, 0, 0, 0, 0),
    "石桥乡": (0, 0, 0, 0, 0),
}


def county_user(c: County) -> Principal:
    return Principal(user_id=1, username="county.wang", role=Role.COUNTY, county_id=c.regions["tc"])


def township_user(c: County, town: str = "t01") -> Principal:
    return Principal(2, "town.li", Role.TOWNSHIP, c.regions["tc"], township_id=c.regions[town])


def team_user(c: County) -> Principal:
    team = c.conn.execute("select id from care_team where code = 'tc-team1'").fetchone()
    assert team is not None
    return Principal(3, "team.zhao", Role.TEAM, c.regions["tc"], township_id=c.regions["t01"], team_id=team[0])


def vars_of(p: Principal) -> tuple[object, ...]:
    return (p.user_id, p.username, p.role, p.county_id, p.township_id, p.team_id)


def _by_township(frame: object) -> dict[str, tuple[int, ...]]:
    rows = frame.set_index("township")[list(repo.COUNT_COLUMNS)]  # type: ignore[attr-defined]
    return {name: tuple(int(v) for v in values) for name, values in rows.iterrows()}


def test_every_township_of_the_county_has_its_exact_counts(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    counts = repo.township_counts(conn, principal=county_user(c))
    assert _by_township(counts) == TC_COUNTS  # the neighbouring county's township is not there
    assert counts["township_code"].tolist() == ["t01", "t02", "t03", "t04"]


def test_a_township_user_sees_only_its_township_and_a_team_only_its_patients(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    assert _by_township(repo.township_counts(conn, principal=township_user(c))) == {"城关镇": (8, 3, 1, 3, 1)}
    assert _by_township(repo.township_counts(conn, principal=team_user(c))) == {"城关镇": (7, 2, 1, 3, 1)}


def test_not_assessed_patients_are_counted_apart_never_as_green(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    c.patients_at("v02a", None, 2)
    counts = _by_township(repo.township_counts(conn, principal=county_user(c)))
    assert counts["河口乡"] == (7, 0, 2, 3, 2)


def test_totals_match_the_sum_of_the_townships(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    totals = repo.totals_of(repo.township_counts(conn, principal=county_user(c)))
    assert totals == repo.CountyTotals(townships=4, managed=13, red=3, yellow=3, green=6, not_assessed=1)


def test_latest_alerts_newest_first_with_delivered_counts_and_masked_patients(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    alerts = alerts_repo.latest_alerts(conn, principal=county_user(c), limit=12)
    summary = [
        (row.township, row.village, row.severity, row.status, row.delivered, row.failed, row.notifications)
        for row in alerts.itertuples()
    ]
    assert summary == [
        ("城关镇", "东村", "critical", "open", 2, 0, 2),
        ("河口乡", "南村", "high", "acknowledged", 1, 1, 2),
        ("城关镇", "东村", "critical", "open", 1, 0, 2),
        ("城关镇", "西村", "critical", "closed", 0, 0, 0),
    ]
    assert [NOW - t for t in alerts["opened_at"]] == [timedelta(minutes=m) for m in (5, 20, 50, 90)]
    assert alerts["reasons"].tolist()[:2] == [["bp_critical", "glucose_hypo"], ["uncontrolled_2x"]]
    cards = list(c.patients)
    assert alerts["patient"].tolist()[0] == mask_card(cards[1]) == "H33****0002"
    assert not any(number in alerts.astype(str).to_string() for number in cards)


def test_alerts_are_scoped_by_role(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    town = alerts_repo.latest_alerts(conn, principal=township_user(c, "t02"), limit=12)
    team = alerts_repo.latest_alerts(conn, principal=team_user(c), limit=12)
    assert town["township"].tolist() == ["河口乡"]
    assert team["village"].tolist() == ["东村", "东村"]
    assert alerts_repo.latest_alerts(conn, principal=county_user(c), limit=2)["opened_at"].tolist() == [
        NOW - timedelta(minutes=5),
        NOW - timedelta(minutes=20),
    ]


def test_the_work_list_is_unclosed_alerts_longest_waiting_first(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    work = alerts_repo.open_alerts(conn, principal=township_user(c), limit=50)
    assert [NOW - t for t in work["opened_at"]] == [timedelta(minutes=50), timedelta(minutes=5)]
    assert set(work["status"]) == {"open"}


def test_console_puts_escalated_alerts_first_and_times_each_township(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    console = alerts_repo.console_alerts(conn, principal=county_user(c), limit=40)
    assert console["escalated_at"].notna().tolist()[0] is True  # the 50-minute-old open alert escalated at 30
    timings = alerts_repo.timings(conn, principal=county_user(c), now=NOW).set_index("township")
    assert timings.loc["城关镇", "opened"] == 3 and timings.loc["城关镇", "still_open"] == 2
    assert timings.loc["城关镇", "ack_median_min"] == pytest.approx(12.0)  # the closed one, acknowledged at 12 min
    assert timings.loc["城关镇", "close_median_h"] == pytest.approx(90 * 0.8 / 60)
    assert timings.loc["河口乡", "ack_median_min"] == pytest.approx(10.0)
    assert "乡外镇" not in timings.index


def test_meters_by_status_in_scope(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    for uid, clinic, status in (("m1", "v01a", "online"), ("m2", "v01b", "offline"), ("m3", "v02a", "online")):
        conn.execute(
            "insert into device (uid, kind, clinic_id, status) values (%s, 'bp', %s, %s)",
            (uid, c.regions[clinic], status),
        )
    conn.execute(
        "insert into device (uid, kind, clinic_id, status) values ('m4', 'bp', %s, 'online')", (c.regions["o01a"],)
    )
    assert repo.meter_status(conn, principal=county_user(c)) == {"online": 2, "offline": 1, "unknown": 0}
    assert repo.meter_status(conn, principal=township_user(c)) == {"online": 1, "offline": 1, "unknown": 0}
    assert repo.meter_status(conn, principal=team_user(c)) == {"online": 1, "offline": 1, "unknown": 0}


def test_an_empty_county_gives_empty_frames_and_zero_totals(conn: psycopg.Connection) -> None:
    row = conn.execute("insert into region (code, name, level) values ('x', '空县', 'county') returning id").fetchone()
    assert row is not None
    nobody = Principal(1, "u", Role.COUNTY, row[0])
    assert repo.township_counts(conn, principal=nobody).empty
    assert alerts_repo.latest_alerts(conn, principal=nobody, limit=5).empty
    assert repo.totals_of(repo.township_counts(conn, principal=nobody)) == repo.CountyTotals(0, 0, 0, 0, 0, 0)


def test_snapshot_reads_everything_through_the_pool(db_url: str, conn: psycopg.Connection) -> None:
    c = small_county(conn)
    pool = open_pool(db_url)
    try:
        snap = repo.snapshot(pool, principal=county_user(c), alert_limit=3, now=NOW)
    finally:
        pool.close()
    assert _by_township(snap.townships) == TC_COUNTS
    assert snap.totals.managed == 13 and len(snap.alerts) == 3
    assert snap.meters == {"online": 0, "offline": 0, "unknown": 0}
    assert snap.indicators.total["bp_control"].denominator == 13  # every patient registered 400 days ago


def test_nobody_acts_on_an_alert_outside_their_scope(conn: psycopg.Connection) -> None:
    from alerts.workflow.logic import TransitionError
    from dashboard.alerts import service as alert_actions

    from .accounts import make_account

    c = small_county(conn)
    li = township_user(c, "t01")
    li = Principal(make_account(conn, li.username, Role.TOWNSHIP, township="t01").user_id, *vars_of(li)[1:])
    he = township_user(c, "t02")
    he = Principal(make_account(conn, "town.he", Role.TOWNSHIP, township="t02").user_id, *vars_of(he)[1:])
    other = int(alerts_repo.open_alerts(conn, principal=li, limit=5)["alert_id"].iloc[0])
    with pytest.raises(TransitionError) as refused:
        alert_actions.apply(conn, principal=he, alert_id=other, move="acknowledge", now=NOW, screen="township")
    assert getattr(refused.value, "key", None) == "alerts.refused.other"  # the catalogue's words, never English
    assert conn.execute("select status from alert where id = %s", (other,)).fetchone() == ("open",)
    assert conn.execute("select count(*) from audit_event").fetchone() == (0,)
    status = alert_actions.apply(conn, principal=li, alert_id=other, move="acknowledge", now=NOW, screen="township")
    assert status == "acknowledged"
    assert conn.execute("select action, patient_id is not null from audit_event").fetchall() == [
        ("alert_acknowledge", True)
    ]


def test_a_step_before_acknowledging_is_refused_and_a_closed_alert_is_listed_as_recently_closed(
    conn: psycopg.Connection,
) -> None:
    from dashboard.alerts import service as alert_actions

    from .accounts import make_account

    c = small_county(conn)
    li = township_user(c, "t01")
    li = Principal(make_account(conn, li.username, Role.TOWNSHIP, township="t01").user_id, *vars_of(li)[1:])
    alert_id = int(alerts_repo.open_alerts(conn, principal=li, limit=5)["alert_id"].iloc[0])
    for move in ("act", "close"):
        with pytest.raises(alert_actions.Refused) as refused:
            alert_actions.apply(
                conn, principal=li, alert_id=alert_id, move=move, action="phone_call", outcome="好转", now=NOW,
                screen="township",
            )  # fmt: skip
        assert refused.value.key == "alerts.refused.ack_first"
    assert conn.execute("select status, acknowledged_at from alert where id = %s", (alert_id,)).fetchone() == (
        "open",
        None,
    )  # no silent acknowledgement
    steps = (("acknowledge", None), ("act", "phone_call"))
    for move, action in steps:
        alert_actions.apply(conn, principal=li, alert_id=alert_id, move=move, action=action, now=NOW, screen="township")
    with pytest.raises(alert_actions.Refused) as refused:
        alert_actions.apply(
            conn, principal=li, alert_id=alert_id, move="close", outcome="  ", now=NOW, screen="township"
        )
    assert refused.value.key == "alerts.refused.outcome"
    alert_actions.apply(
        conn, principal=li, alert_id=alert_id, move="close", outcome="已转诊", now=NOW, screen="township"
    )
    closed = alerts_repo.recently_closed(conn, principal=li, now=NOW, limit=5)
    assert closed[["alert_id", "outcome"]].values.tolist()[0] == [alert_id, "已转诊"]  # the newest first
    assert "*" in closed["patient"].iloc[0]  # masked
    assert alerts_repo.recently_closed(conn, principal=li, now=NOW + timedelta(days=8), limit=5).empty
    with pytest.raises(alert_actions.Refused) as refused:
        alert_actions.apply(conn, principal=li, alert_id=alert_id, move="acknowledge", now=NOW, screen="township")
    assert refused.value.key == "alerts.refused.closed"
