"""Re-keying the stored ID-card hashes under the current key, without the numbers (cdm.id_keys): every patient's
hash, every waiting reading's and every reading's reference not yet under the current key is wrapped,
HMAC(new key, stored hash), and its chain of key ids extended — in one transaction, one re-key at a time.

`cdm id-cards rotate-key` retires the key of <data dir>/secrets/id_card.key (kept under
secrets/id_card.retired/<key id>.key: the wrapped hashes still start with it) and writes a new one, then re-keys.
A deployment whose key is in CDM_ID_CARD_KEY sets the new key there, adds the old one to CDM_ID_CARD_RETIRED_KEYS
and runs `cdm id-cards rekey`. Until the re-key has run, nothing is unlinked: a number is matched under every key
still on file. Restart the services afterwards so they hash new numbers under the new key.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg

from cdm.id_keys import IdCardKeyring, parse_ref, ref_text
from ingest.attribution import key_repo


def rekey(conn: psycopg.Connection, keyring: IdCardKeyring) -> dict[str, object]:
    """Wrap every stored ID-card hash not yet under the current key; what changed (the caller commits)."""
    key_repo.lock_for_rekey(conn)
    current = keyring.current_id
    made: set[str] = set()
    patients = []
    for patient_id, chain, digest in key_repo.patients_to_rekey(conn, current):
        new_chain, new_digest = keyring.wrap(chain, digest)
        patients.append((patient_id, new_chain, new_digest))
        made.add(new_chain)
    key_repo.save_patient_hashes(conn, patients)
    counts: dict[str, object] = {"patients": len(patients)}
    for table in ("reading_unattributed", "reading"):
        rows = list(_wrapped_refs(key_repo.refs_to_rekey(conn, table, current), keyring, made))
        key_repo.save_refs(conn, table, rows)
        counts[table] = len(rows)
    key_repo.add_chains(conn, made)
    return {"key_id": current, "rekeyed": counts, "chains": sorted(made)}


def _wrapped_refs(
    rows: Iterable[tuple[object, object, object, str]], keyring: IdCardKeyring, made: set[str]
) -> Iterable[tuple[object, object, object, str]]:
    for k1, k2, k3, ref in rows:
        chain, digest = parse_ref(ref)
        new_chain, new_digest = keyring.wrap(chain, digest)
        made.add(new_chain)
        yield k1, k2, k3, ref_text(new_chain, new_digest)
