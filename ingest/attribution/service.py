"""Attributing waiting readings later: when the patient is registered, or when staff match one; then re-assess.

Every move is recorded on the `reading_unattributed` row (attributed_at, patient_id, attributed_by) and, for a
staff match, in the append-only audit trail (`audit_event`, action 'attribute_reading').
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from alerts.service import AlertContext, assess_and_alert
from cdm.identity import IdNumberError, disagreement, id_card_hash, mask_id_number, parse_id_number
from cdm.settings import Settings


class AttributionError(LookupError):
    """A match the store refuses; the message says why (never an identity number).

    `identity` is set when the refusal is that the ID-card number entered at the meter is not the patient's.
    """

    def __init__(self, message: str, *, identity: bool = False) -> None:
        super().__init__(message)
        self.identity = identity


@dataclass(frozen=True, slots=True)
class Reassess:
    """How and as of when to re-assess a patient whose readings moved (the rules and routes of the ingest path)."""

    ctx: AlertContext
    now: datetime

    @classmethod
    def from_settings(cls, settings: Settings, *, now: datetime) -> Reassess:
        """The county's rules and alert routes, as of `now`."""
        return cls(AlertContext.from_settings(settings), now)


@dataclass(frozen=True, slots=True)
class NewPatient:
    health_card_no: str
    sex: str
    birth_year: int
    village_code: str
    team_code: str | None
    hypertension: bool
    diabetes: bool
    qr_code: str | None = None


def register_patient(
    conn: psycopg.Connection, patient: NewPatient, *, id_number: str | None, key: bytes, reassess: Reassess
) -> dict[str, Any]:
    """Register a patient (with the ID card's keyed hash) and attribute the readings waiting for them."""
    hashed = masked = None
    if id_number:
        try:
            number = parse_id_number(id_number)
        except IdNumberError as exc:
            raise AttributionError(str(exc)) from None
        problem = disagreement(number, sex=patient.sex, birth_year=patient.birth_year)
        if problem:
            raise AttributionError(problem)
        hashed, masked = id_card_hash(number, key), mask_id_number(number.number)
    village = conn.execute("select id from region where code = %s and level = 'village'", (patient.village_code,))
    village_row = village.fetchone()
    if village_row is None:
        raise AttributionError(f"no village {patient.village_code!r}")
    team_row = conn.execute("select id from care_team where code = %s", (patient.team_code,)).fetchone()
    if patient.team_code and team_row is None:
        raise AttributionError(f"no family-doctor team {patient.team_code!r}")
    try:
        with conn.transaction():
            row = conn.execute(
                "insert into patient (health_card_no, qr_code, sex, birth_year, hypertension, diabetes, village_id,"
                " team_id, id_card_hash, id_card_masked) values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " returning id",
                (patient.health_card_no, patient.qr_code, patient.sex, patient.birth_year, patient.hypertension,
                 patient.diabetes, village_row[0], team_row[0] if team_row else None, hashed, masked),
            ).fetchone()  # fmt: skip
    except psycopg.errors.UniqueViolation as exc:
        what = (exc.diag.constraint_name or "").removeprefix("patient_").removesuffix("_key")
        raise AttributionError(f"another patient already has this {what or 'number'}") from None
    except psycopg.errors.CheckViolation:
        raise AttributionError("a patient has hypertension, diabetes or both, and a birth year 1900-2100") from None
    patient_id = int(row[0]) if row else 0
    refs = [("health_card", patient.health_card_no)]
    refs += [("qr", patient.qr_code)] if patient.qr_code else []
    refs += [("id_card", hashed.hex())] if hashed else []
    moved = _move(conn, patient_id=patient_id, by="registration", now=reassess.now, refs=refs)
    return {
        "patient_id": patient_id,
        "id_card": masked,
        "readings_attributed": moved,
        **_reassess(conn, patient_id, reassess),
    }


def attach_id_card(
    conn: psycopg.Connection, *, patient_card: str, id_number: str, key: bytes, reassess: Reassess
) -> dict[str, Any]:
    """Record the ID card of a patient registered without one; readings waiting under it are attributed."""
    try:
        number = parse_id_number(id_number)
    except IdNumberError as exc:
        raise AttributionError(str(exc)) from None
    found = conn.execute(
        "select id, sex, birth_year, id_card_hash from patient where health_card_no = %s for update", (patient_card,)
    ).fetchone()
    if found is None:
        raise AttributionError("no patient with that health-card number")
    patient_id, sex, birth_year, existing = found
    hashed = id_card_hash(number, key)
    if existing is not None and bytes(existing) != hashed:
        raise AttributionError("this patient already has another ID-card number on record")
    problem = disagreement(number, sex=sex, birth_year=birth_year)
    if problem:
        raise AttributionError(problem)
    try:
        with conn.transaction():
            conn.execute(
                "update patient set id_card_hash = %s, id_card_masked = %s where id = %s",
                (hashed, mask_id_number(number.number), patient_id),
            )
    except psycopg.errors.UniqueViolation:
        raise AttributionError("another patient already has this ID-card number") from None
    moved = _move(conn, patient_id=patient_id, by="registration", now=reassess.now, refs=[("id_card", hashed.hex())])
    return {
        "patient_id": patient_id,
        "id_card": mask_id_number(number.number),
        "readings_attributed": moved,
        **_reassess(conn, patient_id, reassess),
    }


