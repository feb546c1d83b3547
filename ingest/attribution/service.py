"""Which patient and which clinic a reading belongs to: decided at ingest, or later for readings kept waiting.

At ingest (`resolve`, inside the batch's transaction) ID-card references are replaced by their keyed hash, each
reading is bound to the clinic its meter stood in when it measured (`device_placement`, not today's), and the
patients are found. A reading whose reference matches nobody (or disagrees) is stored with `patient_id` null and a
`reading_unattributed` row saying why. Registering the patient (`register_patient`, `attach_id_card`) or a staff
match (`attribute`) moves it to the patient later and re-assesses them. Every move is recorded on the
`reading_unattributed` row (attributed_at, patient_id, attributed_by) and, for a staff match, in the append-only
audit trail (`audit_event`, action 'attribute_reading').
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import psycopg

from alerts.service import AlertContext, assess_and_alert
from cdm import audit
from cdm.audit import Actor
from cdm.id_keys import IdCardKeyring, parse_ref, ref_text
from cdm.identity import IdNumber, mask_id_number
from cdm.settings import Settings
from ingest import repo as ingest_repo
from ingest.attribution import repo
from ingest.attribution.logic import (
    Attribution,
    AttributionError,
    Found,
    NewPatient,
    Placed,
    Resolved,
    bind,
    by_scheme,
    candidates,
    check_agrees,
    check_staff_match,
    checked_number,
    duplicate_refusal,
    match,
    matched,
    references,
    registration_refs,
    waiting_rows,
)

BIRTH_YEARS = (1900, 2100)  # the patient table's check on birth_year (migration 0001)


@dataclass(frozen=True, slots=True)
class Reassess:
    """How and as of when to re-assess a patient whose readings moved (the rules and routes of the ingest path)."""

    ctx: AlertContext
    now: datetime

    @classmethod
    def from_settings(cls, settings: Settings, *, now: datetime) -> Reassess:
        """The county's rules and alert routes, as of `now`."""
        return cls(AlertContext.from_settings(settings), now)


def resolve(conn: psycopg.Connection, readings: Placed, *, attribution: Attribution) -> Resolved:
    """Pseudonymise ID-card references, bind each reading to its clinic at measurement time, find the patients
    (absent from the map: unattributed) and keep a `reading_unattributed` row for every reading without one."""
    placements = repo.placements(conn, {d.id for _, d in readings})
    protected, numbers = bind(readings, attribution=attribution, placements=placements)
    found = find_patients(conn, references(protected), numbers=numbers, keyring=attribution.keyring)
    patients, waiting = match(protected, numbers=numbers, found=found)
    repo.insert_waiting(conn, waiting_rows(protected, waiting))
    return protected, patients


def find_patients(
    conn: psycopg.Connection, refs: set[tuple[str, str]], *, numbers: dict[str, IdNumber], keyring: IdCardKeyring
) -> Found:
    """(patient id, sex, birth year) for each (scheme, value) reference that names a patient; an ID card's (its
    reference a key of `numbers`) under every key and chain of keys still on file."""
    grouped = by_scheme(refs)
    found: Found = {}
    for scheme in ("health_card", "qr"):
        if grouped[scheme]:
            found.update(
                {(scheme, v): p for v, p in repo.patients_by_card(conn, scheme=scheme, values=grouped[scheme]).items()}
            )
    if grouped["id_card"]:
        hits = match_numbers(conn, {ref: numbers[ref] for ref in grouped["id_card"]}, keyring=keyring)
        found.update({("id_card", ref): p for ref, p in hits.items()})
    return found


def match_numbers(
    conn: psycopg.Connection, numbers: dict[str, IdNumber], *, keyring: IdCardKeyring
) -> dict[str, tuple[int, str, int]]:
    """(patient id, sex, birth year) by reference for the ID-card numbers that name a patient, whichever key or
    chain of keys made the patient's stored hash."""
    wanted = candidates(numbers, keyring=keyring, chains=repo.chains(conn))
    return matched(repo.patients_by_id_card(conn, list(wanted)), wanted)


