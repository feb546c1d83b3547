"""Which patient and which clinic a reading belongs to, decided at ingest; readings kept waiting when nobody matches.

At the meter the village doctor enters or scans the patient's health-card number, the card's QR code or the
ID-card number (GB 11643-1999). For an ID-card number ingest keeps only its keyed hash (`reading.patient_ref` is
`<key id>:<hex HMAC-SHA256>` for scheme id_card, cdm.id_keys) and matches it against `patient.id_card_hash` under
every key and chain of keys still on file (a re-key wraps stored hashes; see `cdm id-cards`); the number's birth
year and
sex must agree with the patient it matches. A reading whose reference matches nobody (or disagrees) is stored with
`patient_id` null and a `reading_unattributed` row saying why; registering the patient (`register_patient`) or a
staff match (`attribute`) moves it to the patient later and re-assesses them. The clinic of a reading is the one
the meter stood in when it measured (`device_placement`), not today's.
"""

from __future__ import annotations

import bisect
import dataclasses
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import psycopg

from cdm.domain import Reading
from cdm.id_keys import IdCardKeyring
from cdm.identity import IdNumber, IdNumberError, disagreement, mask_id_number, parse_id_number
from cdm.privacy import mask_card
from cdm.settings import Settings
from ingest.attribution import key_repo
from ingest.repo import DeviceInfo

Resolved = tuple[list[tuple[Reading, DeviceInfo]], dict[tuple[str, str], int]]


@dataclass(frozen=True, slots=True)
class Attribution:
    """What resolving patient references needs: the ID-card keys (cdm.id_keys)."""

    keyring: IdCardKeyring

    @classmethod
    def from_settings(cls, settings: Settings) -> Attribution:
        return cls(keyring=settings.id_card_keyring)

    @classmethod
    def ephemeral(cls) -> Attribution:
        """A random key of this process's own: hashes made under it match nothing stored (contexts built without
        settings, in tests)."""
        return cls(keyring=IdCardKeyring(current=secrets.token_bytes(32)))

    def hash_hex(self, number: IdNumber) -> str:
        """The reference kept for a number: `<key id>:<hex HMAC>` under the current key."""
        return self.keyring.ref(number)


@dataclass(frozen=True, slots=True)
class _Waiting:
    """Why a reading is kept for later matching, and what screens show of its reference."""

    reason: str
    masked: str | None = None
    birth_date: date | None = None
    sex: str | None = None


def resolve(
    conn: psycopg.Connection, readings: Sequence[tuple[Reading, DeviceInfo]], *, attribution: Attribution
) -> Resolved:
    """Pseudonymise ID-card references, bind each reading to its clinic at measurement time, find the patients
    (absent from the map: unattributed) and keep a `reading_unattributed` row for every reading without one."""
    protected: list[tuple[Reading, DeviceInfo]] = []
    numbers: dict[str, IdNumber] = {}  # hex hash -> checked number (kept in memory only for this batch)
    placements = _placements(conn, {d.id for _, d in readings})
    for reading, dev in readings:
        if reading.patient_scheme == "id_card" and reading.patient_ref:
            try:
                number = parse_id_number(reading.patient_ref)
            except IdNumberError:  # the payload schema refuses these; never keep one that slipped through
                reading = dataclasses.replace(reading, patient_scheme=None, patient_ref=None)
            else:
                hashed = attribution.hash_hex(number)
                numbers[hashed] = number
                reading = dataclasses.replace(reading, patient_ref=hashed)
        protected.append((reading, _placed(dev, reading.measured_at, placements)))
    patients, waiting = _match(conn, protected, numbers, attribution.keyring)
    _keep_waiting(conn, protected, waiting)
    return protected, patients


def _placements(conn: psycopg.Connection, device_ids: set[int]) -> dict[int, tuple[list[datetime], list[int]]]:
    if not device_ids:
        return {}
    out: dict[int, tuple[list[datetime], list[int]]] = {}
    for device_id, clinic_id, since in conn.execute(
        "select device_id, clinic_id, valid_from from device_placement where device_id = any(%s)"
        " order by device_id, valid_from",
        (sorted(device_ids),),
    ):
        times, clinics = out.setdefault(device_id, ([], []))
        times.append(since)
        clinics.append(clinic_id)
    return out


def _placed(dev: DeviceInfo, at: datetime, placements: dict[int, tuple[list[datetime], list[int]]]) -> DeviceInfo:
    if dev.id not in placements:
        return dev
    times, clinics = placements[dev.id]
    i = bisect.bisect_right(times, at) - 1
    clinic = clinics[i] if i >= 0 else clinics[0]
    return dev if clinic == dev.clinic_id else DeviceInfo(dev.id, dev.kind, clinic)


