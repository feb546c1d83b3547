"""SQL of attribution: meters' placements, patients by reference, waiting readings and moving them to patients;
the ID-card keys' chains and re-keying the stored hashes (patients, waiting readings, readings' references)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from ingest.attribution.logic import NewPatient, PatientIdentity, Placements

_PATIENTS_BY = {
    "health_card": "select id, sex, birth_year, health_card_no from patient where health_card_no = any(%s)",
    "qr": "select id, sex, birth_year, qr_code from patient where qr_code = any(%s)",
}

# Moves waiting readings to a patient: marks their `reading_unattributed` rows, then sets the readings' patient.
# `{where}` is one of the two fixed conditions below, never a value.
_MOVE = (
    "with moved as (update reading_unattributed u set attributed_at = %s, patient_id = %s, attributed_by = %s"
    " where u.attributed_at is null and {where} returning u.device_id, u.seq, u.measured_at)"
    " update reading r set patient_id = %s from moved m where r.device_id = m.device_id and r.seq = m.seq"
    " and r.measured_at = m.measured_at and r.patient_id is null"
)
_BY_REFS = "u.reason = 'no_match' and (u.ref_scheme, u.ref_key) in (select * from unnest(%s::text[], %s::text[]))"
_BY_KEYS = (
    "(u.device_id, u.seq, u.measured_at) in (select * from unnest(%s::integer[], %s::bigint[], %s::timestamptz[]))"
)

_WAITING = (
    "select u.device_id, u.seq, u.measured_at, u.ref_scheme, u.ref_key, u.ref_sex, u.ref_birth_date"
    " from reading_unattributed u join device d on d.id = u.device_id where u.attributed_at is null"
)


def placements(conn: psycopg.Connection, device_ids: set[int]) -> Placements:
    """Where each of these meters stood from when, in time order."""
    if not device_ids:
        return {}
    out: Placements = {}
    for device_id, clinic_id, since in conn.execute(
        "select device_id, clinic_id, valid_from from device_placement where device_id = any(%s)"
        " order by device_id, valid_from",
        (sorted(device_ids),),
    ):
        times, clinics = out.setdefault(device_id, ([], []))
        times.append(since)
        clinics.append(clinic_id)
    return out


def patients_by_card(conn: psycopg.Connection, *, scheme: str, values: list[str]) -> dict[str, tuple[int, str, int]]:
    """(patient id, sex, birth year) by health-card number or QR code (`scheme`), for those among `values`."""
    return {value: (pid, sex, year) for pid, sex, year, value in conn.execute(_PATIENTS_BY[scheme], (values,))}


def patients_by_id_card(conn: psycopg.Connection, hashes: list[bytes]) -> list[tuple[int, str, int, bytes, str]]:
    """(patient id, sex, birth year, hash, key id) of the patients whose ID card's keyed hash is among `hashes`."""
    rows = conn.execute(
        "select id, sex, birth_year, id_card_hash, id_card_key_id from patient where id_card_hash = any(%s)",
        (hashes,),
    )
    return [(int(r[0]), str(r[1]), int(r[2]), bytes(r[3]), str(r[4])) for r in rows]


def insert_waiting(conn: psycopg.Connection, rows: Sequence[tuple[object, ...]]) -> None:
    """Keep readings without a patient in `reading_unattributed` (logic.waiting_rows gives the rows)."""
    if not rows:
        return
    with conn.cursor() as cur:
        cur.executemany(
            "insert into reading_unattributed (device_id, seq, measured_at, received_at, clinic_id, kind,"
            " ref_scheme, ref_key, ref_masked, ref_birth_date, ref_sex, reason)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
            rows,
        )


def care_team_id(conn: psycopg.Connection, code: str) -> int | None:
    """The id of the family-doctor team with this code, if there is one."""
    row = conn.execute("select id from care_team where code = %s", (code,)).fetchone()
    return int(row[0]) if row else None


