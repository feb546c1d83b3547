"""One batch of MQTT messages -> one transaction: readings, quarantine, assessments, alerts and their outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from alerts.service import AlertContext, assess_and_alert
from assess.rules import urgent_reasons
from cdm.domain import Reading
from cdm.payload import parse_topic
from cdm.privacy import redact
from cdm.settings import Settings
from ingest import repo
from ingest.attribution.logic import Attribution
from ingest.attribution.service import resolve
from ingest.message import DeviceInfo, InboundMessage
from ingest.repo import DeviceTally, QuarantineRow
from ingest.validate import Limits, Rejection, decode

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    alerts: int = 0
    stale: int = 0  # of `stored`: late readings (a replayed buffer) that re-assessed but could not alert
    unattributed: int = 0  # of `stored`: readings no patient matched (kept waiting for a match)

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            self.stored + other.stored,
            self.duplicates + other.duplicates,
            self.quarantined + other.quarantined,
            self.alerts + other.alerts,
            self.stale + other.stale,
            self.unattributed + other.unattributed,
        )


@dataclass
class IngestContext:
    """What every batch needs, built once per worker."""

    limits: Limits
    alerting: AlertContext  # the rules, and how alerts are worded and routed
    stale_after: timedelta = timedelta(hours=6)
    devices: dict[str, DeviceInfo] = field(default_factory=dict)  # registry cache; meters are rarely re-homed
    attribution: Attribution = field(default_factory=Attribution.ephemeral)

    @classmethod
    def from_settings(cls, settings: Settings) -> IngestContext:
        limits = Limits(
            county_code=settings.county_code,
            max_payload_bytes=settings.max_payload_bytes,
            max_clock_skew=timedelta(seconds=settings.max_clock_skew_s),
            max_buffer_age=timedelta(days=settings.max_buffer_age_days),
        )
        return cls(
            limits=limits,
            alerting=AlertContext.from_settings(settings),
            stale_after=timedelta(seconds=settings.ingest_stale_after_s),
            attribution=Attribution.from_settings(settings),
        )

    def lookup_devices(self, conn: psycopg.Connection, uids: set[str]) -> dict[str, DeviceInfo]:
        missing = uids - self.devices.keys()
        if missing:
            self.devices.update(repo.fetch_devices(conn, missing))
        return self.devices


def process_batch(conn: psycopg.Connection, messages: Sequence[InboundMessage], *, ctx: IngestContext) -> BatchResult:
    """Validate, store and assess a batch inside the caller's transaction (the caller commits, then acks).

    Every newly stored reading re-assesses its patient, late ones included (the colour and its history follow the
    data). Only patients with at least one *fresh* new reading (arrived within `ctx.stale_after` of its
    measurement) can get an alert or a repeat on their open alert: a meter's replayed buffer is history.
    """
    quarantine: list[QuarantineRow] = []
    accepted: list[tuple[InboundMessage, Reading]] = []
    for msg in messages:
        outcome = decode(topic=msg.topic, payload=msg.payload, received_at=msg.received_at, limits=ctx.limits)
        if isinstance(outcome, Rejection):
            quarantine.append(_quarantine_row(msg, outcome))
        else:
            accepted.append((msg, outcome))
    devices = ctx.lookup_devices(
        conn, {r.device_uid for _, r in accepted} | {q.device_uid for q in quarantine if q.device_uid}
    )
    readings: list[tuple[Reading, DeviceInfo]] = []
    for msg, reading in accepted:
        problem = _device_problem(reading, devices.get(reading.device_uid))
        if problem:
            quarantine.append(_quarantine_row(msg, problem))
        else:
            readings.append((reading, devices[reading.device_uid]))

    # Hashes ID-card references, binds each reading to its clinic at measurement time, keeps unmatched ones waiting.
    readings, patients = resolve(conn, readings, attribution=ctx.attribution)
    rows = [_row(r, d, patients.get((r.patient_scheme or "", r.patient_ref or ""))) for r, d in readings]
    inserted = repo.insert_readings(conn, rows)
    repo.insert_quarantine(conn, quarantine)

    fresh = _fresh_patients(readings, inserted, ctx.stale_after)
    assessed = assess_and_alert(
        conn,
        patient_ids={pid for _, _, pid in inserted if pid is not None},
        fresh=fresh,
        now=datetime.now(UTC),
        ctx=ctx.alerting,
        urgent=_urgent_by_patient(readings, inserted, ctx, fresh),
    )
    # Last: the meters' rows stay locked until commit, and another worker's batch may need the same meters.
    repo.update_device_counters(conn, _tallies(readings, inserted, quarantine, devices, ctx.stale_after))
    new_keys = {(device_id, seq) for device_id, seq, _ in inserted}
    stale = sum(1 for r, d in readings if (d.id, r.seq) in new_keys and _is_stale(r, ctx.stale_after))
    return BatchResult(
        stored=len(inserted),
        duplicates=len(readings) - len(inserted),
        quarantined=len(quarantine),
        alerts=len(assessed.alerts),
        stale=stale,
        unattributed=sum(1 for _, _, pid in inserted if pid is None),
    )


def _is_stale(reading: Reading, stale_after: timedelta) -> bool:
    return reading.received_at - reading.measured_at > stale_after


def _fresh_patients(
    readings: list[tuple[Reading, DeviceInfo]], inserted: list[tuple[int, int, int | None]], stale_after: timedelta
) -> set[int]:
    """Patients with at least one new reading that arrived soon enough after it was measured to alert on."""
    new = {(device_id, seq): pid for device_id, seq, pid in inserted if pid is not None}
    fresh: set[int] = set()
    for reading, device in readings:
        pid = new.get((device.id, reading.seq))
        if pid is not None and not _is_stale(reading, stale_after):
            fresh.add(pid)
    return fresh


def quarantine_one(conn: psycopg.Connection, msg: InboundMessage, *, reason: str, detail: str) -> None:
    """Keep a message that could not be stored at all (the store refused it) with the reason, counted on its meter."""
    row = _quarantine_row(msg, Rejection(reason, redact(detail)[:300], None))
    repo.insert_quarantine(conn, [row])
    if row.device_uid:
        repo.count_refusals(conn, {row.device_uid: 1})


def _urgent_by_patient(
    readings: list[tuple[Reading, DeviceInfo]],
    inserted: list[tuple[int, int, int | None]],
    ctx: IngestContext,
    fresh: set[int],
) -> dict[int, list[str]]:
    """New, fresh urgent readings of attributed patients, as evidence ids, so an open alert can count them."""
    new = {(device_id, seq): pid for device_id, seq, pid in inserted if pid is not None}
    urgent: dict[int, list[str]] = {}
    for reading, device in readings:
        pid = new.get((device.id, reading.seq))
        if pid is None or pid not in fresh or _is_stale(reading, ctx.stale_after):
            continue
        if urgent_reasons(reading, ctx.alerting.rules.thresholds):
            urgent.setdefault(pid, []).append(f"{reading.device_uid}:{reading.seq}")
    return urgent


def _device_problem(reading: Reading, device: DeviceInfo | None) -> Rejection | None:
    if device is None:
        return Rejection(
            "unknown_device", f"meter {reading.device_uid!r} is not registered; provision it first", reading.device_uid
        )
    if device.kind != reading.kind.value:
        return Rejection(
            "device_kind_mismatch", f"a {device.kind} meter sent a {reading.kind.value} reading", reading.device_uid
        )
    return None


def _quarantine_row(msg: InboundMessage, rejection: Rejection) -> QuarantineRow:
    # The payload itself is not logged: it may carry a patient's card number. Staff read it in quarantine.
    log.warning(
        "quarantined a message from meter %s: %s (%s)",
        redact(rejection.device_uid or "?"),
        rejection.reason,
        redact(rejection.detail),
    )
    uid = rejection.device_uid or (parse_topic(msg.topic) or (None, None))[1]
    return QuarantineRow(
        msg.received_at, msg.topic[:300], uid, rejection.reason, rejection.detail, msg.payload, rejection.skew_s
    )


def _row(r: Reading, d: DeviceInfo, patient_id: int | None) -> tuple[object, ...]:
    return (
        d.id,
        r.seq,
        r.measured_at,
        r.received_at,
        d.clinic_id,
        r.kind.value,
        patient_id,
        r.patient_scheme,
        r.patient_ref,
        r.systolic,
        r.diastolic,
        r.pulse,
        r.glucose_mmol,
        r.glucose_flag,
        r.glucose_context.value if r.glucose_context else None,
    )


def _tallies(
    readings: list[tuple[Reading, DeviceInfo]],
    inserted: list[tuple[int, int, int | None]],
    quarantine: list[QuarantineRow],
    devices: dict[str, DeviceInfo],
    stale_after: timedelta,
) -> dict[int, DeviceTally]:
    """Per meter: stored, duplicates, refused, latest arrival, and the clock skew its live readings show.

    A reading that arrived later than `stale_after` after its time stamp is taken for a replay from the meter's
    buffer, not for a clock that far behind, and says nothing about the skew.
    """
    stored: dict[int, int] = {}
    for device_id, _, _ in inserted:
        stored[device_id] = stored.get(device_id, 0) + 1
    valid: dict[int, int] = {}
    seen: dict[int, datetime] = {}
    skew: dict[int, float] = {}
    for r, d in readings:
        valid[d.id] = valid.get(d.id, 0) + 1
        seen[d.id] = max(seen.get(d.id, r.received_at), r.received_at)
        if not _is_stale(r, stale_after):
            offset = (r.measured_at - r.received_at).total_seconds()
            skew[d.id] = max(skew.get(d.id, offset), offset)
    refused: dict[int, int] = {}
    for q in quarantine:
        device = devices.get(q.device_uid or "")
        if device is not None:
            refused[device.id] = refused.get(device.id, 0) + 1
            if q.skew_s is not None:  # refused as from the future: the clock is off all the same (quality screen)
                seen[device.id] = max(seen.get(device.id, q.received_at), q.received_at)
                skew[device.id] = max(skew.get(device.id, q.skew_s), q.skew_s)
    return {
        i: DeviceTally(
            stored=stored.get(i, 0),
            duplicates=valid.get(i, 0) - stored.get(i, 0),
            quarantined=refused.get(i, 0),
            seen=seen.get(i),
            skew_s=round(skew[i], 1) if i in skew else None,
        )
        for i in valid.keys() | refused.keys()
    }
