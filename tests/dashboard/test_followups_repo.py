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
from dashboard.followups import form as followup_form
from dashboard.followups.repo import card_in_scope, followup_rows

from .server import dashboard_settings
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
    # reds (same priority: the longer overdue first, then by id), yellows, greens (overdue first)
    assert _names(county, rows) == ["A-red", "C-red", "B-yellow", "A-yellow", "A-green", "T-green"]
    first = rows[0]
    assert first.card == "H33****0001" and first.township == "城关镇" and first.village == "东村"
    assert first.team == "城关一队" and first.reasons == ("bp_critical",)
    assert first.last_bp == "186/112" and first.days_overdue == 310
    assert first.phone is None and first.id_card is None  # the county centre does not call patients


def test_a_township_user_sees_only_the_township(county: WorkCounty) -> None:
    rows = followup_rows(county.conn, principal=county.users["town.wang"], today=county.today, tz=TZ)
    assert _names(county, rows) == ["A-red", "B-yellow", "A-yellow", "A-green"]
    assert all(r.phone is None for r in rows)


def test_a_team_user_sees_only_the_team_and_the_phone_numbers(county: WorkCounty) -> None:
    rows = followup_rows(county.conn, principal=county.users["team.zhao"], today=county.today, tz=TZ)
    assert _names(county, rows) == ["A-red", "A-yellow", "A-green"]
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
    assert rows[1].patient_id == county.patients["A-yellow"] and rows[1].last_bp is None
    assert rows[2].last_glucose == 6.1 and rows[2].last_glucose_context == "fasting"


def test_a_principal_without_a_team_or_township_is_refused(county: WorkCounty) -> None:
    broken = Principal(0, "nobody", Role.TEAM, county.regions["tc"])
    with pytest.raises(PermissionError):
        followup_rows(county.conn, principal=broken)


def test_card_in_scope_names_only_the_viewers_patients(county: WorkCounty) -> None:
    mine, theirs = county.patients["A-red"], county.patients["C-red"]
    assert card_in_scope(county.conn, principal=county.users["team.zhao"], patient_id=mine) == "H330000000001"
    assert card_in_scope(county.conn, principal=county.users["team.zhao"], patient_id=theirs) is None
    assert card_in_scope(county.conn, principal=county.users["county.li"], patient_id=theirs) is not None


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"patient_id": None}, {"patient": "请先在列表中选择一位患者"}),
        ({"done_on": ""}, {"done_on": "请填写随访日期"}),
        ({"done_on": "2025/03/14"}, {"done_on": "日期格式应为 年-月-日，例如 2025-03-14"}),
        ({"done_on": "2025-03-15"}, {"done_on": "随访日期不能晚于今天"}),
        ({"done_on": "2023-03-14"}, {"done_on": "随访日期早于一年前，请核对"}),
        ({"follow_up_class": None}, {"class": "请选择随访分类"}),
        ({"follow_up_class": "cured"}, {"class": "请选择随访分类"}),
        ({"next_step": "药" * 201}, {"next_step": "处置意见不能超过 200 个字"}),
        ({"next_due": "2025-03-01"}, {"next_due": "下次随访日期不能早于本次随访日期"}),
        ({"next_due": "明天"}, {"next_due": "日期格式应为 年-月-日，例如 2025-03-14"}),
        (
            {"patient_id": None, "done_on": "x", "follow_up_class": ""},
            {
                "patient": "请先在列表中选择一位患者",
                "done_on": "日期格式应为 年-月-日，例如 2025-03-14",
                "class": "请选择随访分类",
            },
        ),
    ],
)
def test_the_form_names_each_bad_field_in_chinese(fields: dict[str, object], errors: dict[str, str]) -> None:
    from datetime import date

    good: dict[str, object] = {
        "patient_id": 1,
        "done_on": "2025-03-14",
        "follow_up_class": "controlled",
        "next_step": "继续服药",
        "next_due": "",
    }
    visit, found = followup_form.validate(**{**good, **fields}, today=date(2025, 3, 14), lang="zh")  # type: ignore[arg-type]
    assert visit is None and found == errors


def test_a_good_form_is_a_visit() -> None:
    from datetime import date

    visit, errors = followup_form.validate(
        patient_id=1,
        done_on=" 2025-03-14 ",
        follow_up_class="uncontrolled",
        next_step="  ",
        next_due="2025-03-20",
        today=date(2025, 3, 14),
        lang="en",
    )
    assert errors == {} and visit is not None
    assert (visit.done_on, visit.follow_up_class.value, visit.next_step, visit.next_due) == (
        date(2025, 3, 14),
        "uncontrolled",
        None,
        date(2025, 3, 20),
    )


def test_saving_a_visit_closes_the_alert_leaves_the_overdue_list_and_is_audited(
    county: WorkCounty, db_url: str
) -> None:
    principal = county.users["team.zhao"]
    settings = dashboard_settings(db_url)
    visit, _ = followup_form.validate(
        patient_id=county.patients["A-red"],
        done_on=county.today.isoformat(),
        follow_up_class="controlled",
        next_step="复测血压",
        next_due=None,
        today=county.today,
        lang="zh",
    )
    assert visit is not None
    with psycopg.connect(db_url) as conn:
        result = followup_form.save(
            conn,
            principal=principal,
            patient_id=county.patients["A-red"],
            visit=visit,
            settings=settings,
            now=county.now,
        )
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
            "followups",
            {"follow_up_id": result["follow_up_id"], "closed_alerts": result["closed_alerts"]},
        )
    ]


def test_a_visit_for_another_teams_patient_is_refused_and_nothing_is_kept(county: WorkCounty, db_url: str) -> None:
    visit, _ = followup_form.validate(
        patient_id=county.patients["C-red"],
        done_on=county.today.isoformat(),
        follow_up_class="controlled",
        next_step=None,
        next_due=None,
        today=county.today,
        lang="zh",
    )
    assert visit is not None
    with psycopg.connect(db_url) as conn, pytest.raises(PermissionError, match="无权"):
        followup_form.save(
            conn,
            principal=county.users["team.zhao"],
            patient_id=county.patients["C-red"],
            visit=visit,
            settings=dashboard_settings(db_url),
            now=county.now,
        )
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
        assert table[0][:3] == ["颜色", "患者（健康卡）", "性别"]
        assert ("电话" in table[0]) is identity
        assert table[1][0] == "红" and table[1][1] == "H33****0001"
        assert "血压达到紧急转诊标准" in table[1][7]
        assert all("H330000000001" not in cell for line in table for cell in line)
        book = load_workbook(io.BytesIO(followup_export.to_xlsx(shown, lang="zh", identity=identity)))
        sheet = book.active
        assert sheet is not None
        values = list(sheet.values)
        assert values[0][0] == "颜色" and len(values) == len(rows) + 1
        assert values[1][1] == "H33****0001"
        if identity:
            assert values[1][table[0].index("电话")] == "13812345678"
