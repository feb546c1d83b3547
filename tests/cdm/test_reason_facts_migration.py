"""Migration 0084: alerts still being worked on when it runs get their reasons' figures from the patient's current
assessment (only for the alert's own reasons); closed alerts keep none (their figures were never recorded)."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest
from psycopg.types.json import Jsonb

from cdm import migrate
from tests.support.migrations import migrate_until
from tests.support.registry import build

pytestmark = pytest.mark.integration

FACTS = {
    "bp_critical": {"sbp": 186, "dbp": 112, "at": "2026-11-23T01:12:00+00:00"},
    "follow_up_overdue": {"due": "2026-11-01", "days": 22},
}


def test_open_alerts_get_the_current_figures_of_their_own_reasons(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        migrate_until(conn, 84)
        county = build(conn, code="rf")
        now = datetime.now(UTC)
        alerts = {}
        for pid, status in zip(county.patients.values(), ("open", "acknowledged", "closed"), strict=True):
            conn.execute(
                "insert into assessment_current (patient_id, colour, reasons, priority, evidence, assessed_at,"
                " colour_since, rules_edition, reason_facts) values (%s, 'red', %s, 210, '{}', %s, %s, '2020', %s)",
                (pid, list(FACTS), now, now, Jsonb(FACTS)),
            )
            alerts[status] = conn.execute(
                "insert into alert (patient_id, kind, severity, reasons, evidence, township_id, opened_at,"
                " last_seen_at, latest_evidence, status) values (%s, 'turned_red', 'critical', '{bp_critical}',"
                " '{}', %s, %s, %s, '{}', %s) returning id",
                (pid, county.township_id, now, now, status),
            ).fetchone()[0]  # type: ignore[index]
        migrate.upgrade(conn)
        got = dict(conn.execute("select id, reason_facts from alert").fetchall())
    assert got[alerts["open"]] == got[alerts["acknowledged"]] == {"bp_critical": FACTS["bp_critical"]}
    assert got[alerts["closed"]] == {}