def _holder(conn: psycopg.Connection, number: IdNumber, keyring: IdCardKeyring) -> int | None:
    hit = match_numbers(conn, {"n": number}, keyring=keyring).get("n")
    return hit[0] if hit else None


def register_patient(
    conn: psycopg.Connection, patient: NewPatient, *, id_number: str | None, keyring: IdCardKeyring, reassess: Reassess
) -> dict[str, Any]:
    """Register a patient (with the ID card's keyed hash) and attribute the readings waiting for them."""
    id_card: tuple[bytes, str, str] | None = None
    forms: list[str] = []
    if id_number:
        number = checked_number(id_number)
        check_agrees(number, sex=patient.sex, birth_year=patient.birth_year)
        if _holder(conn, number, keyring) is not None:  # under whichever key their hash was made
            raise AttributionError("patients.refused.id_card_taken")
        key_id, hashed = keyring.hash(number)
        id_card = hashed, key_id, mask_id_number(number.number)
        forms = keyring.stored_forms(number, repo.chains(conn))
    village_id = ingest_repo.village_id(conn, patient.village_code)
    if village_id is None:
        raise AttributionError("patients.refused.no_village", code=patient.village_code)
    team_id = repo.care_team_id(conn, patient.team_code) if patient.team_code else None
    if patient.team_code and team_id is None:
        raise AttributionError("patients.refused.no_team", code=patient.team_code)
    try:
        with conn.transaction():
            patient_id = repo.insert_patient(conn, patient, village_id=village_id, team_id=team_id, id_card=id_card)
    except psycopg.errors.UniqueViolation as exc:
        raise duplicate_refusal(exc.diag.constraint_name) from None
    except psycopg.errors.CheckViolation:
        raise AttributionError("patients.refused.check", earliest=BIRTH_YEARS[0], latest=BIRTH_YEARS[1]) from None
    refs = registration_refs(patient, forms)
    moved = repo.move_by_refs(conn, patient_id=patient_id, by="registration", now=reassess.now, refs=refs)
    return {
        "patient_id": patient_id,
        "id_card": id_card[2] if id_card else None,
        "readings_attributed": moved,
        **_reassess(conn, patient_id, how=reassess),
    }


def attach_id_card(
    conn: psycopg.Connection, *, patient_card: str, id_number: str, keyring: IdCardKeyring, reassess: Reassess
) -> dict[str, Any]:
    """Record the ID card of a patient registered without one; readings waiting under it are attributed."""
    number = checked_number(id_number)
    patient = repo.patient_by_card(conn, patient_card, lock=True)
    if patient is None:
        raise AttributionError("patient.refused.no_card")
    holder = _holder(conn, number, keyring)
    if patient.id_card_hash is not None and holder != patient.id:
        raise AttributionError("patients.refused.other_id_card")
    if holder is not None and holder != patient.id:
        raise AttributionError("patients.refused.id_card_taken")
    check_agrees(number, sex=patient.sex, birth_year=patient.birth_year)
    masked = mask_id_number(number.number)
    if patient.id_card_hash is None:
        key_id, hashed = keyring.hash(number)
        try:
            with conn.transaction():
                repo.set_id_card(conn, patient_id=patient.id, hashed=hashed, key_id=key_id, masked=masked)
        except psycopg.errors.UniqueViolation:
            raise AttributionError("patients.refused.id_card_taken") from None
    refs = [("id_card", form) for form in keyring.stored_forms(number, repo.chains(conn))]
    moved = repo.move_by_refs(conn, patient_id=patient.id, by="registration", now=reassess.now, refs=refs)
    return {
        "patient_id": patient.id,
        "id_card": masked,
        "readings_attributed": moved,
        **_reassess(conn, patient.id, how=reassess),
    }


