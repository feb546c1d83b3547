"""The follow-up list's data: scoped to the viewer, ordered like the CLI's list, identity only for the team, visits
recorded from the list close alerts and are audited, exports hold what the viewer may see."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from openpyxl import load_workbook

from alerts.followups.service import team_list
from dashboard.access import Principal, Role
from dashboard.followups import export as followup_export
from dashboard.followups.repo import card_in_scope, followup_rows
from dashboard.people.repo import Person, person, search

from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration
TZ = "Asia/Shanghai"


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    return work_county(conn)


def _names(county: WorkCounty, rows: list) -> list[str]:
    by_id = {pid: name for name, pid in county.patients.items()}
    return [by_id[r.patient_id] for r in rows]


def test_a_county_user_sees_every_patient_most_urgent_first(county: WorkCounty) -> None:
    rows = followup_rows(county.conn, principal=county.users["county.li"], today=county.today, tz=TZ)
    # reds (same priority and due: by id); then the overdue, longest first; then the soonest due
    assert _names(county, rows) == ["A-red", "C-red", "A-green", "B-yellow", "T-green", "A-yellow"]
    first = rows[0]
    assert first.card == "H33****0001" and first.township == "城关镇" and first.village == "东村"
    assert first.team == "城关一队" and first.reasons == ("bp_critical",)
    assert first.last_bp == "186/112" and first.days_overdue == 310
    assert first.phone is None and first.id_card is None  # the county centre does not call patients


def test_a_township_user_sees_only_the_township(county: WorkCounty) -> None:
    rows = followup_rows(county.conn, principal=county.users["town.wang"], today=county.today, tz=TZ)
    assert _names(county, rows) == ["A-red", "A-green", "B-yellow", "A-yellow"]
    assert all(r.phone is None for r in rows)


def test_a_team_user_sees_only_the_team_and_the_phone_numbers(county: WorkCounty) -> None:
    rows = followup_rows(county.conn, principal=county.users["team.zhao"], today=county.today, tz=TZ)
    assert _names(county, rows) == ["A-red", "A-green", "A-yellow"]
    assert rows[0].phone == "13812345678" and rows[0].id_card == "330102********123X"
    other = followup_rows(county.conn, principal=county.users["team.qian"], today=county.today, tz=TZ)
    assert _names(county, other) == ["C-red"]


def test_the_order_and_due_dates_equal_the_cli_list(county: WorkCounty) -> None:
    county.conn.execute("set timezone to 'Asia/Shanghai'")  # the CLI reads dates in the session's time zone
    rows = followup_rows(county.conn, principal=county.users["team.zhao"], today=county.today, tz=TZ)
    cli = team_list(county.conn, team_code="A", today=county.today, tz=ZoneInfo(TZ))
    assert [(r.patient_id, r.due, r.days_overdue) for r in rows] == [(e.patient_id, e.due, e.days_overdue) for e in cli]
    assert [r.card for r in rows] == [e.card for e in cli]


def test_filters_by_colour_and_overdue(county: WorkCounty) -> None:
    principal = county.users["county.li"]
    reds = followup_rows(county.conn, principal=principal, today=county.today, colours=("red",), tz=TZ)
    assert _names(county, reds) == ["A-red", "C-red"]
    overdue = followup_rows(county.conn, principal=principal, today=county.today, overdue_only=True, tz=TZ)
    assert _names(county, overdue) == ["A-red", "C-red", "A-green"]
    assert (
        followup_rows(county.conn, principal=principal, today=county.today, limit=2, tz=TZ)[1].patient_id
        == (county.patients["C-red"])
    )
    with pytest.raises(ValueError, match="colours"):
        followup_rows(county.conn, principal=principal, colours=("blue",))


def test_a_reading_older_than_the_lookback_is_not_the_last_reading(county: WorkCounty) -> None:
    county.bp("A-yellow", "bp-01", hours_ago=24 * 100, sbp=170, dbp=100)
    rows = followup_rows(county.conn, principal=county.users["team.zhao"], today=county.today, tz=TZ)
    assert rows[2].patient_id == county.patients["A-yellow"] and rows[2].last_bp is None
    assert rows[1].last_glucose == 6.1 and rows[1].last_glucose_context == "fasting"


def test_the_county_sees_masked_names_and_search_stays_in_scope(county: WorkCounty) -> None:
    rows = followup_rows(county.conn, principal=county.users["county.li"], today=county.today, tz=TZ)
    assert (rows[0].name, rows[0].phone, rows[0].address) == ("张**", None, None)
    town = followup_rows(county.conn, principal=county.users["town.wang"], today=county.today, tz=TZ)
    assert (town[0].name, town[0].phone, town[0].address) == ("张秀英", None, None)
    team = county.users["team.zhao"]
    assert [(f.name, f.phone) for f in search(county.conn, principal=team, text="张")] == [("张秀英", "13812345678")]
    assert [f.name for f in search(county.conn, principal=team, text="5678")] == ["张秀英"]
    assert [f.name for f in search(county.conn, principal=team, text="H330000000003")] == ["李建国"]
    assert search(county.conn, principal=team, text="567") == []  # fewer than four digits: no query
    assert search(county.conn, principal=county.users["team.qian"], text="张") == []  # another team's patient
    assert [f.name for f in search(county.conn, principal=county.users["county.li"], text="张")] == ["张**"]
    assert search(county.conn, principal=team, text="%") == []  # a wildcard typed is a character, not "everyone"
    pid = county.patients["A-red"]
    county_user = county.users["county.li"]
    assert person(county.conn, principal=county_user, patient_id=pid) == Person("张**", None, None)
    assert person(county.conn, principal=county_user, patient_id=pid, reveal=True) == Person(
        "张秀英", "东村3组12号", None
    )
    assert person(county.conn, principal=county.users["team.qian"], patient_id=pid) is None


def test_a_principal_without_a_team_or_township_is_refused(county: WorkCounty) -> None:
    broken = Principal(0, "nobody", Role.TEAM, county.regions["tc"])
    with pytest.raises(PermissionError):
        followup_rows(county.conn, principal=broken)


def test_card_in_scope_names_only_the_viewers_patients(county: WorkCounty) -> None:
    mine, theirs = county.patients["A-red"], county.patients["C-red"]
    assert card_in_scope(county.conn, principal=county.users["team.zhao"], patient_id=mine) == "H330000000001"
    assert card_in_scope(county.conn, principal=county.users["team.zhao"], patient_id=theirs) is None
    assert card_in_scope(county.conn, principal=county.users["county.li"], patient_id=theirs) is not None


def test_saving_a_visit_closes_the_alert_leaves_the_overdue_list_and_is_audited(
    county: WorkCounty, db_url: str
) -> None:
    principal = county.users["team.zhao"]
    result = county.visit_through_form(db_url, "A-red", by="team.zhao")
    assert result["patient"] == "H33****0001" and len(result["closed_alerts"]) == 1
    assert result["next_due"] == (county.today + timedelta(days=90)).isoformat()
    overdue = followup_rows(county.conn, principal=principal, today=county.today, overdue_only=True, tz=TZ)
    assert county.patients["A-red"] not in [r.patient_id for r in overdue]
    audit = county.conn.execute(
        "select username, action, patient_id, screen, detail from audit_event where action = 'record_follow_up'"
    ).fetchall()
    assert audit == [
        (
            "team.zhao",
            "record_follow_up",
            county.patients["A-red"],
            "visit",
            {"follow_up_id": result["follow_up_id"], "closed_alerts": result["closed_alerts"]},
        )
    ]


def test_a_visit_for_another_teams_patient_is_refused_and_nothing_is_kept(county: WorkCounty, db_url: str) -> None:
    with pytest.raises(PermissionError, match="无权"):
        county.visit_through_form(db_url, "C-red", by="team.zhao")
    row = county.conn.execute("select count(*) from follow_up where patient_id = %s", (county.patients["C-red"],))
    assert row.fetchone() == (0,)


def test_exports_hold_the_viewers_columns_in_chinese(county: WorkCounty) -> None:
    tz = ZoneInfo(TZ)
    for username, identity in (("team.zhao", True), ("town.wang", False)):
        rows = followup_rows(county.conn, principal=county.users[username], today=county.today, tz=TZ)
        shown = [followup_export.display_row(r, lang="zh", tz=tz, identity=identity) for r in rows]
        data = followup_export.to_csv(shown, lang="zh", identity=identity)
        assert data.startswith("\ufeff".encode())
        table = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert table[0][:4] == ["颜色", "姓名", "患者（健康卡）", "性别"]
        assert ("电话" in table[0]) is identity and ("住址" in table[0]) is identity
        assert table[1][:3] == ["红", "张秀英", "H33****0001"]  # the team and the township see names
        assert "血压达到紧急转诊标准" in table[1][8]
        assert all("H330000000001" not in cell for line in table for cell in line)
        book = load_workbook(io.BytesIO(followup_export.to_xlsx(shown, lang="zh", identity=identity)))
        sheet = book.active
        assert sheet is not None
        values = list(sheet.values)
        assert values[0][0] == "颜色" and len(values) == len(rows) + 1
        assert values[1][2] == "H33****0001"
        if identity:
            assert values[1][table[0].index("电话")] == "13812345678"
            assert values[1][table[0].index("住址")] == "东村3组12号"
