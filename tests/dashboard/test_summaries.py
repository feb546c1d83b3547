"""The job's summaries plus the history written since give exactly the live figures, without waiting for it."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from dashboard.indicators.repo import indicators, stored_indicators
from dashboard.overview import repo
from dashboard.summaries.service import refresh_screens

from .county_builder import NOW, County, small_county
from .test_repo import county_user, team_user, township_user

pytestmark = pytest.mark.integration


def _recolour(c: County, card: str, colour: str, *, at: object = NOW) -> None:
    """What the scorer writes: the current colour and a history row of the change, in one transaction."""
    pid = c.patients[card]
    with c.conn.transaction():
        row = c.conn.execute("select colour from assessment_current where patient_id = %s", (pid,)).fetchone()
        previous = row[0] if row else None
        c.conn.execute(
            "insert into assessment_current (patient_id, colour, reasons, priority, evidence, assessed_at,"
            " colour_since, rules_edition) values (%s, %s, '{}', 0, '{}', %s, %s, '2020')"
            " on conflict (patient_id) do update set colour = excluded.colour",
            (pid, colour, at, at),
        )
        c.conn.execute(
            "insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence,"
            " assessed_at, rules_edition) values (%s, %s, %s, '{}', 0, '{}', %s, '2020')",
            (pid, colour, previous, at),
        )


def _all_scopes(c: County) -> list[object]:
    return [county_user(c), township_user(c, "t01"), township_user(c, "t02"), team_user(c)]


def test_summary_counts_stay_live_between_refreshes(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    refresh_screens(conn, now=NOW, lookback_days=30)
    for who in _all_scopes(c):
        assert repo.township_counts(conn, principal=who).equals(repo.township_counts_live(conn, principal=who))
    cards = list(c.patients)
    _recolour(c, cards[4], "red")  # a green patient of 东村 (team tc-team1) turns red
    _recolour(c, cards[7], "yellow")  # the not-assessed patient is assessed for the first time
    _recolour(c, cards[9], "green")  # a yellow patient of 河口乡
    c.registered_at = NOW + timedelta(seconds=1)
    newcomer = c.patients_at("v02a", None)[0]  # registered after the job: counted once assessed
    _recolour(c, newcomer, "red")
    for who in _all_scopes(c):
        live = repo.township_counts_live(conn, principal=who)
        assert repo.township_counts(conn, principal=who).equals(live)
    assert repo.township_counts(conn, principal=township_user(c, "t02"))["managed"].tolist() == [6]
    counts = repo.township_counts(conn, principal=county_user(c)).set_index("township")
    assert counts.loc["城关镇", ["red", "yellow", "green", "not_assessed"]].tolist() == [4, 2, 2, 0]
    refresh_screens(conn, now=NOW + timedelta(minutes=1), lookback_days=30)
    assert repo.township_counts(conn, principal=county_user(c)).set_index("township").equals(counts)


def test_stored_indicators_equal_the_computed_ones(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    refresh_screens(conn, now=NOW, lookback_days=30)
    for who in _all_scopes(c):
        stored = stored_indicators(conn, principal=who, now=NOW)  # type: ignore[arg-type]
        computed = indicators(conn, principal=who, now=NOW)  # type: ignore[arg-type]
        assert stored.total == computed.total and stored.by_township == computed.by_township
        assert stored.refreshed_at == NOW


def test_the_colour_mix_from_the_daily_summary_equals_the_mix_from_history(conn: psycopg.Connection) -> None:
    c = small_county(conn)
    cards = list(c.patients)
    for days, card, colour in ((200, cards[0], "green"), (30, cards[0], "red"), (10, cards[9], "red")):
        _recolour(c, card, colour, at=NOW - timedelta(days=days))
    before = {str(who): repo.colour_moves(conn, principal=who, now=NOW) for who in _all_scopes(c)}  # no summary
    refresh_screens(conn, now=NOW, lookback_days=30)
    _recolour(c, cards[9], "yellow", at=NOW - timedelta(minutes=1))  # after the job: from history, live
    for who in _all_scopes(c):
        mix = repo.colour_mix(repo.colour_moves(conn, principal=who, now=NOW), now=NOW)
        expected = repo.colour_mix(before[str(who)], now=NOW)
        if who == county_user(c) or who == township_user(c, "t02"):
            expected.loc[expected.index[-1], ["red", "yellow"]] += [-1, 1]
        assert mix.equals(expected), who
