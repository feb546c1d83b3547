"""Pure parts of attribution: pseudonymising ID-card references, the clinic at measurement time, who matches whom.

At the meter the village doctor enters or scans the patient's health-card number, the card's QR code or the
ID-card number (GB 11643-1999). For an ID-card number ingest keeps only its keyed hash (`reading.patient_ref` is
`<key id>:<hex HMAC-SHA256>` for scheme id_card, cdm.id_keys) and matches it against `patient.id_card_hash` under
every key and chain of keys still on file (a re-key wraps the stored hashes: `cdm id-cards`); the number's birth
year and sex must agree with the patient it matches.
"""

from __future__ import annotations

import bisect
import dataclasses
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from cdm.domain import Reading
from cdm.i18n import Refusal
from cdm.id_keys import IdCardKeyring, parse_ref
from cdm.identity import EARLIEST_BIRTH, IdNumber, IdNumberError, disagreement, mask_id_number, parse_id_number
from cdm.privacy import mask_card
from cdm.settings import Settings
from ingest.message import DeviceInfo

Placed = list[tuple[Reading, DeviceInfo]]
Placements = dict[int, tuple[list[datetime], list[int]]]  # device id -> (valid_from times, clinic ids), in order
Found = dict[tuple[str, str], tuple[int, str, int]]  # (scheme, value) -> (patient id, sex, birth year)
Resolved = tuple[Placed, dict[tuple[str, str], int]]


class AttributionError(Refusal, LookupError):
    """A match or registration the store refuses: a catalogue key and its values saying why, in the reader's
    language (never an identity number).

    `identity` is set when the refusal is that the ID-card number entered at the meter is not the patient's.
    """

    def __init__(self, key: str, *, identity: bool = False, **values: object) -> None:
        super().__init__(key, **values)
        self.identity = identity


@dataclass(frozen=True, slots=True)
class Attribution:
    """What resolving patient references needs: the ID-card keys (cdm.id_keys)."""

    keyring: IdCardKeyring

    @classmethod
    def from_settings(cls, settings: Settings) -> Attribution:
        """The county's ID-card key and the retired ones still on file."""
        return cls(keyring=settings.id_card_keyring)

    @classmethod
    def ephemeral(cls) -> Attribution:
        """A random key of this process's own: its hashes match nothing stored (contexts built without settings)."""
        return cls(keyring=IdCardKeyring(current=secrets.token_bytes(32)))

    def hash_hex(self, number: IdNumber) -> str:
        """The reference kept for a checked number: `<key id>:<hex HMAC>` under the current key."""
        return self.keyring.ref(number)


@dataclass(frozen=True, slots=True)
class NewPatient:
    """A patient to register, as the village doctor gives them."""

    health_card_no: str
    sex: str
    birth_year: int
    village_code: str
    team_code: str | None
    hypertension: bool
    diabetes: bool
    qr_code: str | None = None


@dataclass(frozen=True, slots=True)
class PatientIdentity:
    """What a match is checked against: the patient's sex, birth year and ID card's keyed hash."""

    id: int
    sex: str
    birth_year: int
    id_card_hash: bytes | None
    id_card_key_id: str | None = None  # the key (or chain of keys) that made the hash


@dataclass(frozen=True, slots=True)
class Waiting:
    """Why a reading is kept for later matching, and what screens show of its reference."""

    reason: str
    masked: str | None = None
    birth_date: date | None = None
    sex: str | None = None


def bind(readings: Placed, *, attribution: Attribution, placements: Placements) -> tuple[Placed, dict[str, IdNumber]]:
    """Each reading with its ID-card reference replaced by the keyed hash and its meter's clinic at measurement
    time; and the checked numbers by hash (kept in memory for this batch only)."""
    protected: Placed = []
    numbers: dict[str, IdNumber] = {}
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
        protected.append((reading, placed(dev, at=reading.measured_at, placements=placements)))
    return protected, numbers


def placed(dev: DeviceInfo, *, at: datetime, placements: Placements) -> DeviceInfo:
    """The meter as it stood at `at`: in the clinic of its placement then (its first one before any)."""
    if dev.id not in placements:
        return dev
    times, clinics = placements[dev.id]
    i = bisect.bisect_right(times, at) - 1
    clinic = clinics[i] if i >= 0 else clinics[0]
    return dev if clinic == dev.clinic_id else DeviceInfo(dev.id, dev.kind, clinic)


def references(readings: Placed) -> set[tuple[str, str]]:
    """The (scheme, value) patient references the readings carry."""
    return {(r.patient_scheme, r.patient_ref) for r, _ in readings if r.patient_scheme and r.patient_ref}


def by_scheme(refs: Iterable[tuple[str, str]]) -> dict[str, list[str]]:
    """Reference values grouped by scheme (health_card, qr, id_card always present)."""
    grouped: dict[str, list[str]] = {"health_card": [], "qr": [], "id_card": []}
    for scheme, value in refs:
        grouped.setdefault(scheme, []).append(value)
    return grouped


