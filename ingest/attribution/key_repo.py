"""SQL of the ID-card keys: the chains a re-key made, patients by candidate hashes, and re-keying the stored
hashes (patients, waiting readings, readings' references) under the current key."""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

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
