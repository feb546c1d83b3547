"""The store's summary (one SQL query) equals the Python summary (each evidence list as its ten most recent) and
leads to the same decision, for random readings and follow-ups."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from assess import repo
from assess.rules import LOOKBACK, RuleSettings, decide
from assess.summary.logic import summarise
from assess.summary.repo import SummaryParams
from cdm.domain import HealthRecord
from cdm.thresholds import for_edition

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
RULES = RuleSettings(thresholds=for_edition("2020"))
DEVICES = ("BP-A", "BP-B", "GLU-A")

# Offsets in seconds before NOW that sit on or next to a boundary: now, the sitting gap, the window, the
# monitoring interval, the lookback; and after NOW (ignored).
_EDGES = [0, 1, 599, 600, 601, 14 * 86400 - 1, 14 * 86400, 14 * 86400 + 1, 30 * 86400, 30 * 86400 + 1]
_EDGES += [90 * 86400, 90 * 86400 - 1, -60]
offsets = st.one_of(st.sampled_from(_EDGES), st.integers(-3600, 95 * 86400), st.integers(0, 3600))
# Pulses around the urgent rate (>100) often, so that two in a row happen; none where the meter sent none.
pulses = st.one_of(st.none(), st.sampled_from([99, 100, 101, 130]), st.integers(25, 250))
bp_reading = st.tuples(
    st.just("bp"), st.sampled_from(DEVICES[:2]), offsets, st.integers(90, 200), st.integers(60, 120), pulses
)
# Sittings: a few BP readings on one meter, each 1 s .. 15 min after the one before, often right at the 10-minute
# sitting gap (599, 600, 601 s), values around the urgent 180/110 so that sitting means land on either side.
gaps = st.one_of(st.sampled_from([1, 60, 90, 599, 600, 601]), st.integers(1, 900))
sitting = st.tuples(
    st.sampled_from(DEVICES[:2]),
    offsets,
    st.lists(
        st.tuples(gaps, st.sampled_from([150, 179, 180, 181, 200]), st.sampled_from([95, 109, 110, 111]), pulses),
        min_size=1,
        max_size=4,
    ),
).map(lambda s: [("bp", s[0], s[1] - sum(g for g, *_ in s[2][: i + 1]), *v) for i, (_, *v) in enumerate(s[2])])
# A value, or None for the meter's HI/LO display (the flag); values around the hypoglycaemia levels 3.0 and 3.9.
glucose_reading = st.tuples(
    st.just("glucose"),
    st.just(DEVICES[2]),
    offsets,
    st.one_of(
        st.none(),
        st.sampled_from([2.9, 3.0, 3.1, 3.8, 3.9, 4.0, 4.3, 4.4, 6.9, 7.0, 9.9, 10.0, 16.6, 16.7]),
        st.floats(1.1, 33.3),
    ),
    st.sampled_from(["fasting", "non_fasting"]),
    st.sampled_from(["HI", "LO"]),
)
# None: no health record; else HbA1c (None: not recorded) around the 7.0 % target, and the complications.
health_record = st.one_of(
    st.none(),
    st.builds(
        lambda hba1c, complications, born: HealthRecord(
            birth_date=born, hba1c_percent=hba1c, complications=tuple(complications), updated_at=NOW
        ),
        st.one_of(st.none(), st.sampled_from([6.9, 7.0, 7.1]), st.integers(30, 200).map(lambda x: x / 10)),
        st.lists(st.sampled_from(["retinopathy", "nephropathy", "neuropathy"]), max_size=2, unique=True),
        # completed age 65 or 64 on NOW (birthday on NOW's date or the day after), or the birth year alone
        st.sampled_from([None, date(1961, 11, 23), date(1961, 11, 24), date(1946, 11, 24)]),
    ),
)
visit = st.tuples(
    st.integers(-2, 120),
    st.sampled_from(["controlled", "uncontrolled", "complication", "adverse_reaction"]),
    st.integers(0, 3 * 86400),
    st.one_of(st.none(), st.integers(-30, 90)),
)


@pytest.fixture(scope="module")
def store(pg_server, template_db):
    from tests.conftest import _create_database, _drop_database

    name = "cdm_t_summary_prop"
    _drop_database(pg_server, name)
    url = _create_database(pg_server, name, template=template_db)
    with psycopg.connect(url) as conn:
        county = conn.execute("insert into region (code, name, level) values ('x', 'c', 'county') returning id")
        cid = county.fetchone()[0]
        vid = conn.execute(
            "insert into region (code, name, level, parent_id) values ('xv', 'v', 'village', %s) returning id", (cid,)
        ).fetchone()[0]
        for uid in DEVICES:
            conn.execute(
                "insert into device (uid, kind, clinic_id) values (%s, %s, %s)",
                (uid, "bp" if uid.startswith("BP") else "glucose", vid),
            )
        conn.execute(
            "insert into patient (health_card_no, sex, birth_year, hypertension, diabetes, village_id, registered_at)"
            " values ('c1', 'F', 1960, true, true, %s, %s)",
            (vid, NOW - timedelta(days=400)),
        )
        conn.commit()
    yield url
    _drop_database(pg_server, name)


def _insert(conn, readings, visits, record):
    pid = conn.execute("select id from patient").fetchone()[0]
    if record is not None:
        conn.execute(
            "insert into health_record (patient_id, birth_date, hba1c_percent, complications, updated_at)"
            " values (%s, %s, %s, %s, %s)",
            (pid, record.birth_date, record.hba1c_percent, list(record.complications), record.updated_at),
        )
    devices = dict(conn.execute("select uid, id from device").fetchall())
    for seq, r in enumerate(readings):
        at = NOW - timedelta(seconds=r[2])
        if r[0] == "bp":
            conn.execute(
                "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, systolic,"
                " diastolic, pulse) values (%s, %s, %s, %s, 1, 'bp', %s, %s, %s, %s)",
                (devices[r[1]], seq, at, at, pid, max(r[3], r[4] + 1), r[4], r[5]),
            )
        else:
            flag = None if r[3] is not None else r[5]
            conn.execute(
                "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
                " glucose_mmol, glucose_flag, glucose_context) values (%s, %s, %s, %s, 1, 'glucose', %s, %s, %s, %s)",
                (devices[r[1]], seq, at, at, pid, r[3], flag, r[4]),
            )
    for days_ago, cls, late, due in visits:
        done = (NOW - timedelta(days=days_ago)).date()
        conn.execute(
            "insert into follow_up (patient_id, done_on, class, next_due, recorded_by, recorded_at)"
            " values (%s, %s, %s, %s, 'dr', %s)",
            (
                pid,
                done,
                cls,
                None if due is None else done + timedelta(days=due),
                NOW - timedelta(days=days_ago) + timedelta(seconds=late),
            ),
        )
    return pid


def _fast_pulses(*days_and_pulses):
    return [("bp", "BP-A", d * 86400, 130, 80, p) for d, p in days_and_pulses]


# Heart rate: two fast pulses older than the monitoring interval yet after the last follow-up, with and without a
# normal pulse between them (read only back to the lookback); and a follow-up after the fast pair.
@example(readings=_fast_pulses((40, 120), (35, 120)), visits=[(60, "controlled", 0, None)], record=None)
@example(readings=_fast_pulses((40, 120), (38, 80), (35, 120)), visits=[(60, "controlled", 0, None)], record=None)
@example(readings=_fast_pulses((2, 101), (1, 101)), visits=[(0, "controlled", 0, None)], record=None)
# A sitting of 150, 182, 148 (mean 160/91): complete, the urgent reading is not confirmed (yellow, grade 2); still
# open (its last reading 5 minutes ago), it holds; one of 182, 185 confirms it. Readings 14, 15 and 30 days old.
@example(
    readings=[("bp", "BP-A", 900 - 60 * i, v, d, None) for i, (v, d) in enumerate([(150, 90), (182, 96), (148, 88)])],
    visits=[(30, "controlled", 0, None)],
    record=None,
)
@example(
    readings=[("bp", "BP-A", 420 - 60 * i, v, d, None) for i, (v, d) in enumerate([(150, 90), (182, 96), (148, 88)])],
    visits=[],
    record=None,
)
@example(
    readings=[("bp", "BP-B", 3600 - 60 * i, v, 100, None) for i, v in enumerate([182, 185])], visits=[], record=None
)
@example(
    readings=[("bp", "BP-A", d * 86400, 130, 80, None) for d in (14, 15, 30)]
    + [("glucose", "GLU-A", 86400, 4.3, "fasting", "LO")],
    visits=[(100, "uncontrolled", 0, None)],
    record=None,
)
# Sittings at the gap: 599 s apart is one sitting, 600 s two; a meter change a second later is another.
@example(
    readings=[
        ("bp", "BP-A", 3000, 190, 100, None),
        ("bp", "BP-A", 2401, 150, 90, None),
        ("bp", "BP-A", 1200, 170, 111, None),
        ("bp", "BP-A", 600, 140, 80, None),
        ("bp", "BP-B", 599, 185, 100, None),
    ],
    visits=[],
    record=None,
)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    readings=st.tuples(
        st.lists(st.one_of(bp_reading, glucose_reading), max_size=20), st.lists(sitting, max_size=3)
    ).map(lambda t: t[0] + [r for group in t[1] for r in group]),
    visits=st.lists(visit, max_size=3),
    record=health_record,
)
def test_sql_summary_equals_python_summary(store, readings, visits, record):
    with psycopg.connect(store) as conn:
        pid = _insert(conn, readings, visits, record)
        stored = repo.load_readings(conn, [pid], since=NOW - LOOKBACK).get(pid, [])
        follow_ups = repo.load_follow_ups(conn, [pid]).get(pid, [])
        expected = summarise(readings=stored, follow_ups=follow_ups, now=NOW, rules=RULES)
        [(profile, by_id)] = repo.load_cases(conn, params=SummaryParams(NOW, RULES), patient_ids=[pid])
        [(_, by_range)] = repo.load_cases(conn, params=SummaryParams(NOW, RULES), id_range=(pid, pid))
        conn.rollback()
    assert profile.patient_id == pid and profile.diabetes and profile.health_record == record
    for code in expected.urgent_codes:
        event(code)  # --hypothesis-show-statistics: how often each rule's edge is reached
    event(f"heart_rate_high: {bool(expected.heart_rate_evidence)}")
    event(f"BP sittings < readings: {expected.bp_sittings < expected.bp_count}")
    assert by_id.canonical() == expected.canonical()
    assert by_range.canonical() == expected.canonical()
    decision = decide(profile=profile, summary=expected, now=NOW, rules=RULES)
    assert decide(profile=profile, summary=by_id, now=NOW, rules=RULES) == decision
    assert decide(profile=profile, summary=by_range, now=NOW, rules=RULES) == decision
