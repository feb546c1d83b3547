"""`cdm bench dashboard`: the server side of each screen's main callbacks on a county of 260,000 patients and
over 10 million readings.

Each screen's data functions (what its refresh callback calls) run with a principal of the role that uses the
screen, `iterations` times after a warm-up; the figures are p50/p95 milliseconds per screen. The county is
generated inside PostgreSQL (bench.dashboard_county); `indicator_refresh_s` is one run of the one-minute
job that keeps the screens' summaries current, first after the load and then in steady state.
"""

from __future__ import annotations

import importlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from app.services import EmbeddedPostgres, with_database
from bench import dashboard_county, dashboard_work
from bench.common import machine, percentile
from cdm import db
from cdm.db import open_pool
from cdm.settings import Settings
from cdm.store import upgrade_store
from dashboard.access import Principal, Role
from dashboard.admin import repo as admin_repo
from dashboard.alerts import repo as alerts_repo
from dashboard.overview import repo
from dashboard.quality.repo import quality_report
from dashboard.summaries.service import refresh_screens

REUSE_DIR = Path(tempfile.gettempdir()) / "cdm-bench-dashboard"
WARM_UP = 3


def run(
    *,
    settings: Settings,
    patients: int,
    readings_per_patient: int,
    iterations: int,
    reuse: bool = False,
    database: str | None = None,
) -> dict[str, Any]:
    """Build (or reuse) the county, time every screen, and return the figures. `database` names the database on a
    shared server (CDM_DATABASE_URL), so two people benchmarking on one server do not build into each other's."""
    home = REUSE_DIR if reuse else Path(tempfile.mkdtemp(prefix="cdm-bench-dashboard-"))
    server = None if settings.database_url else EmbeddedPostgres(home / "pg")
    try:
        url = _database(settings.database_url or server.start(), database or f"cdm_bench_dashboard_{patients}")  # type: ignore[union-attr]
        return _measure(url, patients=patients, readings_per_patient=readings_per_patient, iterations=iterations)
    finally:
        if server is not None:
            server.stop()
        if reuse:
            print(f"data kept in {home}", file=sys.stderr)
        else:
            shutil.rmtree(home, ignore_errors=True)