def insert_patient(
    conn: psycopg.Connection,
    patient: NewPatient,
    *,
    village_id: int,
    team_id: int | None,
    id_card: tuple[bytes, str, str] | None,
) -> int:
    """Register a patient with their ID card's keyed hash, its key id and the masked number, if given; their id."""
    hashed, key_id, masked = id_card or (None, None, None)
    row = conn.execute(
        "insert into patient (health_card_no, qr_code, sex, birth_year, hypertension, diabetes, village_id,"
        " team_id, id_card_hash, id_card_key_id, id_card_masked)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
        (patient.health_card_no, patient.qr_code, patient.sex, patient.birth_year, patient.hypertension,
         patient.diabetes, village_id, team_id, hashed, key_id, masked),
    ).fetchone()  # fmt: skip
    return int(row[0]) if row else 0


def patient_by_card(conn: psycopg.Connection, card: str, *, lock: bool = False) -> PatientIdentity | None:
    """The patient with this health-card number (locked until the transaction ends with `lock`)."""
    row = conn.execute(
        "select id, sex, birth_year, id_card_hash, id_card_key_id from patient where health_card_no = %s"
        + (" for update" if lock else ""),
        (card,),
    ).fetchone()
    if row is None:
        return None
    return PatientIdentity(int(row[0]), row[1], row[2], bytes(row[3]) if row[3] is not None else None, row[4])


def set_id_card(conn: psycopg.Connection, *, patient_id: int, hashed: bytes, key_id: str, masked: str) -> None:
    """Record a patient's ID card: its keyed hash, the key's id and the masked number."""
    conn.execute(
        "update patient set id_card_hash = %s, id_card_key_id = %s, id_card_masked = %s where id = %s",
        (hashed, key_id, masked, patient_id),
    )


def waiting_by_reading(conn: psycopg.Connection, *, uid: str, seq: int) -> list[dict[str, Any]]:
    """The waiting reading `seq` of meter `uid` (none when it is not waiting)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_WAITING + " and d.uid = %s and u.seq = %s", (uid, seq)).fetchall()


def waiting_by_ref(conn: psycopg.Connection, *, scheme: str, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The readings waiting under any of these forms of a reference (an ID card's: `<key id>:<hex>` forms)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(_WAITING + " and u.ref_scheme = %s and u.ref_key = any(%s)", (scheme, list(keys))).fetchall()


def move_by_refs(
    conn: psycopg.Connection, *, patient_id: int, by: str, now: datetime, refs: Sequence[tuple[str, str]]
) -> int:
    """Move the readings waiting unmatched under these references to the patient; how many readings moved."""
    params = ([s for s, _ in refs], [v for _, v in refs])
    cur = conn.execute(_MOVE.format(where=_BY_REFS), (now, patient_id, by, *params, patient_id))
    return cur.rowcount


def move_by_keys(
    conn: psycopg.Connection, *, patient_id: int, by: str, now: datetime, keys: Sequence[dict[str, Any]]
) -> int:
    """Move these waiting readings (device_id, seq, measured_at) to the patient; how many readings moved."""
    params = tuple([k[c] for k in keys] for c in ("device_id", "seq", "measured_at"))
    cur = conn.execute(_MOVE.format(where=_BY_KEYS), (now, patient_id, by, *params, patient_id))
    return cur.rowcount


def current_colour(conn: psycopg.Connection, patient_id: int) -> str | None:
    """The patient's current traffic-light colour, if assessed."""
    row = conn.execute("select colour from assessment_current where patient_id = %s", (patient_id,)).fetchone()
    return str(row[0]) if row else None


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


# The ID-card keys: the chains a re-key made, patients by candidate hashes, re-keying under the current key.
# Stored values whose chain does not end with the current key's id (`*` alone never does).
_NOT_UNDER = "regexp_replace({col}, '^.*>', '') <> %s"
BATCH = 5000
_REKEY_LOCK = 0x63646B  # one re-key at a time


def chains(conn: psycopg.Connection) -> list[str]:
    """The chains of keys re-keys have made."""
    return [r[0] for r in conn.execute("select chain from id_card_key_chain order by chain")]


