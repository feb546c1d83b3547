"""One batch of MQTT messages -> one transaction: readings, quarantine, assessments, alerts and their outbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg

from alerts.repo import raise_alerts
from alerts.workflow import fold_repeats
from cdm.domain import Reading
from cdm.payload import parse_topic
from cdm.settings import Settings
from ingest import repo
from ingest.attribution import Attribution, resolve
from ingest.repo import DeviceInfo, QuarantineRow
from ingest.validate import Limits, Rejection, decode
from models.rules import RuleSettings, urgent_reasons
from models.scoring import rescore, rule_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InboundMessage:
    """A message as it came off the broker; `generation` names the MQTT connection it arrived on."""

    mid: int
    qos: int
    topic: str
    payload: bytes
    received_at: datetime
    generation: int = 0


@dataclass(frozen=True, slots=True)
class BatchResult:
    stored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    alerts: int = 0

    def __add__(self, other: BatchResult) -> BatchResult:
        return BatchResult(
            self.stored + other.stored,
            self.duplicates + other.duplicates,
            self.quarantined + other.quarantined,
            self.alerts + other.alerts,
        )


@dataclass
class IngestContext:
    """What every batch needs, built once per worker."""

    limits: Limits
    rules: RuleSettings
    lang: str
    routes: dict[str, str] = field(default_factory=dict)  # centre -> channel of its notifications
    devices: dict[str, DeviceInfo] = field(default_factory=dict)  # registry cache; meters are rarely re-homed
    attribution: Attribution = field(default_factory=Attribution.development)

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
            rules=rule_settings(settings),
            lang=settings.language,
            routes=settings.notification_routes,
            attribution=Attribution.from_settings(settings),
        )

    def lookup_devices(self, conn: psycopg.Connection, uids: set[str]) -> dict[str, DeviceInfo]:
        missing = uids - self.devices.keys()
        if missing:
            self.devices.update(repo.fetch_devices(conn, missing))
        return self.devices


def process_batch(conn: psycopg.Connection, messages: Sequence[InboundMessage], *, ctx: IngestContext) -> BatchResult:
    """Validate, store and assess a batch inside the caller's transaction (the caller commits, then acks)."""
    quarantine: list[QuarantineRow] = []
    accepted: list[tuple[InboundMessage, Reading]] = []
    for msg in messages:
        outcome = decode(topic=msg.topic, payload=msg.payload, received_at=msg.received_at, limits=ctx.limits)
        if isinstance(outcome, Rejection):
            quarantine.append(_quarantine_row(msg, outcome))
        else:
            accepted.append((msg, outcome))
    devices = ctx.lookup_devices(conn, {r.device_uid for _, r in accepted})
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
    repo.update_device_counters(conn, _counters(readings, inserted))

    now = datetime.now(UTC)
    changes = rescore(conn, patient_ids={pid for _, _, pid in inserted if pid is not None}, now=now, rules=ctx.rules)
    alert_ids = raise_alerts(conn, changes, now=now, lang=ctx.lang, routes=ctx.routes)
    fold_repeats(conn, _urgent_by_patient(readings, inserted, ctx), now=now, new_alerts=alert_ids)
    return BatchResult(
        stored=len(inserted),
        duplicates=len(readings) - len(inserted),
        quarantined=len(quarantine),
        alerts=len(alert_ids),
    )


def quarantine_one(conn: psycopg.Connection, msg: InboundMessage, *, reason: str, detail: str) -> None:
    """Keep a message that could not be stored at all (the store refused it) with the reason."""
    repo.insert_quarantine(conn, [_quarantine_row(msg, Rejection(reason, detail[:300], None))])


def _urgent_by_patient(
    readings: list[tuple[Reading, DeviceInfo]], inserted: list[tuple[int, int, int | None]], ctx: IngestContext
) -> dict[int, list[str]]:
    """New urgent readings of attributed patients, as evidence ids, so an open alert can count them."""
    new = {(device_id, seq): pid for device_id, seq, pid in inserted if pid is not None}
    urgent: dict[int, list[str]] = {}
    for reading, device in readings:
        pid = new.get((device.id, reading.seq))
        if pid is not None and urgent_reasons(reading, ctx.rules.thresholds):
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
        "quarantined a message from meter %s: %s (%s)", rejection.device_uid or "?", rejection.reason, rejection.detail
    )
    uid = rejection.device_uid or (parse_topic(msg.topic) or (None, None))[1]
    return QuarantineRow(msg.received_at, msg.topic[:300], uid, rejection.reason, rejection.detail, msg.payload)


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


def _counters(
    readings: list[tuple[Reading, DeviceInfo]], inserted: list[tuple[int, int, int | None]]
) -> dict[int, tuple[int, int, datetime]]:
    seen: dict[int, tuple[int, datetime]] = {}
    for r, d in readings:
        n, last = seen.get(d.id, (0, r.received_at))
        seen[d.id] = (n + 1, max(last, r.received_at))
    stored: dict[int, int] = {}
    for device_id, _, _ in inserted:
        stored[device_id] = stored.get(device_id, 0) + 1
    return {i: (stored.get(i, 0), n - stored.get(i, 0), last) for i, (n, last) in seen.items()}
