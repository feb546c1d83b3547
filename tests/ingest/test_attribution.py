"""Who a reading belongs to, on a real PostgreSQL: ID cards kept only as a keyed hash, unmatched readings kept and
attributed later by registration or by staff, readings bound to the meter's clinic when it measured."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import psycopg
import pytest
from typer.testing import CliRunner

from alerts.service import AlertContext
from assess.rules import RuleSettings
from cdm.identity import check_character, mask_id_number, parse_id_number
from cdm.payload import PatientRef, bp_payload, reading_topic
from cdm.settings import Settings
from ingest.attribution.logic import AttributionError, NewPatient
from ingest.attribution.service import Reassess, attribute, register_patient
from ingest.batch import IngestContext, process_batch
from ingest.devices import service as devices
from ingest.message import InboundMessage
from tests.support.registry import SmallCounty, build

pytestmark = pytest.mark.integration
COUNTY = "ta"


def id_number(born: date, seq: str) -> str:
    first17 = f"330102{born:%Y%m%d}{seq}"
    return first17 + check_character(first17)


MAN_1960 = id_number(date(1960, 3, 7), "011")  # patient 0 of the registry: M, 1960
WOMAN_1955 = id_number(date(1955, 8, 1), "024")  # nobody registered yet
WOMAN_1960 = id_number(date(1960, 5, 2), "022")
ALL_NUMBERS = (MAN_1960, WOMAN_1955, WOMAN_1960)


@pytest.fixture
def setup(db_url: str):
    settings = Settings(database_url=db_url, county_code=COUNTY, _env_file=None)
    key_id, digest = settings.id_card_keyring.hash(parse_id_number(MAN_1960))
    with psycopg.connect(db_url) as conn:
        county = build(conn, code=COUNTY)
        conn.execute(
            "update patient set id_card_hash = %s, id_card_key_id = %s, id_card_masked = '330102********0111'"
            " where id = %s",
            (digest, key_id, county.patients[f"H{COUNTY.upper()}000000"]),
        )
        conn.commit()
    with psycopg.connect(db_url) as conn:
        yield conn, county, IngestContext.from_settings(settings), settings


def msg(
    county: SmallCounty, ref: PatientRef | None, seq: int, *, sbp: int = 130, ago: timedelta = timedelta(seconds=30)
) -> InboundMessage:
    now = datetime.now(UTC)
    raw = bp_payload(
        device_uid=county.bp_meter, seq=seq, measured_at=now - ago, systolic=sbp, diastolic=80, pulse=70, patient=ref
    )
    return InboundMessage(seq, 1, reading_topic(COUNTY, county.bp_meter), raw, now)


def id_ref(number: str) -> PatientRef:
    return PatientRef(scheme="id_card", value=number)


def reassess(settings: Settings) -> Reassess:
    return Reassess(AlertContext(RuleSettings.from_settings(settings)), datetime.now(UTC))


def rows(conn, sql, *args):
    return conn.execute(sql, args).fetchall()


def no_number_anywhere(conn: psycopg.Connection) -> None:
    """No table this stage writes holds any of the test's ID-card numbers in clear."""
    for number in ALL_NUMBERS:
        like = f"%{number}%"
        assert rows(conn, "select 1 from reading where patient_ref like %s", like) == []
        assert (
            rows(conn, "select 1 from reading_unattributed where ref_key like %s or ref_masked like %s", like, like)
            == []
        )
        assert (
            rows(
                conn,
                "select 1 from quarantine where position(%s::bytea in raw) > 0 or detail like %s",
                number.encode(),
                like,
            )
            == []
        )
        assert rows(conn, "select 1 from patient p where p::text like %s", like) == []


