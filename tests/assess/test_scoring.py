"""Rescoring from the store: incremental (ingest) and full (nightly) paths agree with `assess`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from assess import repo
from assess.rules import LOOKBACK, RuleSettings, assess
from assess.service import rescore, rescore_all
from cdm.domain import Colour
from cdm.thresholds import for_edition

pytestmark = pytest.mark.integration
RULES = RuleSettings(thresholds=for_edition("2020"))
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture
def county(db_url):
    with psycopg.connect(db_url) as conn:
        cid = conn.execute(
            "insert into region (code, name, level) values ('s', 'c', 'county') returning id"
        ).fetchone()[0]
        vid = conn.execute(
            "insert into region (code, name, level, parent_id) values ('sv', 'v', 'village', %s) returning id", (cid,)
        ).fetchone()[0]
        dev = conn.execute("insert into device (uid, kind, clinic_id) values ('BP-S', 'bp', %s) returning id", (vid,))
        device = dev.fetchone()[0]
        ids = [
            conn.execute(
                "insert into patient (health_card_no, sex, birth_year, hypertension, village_id, registered_at)"
                " values (%s, 'M', 1965, true, %s, %s) returning id",
                (f"c{i}", vid, NOW - timedelta(days=30)),
            ).fetchone()[0]
            for i in range(3)
        ]
        for seq, (pid, sbp, days) in enumerate([(ids[0], 128, 1), (ids[1], 150, 2), (ids[2], 190, 3)]):
            at = NOW - timedelta(days=days)
            conn.execute(
                "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                " systolic, diastolic) values (%s, %s, %s, %s, %s, 'bp', %s, %s, 80)",
                (device, seq, at, at, vid, pid, sbp),
            )
        conn.commit()
    return db_url, ids


def _expected(conn, ids, now):
    profiles = repo.load_profiles(conn, ids)
    readings = repo.load_readings(conn, ids, since=now - LOOKBACK)
    visits = repo.load_follow_ups(conn, ids)
    return {
        pid: assess(profile=profiles[pid], readings=readings.get(pid, []), follow_ups=visits.get(pid, []), now=now,
                    rules=RULES)
        for pid in ids
    }  # fmt: skip


def test_incremental_rescore_matches_assess_and_reports_changes_once(county):
    url, ids = county
    with psycopg.connect(url) as conn:
        changes = rescore(conn, patient_ids=ids, now=NOW, rules=RULES)
        expected = _expected(conn, ids, NOW)
        assert {c.patient_id: c.assessment for c in changes} == expected
        assert [expected[p].colour for p in ids] == [Colour.GREEN, Colour.YELLOW, Colour.RED]
        assert all(c.previous is None for c in changes)
        assert rescore(conn, patient_ids=ids, now=NOW, rules=RULES) == []
        history = conn.execute("select count(*) from assessment_history").fetchone()[0]
    assert history == 3


def test_full_rescore_writes_every_patient_ages_gaps_and_leaves_fresh_ones(county):
    url, ids = county
    totals = rescore_all(url, now=NOW, rules=RULES, workers=2, chunk=1)
    assert (totals.patients, totals.changes, totals.failed_chunks) == (3, 3, 0)
    later = NOW + timedelta(days=40)  # no reading for 40 days: a monitoring gap for everyone not red
    seen = []
    totals = rescore_all(url, now=later, rules=RULES, workers=1, on_changes=lambda conn, ch: seen.extend(ch))
    with psycopg.connect(url) as conn:
        current = dict(conn.execute("select patient_id, reasons from assessment_current").fetchall())
        expected = _expected(conn, ids, later)
    assert {pid: list(a.reasons) for pid, a in expected.items()} == current
    assert "monitoring_gap" in current[ids[0]]
    assert {c.patient_id for c in seen} == {ids[0], ids[1]} and all(c.previous for c in seen)
    again = rescore_all(url, now=later, rules=RULES, workers=1)
    assert (again.patients, again.skipped) == (0, 3)  # assessed at this very moment already: left as they are
