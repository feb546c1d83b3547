"""The county's meters on the air: sittings at a steady rate through one MeterPublisher, with repeats and bad ones."""

from __future__ import annotations

import bisect
import itertools
import logging
import random
import threading
import time
from dataclasses import dataclass
from datetime import timedelta

from cdm.payload import reading_topic
from cdm.settings import Settings
from device_sim.buffer import Outages
from device_sim.county import County, SimPatient
from device_sim.meter import MeterPublisher, Published, seq_start
from device_sim.readings import (
    bad_message,
    encode,
    is_critical,
    meter_kind_for,
    random_patient_ref,
    sitting,
)

__all__ = ["MeterPublisher", "Published", "SimStats", "run", "seq_start"]

log = logging.getLogger(__name__)

# How often the pacing loop wakes up; short enough that `rate` is met smoothly and `stop` is noticed quickly.
TICK_S = 0.02


@dataclass(frozen=True)
class SimStats:
    published: int  # messages acknowledged by the broker, of every kind (duplicates and bad ones included)
    readings: int  # distinct valid readings sent
    duplicates_sent: int
    bad_sent: int
    critical_readings: int
    unacked: int  # messages sent that the broker never acknowledged; 0 on a healthy run
    replayed: int = 0  # readings sent late, from a meter's buffer after an outage (in random order)
    lost_in_meters: int = 0  # buffered readings a meter dropped (memory full or older than it may keep)


class _Tally:
    """Running counts of one simulation run."""

    def __init__(self) -> None:
        self.readings = self.duplicates = self.bad = self.critical = 0


class _VisitPicker:
    """Chooses who comes to a meter next, in proportion to each patient's visiting habit."""

    def __init__(self, county: County) -> None:
        if not county.patients:
            raise ValueError("the county has no patients to simulate")
        self._patients = county.patients
        self._cum = list(itertools.accumulate(p.visits_per_week for p in county.patients))

    def pick(self, rng: random.Random) -> SimPatient:
        """One patient, weighted by visits per week."""
        return self._patients[bisect.bisect_right(self._cum, rng.random() * self._cum[-1])]


def run(
    settings: Settings,
    county: County,
    *,
    seconds: float | None,
    rate: float,
    duplicate_share: float = 0.01,
    bad_share: float = 0.005,
    outage_share: float = 0.0,
    seed: int = 1,
    stop: threading.Event | None = None,
) -> SimStats:
    """Publish sittings at about `rate` readings/s until `seconds` pass or `stop` is set; counts of the run.

    With `outage_share` > 0 a meter now and then loses its network for a few sittings: it buffers what it measures
    and replays it, shuffled, when it is back (device_sim.buffer); at the end every buffer is replayed.
    """
    if rate <= 0:
        raise ValueError("rate must be positive (readings per second)")
    if seconds is None and stop is None:
        raise ValueError("give `seconds`, `stop`, or both; otherwise the run would never end")
    if county.code != settings.county_code:
        log.warning("county %s is published under the settings' county code %s", county.code, settings.county_code)
    stop = stop or threading.Event()
    rng, picker, tally = random.Random(seed), _VisitPicker(county), _Tally()
    outages = Outages(outage_share, random.Random(seed + 1), max_age=timedelta(days=settings.max_buffer_age_days))
    publisher = MeterPublisher(settings).connect()
    log.info("simulating %s meters of county %s at %.1f readings/s", len(county.meters), county.code, rate)
    started = time.monotonic()
    try:
        while not stop.is_set():
            elapsed = time.monotonic() - started
            if seconds is not None and elapsed >= seconds:
                break
            while tally.readings < rate * elapsed + 1:
                _one_sitting(
                    publisher,
                    county,
                    picker.pick(rng),
                    rng=rng,
                    tally=tally,
                    shares=(duplicate_share, bad_share),
                    outages=outages,
                )
            stop.wait(TICK_S)
        outages.drain_all(publisher, now=publisher.now())
    finally:
        unacked = publisher.close()
    stats = SimStats(
        published=publisher.acked,
        readings=tally.readings,
        duplicates_sent=tally.duplicates,
        bad_sent=tally.bad,
        critical_readings=tally.critical,
        unacked=unacked,
        replayed=outages.replayed,
        lost_in_meters=outages.dropped,
    )
    log.info("simulation of county %s ended: %s", county.code, stats)
    return stats


def _one_sitting(
    publisher: MeterPublisher,
    county: County,
    patient: SimPatient,
    *,
    rng: random.Random,
    tally: _Tally,
    shares: tuple[float, float],
    outages: Outages | None = None,
) -> None:
    duplicate_share, bad_share = shares
    meter = county.meter_for(patient.village_code, meter_kind_for(patient, rng))
    ref = random_patient_ref(patient, rng)
    now = publisher.now()
    offline = outages is not None and outages.offline(meter.uid)
    if outages is not None and not offline:
        outages.back_online(meter.uid, publisher, now=now)
    for values in sitting(patient, meter.kind, rng=rng, now=now):
        seq = publisher.next_seq(meter.uid)
        topic = reading_topic(publisher.county_code, meter.uid)
        payload = encode(values, meter_uid=meter.uid, seq=seq, patient=ref)
        if offline and outages is not None:
            outages.keep(meter.uid, topic, payload, values.measured_at)
            tally.readings += 1
            tally.critical += is_critical(values)
            continue
        publisher.publish_raw(topic, payload)
        tally.readings += 1
        tally.critical += is_critical(values)
        if rng.random() < duplicate_share:
            publisher.publish_raw(topic, payload)  # the meter missed the broker's PUBACK and re-sends
            tally.duplicates += 1
        if rng.random() < bad_share:
            bad = bad_message(
                county_code=publisher.county_code,
                meter=meter,
                patient=patient,
                rng=rng,
                now=now,
                seq=publisher.next_seq(meter.uid),
            )
            publisher.publish_raw(bad.topic, bad.payload)
            tally.bad += 1