def _match(
    conn: psycopg.Connection,
    readings: list[tuple[Reading, DeviceInfo]],
    numbers: dict[str, IdNumber],
    keyring: IdCardKeyring,
) -> tuple[dict[tuple[str, str], int], dict[tuple[int, int], _Waiting]]:
    refs = {(r.patient_scheme, r.patient_ref) for r, _ in readings if r.patient_scheme and r.patient_ref}
    found = find_patients(conn, refs, numbers=numbers, keyring=keyring)
    patients: dict[tuple[str, str], int] = {}
    mismatched: set[str] = set()
    for (scheme, ref), (pid, sex, birth_year) in found.items():
        if scheme == "id_card" and disagreement(numbers[ref], sex=sex, birth_year=birth_year):
            mismatched.add(ref)
        else:
            patients[(scheme, ref)] = pid
    waiting: dict[tuple[int, int], _Waiting] = {}
    for r, d in readings:
        if not r.patient_scheme or not r.patient_ref:
            waiting[(d.id, r.seq)] = _Waiting("no_reference")
        elif (r.patient_scheme, r.patient_ref) not in patients:
            number = numbers.get(r.patient_ref) if r.patient_scheme == "id_card" else None
            waiting[(d.id, r.seq)] = _Waiting(
                "identity_mismatch" if number and r.patient_ref in mismatched else "no_match",
                masked=mask_id_number(number.number) if number else mask_card(r.patient_ref),
                birth_date=number.birth_date if number else None,
                sex=number.sex if number else None,
            )
    return patients, waiting


def find_patients(
    conn: psycopg.Connection, refs: set[tuple[str, str]], *, numbers: dict[str, IdNumber], keyring: IdCardKeyring
) -> dict[tuple[str, str], tuple[int, str, int]]:
    """(patient id, sex, birth year) for each (scheme, value) reference that names a patient; an ID card (its
    reference a key of `numbers`) is matched under every key and chain of keys still on file."""
    by_scheme: dict[str, list[str]] = {"health_card": [], "qr": [], "id_card": []}
    for scheme, value in refs:
        by_scheme.setdefault(scheme, []).append(value)
    found: dict[tuple[str, str], tuple[int, str, int]] = {}
    for scheme, column in (("health_card", "health_card_no"), ("qr", "qr_code")):
        if by_scheme[scheme]:
            for pid, sex, year, value in conn.execute(
                f"select id, sex, birth_year, {column} from patient where {column} = any(%s)",
                (by_scheme[scheme],),
            ):
                found[(scheme, value)] = (pid, sex, year)
    if by_scheme["id_card"]:
        hits = match_numbers(conn, {r: numbers[r] for r in by_scheme["id_card"]}, keyring=keyring)
        found |= {("id_card", ref): hit for ref, hit in hits.items()}
    return found


def match_numbers(
    conn: psycopg.Connection, numbers: dict[str, IdNumber], *, keyring: IdCardKeyring
) -> dict[str, tuple[int, str, int]]:
    """(patient id, sex, birth year) by reference for the ID-card numbers that name a patient, whichever key or
    chain of keys made the patient's stored hash."""
    chains = key_repo.chains(conn)
    wanted: dict[bytes, tuple[str, set[str]]] = {}  # candidate hash -> (reference, chains that make it)
    for ref, number in numbers.items():
        for digest, made_by in keyring.candidates(number, chains).items():
            wanted[digest] = (ref, made_by)
    found: dict[str, tuple[int, str, int]] = {}
    for pid, sex, year, digest, key_chain in key_repo.patients_by_hash(conn, wanted):
        ref, made_by = wanted[digest]
        if key_chain in made_by:
            found[ref] = (pid, sex, year)
    return found


def _keep_waiting(
    conn: psycopg.Connection, readings: list[tuple[Reading, DeviceInfo]], waiting: dict[tuple[int, int], _Waiting]
) -> None:
    rows = []
    for r, d in readings:
        w = waiting.get((d.id, r.seq))
        if w is not None:
            rows.append(
                (d.id, r.seq, r.measured_at, r.received_at, d.clinic_id, r.kind.value, r.patient_scheme,
                 r.patient_ref, w.masked, w.birth_date, w.sex, w.reason)
            )  # fmt: skip
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "insert into reading_unattributed (device_id, seq, measured_at, received_at, clinic_id, kind,"
            " ref_scheme, ref_key, ref_masked, ref_birth_date, ref_sex, reason)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
            rows,
        )
