"""The 90-day colour mix: replayed from assessment_history per local day, scoped, and the pure cumulation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import psycopg
import pytest

from dashboard.access import Principal, Role
from dashboard.overview.repo import colour_mix, colour_moves, mix_start

from .county_builder import NOW, small_county


def test_the_mix_adds_up_the_moves_of_each_day() -> None:
    start = mix_start(NOW)
    assert start.isoformat() == "2024-12-15T00:00:00+08:00"  # 90 local days ending today, 2025-03-14
    moves = pd.DataFrame(
        [(start.astimezone(UTC), 5, 3, 10), (start.astimezone(UTC) + timedelta(days=10), 1, 0, -1)],
        columns=["day", "red", "yellow", "green"],
    )
    mix = colour_mix(moves, now=NOW)
    assert len(mix) == 90
    assert mix.iloc[0][["red", "yellow", "green"]].tolist() == [5, 3, 10]
    assert mix.iloc[9][["red", "yellow", "green"]].tolist() == [5, 3, 10]
    assert mix.iloc[10][["red", "yellow", "green"]].tolist() == [6, 3, 9]
    assert mix.iloc[-1][["red", "yellow", "green"]].tolist() == [6, 3, 9]
    assert colour_mix(moves.iloc[0:0], now=NOW)["red"].sum() == 0


def _history(conn: psycopg.Connection, patient_id: int, rows: list[tuple[str, str | None, datetime]]) -> None:
    for colour, previous, at in rows:
        conn.execute(
            "insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence,"
            " assessed_at, rules_edition) values (%s, %s, %s, '{}', 0, '{}', %s, '2020')",
            (patient_id, colour, previous, at),
        )


@pytest.mark.integration
def test_the_store_replays_the_history_per_local_day_in_scope(conn: psycopg.Connection) -> None:
    county = small_county(conn)
    first, second = list(county.patients.values())[:2]
    outsider = list(county.patients.values())[-1]  # the neighbouring county's patient
    _history(conn, first, [("green", None, NOW - timedelta(days=200)), ("red", "green", NOW - timedelta(days=3))])
    # 2025-03-12 23:30 local is still the 12th in China although it is the 12th in UTC too; 16:30 UTC is the 13th
    _history(conn, second, [("yellow", None, datetime(2025, 3, 12, 16, 30, tzinfo=UTC))])
    _history(conn, outsider, [("red", None, NOW - timedelta(days=1))])
    principal = Principal(user_id=1, username="u", role=Role.COUNTY, county_id=county.regions["tc"])
    moves = colour_moves(conn, principal=principal, now=NOW)
    mix = colour_mix(moves, now=NOW).set_index("day")
    by_day = {d.date().isoformat(): row.tolist() for d, row in mix[["red", "yellow", "green"]].iterrows()}
    assert by_day["2024-12-15"] == [0, 0, 1]
    assert by_day["2025-03-10"] == [0, 0, 1]
    assert by_day["2025-03-11"] == [1, 0, 0]
    assert by_day["2025-03-12"] == [1, 0, 0]
    assert by_day["2025-03-13"] == [1, 1, 0]
    assert by_day["2025-03-14"] == [1, 1, 0]
    township = Principal(
        user_id=1, username="u", role=Role.TOWNSHIP, county_id=county.regions["tc"], township_id=county.regions["t02"]
    )
    assert colour_mix(colour_moves(conn, principal=township, now=NOW), now=NOW)["red"].sum() == 0