def test_an_id_card_reading_is_attributed_and_only_its_keyed_hash_is_stored(setup):
    conn, county, ctx, _ = setup
    with conn.transaction():
        result = process_batch(conn, [msg(county, id_ref(MAN_1960), 1)], ctx=ctx)
    assert result.stored == 1
    patient_id, scheme, ref = rows(conn, "select patient_id, patient_scheme, patient_ref from reading")[0]
    assert patient_id == county.patients[f"H{COUNTY.upper()}000000"] and scheme == "id_card"
    assert ref == ctx.attribution.keyring.ref(parse_id_number(MAN_1960))
    assert ref.startswith(ctx.attribution.keyring.current_id + ":")  # the key that made it, kept with it
    assert rows(conn, "select count(*) from reading_unattributed") == [(0,)]
    no_number_anywhere(conn)


def test_an_unknown_id_card_reading_is_kept_and_attributed_when_the_patient_registers(setup):
    conn, county, ctx, settings = setup
    with conn.transaction():
        process_batch(conn, [msg(county, id_ref(WOMAN_1955), 1, sbp=185), msg(county, id_ref(WOMAN_1955), 2)], ctx=ctx)
    assert rows(conn, "select patient_id from reading") == [(None,), (None,)], "stored, not dropped"
    waiting = rows(
        conn, "select reason, ref_scheme, ref_masked, ref_birth_date, ref_sex, clinic_id from reading_unattributed"
    )
    assert (
        waiting == [("no_match", "id_card", mask_id_number(WOMAN_1955), date(1955, 8, 1), "F", county.village_id)] * 2
    )

    newcomer = NewPatient(
        health_card_no="HNEW1", sex="M", birth_year=1955, village_code=f"{COUNTY}-v1", team_code=None,
        hypertension=True, diabetes=False,
    )  # fmt: skip
    with pytest.raises(AttributionError, match="身份证号显示的性别与患者档案不符"):
        register_patient(
            conn, newcomer, id_number=WOMAN_1955, keyring=ctx.attribution.keyring, reassess=reassess(settings)
        )
    conn.rollback()
    woman = NewPatient(
        health_card_no="HNEW1", sex="F", birth_year=1955, village_code=f"{COUNTY}-v1", team_code=None,
        hypertension=True, diabetes=False,
    )  # fmt: skip
    with conn.transaction():
        out = register_patient(
            conn, woman, id_number=WOMAN_1955, keyring=ctx.attribution.keyring, reassess=reassess(settings)
        )
    assert out["readings_attributed"] == 2 and out["id_card"] == mask_id_number(WOMAN_1955)
    assert out["colour"] == "red" and out["alerts"] == 1, "the critical reading re-assessed the patient at once"
    assert rows(conn, "select distinct patient_id from reading") == [(out["patient_id"],)]
    assert rows(conn, "select distinct attributed_by from reading_unattributed") == [("registration",)]
    with pytest.raises(AttributionError, match="已有另一位患者登记了这个身份证号"):
        register_patient(
            conn, NewPatient(**{**_fields(woman), "health_card_no": "HNEW2"}), id_number=WOMAN_1955,
            keyring=ctx.attribution.keyring, reassess=reassess(settings),
        )  # fmt: skip
    conn.rollback()
    no_number_anywhere(conn)


def _fields(p: NewPatient) -> dict[str, object]:
    return {f: getattr(p, f) for f in NewPatient.__slots__}  # type: ignore[attr-defined]