def match(
    readings: Placed, *, numbers: Mapping[str, IdNumber], found: Found
) -> tuple[dict[tuple[str, str], int], dict[tuple[int, int], Waiting]]:
    """Patients by reference (an ID card whose sex or birth year disagrees matches nobody), and why each reading
    without one waits, by (device id, seq)."""
    patients: dict[tuple[str, str], int] = {}
    mismatched: set[str] = set()
    for (scheme, ref), (pid, sex, birth_year) in found.items():
        if scheme == "id_card" and disagreement(numbers[ref], sex=sex, birth_year=birth_year):
            mismatched.add(ref)
        else:
            patients[(scheme, ref)] = pid
    waiting: dict[tuple[int, int], Waiting] = {}
    for r, d in readings:
        if not r.patient_scheme or not r.patient_ref:
            waiting[(d.id, r.seq)] = Waiting("no_reference")
        elif (r.patient_scheme, r.patient_ref) not in patients:
            number = numbers.get(r.patient_ref) if r.patient_scheme == "id_card" else None
            waiting[(d.id, r.seq)] = Waiting(
                "identity_mismatch" if number and r.patient_ref in mismatched else "no_match",
                masked=mask_id_number(number.number) if number else mask_card(r.patient_ref),
                birth_date=number.birth_date if number else None,
                sex=number.sex if number else None,
            )
    return patients, waiting


def waiting_rows(readings: Placed, waiting: Mapping[tuple[int, int], Waiting]) -> list[tuple[object, ...]]:
    """The `reading_unattributed` rows of the waiting readings (repo.insert_waiting's column order)."""
    rows: list[tuple[object, ...]] = []
    for r, d in readings:
        w = waiting.get((d.id, r.seq))
        if w is not None:
            rows.append(
                (d.id, r.seq, r.measured_at, r.received_at, d.clinic_id, r.kind.value, r.patient_scheme,
                 r.patient_ref, w.masked, w.birth_date, w.sex, w.reason)
            )  # fmt: skip
    return rows


def checked_number(text: str) -> IdNumber:
    """The ID-card number checked, or an AttributionError saying what is wrong with it."""
    try:
        return parse_id_number(text)
    except IdNumberError as exc:
        raise AttributionError(f"attribution.refused.id_{exc.reason}", earliest=EARLIEST_BIRTH.year) from None


def check_agrees(number: IdNumber, *, sex: str, birth_year: int) -> None:
    """Refuse an ID-card number whose sex or birth year is not the patient's."""
    if disagreement(number, sex=sex, birth_year=birth_year):
        raise AttributionError(f"attribution.refused.id_{'sex' if number.sex != sex else 'birth_year'}")


def registration_refs(patient: NewPatient, id_card_forms: Sequence[str]) -> list[tuple[str, str]]:
    """The references readings may wait under for a newly registered patient (an ID card's, under every key and
    chain of keys still on file: IdCardKeyring.stored_forms)."""
    refs = [("health_card", patient.health_card_no)]
    refs += [("qr", patient.qr_code)] if patient.qr_code else []
    refs += [("id_card", form) for form in id_card_forms]
    return refs


Candidates = dict[bytes, tuple[str, set[str]]]  # a hash a stored row may hold -> (reference, chains that make it)


def candidates(numbers: Mapping[str, IdNumber], *, keyring: IdCardKeyring, chains: Sequence[str]) -> Candidates:
    """Every hash a patient's stored row of each number may hold, under every key and chain of keys on file."""
    wanted: Candidates = {}
    for ref, number in numbers.items():
        for digest, made_by in keyring.candidates(number, chains).items():
            wanted[digest] = (ref, made_by)
    return wanted


def matched(rows: Iterable[tuple[int, str, int, bytes, str]], wanted: Candidates) -> dict[str, tuple[int, str, int]]:
    """(patient id, sex, birth year) by reference, for stored rows (id, sex, year, hash, key id) whose hash was
    made along a chain that makes it from the number."""
    found: dict[str, tuple[int, str, int]] = {}
    for pid, sex, year, digest, key_chain in rows:
        ref, made_by = wanted[digest]
        if key_chain in made_by:
            found[ref] = (pid, sex, year)
    return found


# The patient table's unique constraints (migrations 0001, 0008), and what a refusal calls the number they hold.
_TAKEN = {
    "patient_health_card_no_key": "patients.refused.health_card_taken",
    "patient_qr_code_key": "patients.refused.qr_taken",
    "patient_id_card_hash_key": "patients.refused.id_card_taken",
}


def duplicate_refusal(constraint: str | None) -> AttributionError:
    """The refusal for a patient whose number another patient has (named by the violated unique constraint)."""
    return AttributionError(_TAKEN.get(constraint or "", "patients.refused.number_taken"))


def check_staff_match(waiting: Sequence[Mapping[str, Any]], patient: PatientIdentity) -> None:
    """Refuse a staff match when an ID-card number entered at the meter is not the patient's or disagrees."""
    for k in waiting:
        if k["ref_scheme"] != "id_card":
            continue
        chain, digest = parse_ref(k["ref_key"])
        # Hashes made along different chains of keys cannot be compared without the number (sex and birth year
        # still are, below); along the same chain, different hashes are different numbers.
        if patient.id_card_hash is not None and chain == patient.id_card_key_id and patient.id_card_hash != digest:
            raise AttributionError("attribution.refused.id_not_patient", identity=True)
        if k["ref_sex"] != patient.sex or k["ref_birth_date"].year != patient.birth_year:
            raise AttributionError("attribution.refused.id_disagrees", identity=True)