def attribute(
    conn: psycopg.Connection,
    *,
    patient_card: str,
    by: str,
    reassess: Reassess,
    reading: tuple[str, int] | None = None,
    ref: tuple[str, str] | None = None,
    key: bytes = b"",
    screen: str = "cli",
) -> dict[str, Any]:
    """Staff match: move one waiting reading (meter id, seq) or all waiting under a reference to a patient.

    Audited as `attribute_reading` by `by` on `screen` (the command line, or the data-quality screen).
    """
    if not by.strip():
        raise AttributionError("say who you are (--by): staff matches are audited")
    found = conn.execute(
        "select id, sex, birth_year, id_card_hash from patient where health_card_no = %s", (patient_card,)
    ).fetchone()
    if found is None:
        raise AttributionError("no patient with that health-card number")
    patient_id, sex, birth_year, patient_hash = found
    keys = _waiting_keys(conn, reading=reading, ref=ref, key=key)
    if not keys:
        raise AttributionError("no reading waiting for a patient matches that")
    for k in keys:
        if k["ref_scheme"] == "id_card":
            if patient_hash is not None and bytes(patient_hash).hex() != k["ref_key"]:
                raise AttributionError("the ID-card number entered at the meter is not this patient's", identity=True)
            if k["ref_sex"] != sex or k["ref_birth_date"].year != birth_year:
                raise AttributionError(
                    "the ID-card number entered at the meter disagrees with the patient's sex or birth year",
                    identity=True,
                )
    moved = _move(conn, patient_id=patient_id, by=by, now=reassess.now, keys=keys)
    conn.execute(
        "insert into audit_event (user_id, username, action, patient_id, screen, detail)"
        " values ((select id from app_user where username = %s), %s, 'attribute_reading', %s, %s, %s)",
        (by, by, patient_id, screen, json.dumps({"readings": moved})),
    )
    return {"patient_id": patient_id, "readings_attributed": moved, **_reassess(conn, patient_id, reassess)}


def _waiting_keys(
    conn: psycopg.Connection, *, reading: tuple[str, int] | None, ref: tuple[str, str] | None, key: bytes
) -> list[dict[str, Any]]:
    base = (
        "select u.device_id, u.seq, u.measured_at, u.ref_scheme, u.ref_key, u.ref_sex, u.ref_birth_date"
        " from reading_unattributed u join device d on d.id = u.device_id where u.attributed_at is null"
    )
    with conn.cursor(row_factory=dict_row) as cur:
        if reading is not None:
            return cur.execute(base + " and d.uid = %s and u.seq = %s", reading).fetchall()
        if ref is None:
            raise AttributionError("name a reading (--meter and --seq) or a reference (--ref-scheme and --ref)")
        scheme, value = ref
        if scheme == "id_card":
            try:
                value = id_card_hash(parse_id_number(value), key).hex()
            except IdNumberError as exc:
                raise AttributionError(str(exc)) from None
        return cur.execute(base + " and u.ref_scheme = %s and u.ref_key = %s", (scheme, value)).fetchall()


def _move(
    conn: psycopg.Connection,
    *,
    patient_id: int,
    by: str,
    now: datetime,
    refs: list[tuple[str, str]] | None = None,
    keys: list[dict[str, Any]] | None = None,
) -> int:
    if refs is not None:
        where = "u.reason = 'no_match' and (u.ref_scheme, u.ref_key) in (select * from unnest(%s::text[], %s::text[]))"
        params: tuple[Any, ...] = ([s for s, _ in refs], [v for _, v in refs])
    else:
        where = (
            "(u.device_id, u.seq, u.measured_at) in"
            " (select * from unnest(%s::integer[], %s::bigint[], %s::timestamptz[]))"
        )
        params = tuple([k[c] for k in keys or []] for c in ("device_id", "seq", "measured_at"))
    cur = conn.execute(
        "with moved as (update reading_unattributed u set attributed_at = %s, patient_id = %s, attributed_by = %s"
        f" where u.attributed_at is null and {where} returning u.device_id, u.seq, u.measured_at)"
        " update reading r set patient_id = %s from moved m where r.device_id = m.device_id and r.seq = m.seq"
        " and r.measured_at = m.measured_at and r.patient_id is null",
        (now, patient_id, by, *params, patient_id),
    )
    return cur.rowcount


def _reassess(conn: psycopg.Connection, patient_id: int, how: Reassess) -> dict[str, Any]:
    alerts = assess_and_alert(conn, patient_ids={patient_id}, fresh={patient_id}, now=how.now, ctx=how.ctx).alerts
    row = conn.execute("select colour from assessment_current where patient_id = %s", (patient_id,)).fetchone()
    return {"colour": row[0] if row else None, "alerts": len(alerts)}


def list_waiting(conn: psycopg.Connection, *, clinic_code: str | None, limit: int) -> list[dict[str, Any]]:
    """Readings waiting for a patient, newest first (references masked)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            "select d.uid as meter, u.seq, u.measured_at, c.code as clinic, u.kind, u.ref_scheme, u.ref_masked,"
            " u.reason, r.systolic, r.diastolic, r.glucose_mmol from reading_unattributed u"
            " join device d on d.id = u.device_id join region c on c.id = u.clinic_id"
            " left join reading r on (r.device_id, r.seq, r.measured_at) = (u.device_id, u.seq, u.measured_at)"
            " where u.attributed_at is null and (%(clinic)s::text is null or c.code = %(clinic)s)"
            " order by u.measured_at desc limit %(limit)s",
            {"clinic": clinic_code, "limit": limit},
        ).fetchall()
