"""Rotating the ID-card key without unlinking anyone: each stored hash keeps the id of the key (or chain of keys)
that made it, numbers are matched under every key still on file, and a re-key wraps the stored hashes under the
new key without any ID-card number."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from cdm.id_keys import LEGACY, IdCardKeyring, key_id, parse_ref
from cdm.identity import parse_id_number
from cdm.settings import Settings
from ingest.attribution.logic import NewPatient
from ingest.attribution.service import register_patient, rekey
from ingest.batch import IngestContext, process_batch
from tests.ingest.test_attribution import COUNTY, MAN_1960, WOMAN_1955, id_ref, msg, reassess, rows
from tests.support.registry import build

K1, K2, K3 = b"k1" * 16, b"k2" * 16, b"k3" * 16
NUMBER = parse_id_number(MAN_1960)


def test_a_wrapped_hash_is_found_again_only_with_every_key_of_its_chain() -> None:
    first = IdCardKeyring(current=K1)
    chain, digest = first.hash(NUMBER)
    assert chain == key_id(K1) and len(chain) == 12 and K1.hex() not in chain
    second = IdCardKeyring(current=K2, retired=(K1,))
    wrapped_chain, wrapped = second.wrap(chain, digest)
    assert wrapped_chain == f"{key_id(K1)}>{key_id(K2)}" and wrapped != digest
    assert wrapped_chain in second.candidates(NUMBER, [wrapped_chain])[wrapped]
    assert wrapped not in IdCardKeyring(current=K2).candidates(NUMBER, [wrapped_chain])  # K1 no longer on file
    assert wrapped not in first.candidates(NUMBER, [wrapped_chain])  # the old key alone opens nothing
    assert LEGACY in second.candidates(NUMBER, [])[digest]  # a hash from before key ids, under a key on file
    assert parse_ref(f"{wrapped_chain}:{wrapped.hex()}") == (wrapped_chain, wrapped)
    assert parse_ref(digest.hex()) == (LEGACY, digest)


def _settings(db_url: str, tmp_path: Path, current: bytes, *retired: bytes) -> Settings:
    return Settings(
        database_url=db_url, county_code=COUNTY, data_dir=tmp_path, id_card_key=current.decode(),
        id_card_retired_keys=tuple(r.decode() for r in retired), _env_file=None,
    )  # type: ignore[call-arg]  # fmt: skip


def _woman() -> NewPatient:
    return NewPatient(health_card_no="HNEW1", sex="F", birth_year=1955, village_code=f"{COUNTY}-v1", team_code=None,
                      hypertension=True, diabetes=False)  # fmt: skip


@pytest.mark.integration
def test_rotating_the_key_unlinks_nobody(db_url: str, tmp_path: Path) -> None:
    before = _settings(db_url, tmp_path, K1)
    after = _settings(db_url, tmp_path, K2, K1)
    with psycopg.connect(db_url) as conn:
        county = build(conn, code=COUNTY)
        man = county.patients[f"H{COUNTY.upper()}000000"]
        chain, digest = before.id_card_keyring.hash(NUMBER)
        conn.execute("update patient set id_card_hash = %s, id_card_key_id = %s where id = %s", (digest, chain, man))
        with conn.transaction():  # under the old key: the man's reading matched, a stranger's kept waiting
            process_batch(conn, [msg(county, id_ref(MAN_1960), 1), msg(county, id_ref(WOMAN_1955), 2)],
                          ctx=IngestContext.from_settings(before))  # fmt: skip
        # The new key is in force; the store not yet re-keyed: the man is still found (K1 is on file).
        with conn.transaction():
            process_batch(conn, [msg(county, id_ref(MAN_1960), 3)], ctx=IngestContext.from_settings(after))
        assert rows(conn, "select patient_id from reading where seq = 3") == [(man,)]

        with conn.transaction():
            done = rekey(conn, after.id_card_keyring)
        assert done["rekeyed"] == {"patients": 1, "reading_unattributed": 1, "reading": 2}
        stored = rows(conn, "select id_card_key_id, id_card_hash from patient where id = %s", man)[0]
        assert stored[0] == f"{key_id(K1)}>{key_id(K2)}" and bytes(stored[1]) != digest
        refs = [r[0] for r in rows(conn, "select patient_ref from reading where patient_scheme = 'id_card'")]
        assert all(r.split(":")[0] in {stored[0], key_id(K2)} for r in refs), refs
        with conn.transaction():
            assert rekey(conn, after.id_card_keyring)["rekeyed"] == {"patients": 0, "reading_unattributed": 0,
                                                                      "reading": 0}  # fmt: skip

        # After the re-key: the man's next reading is his, and the stranger, registering, gets her waiting one.
        with conn.transaction():
            process_batch(conn, [msg(county, id_ref(MAN_1960), 4)], ctx=IngestContext.from_settings(after))
        assert rows(conn, "select patient_id from reading where seq = 4") == [(man,)]
        with conn.transaction():
            out = register_patient(conn, _woman(), id_number=WOMAN_1955, keyring=after.id_card_keyring,
                                   reassess=reassess(after))  # fmt: skip
        assert out["readings_attributed"] == 1
        # With the old key gone from file, the wrapped hashes cannot be matched: the key is needed, and kept.
        with conn.transaction():
            process_batch(conn, [msg(county, id_ref(MAN_1960), 5)], ctx=IngestContext.from_settings(
                _settings(db_url, tmp_path, K2)))  # fmt: skip
        assert rows(conn, "select patient_id from reading where seq = 5") == [(None,)]


@pytest.mark.integration
def test_hashes_from_before_key_ids_are_matched_and_rekeyed(db_url: str, tmp_path: Path) -> None:
    old = _settings(db_url, tmp_path, K1)
    with psycopg.connect(db_url) as conn:
        county = build(conn, code=COUNTY)
        man = county.patients[f"H{COUNTY.upper()}000000"]
        conn.execute("update patient set id_card_hash = %s, id_card_key_id = %s where id = %s",
                     (old.id_card_keyring.hash(NUMBER)[1], LEGACY, man))  # as migration 0053 leaves them  # fmt: skip
        newer = _settings(db_url, tmp_path, K3, K1)
        with conn.transaction():
            rekey(conn, newer.id_card_keyring)
        assert rows(conn, "select id_card_key_id from patient where id = %s", man) == [(f"*>{key_id(K3)}",)]
        with conn.transaction():
            process_batch(conn, [msg(county, id_ref(MAN_1960), 1)], ctx=IngestContext.from_settings(newer))
        assert rows(conn, "select patient_id from reading") == [(man,)]


@pytest.mark.integration
def test_rotate_key_makes_a_new_key_keeps_the_old_and_rekeys(db_url: str, tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Settings(database_url=db_url, county_code=COUNTY, data_dir=data, _env_file=None)  # type: ignore[call-arg]
    with psycopg.connect(db_url) as conn:
        county = build(conn, code=COUNTY)
        man = county.patients[f"H{COUNTY.upper()}000000"]
        chain, digest = first.id_card_keyring.hash(NUMBER)
        conn.execute("update patient set id_card_hash = %s, id_card_key_id = %s where id = %s", (digest, chain, man))
        conn.commit()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    env |= {"CDM_DATABASE_URL": db_url, "CDM_DATA_DIR": str(data), "CDM_COUNTY_CODE": COUNTY}
    done = subprocess.run([sys.executable, "-m", "app.cli", "id-cards", "rotate-key"], env=env, capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    retired = Path(result["retired_key_file"])
    assert retired.name == f"{chain}.key" and stat.S_IMODE(retired.stat().st_mode) == 0o600
    second = Settings(database_url=db_url, county_code=COUNTY, data_dir=data, _env_file=None)  # type: ignore[call-arg]
    assert second.id_card_keyring.current_id != chain and result["key_id"] == second.id_card_keyring.current_id
    assert [r.get_secret_value() for r in second.id_card_retired_keys] == [first.id_card_key.get_secret_value()]
    with psycopg.connect(db_url) as conn, conn.transaction():
        process_batch(conn, [msg(county, id_ref(MAN_1960), 1)], ctx=IngestContext.from_settings(second))
        assert rows(conn, "select patient_id from reading") == [(man,)]
    # A key given in the environment is not this command's to change.
    again = subprocess.run([sys.executable, "-m", "app.cli", "id-cards", "rotate-key"],
                           env={**env, "CDM_ID_CARD_KEY": "x" * 40}, capture_output=True, text=True, timeout=120,
                           check=False)  # fmt: skip
    assert again.returncode == 2 and "CDM_ID_CARD_RETIRED_KEYS" in again.stderr
    assert again.stderr.startswith("未执行：身份证号密钥设在 CDM_ID_CARD_KEY 中"), "said in the county's language"
