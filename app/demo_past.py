"""The demo county's past: registrations months to years ago, 90 days of readings and of colour history,
quarterly visits, alerts handled and closed with outcomes, meters with their status and last heartbeats.

Written straight into the store in bulk (COPY and set-based SQL, as a migration from an earlier system would be),
not through MQTT: it is the past, not what the meters send now. The colour history is the real rules replayed:
every patient is assessed as of each past step, so a change of colour is a history row dated when it happened.
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import psycopg

from alerts.workflow.service import acknowledge, close, record_action
from app import repo
from assess.rules import RuleSettings
from assess.service import rescore_all
from cdm.settings import Settings
from dashboard.indicators.logic import LOCAL
from device_sim import repo as sim_repo
from device_sim.county import County
from device_sim.history import backfill

log = logging.getLogger(__name__)

HISTORY_DAYS = 90  # readings and colour history: the county screen's 90-day colour mix shows a real curve
REPLAY_EVERY = timedelta(days=2)  # one rescore per step: 45 steps of ~0.3 s at 3,000 patients
PAST_ALERTS = 16
TEAM_ACTOR = "demo-team"
TOWNSHIP_ACTOR = "demo-township"
OUTCOMES = (
    "电话随访，已调整用药，复测血压 142/88",
    "入户随访，患者自行停药，已恢复服药",
    "已转诊县医院心内科，住院 3 天后出院",
    "电话随访，复测血压回落至 150/92，两周后复诊",
)
ACTIONS = ("phone_call", "home_visit", "referral", "phone_call")


@dataclass(frozen=True)
class Past:
    """What was written."""

    readings: int
    follow_ups: int
    history_steps: int
    alerts_closed: int
    meters_heard: int
    spare_meters: int


def write_past(conn: psycopg.Connection, county: County, *, settings: Settings, now: datetime) -> Past:
    """Write the county's past in `conn` (committed step by step: the replay reads it from other connections)."""
    sim_repo.spread_registrations(conn, now=now)
    readings = backfill(conn, county, days=HISTORY_DAYS, now=now)
    conn.commit()
    steps, follow_ups = _replay_colours(conn, settings, now=now)
    closed = _past_alerts(conn, now=now)
    heard = sim_repo.mark_meters_heard(conn, now=now)
    spare = sim_repo.add_spare_meters(conn, county_code=county.code)
    conn.commit()
    past = Past(readings, follow_ups, steps, closed, heard, spare)
    log.info("demo past written: %s", past)
    return past


def _replay_colours(conn: psycopg.Connection, settings: Settings, *, now: datetime) -> tuple[int, int]:
    """Assess everyone as of each past step, oldest first, without alerts (nobody was told then); each step's
    visits are recorded just before it, since a rescore reads every recorded visit whatever its date.
    (steps, visits written)."""
    rules = RuleSettings.from_settings(settings)
    today = now.astimezone(LOCAL).date()
    at, steps, visits, since = now - timedelta(days=HISTORY_DAYS - 1), 0, 0, date.min
    while True:
        until = min(at, now).astimezone(LOCAL).date()
        visits += sim_repo.add_past_follow_ups(conn, today=today, after=since, until=until, recorded_by=TEAM_ACTOR)
        conn.commit()
        since = until
        if at >= now - timedelta(hours=1):
            return steps, visits
        rescore_all(settings.database_url or "", now=at, rules=rules, workers=1)
        at, steps = at + REPLAY_EVERY, steps + 1


def _past_alerts(conn: psycopg.Connection, *, now: datetime) -> int:
    """Alerts raised weeks ago, acknowledged by the township, acted on by the team and closed with an outcome,
    through the workflow's own steps (dated when they happened)."""
    rng = random.Random("demo-past-alerts")
    done = 0
    for i, (patient_id, township_id) in enumerate(repo.past_alert_patients(conn, count=PAST_ALERTS)):
        opened = now - timedelta(days=rng.uniform(4, 85))
        alert_id = repo.insert_past_alert(conn, patient_id=patient_id, township_id=township_id, opened_at=opened)
        acked = opened + timedelta(minutes=rng.uniform(3, 45))
        acknowledge(conn, alert_id=alert_id, actor=TOWNSHIP_ACTOR, now=acked)
        acted = acked + timedelta(hours=rng.uniform(1, 30))
        record_action(conn, alert_id=alert_id, actor=TEAM_ACTOR, action=ACTIONS[i % len(ACTIONS)], now=acted)
        close(conn, alert_id=alert_id, actor=TOWNSHIP_ACTOR, outcome=OUTCOMES[i % len(OUTCOMES)],
              now=acted + timedelta(days=rng.uniform(0.5, 3)))  # fmt: skip
        done += 1
    return done