def test_an_id_card_that_disagrees_with_the_patient_it_matches_is_kept_for_staff(setup):
    conn, county, ctx, settings = setup
    patient0 = county.patients[f"H{COUNTY.upper()}000000"]
    conn.execute(  # the registry's patient 0 is a man; this number says a woman
        "update patient set id_card_hash = %s, id_card_key_id = %s where id = %s",
        (*reversed(ctx.attribution.keyring.hash(parse_id_number(WOMAN_1960))), patient0),
    )
    conn.commit()
    with conn.transaction():
        process_batch(conn, [msg(county, id_ref(WOMAN_1960), 1)], ctx=ctx)
    assert rows(conn, "select patient_id from reading") == [(None,)]
    assert rows(conn, "select reason from reading_unattributed") == [("identity_mismatch",)]
    with pytest.raises(AttributionError, match="与该患者的性别或出生年份不符"):
        attribute(
            conn,
            patient_card=f"H{COUNTY.upper()}000000",
            by="wang",
            reassess=reassess(settings),
            reading=(county.bp_meter, 1),
        )
    conn.rollback()
    with pytest.raises(AttributionError, match="身份证号不是该患者的"):  # patient 1 has another ID card on record
        conn.execute(
            "update patient set id_card_hash = '\\x00', id_card_key_id = %s where id = %s",
            (ctx.attribution.keyring.current_id, county.patients[f"H{COUNTY.upper()}000001"]),
        )
        attribute(
            conn,
            patient_card=f"H{COUNTY.upper()}000001",
            by="wang",
            reassess=reassess(settings),
            reading=(county.bp_meter, 1),
        )


def test_staff_attribute_one_reading_or_every_reading_under_a_reference_and_it_is_audited(setup):
    conn, county, ctx, settings = setup
    card = PatientRef(scheme="health_card", value="HMISTYPED9")
    with conn.transaction():
        process_batch(conn, [msg(county, None, 1), msg(county, card, 2), msg(county, card, 3)], ctx=ctx)
    assert sorted(rows(conn, "select seq, reason, ref_masked from reading_unattributed")) == [
        (1, "no_reference", None), (2, "no_match", "HMI****ED9"), (3, "no_match", "HMI****ED9"),
    ]  # fmt: skip
    target = f"H{COUNTY.upper()}000001"
    with pytest.raises(AttributionError, match="请用 --by 写明您的账号"):
        attribute(conn, patient_card=target, by=" ", reassess=reassess(settings), reading=(county.bp_meter, 1))
    with conn.transaction():
        one = attribute(conn, patient_card=target, by="wang", reassess=reassess(settings), reading=(county.bp_meter, 1))
        many = attribute(
            conn, patient_card=target, by="wang", reassess=reassess(settings), ref=("health_card", "HMISTYPED9")
        )
    assert (one["readings_attributed"], many["readings_attributed"]) == (1, 2)
    assert one["colour"] is not None, "the patient was re-assessed"
    assert rows(conn, "select count(*) from reading where patient_id = %s", county.patients[target]) == [(3,)]
    assert rows(conn, "select username, action from audit_event") == [("wang", "attribute_reading")] * 2
    with pytest.raises(AttributionError, match="没有与此相符的待匹配读数"):
        attribute(conn, patient_card=target, by="wang", reassess=reassess(settings), reading=(county.bp_meter, 1))

    # By an ID-card number typed again by staff (hashed the same way, never stored): a woman born 1955.
    conn.rollback()
    with conn.transaction():
        process_batch(conn, [msg(county, id_ref(WOMAN_1955), 4), msg(county, id_ref(WOMAN_1955), 5)], ctx=ctx)
    with pytest.raises(AttributionError, match="与该患者的性别或出生年份不符"):  # patient 1 is a woman born 1960
        attribute(
            conn,
            patient_card=target,
            by="wang",
            reassess=reassess(settings),
            ref=("id_card", WOMAN_1955),
            keyring=ctx.attribution.keyring,
        )
    conn.rollback()
    with pytest.raises(AttributionError, match="身份证号校验位不符"):
        attribute(
            conn,
            patient_card=target,
            by="wang",
            reassess=reassess(settings),
            ref=("id_card", WOMAN_1955[:-1] + ("1" if WOMAN_1955[-1] != "1" else "2")),
            keyring=ctx.attribution.keyring,
        )
    conn.rollback()
    conn.execute("update patient set birth_year = 1955 where id = %s", (county.patients[target],))
    with conn.transaction():
        by_id = attribute(
            conn,
            patient_card=target,
            by="wang",
            reassess=reassess(settings),
            ref=("id_card", WOMAN_1955),
            keyring=ctx.attribution.keyring,
        )
    assert by_id["readings_attributed"] == 2
    no_number_anywhere(conn)