def _database(server_url: str, name: str) -> str:
    with db.connect(server_url, autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone():
            conn.execute(f"create database {name}")
    url = with_database(server_url, name)
    upgrade_store(url)
    return url


def _principals(conn: psycopg.Connection) -> dict[str, Principal]:
    county = conn.execute("select id from region where code = 'bench'").fetchone()
    township = conn.execute("select id from region where code = 'bench-t1'").fetchone()
    team = conn.execute("select id from care_team where township_id = %s order by id limit 1", township).fetchone()
    assert county and township and team
    return {
        "county": Principal(1, "bench.county", Role.COUNTY, county[0]),
        "township": Principal(2, "bench.town", Role.TOWNSHIP, county[0], township_id=township[0]),
        "team": Principal(3, "bench.team", Role.TEAM, county[0], township_id=township[0], team_id=team[0]),
    }


def _followup_rows() -> Callable[..., Any] | None:
    """dashboard.followups.repo.followup_rows, when the follow-up page is in this tree."""
    try:
        module = importlib.import_module("dashboard.followups.repo")
    except ImportError:
        return None
    return getattr(module, "followup_rows", None)


def _measure(url: str, *, patients: int, readings_per_patient: int, iterations: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    built_s = None
    with db.connect(url) as conn:
        if conn.execute("select count(*) from patient").fetchone() != (patients,):
            started = time.perf_counter()
            dashboard_county.build(conn, patients=patients, readings_per_patient=readings_per_patient, now=now)
            conn.autocommit = True
            conn.execute("vacuum analyze")
            conn.autocommit = False
            built_s = round(time.perf_counter() - started, 1)
        readings = int(conn.execute("select count(*) from reading").fetchone()[0])  # type: ignore[index]
        first_s, refresh_s = (_refresh(conn, now=now) for _ in range(2))
        changes = _colour_changes_since_the_job(conn, now=now)
        dashboard_work.add_people(conn)
        principals = _principals(conn)
        version = str(conn.execute("show server_version").fetchone()[0])  # type: ignore[index]
    pool = open_pool(url, app="cdm-bench-dashboard")
    try:
        screens = _screens(pool, principals)
        timings = {name: _time(work, iterations) for name, work in screens.items()}
    finally:
        pool.close()
    return {
        "benchmark": "dashboard",
        "patients": patients,
        "readings": readings,
        **{f"{name}_p50_ms": t[0] for name, t in timings.items()},
        **{f"{name}_p95_ms": t[1] for name, t in timings.items()},
        "followups": "timed" if "followups" in timings else "not in this tree (dashboard.followups.repo)",
        "iterations": iterations,
        "colour_changes_since_summary": changes,
        "summary_first_refresh_s": first_s,  # the job's first run: a year of readings into patient_activity
        "summary_refresh_s": refresh_s,  # a run of the one-minute job in steady state
        "build_s": built_s,
        "postgres": version,
        "machine": machine(),
    }


def _refresh(conn: psycopg.Connection, *, now: datetime) -> float:
    """One run of the summaries job (as the scheduler runs it, every minute); seconds."""
    conn.commit()
    started = time.perf_counter()
    conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    with conn.transaction():
        refresh_screens(conn, now=now, lookback_days=30)
    seconds = round(time.perf_counter() - started, 2)
    conn.isolation_level = None
    return seconds


# A busy minute's colour changes (about one patient in 130), written after the job ran: the screens add them live.
_RECOLOUR = """
insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence, assessed_at,
                                rules_edition)
select patient_id, case colour when 'green' then 'yellow' else 'green' end, colour, reasons, priority, evidence,
       %(now)s, rules_edition
from assessment_current where patient_id %% 130 = 1;
update assessment_current set colour = case colour when 'green' then 'yellow' else 'green' end
where patient_id %% 130 = 1
"""


def _colour_changes_since_the_job(conn: psycopg.Connection, *, now: datetime) -> int:
    insert, update = _RECOLOUR.split(";")
    changed = conn.execute(insert, {"now": now}).rowcount
    conn.execute(update, {"now": now})
    conn.commit()
    return changed


def _screens(pool: Any, principals: dict[str, Principal]) -> dict[str, Callable[[], object]]:
    county, township, team = principals["county"], principals["township"], principals["team"]

    def with_conn(work: Callable[[psycopg.Connection], object]) -> Callable[[], object]:
        def call() -> object:
            with pool.connection() as conn:
                return work(conn)

        return call

    screens: dict[str, Callable[[], object]] = {
        # the county screen's live refresh: counts, totals, alert feed, meters, indicators in one snapshot
        "county": lambda: repo.snapshot(pool, principal=county, alert_limit=10),
        "county_mix": lambda: repo.colour_mix_of(pool, principal=county),
        "township": lambda: repo.snapshot(pool, principal=township, alert_limit=1),
        # the township page's work list (its alerts and the escalation clock), its closed list and its colour mix
        "township_worklist": with_conn(
            lambda c: (alerts_repo.open_alerts(c, principal=township, limit=50), alerts_repo.escalation_policy(c))
        ),
        "township_closed": with_conn(
            lambda c: alerts_repo.recently_closed(c, principal=township, now=datetime.now(UTC), limit=20)
        ),
        "township_mix": lambda: repo.colour_mix_of(pool, principal=township),
        "team_county_screen": lambda: repo.snapshot(pool, principal=team, alert_limit=10),
        "alert_console": with_conn(
            lambda c: (
                alerts_repo.console_alerts(c, principal=county, limit=40),
                alerts_repo.timings(c, principal=county, now=datetime.now(UTC)),
            )
        ),
    }
    # the data-quality page's one refresh callback: every panel's query, as the county and a township see it
    screens["quality"] = with_conn(lambda c: quality_report(c, principal=county, now=datetime.now(UTC)))
    screens["quality_township"] = with_conn(lambda c: quality_report(c, principal=township, now=datetime.now(UTC)))
    # the administration screen's three lists (administrators see the county's meters, accounts and contacts)
    screens["admin"] = with_conn(lambda c: (admin_repo.accounts(c), admin_repo.meters(c), admin_repo.contacts(c)))
    followup_rows = _followup_rows()
    if followup_rows is not None:
        screens["followups"] = with_conn(lambda c: followup_rows(c, principal=team))
    screens.update(dashboard_work.screens(pool, principals))
    return screens


def _time(work: Callable[[], object], iterations: int) -> tuple[float | None, float | None]:
    for _ in range(WARM_UP):
        work()
    laps = []
    for _ in range(iterations):
        started = time.perf_counter()
        work()
        laps.append((time.perf_counter() - started) * 1000)
    return percentile(laps, 50), percentile(laps, 95)
