"""Data-quality data: refusals by meter and reason with the raw bytes shown masked, offline and skewed meters, and
readings without a patient, all scoped through the meter's clinic; matching a reading to a patient reassesses them."""

from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest

from dashboard.quality.repo import AttributionError, attribute, message_fields, quality_report, safe_raw

from .server import dashboard_settings
from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration

ID_CARD = "11010519491231002X"
RAW = b'{"v":1,"patient":{"scheme":"id_card","value":"' + ID_CARD.encode() + b'"},"phone":"13812345678","sbp":\xff}'


def with_problems(county: WorkCounty) -> WorkCounty:
    """Meters: bp-01 online and well; glu-01 silent for 3 hours (hourly heartbeat); bp-02 online, 7 minutes fast.
    Quarantine: bp-01 invalid_json x3 and implausible x1, bp-02 one, an unknown meter one. Two readings without a
    patient: one at 东村 (城关镇), one at 南村 (河口乡)."""
    now = county.now
    for uid, status, seen, skew in (
        ("bp-01", "online", now, 2.0),
        ("glu-01", "offline", now - timedelta(hours=3), None),
        ("bp-02", "online", now, 420.0),
    ):
        county.conn.execute(
            "update device set status = %s, last_seen_at = %s, clock_skew_s = %s, clock_skew_at = %s, battery_pct = 64"
            " where uid = %s",
            (status, seen, skew, now if skew else None, uid),
        )
    rows = [("bp-01", "invalid_json", RAW)] * 3 + [
        ("bp-01", "implausible_value", b'{"sbp": 400}'),
        ("bp-02", "sbp_not_above_dbp", b'{"sbp": 80, "dbp": 90}'),
        ("ghost-9", "unknown_device", b"\x00\x01hello\n"),
    ]
    for k, (uid, reason, raw) in enumerate(rows):
        county.conn.execute(
            "insert into quarantine (received_at, topic, device_uid, reason, detail, raw) values (%s, 't', %s, %s,"
            " 'why', %s)",
            (now - timedelta(minutes=k), uid, reason, raw),
        )
    county.bp(None, "bp-01", hours_ago=1, sbp=176, dbp=104, ref="H339999999999")
    county.bp(None, "bp-02", hours_ago=2, sbp=120, dbp=80, ref="H338888888888")
    return county


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    return with_problems(work_county(conn))


def test_raw_bytes_are_shown_escaped_and_masked() -> None:
    card = safe_raw(b'{"v": 1, "patient": {"scheme": "health_card", "value": "H330000000042"}, "sbp": 500}')
    assert card == '{"v": 1, "patient": {"scheme": "health_card", "value": "H33****0042"}, "sbp": 500}'
    shown = safe_raw(RAW)
    assert ID_CARD not in shown and "13812345678" not in shown
    assert "110105********002X" in shown and "138****5678" in shown
    assert shown.endswith('"sbp":\\xff}')
    assert safe_raw(b"\x00\x01hello\n") == "\\x00\\x01hello\\n"
    assert safe_raw(b"x" * 500, limit=10) == "x" * 10 + "…"


def test_a_township_sees_its_own_meters_only(county: WorkCounty) -> None:
    report = quality_report(county.conn, principal=county.users["town.wang"], now=county.now)
    assert [(r["device_uid"], r["reason"], r["n"]) for r in report.by_meter] == [
        ("bp-01", "invalid_json", 3),
        ("bp-01", "implausible_value", 1),
    ]
    assert {r["device_uid"] for r in report.latest} == {"bp-01"}
    assert all(ID_CARD not in r["raw"] for r in report.latest)
    assert [r["uid"] for r in report.offline] == ["glu-01"]
    assert report.skewed == []
    assert [(r["uid"], r["patient_ref"], r["systolic"]) for r in report.unattributed] == [("bp-01", "H33****9999", 176)]


def test_the_county_sees_every_meter_including_unknown_ones(county: WorkCounty) -> None:
    report = quality_report(county.conn, principal=county.users["county.li"], now=county.now)
    assert {r["device_uid"] for r in report.by_meter} == {"bp-01", "bp-02", "ghost-9"}
    assert [(r["uid"], r["clock_skew_s"]) for r in report.skewed] == [("bp-02", 420.0)]
    assert len(report.unattributed) == 2


def test_a_team_account_has_no_data_quality_screen(county: WorkCounty) -> None:
    with pytest.raises(PermissionError):
        quality_report(county.conn, principal=county.users["team.zhao"], now=county.now)


