"""Assess patients from the store and keep the result: the rules (pure) joined to their queries.

Both paths read summaries computed by the store (assess.summary_repo), never raw readings in Python:
`rescore` for the few patients of one ingest batch inside its transaction, `rescore_all` for everyone
(the nightly job, the benchmark), in id ranges processed in parallel, one short transaction per chunk.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from assess import repo
from assess.risk.policy import apply_model
from assess.rules import RuleSettings, decide
from assess.summary import Summary
from assess.summary_repo import SummaryParams
from cdm.domain import Assessment, Colour, PatientProfile, RiskScore
from cdm.settings import Settings
from cdm.thresholds import for_edition

log = logging.getLogger(__name__)

# Readings older than the routine follow-up period (3 months) no longer decide a colour on their own: by then a
# follow-up is due anyway, and the monitoring-gap and overdue rules take over.
LOOKBACK = timedelta(days=90)

OnChanges = Callable[[psycopg.Connection, list["Change"]], object]


@dataclass(frozen=True, slots=True)
class Change:
    """A patient whose colour or reasons changed in this assessment."""

    patient_id: int
    previous: Colour | None
    assessment: Assessment


def rule_settings(settings: Settings) -> RuleSettings:
    """The rules as this county configured them."""
    return RuleSettings(
        thresholds=for_edition(settings.guideline_edition),
        window=timedelta(days=settings.assessment_window_days),
        monitoring_interval=timedelta(days=settings.monitoring_interval_days),
        sitting_gap=timedelta(minutes=settings.sitting_minutes),
    )


def summary_params(now: datetime, rules: RuleSettings) -> SummaryParams:
    """What the summary query is bound to for these rules at `now`."""
    th = rules.thresholds
    return SummaryParams(
        now=now,
        lookback=LOOKBACK,
        window=rules.window,
        monitoring_interval=rules.monitoring_interval,
        bp_critical_systolic=th.bp_critical_systolic,
        bp_critical_diastolic=th.bp_critical_diastolic,
        glucose_critical_high=th.glucose_critical_high,
        glucose_critical_low=th.glucose_critical_low,
        hypo_level1=th.hypo_level1,
        hypo_level2=th.hypo_level2,
        heart_rate_urgent_per_min=th.heart_rate_urgent_per_min,
        heart_rate_persist_readings=th.heart_rate_persist_readings,
        sitting_gap=rules.sitting_gap,
    )


def rescore(
    conn: psycopg.Connection, *, patient_ids: Iterable[int], now: datetime, rules: RuleSettings
) -> list[Change]:
    """Assess the given patients as of `now` inside the caller's transaction; return the changes."""
    ids = sorted(set(patient_ids))
    if not ids:
        return []
    current = repo.load_current(conn, ids)
    cases = repo.load_cases(conn, params=summary_params(now, rules), patient_ids=ids)
    risks = repo.load_risk_scores(conn, patient_ids=ids)
    assessed, changes = decide_all(cases, current, now=now, rules=rules, risks=risks)
    if issubclass(conn.cursor_factory, psycopg.ClientCursor):
        # Client-side binding (the TimescaleDB test server, a WASM build that COPY crashes): row-by-row upserts.
        repo.save(
            conn,
            assessed=assessed,
            now=now,
            edition=rules.thresholds.edition,
            changed=[(c.patient_id, c.assessment, c.previous.value if c.previous else None) for c in changes],
            risks=risks,
        )
    else:  # COPY and one upsert: half the cost of the row-by-row upserts in a batch of ingest
        repo.save_bulk(
            conn,
            assessed=assessed,
            now=now,
            edition=rules.thresholds.edition,
            changed={c.patient_id: c.previous.value if c.previous else None for c in changes},
            risks=risks,
        )
    return changes


def decide_all(
    cases: Sequence[tuple[PatientProfile, Summary]],
    current: dict[int, tuple[str, tuple[str, ...]]],
    *,
    now: datetime,
    rules: RuleSettings,
    risks: Mapping[int, RiskScore] | None = None,
) -> tuple[list[tuple[int, Assessment]], list[Change]]:
    """Each patient's assessment, and the changes against `current` (colour, reasons) of each patient.

    The rules decide; last night's model probability (when a model has scored the patient) may then raise the
    priority or turn green to yellow, never lower a rule's red (assess.risk.policy).
    """
    risks = risks or {}
    assessed: list[tuple[int, Assessment]] = []
    changes: list[Change] = []
    for profile, summary in cases:
        pid = profile.patient_id
        try:
            result = decide(profile=profile, summary=summary, now=now, rules=rules)
            risk = risks.get(pid)
            if risk is not None and risk.model_version is not None:
                result = apply_model(result, probability=risk.probability)
        except Exception:  # one patient's bad data must not stop the others' assessment
            log.exception("assessment failed for patient id %s", pid)
            continue
        assessed.append((pid, result))
        before = current.get(pid)
        if before is None or before != (result.colour.value, result.reasons):
            changes.append(Change(pid, Colour(before[0]) if before else None, result))
    return assessed, changes
