"""Whether a critical BP reading's sitting confirmed it: settled on the alert once the sitting is complete.

A critical reading alerts at once (assess.rules: a single reading meets the urgent criterion). The alert's
`sitting_confirmed` stays null until the sitting that holds its critical reading (the latest critical BP reading
among the alert's evidence) is complete: a later BP reading of the patient on another meter, or the sitting gap
or more after its last reading, closed it; or the sitting gap has passed since its last reading. Then it is true
when the sitting's mean also meets the urgent criterion, false when it does not (assess.rules.sitting_verdict).

Ingest settles at every batch, in the batch's transaction: the alerts of the batch's patients (their new readings
may grow or close a sitting), new alerts, and those whose sitting time alone has closed (`alert.sitting_open_until`,
its last reading + the gap, kept while it is open). So the next batch of any patient settles a sitting that time
has closed; a county with no batch at all for a while settles it at its next one. A reading replayed from a
meter's buffer after its sitting was settled does not reopen the verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import psycopg

from alerts import repo
from assess import repo as assess_repo
from assess.rules import RuleSettings, sitting_verdict
from assess.summary import evidence_item, urgent_reasons
from cdm.domain import Reading, ReadingKind

log = logging.getLogger(__name__)

# Alerts older than this are not looked at again: a sitting lasts minutes, so one still unsettled after a day has
# no critical BP reading to judge (its evidence names none), and must not cost every batch a look for ever.
HORIZON = timedelta(days=1)
NEVER = datetime.max.replace(tzinfo=UTC)


def settle_sittings(
    conn: psycopg.Connection, *, patient_ids: Iterable[int], now: datetime, rules: RuleSettings
) -> dict[int, bool]:
    """Record the verdict of every pending alert whose sitting is complete; returns {alert id: confirmed}."""
    pending = repo.pending_sittings(conn, patient_ids=sorted(set(patient_ids)), since=now - HORIZON, now=now)
    if not pending:
        return {}
    since = min(p.opened_at for p in pending) - HORIZON
    readings = assess_repo.load_readings(conn, sorted({p.patient_id for p in pending}), since=since)
    verdicts: dict[int, bool] = {}
    open_until: dict[int, datetime] = {}
    for alert in pending:
        bp = [r for r in readings.get(alert.patient_id, []) if r.kind is ReadingKind.BP]
        critical = _critical(bp, set(alert.evidence), rules)
        if critical is None:
            open_until[alert.alert_id] = NEVER  # nothing to judge: only the patient's own batches look again
            continue
        verdict = sitting_verdict(bp=bp, critical=critical, now=now, rules=rules)
        if verdict is None:
            open_until[alert.alert_id] = max(r.measured_at for r in bp) + rules.sitting_gap
        else:
            verdicts[alert.alert_id] = verdict
    repo.set_sittings(conn, verdicts=verdicts, open_until=open_until)
    if verdicts:
        log.info("settled the sittings of %s alerts (%s confirmed)", len(verdicts), sum(verdicts.values()))
    return verdicts


def _critical(bp: list[Reading], evidence: set[str], rules: RuleSettings) -> Reading | None:
    """The alert's critical reading: the latest critical BP reading its evidence names."""
    named = [
        r for r in bp if f"{r.device_uid}:{r.seq}" in evidence and "bp_critical" in urgent_reasons(r, rules.thresholds)
    ]
    return max(named, key=evidence_item, default=None)
