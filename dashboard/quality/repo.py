"""All SQL of the data-quality screen: quarantined messages by meter and reason, offline and clock-skewed meters,
and readings kept without a patient — each scoped to the viewer's township through the meter's clinic — and
matching one of those readings to a patient.

A reading whose patient reference matched nobody is kept with `patient_id` null and listed in
`reading_unattributed` (ingest.attribution.service); matching one here checks that the patient and the reading are
both in the viewer's scope, then goes through the same service as `cdm readings attribute`
(ingest.attribution.service): the ID card entered at the meter must agree with the patient, the patient is
reassessed and any alert raised, and the match is audited, all in one transaction.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.rows import dict_row

from cdm.i18n import Refusal
from cdm.privacy import mask_card, redact
from cdm.settings import Settings
from dashboard.access import Principal, scope_filter
from ingest.attribution import service
from ingest.attribution.service import Reassess

SCREEN = "quality"
WINDOW = timedelta(days=30)  # what the screen looks back over: the meters' buffer age (CDM_MAX_BUFFER_AGE_DAYS)
SKEW_WARN_S = 60.0  # a clock a minute off still files readings on the right day, but is worth a visit
SILENT_HEARTBEATS = 2  # missed heartbeats before a meter counts as offline, even without a last-will
RAW_SHOWN = 240  # characters of a raw message shown
LIMIT = 200
# The township of a meter: the parent of its village clinic, or the township itself for a township's own meter.
TOWNSHIP_OF_CLINIC = "case c.level when 'township' then c.id else c.parent_id end"

# Counted by meter and reason first, then named: joining the window's 46,000 refusals (260,000 patients) to their
# meter and clinic before grouping by four columns cost about 130 ms on the loaded 2-core test machine.
_QUARANTINE_BY_METER = """
select g.device_uid, d.kind, c.name as clinic, g.reason, g.n, g.latest
from (
    select q.device_uid, q.reason, count(*) as n, max(q.received_at) as latest
    from quarantine q
    where q.received_at >= %(since)s
    group by q.device_uid, q.reason
) g
left join device d on d.uid = g.device_uid
left join region c on c.id = d.clinic_id
where ({scope})
order by g.n desc, g.latest desc
limit %(limit)s
"""
_LATEST_QUARANTINED = """
select q.id, q.received_at, q.device_uid, c.name as clinic, q.reason, q.detail, q.raw
from quarantine q
left join device d on d.uid = q.device_uid
left join region c on c.id = d.clinic_id
where q.received_at >= %(since)s and ({scope})
order by q.received_at desc, q.id desc
limit %(limit)s
"""
_OFFLINE = """
select d.uid, d.kind, c.name as clinic, d.last_seen_at, d.battery_pct, d.signal_dbm,
       case when d.last_seen_at is null and d.last_heartbeat_at is null and d.status <> 'online' then 'inactive'
            else 'offline' end as state
from device d join region c on c.id = d.clinic_id
where d.revoked_at is null and ({scope})
  and (d.status = 'offline' or d.last_seen_at is null
       or d.last_seen_at < %(now)s - make_interval(secs => d.heartbeat_interval_s * %(silent)s))
order by d.last_seen_at is null, d.last_seen_at desc, d.uid
limit %(limit)s
"""
# Counts for the panel's heading: the list itself stops at LIMIT rows.
_SILENT_COUNTS = """
select count(*) filter (where d.last_seen_at is null and d.last_heartbeat_at is null and d.status <> 'online')
           as inactive,
       count(*) filter (where not (d.last_seen_at is null and d.last_heartbeat_at is null and d.status <> 'online'))
           as offline
from device d join region c on c.id = d.clinic_id
where d.revoked_at is null and ({scope})
  and (d.status = 'offline' or d.last_seen_at is null
       or d.last_seen_at < %(now)s - make_interval(secs => d.heartbeat_interval_s * %(silent)s))
"""
# One definition of a wrong clock for the panel and the quarantine: a meter whose latest readings put measured_at
# at least SKEW_WARN_S away from arrival (device.clock_skew_s, which readings refused as from the future also
# update), or that had a reading refused as measured in the future within the window.
_SKEWED = """
with future as (
    select q.device_uid, count(*) as n, max(q.received_at) as latest from quarantine q
    where q.reason = 'measured_in_future' and q.received_at >= %(since)s group by q.device_uid
)
select d.uid, d.kind, c.name as clinic, d.clock_skew_s, d.clock_skew_at, coalesce(f.n, 0) as future_refused,
       f.latest as future_latest
from device d join region c on c.id = d.clinic_id
left join future f on f.device_uid = d.uid
where ((d.clock_skew_s is not null and abs(d.clock_skew_s) >= %(skew)s) or f.n is not null) and ({scope})
order by abs(coalesce(d.clock_skew_s, 0)) desc, f.n desc nulls last, d.uid
limit %(limit)s
"""
_UNATTRIBUTED = """
select u.device_id, u.seq, u.measured_at, d.uid, d.kind, c.name as clinic, u.ref_scheme as patient_scheme,
       u.ref_masked as patient_ref, u.reason, r.systolic, r.diastolic, r.glucose_mmol, r.glucose_context
from reading_unattributed u
join device d on d.id = u.device_id
join region c on c.id = u.clinic_id
left join reading r on (r.device_id, r.seq, r.measured_at) = (u.device_id, u.seq, u.measured_at)
where u.attributed_at is null and u.measured_at >= %(since)s and ({scope})
order by u.measured_at desc
limit %(limit)s
"""
_PATIENT_BY_CARD = """
select p.id from patient p join region c on c.id = p.village_id
where p.health_card_no = %(card)s and ({scope})
"""
_WAITING_IN_SCOPE = """
select d.uid from reading_unattributed u
join device d on d.id = u.device_id
join region c on c.id = u.clinic_id
where u.device_id = %(device_id)s and u.seq = %(seq)s and u.measured_at = %(measured_at)s
  and u.attributed_at is null and ({scope})
