"""The follow-up list's stored due date (assessment_current.followup_due, migration 0098) stays the date
alerts.followups.logic.due_date computes, after visits are recorded, corrected and removed and after the rules
change colours; and the list read through it is the list computed per patient. A writer may supply the date
(migration 0119)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from alerts.followups.logic import due_date
from assess.rules import RuleSettings
from assess.service import rescore
from cdm.domain import Colour
from cdm.thresholds import for_edition
from dashboard.followups.repo import STORED_DUE_TZ, followup_rows

from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration
TZ = ZoneInfo(STORED_DUE_TZ)
SAME_CLOCK = "Asia/Chongqing"  # the same offsets as Asia/Shanghai under another name: the list computes its dates

_INPUTS = """
select a.patient_id, a.colour, a.colour_since, f.done_on, f.next_due, p.registered_at, a.followup_due
from assessment_current a
join patient p on p.id = a.patient_id
left join lateral (
    select done_on, next_due from follow_up where patient_id = a.patient_id
    order by done_on desc, recorded_at desc, id desc limit 1
) f on true
order by a.patient_id
"""


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    return work_county(conn)


def _stored_and_computed(conn: psycopg.Connection) -> list[tuple[int, object, object]]:
    """(patient, stored, computed by alerts.followups.logic.due_date) for every assessed patient."""
    out = []
    for pid, colour, since, done, next_due, registered, stored in conn.execute(_INPUTS).fetchall():
        computed = due_date(
            colour=Colour(colour),
            colour_since=since.astimezone(TZ).date(),
            last_done=done,
            next_due=next_due,
            registered=registered.astimezone(TZ).date(),
        )
        out.append((pid, stored, computed))
    return out


def _assert_equal(county: WorkCounty) -> None:
    pairs = _stored_and_computed(county.conn)
    assert pairs and [(pid, stored) for pid, stored, _ in pairs] == [(pid, c) for pid, _, c in pairs]
    for username in ("county.li", "town.wang", "team.zhao", "team.qian"):
        principal = county.users[username]
        for filters in ({}, {"colours": ("green",)}, {"colours": ("yellow", "red")}, {"overdue_only": True}):
            stored = followup_rows(county.conn, principal=principal, today=county.today, tz=STORED_DUE_TZ, **filters)
            computed = followup_rows(county.conn, principal=principal, today=county.today, tz=SAME_CLOCK, **filters)
            assert stored == computed, (username, filters)
            assert (
                followup_rows(county.conn, principal=principal, today=county.today, limit=2, **filters)
                == (computed[:2])
            )


def test_the_stored_due_date_is_the_computed_one_after_visits(county: WorkCounty, db_url: str) -> None:
    _assert_equal(county)
    county.visit("C-red", days_ago=0, cls="uncontrolled")  # no next date: the 0081 trigger sets it, then 0098's
    county.visit("T-green", days_ago=3, next_due_in=30)
    _assert_equal(county)
    county.visit_through_form(db_url, "A-red")  # the screens' own path: the visit form, which also re-assesses
    _assert_equal(county)
    pid = county.patients["A-yellow"]
    county.conn.execute("update follow_up set next_due = done_on + 7 where patient_id = %s", (pid,))
    _assert_equal(county)
    county.conn.execute("delete from follow_up where patient_id = %s", (pid,))  # back to the registration date
    _assert_equal(county)
    county.conn.execute("update patient set registered_at = registered_at - interval '40 days' where id = %s", (pid,))
    _assert_equal(county)


def test_the_stored_due_date_follows_the_rules_colours(county: WorkCounty) -> None:
    county.bp("A-yellow", "bp-01", hours_ago=1, sbp=190, dbp=118)  # yellow, seen 10 days ago: due in 80 days
    before = dict((pid, stored) for pid, stored, _ in _stored_and_computed(county.conn))
    # one patient assessed for the first time (the bulk upsert proposes no date: the insert trigger computes it)
    county.conn.execute("delete from assessment_current where patient_id = %s", (county.patients["A-green"],))
    with county.conn.transaction():  # as ingest and the scheduler call it: in the caller's transaction
        changes = rescore(
            county.conn,
            patient_ids=county.patients.values(),
            now=county.now,
            rules=RuleSettings(thresholds=for_edition("2020")),
        )
    pid = county.patients["A-yellow"]
    assert pid in {c.patient_id for c in changes}
    _assert_equal(county)  # a colour kept keeps its date, a new colour and a first assessment get theirs
    assert county.patients["A-green"] in {p for p, _, _ in _stored_and_computed(county.conn)}
    after = dict((pid, stored) for pid, stored, _ in _stored_and_computed(county.conn))
    assert (before[pid], after[pid]) == (county.today + timedelta(days=80), county.today + timedelta(days=14))
    # the colour changed by hand (as the benchmark's busy minute does): the same
    county.conn.execute("update assessment_current set colour = 'yellow', colour_since = %s", (county.now,))
    _assert_equal(county)


def _stored_and_by_function(conn: psycopg.Connection) -> list[tuple[int, object, object]]:
    """(patient, stored, what the store's cdm_followup_due computes now) for every assessed patient."""
    return conn.execute(
        "select patient_id, followup_due, cdm_followup_due(patient_id, colour, colour_since)"
        " from assessment_current order by patient_id"
    ).fetchall()


def _assert_supplied(county: WorkCounty) -> None:
    _assert_equal(county)
    pairs = _stored_and_by_function(county.conn)
    assert [(pid, stored) for pid, stored, _ in pairs] == [(pid, computed) for pid, _, computed in pairs]


def test_the_triggers_compute_only_what_a_writer_leaves_out(county: WorkCounty) -> None:
    conn, pid, now = county.conn, county.patients["A-green"], county.now
    supplied = county.today + timedelta(days=3)
    conn.execute("update assessment_current set colour = 'red', colour_since = %s, followup_due = %s", (now, supplied))
    assert {stored for _, stored, _ in _stored_and_by_function(conn)} == {supplied}  # the writer's, as given
    conn.execute("update assessment_current set followup_due = null where patient_id = %s", (pid,))  # compute it
    conn.execute("update assessment_current set colour = 'yellow', colour_since = %s where patient_id <> %s",
                 (now - timedelta(days=1), pid))  # fmt: skip
    _assert_supplied(county)  # a colour changed without a date: computed
    conn.execute("delete from assessment_current where patient_id = %s", (pid,))
    conn.execute(
        "insert into assessment_current (patient_id, colour, reasons, priority, evidence, assessed_at, colour_since,"
        " rules_edition, followup_due) values (%s, 'green', '{}', 0, '{}', %s, %s, '2020', %s)",
        (pid, now, now, supplied),
    )
    assert conn.execute("select followup_due from assessment_current where patient_id = %s", (pid,)).fetchone() == (
        supplied,
    )
    conn.execute("delete from assessment_current where patient_id = %s", (pid,))
    conn.execute(
        "insert into assessment_current (patient_id, colour, reasons, priority, evidence, assessed_at, colour_since,"
        " rules_edition) values (%s, 'green', '{}', 0, '{}', %s, %s, '2020')",
        (pid, now, now),
    )
    _assert_supplied(county)  # inserted without one: computed
    # two visits on one day recorded at one moment (as an import records them): the row added last is the last visit
    tie = county.patients["B-yellow"]
    conn.execute(
        "insert into follow_up (patient_id, done_on, class, next_due, recorded_by, recorded_at)"
        " select %s, %s, 'controlled', d, 'doc', %s from unnest(%s::date[]) with ordinality u(d, k) order by k",
        (tie, county.today, now, [county.today + timedelta(days=d) for d in (50, 20, 70)]),
    )
    _assert_supplied(county)
    assert _stored_and_by_function(conn)[[p for p, _, _ in _stored_and_by_function(conn)].index(tie)][1] == (
        county.today + timedelta(days=70)
    )
