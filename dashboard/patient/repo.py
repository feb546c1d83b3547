"""All SQL of the patient detail screen: one patient's record, readings, colour history, risk, alerts and visits,
read only when the patient is in the viewer's scope (dashboard.access) — otherwise nothing at all is read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from cdm.domain import HealthRecord, PatientProfile
from cdm.privacy import mask_card
from dashboard.access import Principal, scope_filter
from dashboard.followups.repo import TEAM_OF_PATIENT, TOWNSHIP_OF_PATIENT

_HEADER = """
select p.id, p.health_card_no, p.sex, p.birth_year, p.hypertension, p.diabetes, p.registered_at,
       tw.name as township, case v.level when 'village' then v.name end as village, ct.name as team,
       {identity},
       a.colour, a.reasons, a.reason_facts, a.priority, a.colour_since, a.assessed_at, a.rules_edition,
       a.ascvd_10y_percent, a.ascvd_category, a.model_version, a.risk_probability,
       (select to_jsonb(h) - 'patient_id' - 'updated_at' from health_record h where h.patient_id = p.id)
           as health_record,
       rs.scored_at, rs.model_version as scored_model, rs.probability as scored_probability,
       rs.ascvd_10y_percent as scored_ascvd, rs.ascvd_category as scored_category
from patient p
join region v on v.id = p.village_id
join region tw on tw.id = {township}
left join care_team ct on ct.id = p.team_id
left join assessment_current a on a.patient_id = p.id
left join risk_score rs on rs.patient_id = p.id
{contact}
where p.id = %(patient_id)s and ({scope})
"""
_IDENTITY = "pc.phone, p.id_card_masked"
_NO_IDENTITY = "null::text as phone, null::text as id_card_masked"
_CONTACT_JOIN = "left join patient_contact pc on pc.patient_id = p.id"

_READINGS = """
select coalesce(d.uid, r.source) as device_uid, r.seq, r.kind, r.measured_at, r.systolic, r.diastolic, r.pulse,
       r.glucose_mmol, r.glucose_flag, r.glucose_context
from reading r left join device d on d.id = r.device_id
where r.patient_id = %(patient_id)s and r.measured_at >= %(since)s and r.measured_at <= %(now)s
order by r.measured_at
"""
_HISTORY = """
select assessed_at, colour, previous_colour, reasons, evidence, priority, model_version, risk_probability,
       reason_facts
from assessment_history where patient_id = %(patient_id)s order by assessed_at desc, id desc limit %(limit)s
"""
_ALERTS = """
select id, kind, severity, status, reasons, opened_at, acknowledged_at, acknowledged_by, closed_at, closed_by, outcome,
       occurrences, reason_facts
from alert where patient_id = %(patient_id)s order by opened_at desc limit %(limit)s
"""
_FOLLOW_UPS = """
select done_on, class, next_step, next_due, recorded_by, recorded_at
from follow_up where patient_id = %(patient_id)s order by done_on desc, recorded_at desc limit %(limit)s
"""

HISTORY_LIMIT = 50  # changes of colour or reasons shown; the store keeps them all
LIST_LIMIT = 30  # alerts and visits shown


@dataclass(frozen=True)
class PatientDetail:
    """What the patient detail screen shows; `header` has the masked card, never the number itself."""

    header: dict[str, Any]
    readings: list[dict[str, Any]]
    history: list[dict[str, Any]]
    alerts: list[dict[str, Any]]
    follow_ups: list[dict[str, Any]]

    @property
    def age_year(self) -> int:
        return int(self.header["birth_year"])


def patient_detail(
    conn: psycopg.Connection, *, principal: Principal, patient_id: int, since: datetime, now: datetime
) -> PatientDetail | None:
    """The patient's record when `principal` may see the patient; None (nothing else read) otherwise."""
    scope, params = scope_filter(principal, township_col=TOWNSHIP_OF_PATIENT, team_col=TEAM_OF_PATIENT)
    identity = principal.sees_identity
    query = _HEADER.format(
        identity=_IDENTITY if identity else _NO_IDENTITY,
        contact=_CONTACT_JOIN if identity else "",
        township=TOWNSHIP_OF_PATIENT,
        scope=scope,
    )
    bound: dict[str, object] = {"patient_id": patient_id, "since": since, "now": now, "limit": LIST_LIMIT}
    with conn.cursor(row_factory=dict_row) as cur:
        header = cur.execute(query, {**params, **bound}).fetchone()
        if header is None:
            return None
        header["card"] = mask_card(header.pop("health_card_no"))
        readings = cur.execute(_READINGS, bound).fetchall()
        history = cur.execute(_HISTORY, {**bound, "limit": HISTORY_LIMIT}).fetchall()
        alerts = cur.execute(_ALERTS, bound).fetchall()
        follow_ups = cur.execute(_FOLLOW_UPS, bound).fetchall()
    return PatientDetail(header=header, readings=readings, history=history, alerts=alerts, follow_ups=follow_ups)


def colour_changing_evidence(history: list[dict[str, Any]]) -> set[str]:
    """The "device_uid:seq" keys of the readings behind each change of colour (the first assessment counts)."""
    keys: set[str] = set()
    for row in history:
        if row["previous_colour"] != row["colour"]:
            keys.update(row["evidence"] or ())
    return keys


def reading_key(reading: dict[str, Any]) -> str:
    """A reading's evidence key, as assessments record it (assess.summary.logic: "device_uid:seq")."""
    return f"{reading['device_uid']}:{reading['seq']}"


def age_on(detail: PatientDetail, day: date) -> int:
    """The patient's age in completed years on `day`, as the rules count it (with only the birth year, the older
    it could mean)."""
    return profile_of(detail).age_on(day)


def profile_of(detail: PatientDetail) -> PatientProfile:
    """What the rules know of the patient, with the health record: completed age from its birth date where it is
    kept, and what China-PAR reads."""
    h = detail.header
    fields = dict(h.get("health_record") or {})
    record = None
    if fields:
        born = fields.pop("birth_date", None)
        fields["complications"] = tuple(fields.get("complications") or ())
        known = {k: v for k, v in fields.items() if k in HealthRecord.__dataclass_fields__}
        record = HealthRecord(birth_date=date.fromisoformat(born) if born else None, **known)
    return PatientProfile(h["id"], h["sex"], h["birth_year"], h["hypertension"], h["diabetes"], health_record=record)
