"""The monthly report, opened as a file: a county sheet, one per township, a definitions sheet; its figures equal
the screen's query at the same moment (the month running) and the indicators' definitions at a past month's end."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from cdm.i18n import t
from cdm.settings import Settings
from dashboard.access import Principal, Role
from dashboard.indicators.logic import NAMES, Indicator, compute
from dashboard.indicators.repo import indicators, refresh_activity
from dashboard.report.logic import MonthError, period
from dashboard.report.service import monthly_workbook

from .accounts import make_account
from .test_indicators import COUNTY, NOW, _store

pytestmark = pytest.mark.integration
LOCAL = ZoneInfo("Asia/Shanghai")


def _row(sheet: Any, name: str) -> int:
    """The row an indicator stands in, found by the label a reader sees in the first column."""
    label = t(f"report.row.{name}", "zh")
    rows = [cell.row for cell in sheet["A"] if cell.value == label]
    assert len(rows) == 1, f"{label} once in the first column"
    return rows[0]


def _principal(role: Role, ids: dict[str, int], **scope: int | None) -> Principal:
    """An account of the store (audit rows point at it) with this role and scope."""
    town = next((code for code in ("t1", "t2") if ids[code] == scope.get("township_id")), None)
    created = make_account(_CONN[0], f"report.{role}", role, township=town, county="tc")
    return Principal(user_id=created.user_id, username=f"report.{role}", role=role, county_id=ids["county"], **scope)


_CONN: list[psycopg.Connection] = []


@pytest.fixture(autouse=True)
def _remember(conn: psycopg.Connection) -> None:
    _CONN[:] = [conn]


def _settings(db_url: str) -> Settings:
    return Settings(database_url=db_url, county_code="tc", county_name="测试县", _env_file=None)  # type: ignore[call-arg]


def _sheet_indicators(sheet: object) -> dict[str, Indicator]:
    return {n: Indicator(sheet.cell(_row(sheet, n), 2).value, sheet.cell(_row(sheet, n), 3).value) for n in NAMES}  # type: ignore[attr-defined]


def _open(data: bytes, tmp_path: Path) -> object:
    path = tmp_path / "report.xlsx"
    path.write_bytes(data)
    return load_workbook(path, read_only=False)


def test_the_running_month_equals_the_screens_query(conn: psycopg.Connection, db_url: str, tmp_path: Path) -> None:
    ids = _store(conn)
    refresh_activity(conn, now=NOW, lookback_days=30)
    principal = _principal(Role.COUNTY, ids)
    screen = indicators(conn, principal=principal, now=NOW)
    data, _ = monthly_workbook(
        conn, principal=principal, month="2025-03", settings=_settings(db_url), now=NOW, screen="test"
    )
    book = _open(data, tmp_path)
    assert book.sheetnames == ["全县", "城关镇", "河口乡", "指标说明"]  # type: ignore[attr-defined]
    assert _sheet_indicators(book["全县"]) == screen.total  # type: ignore[index]
    for code, name in (("t1", "城关镇"), ("t2", "河口乡")):
        assert _sheet_indicators(book[name]) == screen.by_township[ids[code]]  # type: ignore[index]
    county = book["全县"]  # type: ignore[index]
    assert county["A1"].value.startswith("测试县 2025-03")
    assert county.cell(_row(county, "managed"), 4).value == 10  # every patient registered before now
    assert county.cell(_row(county, "bp_control"), 4).value == pytest.approx(2 / 6, abs=1e-4)
    visits_in_march = sum(1 for p, _ in COUNTY.values() for d in p.follow_up_days if d >= NOW.date().replace(day=1))
    assert county.cell(_row(county, "visits"), 4).value == visits_in_march
    definitions = book["指标说明"]  # type: ignore[index]
    assert definitions["A6"].value == "血压控制率" and "140/90" in definitions["B6"].value


def test_a_past_month_is_taken_at_its_end(conn: psycopg.Connection, db_url: str, tmp_path: Path) -> None:
    ids = _store(conn)
    refresh_activity(conn, now=NOW, lookback_days=30)  # the live summary knows March; February must not see it
    data, taken = monthly_workbook(
        conn,
        principal=_principal(Role.COUNTY, ids),
        month="2025-02",
        settings=_settings(db_url),
        now=NOW,
        screen="test",
    )
    assert taken.as_of.isoformat() == "2025-02-28T23:59:59.999999+08:00"
    book = _open(data, tmp_path)
    assert _sheet_indicators(book["全县"]) == compute([p for p, _ in COUNTY.values()], now=taken.as_of)  # type: ignore[index]
    for town, name in (("t1", "城关镇"), ("t2", "河口乡")):
        pure = compute([p for p, t in COUNTY.values() if t == town], now=taken.as_of)
        assert _sheet_indicators(book[name]) == pure  # type: ignore[index]
    managed = sum(1 for p, _ in COUNTY.values() if p.registered_at <= taken.as_of)
    assert book["全县"].cell(_row(book["全县"], "managed"), 4).value == managed  # type: ignore[index]


def test_a_township_gets_its_own_sheet_only(conn: psycopg.Connection, db_url: str, tmp_path: Path) -> None:
    ids = _store(conn)
    principal = _principal(Role.TOWNSHIP, ids, township_id=ids["t2"])
    data, _ = monthly_workbook(
        conn, principal=principal, month="2025-03", settings=_settings(db_url), now=NOW, screen="test"
    )
    book = _open(data, tmp_path)
    assert book.sheetnames == ["全县", "河口乡", "指标说明"]  # type: ignore[attr-defined]
    pure = compute([p for p, t in COUNTY.values() if t == "t2"], now=NOW)
    assert _sheet_indicators(book["全县"]) == pure  # type: ignore[index]
    audited = conn.execute("select action, detail->>'month' from audit_event where screen = 'test'").fetchall()
    assert audited == [("export", "2025-03")]


def test_months_that_cannot_be_reported() -> None:
    for bad in ("2025-3", "2025-13", "March", "2025-04"):
        with pytest.raises(MonthError) as refused:
            period(bad, tz=LOCAL, now=NOW)
        # said in the reader's language, on the screen and on the command line
        assert refused.value.text("zh") == (
            "2025-04 尚未开始，还不能出月报" if bad == "2025-04" else "月份格式应为 YYYY-MM，例如 2026-03"
        )
        assert refused.value.text("en") in ("2025-04 has not begun", "month must be YYYY-MM, e.g. 2026-03")
    assert period("2024-12", tz=LOCAL, now=NOW).end == datetime(2025, 1, 1, tzinfo=LOCAL)


def test_the_command_writes_the_workbook(conn: psycopg.Connection, db_url: str, tmp_path: Path) -> None:
    from app.cli import app

    _store(conn)
    out = tmp_path / "m.xlsx"
    env = {"CDM_DATABASE_URL": db_url, "CDM_COUNTY_CODE": "tc", "CDM_COUNTY_NAME": "测试县"}
    result = CliRunner().invoke(app, ["report", "monthly", "--month", "2025-03", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert load_workbook(out).sheetnames == ["全县", "城关镇", "河口乡", "指标说明"]
