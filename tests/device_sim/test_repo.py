"""register_county on a real PostgreSQL: complete, consistent, fast, and a second call changes nothing."""

from __future__ import annotations

import time

import pytest

from cdm import db
from device_sim.county import generate_county
from device_sim.repo import register_county

pytestmark = pytest.mark.integration

_TABLES = ("region", "care_team", "patient", "device")


def _snapshot(url: str) -> dict[str, list[tuple[object, ...]]]:
    with db.connect(url) as conn:
        return {t: conn.execute(f"select * from {t} order by id").fetchall() for t in _TABLES}


def _sequences(url: str) -> list[tuple[object, ...]]:
    with db.connect(url) as conn:
        return conn.execute("select sequencename, last_value from pg_sequences order by 1").fetchall()


def test_register_twice_inserts_everything_once(db_url: str) -> None:
    county = generate_county(code="reg", name="戊县", seed=2)
    with db.connect(db_url) as conn:
        started = time.perf_counter()
        first = register_county(conn, county)
        elapsed = time.perf_counter() - started
    assert first == {
        "counties": 1,
        "townships": 12,
        "villages": 336,
        "care_teams": 24,
        "patients": 3000,
        "devices": 672,
    }
    assert elapsed < 1.0, f"registering 3,000 patients took {elapsed:.2f} s"
    before, sequences = _snapshot(db_url), _sequences(db_url)

    with db.connect(db_url) as conn:
        second = register_county(conn, county)

    assert second == {k: 0 for k in first}
    assert _snapshot(db_url) == before
    assert _sequences(db_url) == sequences
    assert len(before["region"]) == 1 + 12 + 336
    assert len(before["patient"]) == 3000 and len(before["device"]) == 672


def test_registered_rows_match_the_county(db_url: str) -> None:
    county = generate_county(code="reg2", name="己县", townships=3, clinics=9, patients=120, seed=4)
    with db.connect(db_url) as conn:
        register_county(conn, county)
    with db.connect(db_url) as conn:
        levels = dict(conn.execute("select level, count(*) from region group by level").fetchall())
        root = conn.execute("select code, name from region where parent_id is null").fetchall()
        wrong_team = conn.execute(
            "select count(*) from patient p join region v on v.id = p.village_id"
            " join care_team t on t.id = p.team_id where t.township_id <> v.parent_id"
        ).fetchone()
        devices = conn.execute(
            "select d.uid, d.kind, r.code, r.level from device d join region r on r.id = d.clinic_id order by 1"
        ).fetchall()
        patient = conn.execute(
            "select p.qr_code, p.sex, p.birth_year, p.hypertension, p.diabetes, v.code, t.code from patient p"
            " join region v on v.id = p.village_id join care_team t on t.id = p.team_id"
            " where p.health_card_no = %s",
            (county.patients[17].health_card_no,),
        ).fetchone()
    assert levels == {"county": 1, "township": 3, "village": 9}
    assert root == [("reg2", "己县")]
    assert wrong_team == (0,)
    assert devices == sorted((m.uid, m.kind, m.clinic_code, "village") for m in county.meters)
    p = county.patients[17]
    assert patient == (p.qr_code, p.sex, p.birth_year, p.hypertension, p.diabetes, p.village_code, p.team_code)


def test_two_counties_share_one_store(db_url: str) -> None:
    a = generate_county(code="ca", name="甲县", townships=2, clinics=4, patients=50)
    b = generate_county(code="cb", name="乙县", townships=2, clinics=4, patients=50)
    with db.connect(db_url) as conn:
        register_county(conn, a)
        counts = register_county(conn, b)
    assert counts["patients"] == 50 and counts["devices"] == 8 and counts["counties"] == 1