def test_a_reading_belongs_to_the_clinic_the_meter_stood_in_when_it_measured(setup):
    conn, county, ctx, _ = setup
    other = conn.execute(
        "insert into region (code, name, level, parent_id) values (%s, '西村卫生室', 'village', %s) returning id",
        (f"{COUNTY}-v2", county.township_id),
    ).fetchone()[0]
    moved_at = datetime.now(UTC) - timedelta(hours=1)
    devices.move(conn, uid=county.bp_meter, clinic_code=f"{COUNTY}-v2", at=moved_at)
    conn.commit()
    ctx.devices.clear()
    card = PatientRef(scheme="health_card", value=f"H{COUNTY.upper()}000000")
    with conn.transaction():  # replayed from the meter's buffer after the move: measured before and after it
        process_batch(conn, [msg(county, card, 1, ago=timedelta(hours=3)), msg(county, card, 2)], ctx=ctx)
    assert rows(conn, "select seq, clinic_id from reading order by seq") == [(1, county.village_id), (2, other)]


def test_quarantine_keeps_the_raw_bytes_with_the_id_number_masked(setup):
    conn, county, ctx, _ = setup
    bad = msg(county, id_ref(WOMAN_1955), 1, sbp=400)  # implausible: refused, kept
    with conn.transaction():
        assert process_batch(conn, [bad], ctx=ctx).quarantined == 1
    raw = bytes(rows(conn, "select raw from quarantine")[0][0])
    assert b'"value":"%s"' % mask_id_number(WOMAN_1955).encode() in raw and raw == bad.payload.replace(
        WOMAN_1955.encode(), mask_id_number(WOMAN_1955).encode()
    )
    no_number_anywhere(conn)


def test_the_commands_register_and_attribute_reading_the_id_number_from_stdin(setup, db_url):
    conn, county, ctx, _ = setup
    with conn.transaction():
        process_batch(conn, [msg(county, id_ref(WOMAN_1955), 1), msg(county, None, 2)], ctx=ctx)
    from app.cli import app

    env = {"CDM_DATABASE_URL": db_url, "CDM_COUNTY_CODE": COUNTY}
    runner = CliRunner()
    registered = runner.invoke(
        app,
        ["patients", "register", "--health-card", "HNEW7", "--village", f"{COUNTY}-v1", "--sex", "F",
         "--birth-year", "1955", "--hypertension", "--with-id-card"],
        input=WOMAN_1955 + "\n", env=env,
    )  # fmt: skip
    assert registered.exit_code == 0, registered.output
    assert WOMAN_1955 not in registered.output
    out = json.loads(registered.stdout[registered.stdout.index("{") :])
    assert out["readings_attributed"] == 1 and out["id_card"] == mask_id_number(WOMAN_1955)
    matched = runner.invoke(
        app,
        ["readings", "attribute", "--meter", county.bp_meter, "--seq", "2", "--patient", "HNEW7", "--by", "li"],
        env=env,
    )
    assert matched.exit_code == 0, matched.output
    assert json.loads(matched.stdout)["readings_attributed"] == 1
    listed = runner.invoke(app, ["readings", "unattributed"], env=env)
    assert json.loads(listed.stdout) == []

    with conn.transaction():  # a patient registered by health card only; their ID card is recorded later
        process_batch(conn, [msg(county, id_ref(WOMAN_1960), 3)], ctx=ctx)
    refusals = (  # patient 0 has another ID card on record; patient 2 is a man
        ("HTA000000", "zh", "未执行：该患者已登记了另一个身份证号，请核对"),
        ("HTA000002", "zh", "未执行：身份证号显示的性别与患者档案不符"),
        ("HTA000000", "en", "refused: this patient already has another ID-card number on record"),
        ("HTA000002", "en", "refused: the ID-card number's sex digit does not match the patient record"),
    )
    for card, lang, says in refusals:  # in the county's language (CDM_LANGUAGE), no traceback, never the number
        wrong = runner.invoke(
            app, ["patients", "set-id-card", "--patient", card], input=WOMAN_1960 + "\n",
            env={**env, "CDM_LANGUAGE": lang},
        )  # fmt: skip
        assert wrong.exit_code == 1 and wrong.output.strip().endswith(says), wrong.output
        assert "Traceback" not in wrong.output and WOMAN_1960 not in wrong.output
    unnamed = runner.invoke(app, ["readings", "attribute", "--patient", "HTA000001", "--by", "li"], env=env)
    assert unnamed.exit_code == 1 and unnamed.output.strip() == (
        "未执行：请指明一条读数（--meter 和 --seq）或一个识别号（--ref-scheme 和 --ref）"
    ), unnamed.output
    attached = runner.invoke(
        app, ["patients", "set-id-card", "--patient", "HTA000001"], input=WOMAN_1960 + "\n", env=env
    )
    assert attached.exit_code == 0, attached.output
    assert json.loads(attached.stdout[attached.stdout.index("{") :])["readings_attributed"] == 1