def _unattributed(county: WorkCounty, uid: str) -> tuple[int, int, object]:
    row = county.conn.execute(
        "select r.device_id, r.seq, r.measured_at from reading r join device d on d.id = r.device_id"
        " where r.patient_id is null and d.uid = %s",
        (uid,),
    ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_matching_a_reading_sets_the_patient_reassesses_and_is_audited(county: WorkCounty, db_url: str) -> None:
    device_id, seq, measured_at = _unattributed(county, "bp-01")
    settings = dashboard_settings(db_url)
    principal = county.users["town.wang"]
    with psycopg.connect(db_url) as conn:
        patient_id, colour = attribute(
            conn,
            principal=principal,
            device_id=device_id,
            seq=seq,
            measured_at=measured_at,  # type: ignore[arg-type]
            card=" H330000000002 ",
            settings=settings,
            now=county.now,
        )
    assert patient_id == county.patients["A-yellow"] and colour is not None
    kept = county.conn.execute(
        "select patient_id from reading where device_id = %s and seq = %s", (device_id, seq)
    ).fetchone()
    assert kept == (patient_id,)
    assessed = county.conn.execute(
        "select assessed_at from assessment_current where patient_id = %s", (patient_id,)
    ).fetchone()
    assert assessed == (county.now,)  # reassessed at the moment of matching
    audit = county.conn.execute(
        "select username, action, patient_id, screen, detail->>'readings' from audit_event"
        " where action = 'attribute_reading'"
    ).fetchall()
    assert audit == [("town.wang", "attribute_reading", patient_id, "quality", "1")]
    waiting = county.conn.execute(
        "select patient_id, attributed_by from reading_unattributed where device_id = %s and seq = %s",
        (device_id, seq),
    ).fetchone()
    assert waiting == (patient_id, "town.wang")  # no longer listed as waiting
    with psycopg.connect(db_url) as conn, pytest.raises(AttributionError) as again:
        attribute(
            conn,
            principal=principal,
            device_id=device_id,
            seq=seq,
            measured_at=measured_at,  # type: ignore[arg-type]
            card="H330000000002",
            settings=settings,
            now=county.now,
        )
    assert again.value.key == "quality.attribute.gone"


def _refused_match(county: WorkCounty, db_url: str, reading: tuple[object, ...], card: str) -> AttributionError:
    """What the township nurse's match of the waiting `reading` (device id, seq, measured at) to `card` is refused
    with."""
    device_id, seq, measured_at = reading
    with psycopg.connect(db_url) as conn, pytest.raises(AttributionError) as refused:
        attribute(
            conn, principal=county.users["town.wang"], device_id=device_id, seq=seq, measured_at=measured_at,
            card=card, settings=dashboard_settings(db_url), now=county.now,
        )  # type: ignore[arg-type]  # fmt: skip
    return refused.value


@pytest.mark.parametrize(
    ("meter", "card", "key"),
    [
        ("bp-01", "H330000000005", "quality.attribute.no_patient"),  # C-red lives in 河口乡
        ("bp-01", "  ", "quality.attribute.no_card"),
        ("bp-02", "H330000000002", "quality.attribute.gone"),  # a 河口乡 meter's reading
    ],
)
def test_a_township_cannot_match_outside_its_scope(
    county: WorkCounty, db_url: str, meter: str, card: str, key: str
) -> None:
    device_id, seq, measured_at = _unattributed(county, meter)
    refused = _refused_match(county, db_url, (device_id, seq, measured_at), card)
    assert refused.key == key
    still = county.conn.execute("select count(*) from reading where patient_id is null").fetchone()
    assert still == (2,)


def test_a_meter_that_never_connected_is_inactive_not_offline(county: WorkCounty) -> None:
    county.device("bp-09", "bp", "v01a")  # registered, never seen: no reading, status or heartbeat
    report = quality_report(county.conn, principal=county.users["town.wang"], now=county.now)
    assert [(r["uid"], r["state"]) for r in report.offline] == [("glu-01", "offline"), ("bp-09", "inactive")]


def test_the_skew_panel_lists_every_meter_whose_readings_were_refused_as_from_the_future(county: WorkCounty) -> None:
    future = b'{"v": 1, "kind": "bp", "device_id": "bp-01", "seq": 5, "measured_at": "2099-01-01T00:00:00+00:00"}'
    county.conn.execute(
        "insert into quarantine (received_at, topic, device_uid, reason, detail, raw)"
        " values (%s, 't', 'bp-01', 'measured_in_future', 'measured_at is 9 s after arrival', %s)",
        (county.now, future),
    )
    report = quality_report(county.conn, principal=county.users["town.wang"], now=county.now)
    assert [(r["uid"], r["future_refused"]) for r in report.skewed] == [("bp-01", 1)]
    refused = next(r for r in report.latest if r["reason"] == "measured_in_future")
    assert ("device_id", "bp-01") in refused["fields"]
    assert ("measured_at", "2099-01-01T00:00:00+00:00") in refused["fields"]


def test_a_refused_message_is_shown_as_labelled_masked_fields() -> None:
    fields = message_fields(RAW.replace(b"\xff", b"1"))
    assert fields == [("v", "1"), ("patient.scheme", "id_card"), ("patient.value", "110****002X"),
                      ("phone", "138****5678"), ("sbp", "1")]  # fmt: skip
    assert message_fields(b"\x00\x01hello") is None and message_fields(b"[1, 2]") is None


def test_an_id_card_that_is_not_the_patients_is_refused_saying_why_in_the_viewers_language(
    county: WorkCounty, db_url: str
) -> None:
    device_id, seq, measured_at = _unattributed(county, "bp-01")
    county.conn.execute(  # entered at the meter as an ID card: a man born 1949 (the 东村 patients are women of 1958)
        "update reading_unattributed set ref_scheme = 'id_card', ref_key = %s, ref_masked = '110105********0011',"
        " ref_sex = 'M', ref_birth_date = '1949-12-31' where device_id = %s and seq = %s",
        ("k1:" + "ab" * 32, device_id, seq),
    )
    county.conn.commit()
    refused = _refused_match(county, db_url, (device_id, seq, measured_at), "H330000000002")
    # What the screen shows (exc.text in the viewer's language): which way the number disagrees, not "gone"
    assert refused.key == "attribution.refused.id_disagrees"
    assert refused.text("zh") == "测量时录入的身份证号与该患者的性别或出生年份不符，请核对后再匹配"
    assert refused.text("en") == (
        "the ID-card number entered at the meter disagrees with the patient's sex or birth year"
    )
