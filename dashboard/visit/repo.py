"""SQL of one recorded visit for its print view, read only when the patient is in the viewer's scope."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from dashboard.access import Principal, scope_filter
from dashboard.followups.repo import TEAM_OF_PATIENT, TOWNSHIP_OF_PATIENT

_VISIT = """
select f.id, f.patient_id, f.done_on, f.class, f.next_due, f.next_step, f.recorded_by, f.form_kind, f.form,
       p.health_card_no
from follow_up f join patient p on p.id = f.patient_id join region v on v.id = p.village_id
where f.id = %(follow_up_id)s and ({scope})
"""


def visit_of(conn: psycopg.Connection, *, principal: Principal, follow_up_id: int) -> dict[str, Any] | None:
    """The visit and its form, or None when it does not exist or its patient is outside the viewer's scope."""
    scope, params = scope_filter(principal, township_col=TOWNSHIP_OF_PATIENT, team_col=TEAM_OF_PATIENT)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_VISIT.format(scope=scope), {**params, "follow_up_id": follow_up_id}).fetchone()


def form_kind(conn: psycopg.Connection, *, patient_id: int) -> str:
    """The visit form a patient's conditions call for first: hypertension's, else diabetes'."""
    row = conn.execute("select hypertension from patient where id = %s", (patient_id,)).fetchone()
    return "hypertension" if row and row[0] else "diabetes"