def add_chains(conn: psycopg.Connection, made: Iterable[str]) -> None:
    """Record chains a re-key made."""
    rows = sorted(set(made))
    if rows:
        conn.execute("insert into id_card_key_chain (chain) select unnest(%s::text[]) on conflict do nothing", (rows,))


def patients_by_hash(conn: psycopg.Connection, digests: Iterable[bytes]) -> list[tuple[int, str, int, bytes, str]]:
    """(id, sex, birth year, hash, key id) of patients holding any of these hashes."""
    wanted = list(set(digests))
    if not wanted:
        return []
    rows = conn.execute(
        "select id, sex, birth_year, id_card_hash, id_card_key_id from patient where id_card_hash = any(%s)",
        (wanted,),
    )
    return [(int(r[0]), str(r[1]), int(r[2]), bytes(r[3]), str(r[4])) for r in rows]


def lock_for_rekey(conn: psycopg.Connection) -> None:
    """One re-key at a time (held to the end of the transaction)."""
    conn.execute("select pg_advisory_xact_lock(%s)", (_REKEY_LOCK,))


def patients_to_rekey(conn: psycopg.Connection, current_id: str) -> list[tuple[int, str, bytes]]:
    """(patient id, chain, hash) of every patient whose hash is not under the current key."""
    rows = conn.execute(
        "select id, id_card_key_id, id_card_hash from patient where id_card_hash is not null and "
        + _NOT_UNDER.format(col="id_card_key_id")
        + " for update",
        (current_id,),
    )
    return [(int(r[0]), str(r[1]), bytes(r[2])) for r in rows]


def save_patient_hashes(conn: psycopg.Connection, rows: list[tuple[int, str, bytes]]) -> None:
    """Store re-keyed (patient id, chain, hash)."""
    for start in range(0, len(rows), BATCH):
        part = rows[start : start + BATCH]
        conn.execute(
            "update patient p set id_card_key_id = u.chain, id_card_hash = u.hash"
            " from unnest(%s::bigint[], %s::text[], %s::bytea[]) as u(id, chain, hash) where p.id = u.id",
            ([r[0] for r in part], [r[1] for r in part], [r[2] for r in part]),
        )


_REF_TABLES = {
    # table: (reference column, scheme column, key columns)
    "reading_unattributed": ("ref_key", "ref_scheme", ("device_id", "seq", "measured_at")),
    "reading": ("patient_ref", "patient_scheme", ("device_id", "seq", "measured_at")),
}


def refs_to_rekey(conn: psycopg.Connection, table: str, current_id: str) -> list[tuple[object, object, object, str]]:
    """(device id, seq, measured at, reference) of the ID-card references in `table` not under the current key."""
    ref, scheme, keys = _REF_TABLES[table]
    chain_of = f"(case when position(':' in {ref}) > 0 then regexp_replace({ref}, ':[^:]*$', '') else '*' end)"
    rows = conn.execute(
        f"select {', '.join(keys)}, {ref} from {table} where {scheme} = 'id_card' and {ref} is not null and "
        + _NOT_UNDER.format(col=chain_of),
        (current_id,),
    )
    return [(r[0], r[1], r[2], str(r[3])) for r in rows]


def save_refs(conn: psycopg.Connection, table: str, rows: list[tuple[object, object, object, str]]) -> None:
    """Store re-keyed references of `table`, by its key."""
    ref, _, keys = _REF_TABLES[table]
    for start in range(0, len(rows), BATCH):
        part = rows[start : start + BATCH]
        conn.execute(
            f"update {table} t set {ref} = u.ref from unnest(%s::integer[], %s::bigint[], %s::timestamptz[],"
            f" %s::text[]) as u(k1, k2, k3, ref) where (t.{keys[0]}, t.{keys[1]}, t.{keys[2]}) = (u.k1, u.k2, u.k3)",
            tuple([r[i] for r in part] for i in range(4)),
        )
