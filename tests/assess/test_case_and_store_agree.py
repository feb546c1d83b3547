"""`cdm assess --file` and the store's path give the same colour, reasons, figures and due dates for the same
history: each shipped case (assess/cases), and the issue-12 boundary cases, written into a real PostgreSQL and
assessed there as ingest and the nightly job do (the store fills a visit's next date in, migration 0081)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest

from assess import repo
from assess.case import parse_case
from assess.case_assess import to_domain
from assess.rules import RuleSettings, assess, decide
from assess.schedule import next_due
from assess.summary.repo import SummaryParams
from cdm.thresholds import for_edition
from tests.assess.store_history import health_record

pytestmark = pytest.mark.integration
CASES = sorted((Path(__file__).parents[2] / "assess" / "cases").glob("*.json"))
# An uncontrolled visit 15 days ago, not re-checked: overdue in both paths (issue 12 item 4).
UNCONTROLLED_15_DAYS = {
    "as_of": "2026-11-23T10:00:00+08:00",
    "patient": {"sex": "M", "birth_date": "1961-11-24", "diagnoses": ["hypertension"]},
    "readings": [{"kind": "bp", "measured_at": "2026-11-22T09:00:00+08:00", "systolic": 132, "diastolic": 82}],
    "follow_ups": [{"date": "2026-11-08", "class": "uncontrolled"}],
}
# A controlled visit whose doctor asked to see the patient again sooner than 3 months, on 2026-11-15: overdue.
STATED_NEXT_DATE = {
    **UNCONTROLLED_15_DAYS,
    "follow_ups": [{"date": "2026-10-01", "class": "controlled", "next_due": "2026-11-15"}],
}


def _store(conn: psycopg.Connection, text: str) -> tuple[int, object]:
    case = parse_case(text)
    inputs = to_domain(case)
    p, record = inputs.profile, inputs.profile.health_record
    assert record is not None
    region = conn.execute("insert into region (code, name, level) values ('c', 'c', 'county') returning id")
    vid = conn.execute(
        "insert into region (code, name, level, parent_id) values ('v', 'v', 'village', %s) returning id",
        (region.fetchone()[0],),  # type: ignore[index]
    ).fetchone()[0]  # type: ignore[index]
    device = conn.execute(
        "insert into device (uid, kind, clinic_id) values ('file', 'bp', %s) returning id", (vid,)
    ).fetchone()[0]  # type: ignore[index]
    pid = conn.execute(
        "insert into patient (health_card_no, sex, birth_year, hypertension, diabetes, village_id, registered_at)"
        " values ('c1', %s, %s, %s, %s, %s, %s) returning id",
        (p.sex, p.birth_year, p.hypertension, p.diabetes, vid, inputs.now - timedelta(days=400)),
    ).fetchone()[0]  # type: ignore[index]
    health_record(conn, pid, record)
    for r in inputs.readings:
        conn.execute(
            "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, systolic,"
            " diastolic, pulse, glucose_mmol, glucose_context) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s,"
            " %s)",
            (device, r.seq, r.measured_at, r.received_at, vid, r.kind.value, pid, r.systolic, r.diastolic, r.pulse,
             r.glucose_mmol, r.glucose_context.value if r.glucose_context else None),
        )  # fmt: skip
    for f in inputs.follow_ups:
        conn.execute(  # no next date stated: the store fills it in by the visit's class
            "insert into follow_up (patient_id, done_on, class, recorded_by, recorded_at, next_due)"
            " values (%s, %s, %s, 'dr', %s, %s)",
            (pid, f.done_on, f.follow_up_class.value, f.recorded_at, f.next_due),
        )
    return pid, inputs


@pytest.mark.parametrize(
    "text",
    [p.read_text() for p in CASES] + [json.dumps(UNCONTROLLED_15_DAYS), json.dumps(STATED_NEXT_DATE)],
    ids=[p.stem for p in CASES] + ["due", "stated_due"],
)
def test_the_case_path_and_the_store_agree(admin_db_url, text):
    edition = (json.loads(text).get("expected") or {}).get("edition", "2020")  # the edition a case was written for
    rules = RuleSettings(thresholds=for_edition(edition))
    with psycopg.connect(admin_db_url) as conn:
        pid, inputs = _store(conn, text)
        by_file = assess(
            profile=inputs.profile,  # type: ignore[attr-defined]
            readings=inputs.readings,  # type: ignore[attr-defined]
            follow_ups=inputs.follow_ups,  # type: ignore[attr-defined]
            now=inputs.now,  # type: ignore[attr-defined]
            rules=rules,
        )
        [(profile, summary)] = repo.load_cases(
            conn,
            params=SummaryParams(inputs.now, rules),  # type: ignore[attr-defined]
            patient_ids=[pid],
        )
        conn.rollback()
    by_store = decide(profile=profile, summary=summary, now=inputs.now, rules=rules)  # type: ignore[attr-defined]
    assert (by_store.colour, by_store.reasons, by_store.facts) == (by_file.colour, by_file.reasons, by_file.facts)
    # the next visit's due date: the one the store filled in (migration 0081) is the one the case path computes
    last = max(inputs.follow_ups, key=lambda f: (f.done_on, f.recorded_at))  # type: ignore[attr-defined]
    assert summary.last_next_due == next_due(last.follow_up_class, last.done_on, last.next_due)
    if text in (json.dumps(UNCONTROLLED_15_DAYS), json.dumps(STATED_NEXT_DATE)):
        assert by_file.colour.value == "yellow" and by_file.reasons == ("follow_up_overdue",)