def attribute(
    conn: psycopg.Connection,
    *,
    patient_card: str,
    by: str,
    reassess: Reassess,
    reading: tuple[str, int] | None = None,
    ref: tuple[str, str] | None = None,
    keyring: IdCardKeyring | None = None,
    screen: str = "cli",
) -> dict[str, Any]:
    """Staff match: move one waiting reading (meter id, seq) or all waiting under a reference to a patient.

    Audited as `attribute_reading` by `by` on `screen` (the command line, or the data-quality screen).
    """
    if not by.strip():
        raise AttributionError("attribution.refused.no_actor")
    patient = repo.patient_by_card(conn, patient_card)
    if patient is None:
        raise AttributionError("patient.refused.no_card")
    keys = _waiting_keys(conn, reading=reading, ref=ref, keyring=keyring)
    if not keys:
        raise AttributionError("attribution.refused.nothing_waiting")
    check_staff_match(keys, patient)
    moved = repo.move_by_keys(conn, patient_id=patient.id, by=by, now=reassess.now, keys=keys)
    audit.record(
        conn,
        actor=Actor(by),
        action="attribute_reading",
        patient_id=patient.id,
        screen=screen,
        detail={"readings": moved},
        match_account=True,
    )
    return {"patient_id": patient.id, "readings_attributed": moved, **_reassess(conn, patient.id, how=reassess)}


def _waiting_keys(
    conn: psycopg.Connection,
    *,
    reading: tuple[str, int] | None,
    ref: tuple[str, str] | None,
    keyring: IdCardKeyring | None,
) -> Sequence[dict[str, Any]]:
    if reading is not None:
        return repo.waiting_by_reading(conn, uid=reading[0], seq=reading[1])
    if ref is None:
        raise AttributionError("attribution.refused.no_target")
    scheme, value = ref
    forms = [value]
    if scheme == "id_card":
        if keyring is None:
            raise AttributionError("attribution.refused.no_keys")
        forms = keyring.stored_forms(checked_number(value), repo.chains(conn))
    return repo.waiting_by_ref(conn, scheme=scheme, keys=forms)


def _reassess(conn: psycopg.Connection, patient_id: int, *, how: Reassess) -> dict[str, Any]:
    alerts = assess_and_alert(conn, patient_ids={patient_id}, fresh={patient_id}, now=how.now, ctx=how.ctx).alerts
    return {"colour": repo.current_colour(conn, patient_id), "alerts": len(alerts)}


def list_waiting(conn: psycopg.Connection, *, clinic_code: str | None, limit: int) -> list[dict[str, Any]]:
    """Readings waiting for a patient, newest first (references masked)."""
    return repo.list_waiting(conn, clinic_code=clinic_code, limit=limit)


def rekey(conn: psycopg.Connection, keyring: IdCardKeyring) -> dict[str, object]:
    """Wrap every stored ID-card hash not yet under the current key; what changed (the caller commits).

    Re-keying needs no ID numbers: every patient's hash, every waiting reading's and every reading's reference not
    yet under the current key becomes HMAC(new key, stored hash), its chain of key ids extended, in one
    transaction, one re-key at a time. Until it has run nothing is unlinked: a number is matched under every key
    still on file (`cdm id-cards rotate-key` / `rekey`; the README's Security section).
    """
    repo.lock_for_rekey(conn)
    current = keyring.current_id
    made: set[str] = set()
    patients = []
    for patient_id, chain, digest in repo.patients_to_rekey(conn, current):
        new_chain, new_digest = keyring.wrap(chain, digest)
        patients.append((patient_id, new_chain, new_digest))
        made.add(new_chain)
    repo.save_patient_hashes(conn, patients)
    counts: dict[str, object] = {"patients": len(patients)}
    for table in ("reading_unattributed", "reading"):
        rows = list(_wrapped_refs(repo.refs_to_rekey(conn, table, current), keyring, made))
        repo.save_refs(conn, table, rows)
        counts[table] = len(rows)
    repo.add_chains(conn, made)
    return {"key_id": current, "rekeyed": counts, "chains": sorted(made)}


def _wrapped_refs(
    rows: Iterable[tuple[object, object, object, str]], keyring: IdCardKeyring, made: set[str]
) -> Iterable[tuple[object, object, object, str]]:
    for k1, k2, k3, ref in rows:
        chain, digest = parse_ref(ref)
        new_chain, new_digest = keyring.wrap(chain, digest)
        made.add(new_chain)
        yield k1, k2, k3, ref_text(new_chain, new_digest)