"""


def _patient_reference(text: str) -> str | None:
    """The patient reference a message carries (payload `patient.value`), when the text is JSON that has one."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    patient = message.get("patient") if isinstance(message, dict) else None
    value = patient.get("value") if isinstance(patient, dict) else None
    return value if isinstance(value, str) and value else None


def safe_raw(raw: bytes, *, limit: int = RAW_SHOWN) -> str:
    """A raw message as text a screen may show: undecodable bytes and control characters escaped; the patient
    reference, identity and phone numbers masked; cut to `limit` characters."""
    text = redact(raw.decode("utf-8", errors="backslashreplace"))
    reference = _patient_reference(text)
    if reference is not None:
        text = text.replace(reference, mask_card(reference))
    text = redact("".join(ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode() for ch in text))
    return text if len(text) <= limit else text[:limit] + "…"


def message_fields(raw: bytes) -> list[tuple[str, str]] | None:
    """A refused message's fields as (key, value shown), nested objects flattened (`patient.value`), every value
    masked like `safe_raw`; None when the message is not a JSON object (the screen then shows the escaped text)."""
    try:
        message = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    out: list[tuple[str, str]] = []
    for key, value in message.items():
        items = value.items() if isinstance(value, dict) else [("", value)]
        for sub, inner in items:
            name = f"{key}.{sub}" if sub else str(key)
            shown = inner if isinstance(inner, str) else json.dumps(inner, ensure_ascii=False)
            if name == "patient.value" and isinstance(inner, str):
                shown = mask_card(inner)
            out.append((redact(name)[:40], safe_raw(shown.encode(), limit=60)))
    return out


def _scope(principal: Principal) -> tuple[str, dict[str, int]]:
    """Meters and readings by their clinic's township; team accounts have no meters (PermissionError)."""
    return scope_filter(principal, township_col=TOWNSHIP_OF_CLINIC)


def _rows(conn: psycopg.Connection, query: str, principal: Principal, **params: object) -> list[dict[str, Any]]:
    scope, scope_params = _scope(principal)
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query.format(scope=scope), {**scope_params, "limit": LIMIT, **params}).fetchall()


@dataclass(frozen=True)
class QualityReport:
    """What the data-quality screen shows."""

    by_meter: list[dict[str, Any]]
    latest: list[dict[str, Any]]
    offline: list[dict[str, Any]]
    skewed: list[dict[str, Any]]
    unattributed: list[dict[str, Any]]
    silent: dict[str, int]  # meters offline / never connected, all of them (the list shows at most LIMIT)


def quality_report(conn: psycopg.Connection, *, principal: Principal, now: datetime) -> QualityReport:
    """Everything the screen shows, for the viewer's scope, over the last WINDOW."""
    since = now - WINDOW
    latest = _rows(conn, _LATEST_QUARANTINED, principal, since=since, limit=20)
    for row in latest:
        row["fields"] = message_fields(bytes(row["raw"]))
        row["raw"] = safe_raw(bytes(row["raw"]))
        row["detail"] = safe_raw(row["detail"].encode())
    unattributed = _rows(conn, _UNATTRIBUTED, principal, since=since)
    return QualityReport(
        by_meter=_rows(conn, _QUARANTINE_BY_METER, principal, since=since),
        latest=latest,
        offline=_rows(conn, _OFFLINE, principal, now=now, silent=SILENT_HEARTBEATS),
        skewed=_rows(conn, _SKEWED, principal, skew=SKEW_WARN_S, since=since),
        unattributed=unattributed,
        silent=_rows(conn, _SILENT_COUNTS, principal, now=now, silent=SILENT_HEARTBEATS)[0],
    )


class AttributionError(Refusal):
    """Why a reading could not be matched: a catalogue key and its values, shown in the viewer's language."""


def attribute(
    conn: psycopg.Connection,
    *,
    principal: Principal,
    device_id: int,
    seq: int,
    measured_at: datetime,
    card: str,
    settings: Settings,
    now: datetime,
) -> tuple[int, str | None]:
    """Match one unattributed reading to the patient with health card `card` (both in scope); reassess them.

    Returns (patient id, colour after); AttributionError when the card or the reading is not the viewer's to match.
    """
    card = card.strip()
    if not card:
        raise AttributionError("quality.attribute.no_card")
    scope, params = _scope(principal)
    with conn.transaction():
        if conn.execute(_PATIENT_BY_CARD.format(scope=scope), {**params, "card": card}).fetchone() is None:
            raise AttributionError("quality.attribute.no_patient")
        bound = {**params, "device_id": device_id, "seq": seq, "measured_at": measured_at}
        waiting = conn.execute(_WAITING_IN_SCOPE.format(scope=scope), bound).fetchone()
        if waiting is None:
            raise AttributionError("quality.attribute.gone")
        how = Reassess.from_settings(settings, now=now)
        try:
            done = service.attribute(
                conn,
                patient_card=card,
                by=principal.username,
                reassess=how,
                reading=(waiting[0], seq),
                keyring=settings.id_card_keyring,
                screen=SCREEN,
            )
        except service.AttributionError as exc:
            # The ID card entered at the meter is not the patient's: said as the service says it (number, or sex and
            # birth year); any other refusal means the reading is no longer waiting.
            key = exc.key if exc.identity else "quality.attribute.gone"
            raise AttributionError(key, **exc.values) from None
    return int(done["patient_id"]), done["colour"]