def test_no_log_line_of_the_running_pipeline_holds_an_id_number(settings, caplog):
    """Meter -> real broker -> ingest worker -> store, with every logger at DEBUG."""
    import logging
    import threading

    from ingest.worker import IngestWorker
    from tests.support.mqtt import TestPublisher
    from tests.support.waiting import wait_until

    caplog.set_level(logging.DEBUG)
    key_id, digest = settings.id_card_keyring.hash(parse_id_number(MAN_1960))
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code)
        conn.execute(
            "update patient set id_card_hash = %s, id_card_key_id = %s where id = %s",
            (digest, key_id, county.patients[f"H{settings.county_code.upper()}000000"]),
        )
        conn.commit()
    topic = reading_topic(settings.county_code, county.bp_meter)
    now = datetime.now(UTC)

    def raw(seq: int, ref: PatientRef | None, sbp: int = 130) -> bytes:
        return bp_payload(
            device_uid=county.bp_meter, seq=seq, measured_at=now, systolic=sbp, diastolic=80, pulse=70, patient=ref
        )

    template = raw(9, PatientRef(scheme="health_card", value="H1"))
    typo = WOMAN_1955[:-1] + ("0" if WOMAN_1955[-1] != "0" else "1")
    messages = [
        raw(1, id_ref(MAN_1960)),  # attributed
        raw(2, id_ref(WOMAN_1955)),  # kept, waiting
        raw(3, id_ref(WOMAN_1955), sbp=400),  # implausible: quarantined
        template.replace(b'"health_card","value":"H1"', f'"id_card","value":"{typo}"'.encode()),  # mistyped
        template.replace(b'"value":"H1"', f'"value":"{WOMAN_1960}"'.encode()),  # an ID number as a health card
    ]
    stop = threading.Event()
    worker = IngestWorker(settings, stop=stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    try:
        assert worker.connected.wait(10)
        meter = TestPublisher(settings, "meter-ids")
        for m in messages:
            meter.publish(topic, m)
        meter.close()
        assert wait_until(lambda: worker.totals.stored + worker.totals.quarantined == 5), worker.totals
    finally:
        stop.set()
        thread.join(10)
    assert (worker.totals.stored, worker.totals.quarantined) == (2, 3)
    assert any("quarantined" in r.getMessage() for r in caplog.records), "the refusals were logged"
    for record in caplog.records:
        text = record.getMessage() + repr(record.args) + (record.exc_text or "")
        for number in (*ALL_NUMBERS, typo):
            assert number not in text, f"{record.name} logged an ID-card number"
    with psycopg.connect(settings.database_url) as conn:
        no_number_anywhere(conn)
        assert rows(conn, "select 1 from quarantine where position(%s::bytea in raw) > 0", typo.encode()) == []
