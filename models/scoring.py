"""Assess patients from the store and keep the result: the rules (pure) joined to their queries."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from cdm.domain import Assessment, Colour
from cdm.settings import Settings
from cdm.thresholds import for_edition
from models import repo
from models.rules import RuleSettings, assess

log = logging.getLogger(__name__)

# Readings older than the routine follow-up period (3 months) no longer decide a colour on their own: by then a
# follow-up is due anyway, and the monitoring-gap and overdue rules take over.
LOOKBACK = timedelta(days=90)


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
    )


def rescore(
    conn: psycopg.Connection, *, patient_ids: Iterable[int], now: datetime, rules: RuleSettings
) -> list[Change]:
    """Assess the given patients as of `now` inside the caller's transaction; return the changes."""
    ids = sorted(set(patient_ids))
    if not ids:
        return []
    current = repo.load_current(conn, ids)
    profiles = repo.load_profiles(conn, ids)
    readings = repo.load_readings(conn, ids, since=now - max(LOOKBACK, rules.window, rules.monitoring_interval))
    visits = repo.load_follow_ups(conn, ids)
    assessed: list[tuple[int, Assessment]] = []
    changes: list[Change] = []
    for pid in ids:
        profile = profiles.get(pid)
        if profile is None:
            continue
        try:
            result = assess(
                profile=profile, readings=readings.get(pid, []), follow_ups=visits.get(pid, []), now=now, rules=rules
            )
        except Exception:  # one patient's bad data must not stop the others' assessment
            log.exception("assessment failed for patient id %s", pid)
            continue
        assessed.append((pid, result))
        before = current.get(pid)
        if before is None or before != (result.colour.value, result.reasons):
            changes.append(Change(pid, Colour(before[0]) if before else None, result))
    repo.save(
        conn,
        assessed=assessed,
        now=now,
        edition=rules.thresholds.edition,
        changed=[(c.patient_id, c.assessment, c.previous.value if c.previous else None) for c in changes],
    )
    return changes
