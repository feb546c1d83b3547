"""MeterPublisher: one reading of a chosen patient on a chosen meter, acknowledged by a real broker."""

from __future__ import annotations

import time

import pytest

from app.services import free_port
from cdm.payload import READING_V1, BpReadingV1
from cdm.settings import Settings
from device_sim.county import County
from device_sim.meter import MeterPublisher, seq_start
from device_sim.readings import patient_ref
from tests.support.mqtt_watch import Subscriber


@pytest.mark.integration
def test_meter_publisher_sends_one_critical_bp_for_a_patient(
    sim_settings: Settings, small_county: County, watcher: Subscriber
) -> None:
    patient = small_county.patients[0]
    meter = small_county.meter_for(patient.village_code, "bp")
    with MeterPublisher(sim_settings, client_id="e2e-meter") as pub:
        sent = pub.publish_bp(meter.uid, systolic=190, diastolic=100, patient=patient_ref(patient))
        glu = pub.publish_glucose(
            small_county.meter_for(patient.village_code, "glucose").uid,
            mmol_l=2.8,
            context="fasting",
            patient=patient_ref(patient, scheme="qr"),
        )
        assert pub.wait_acked() == 0 and pub.acked == 2
    received = watcher.wait_for(2)
    assert received == [(sent.topic, sent.payload), (glu.topic, glu.payload)]
    msg = READING_V1.validate_json(sent.payload)
    assert isinstance(msg, BpReadingV1) and (msg.systolic, msg.diastolic) == (190, 100)
    assert msg.patient is not None and msg.patient.value == patient.health_card_no and msg.device_id == meter.uid
    assert glu.seq == sent.seq  # each meter counts its own sequence from the same start


def test_a_later_publisher_starts_its_sequence_above_an_earlier_ones(sim_settings: Settings) -> None:
    earlier = MeterPublisher(sim_settings)
    seqs = [earlier.next_seq("BP-x-0001") for _ in range(500)]
    time.sleep(0.002)
    later = MeterPublisher(sim_settings)
    assert later.next_seq("BP-x-0001") > max(seqs)
    assert seqs == list(range(seqs[0], seqs[0] + 500))
    assert seq_start() < 2**63


def test_connect_to_a_broker_that_is_not_there_fails_clearly(county_code: str) -> None:
    settings = Settings(mqtt_url=f"mqtt://127.0.0.1:{free_port()}", county_code=county_code, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ConnectionError):
        MeterPublisher(settings).connect(timeout=1.0)
