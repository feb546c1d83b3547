"""The nightly risk scores: China-PAR 10-year ASCVD risk and the trained model's 90-day probability per patient.

Kept in `risk_score`, so that every assessment (on each reading, and the fast full rescore) applies them without
recomputing features from raw readings; a 90-day horizon does not need a fresher score than last night's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import psycopg

from assess.chinapar import risk_systolic, ten_year_risk
from assess.risk import repo as risk_repo
from assess.risk.features import build_features
from assess.risk.saved import LoadedModel, load_latest, predict_many
from cdm import db
from cdm.settings import Settings

log = logging.getLogger(__name__)

FEATURE_WINDOW = timedelta(days=90)  # what the features look back over (assess/features.py)
CHUNK = 1000  # patients per transaction: short locks, steady progress


def score(
    conn: psycopg.Connection,
    *,
    patient_ids: Sequence[int],
    now: datetime,
    model: LoadedModel | None,
    window: timedelta,
) -> int:
    """Compute and store the scores of the given patients (inside the caller's transaction)."""
    people = risk_repo.patients_at(conn, patient_ids)
    readings = risk_repo.readings_between(conn, patient_ids, since=now - FEATURE_WINDOW, until=now)
    visits = risk_repo.follow_ups_until(conn, patient_ids, until=now)
    ids = [pid for pid in patient_ids if pid in people]
    risks = [
        ten_year_risk(
            profile=people[pid][0], systolic=risk_systolic(readings.get(pid, []), now=now, window=window), on=now.date()
        )
        for pid in ids
    ]
    probabilities: Sequence[float | None] = [None] * len(ids)
    if model is not None and ids:
        rows = [
            build_features(
                profile=people[pid][0],
                readings=readings.get(pid, []),
                follow_ups=visits.get(pid, []),
                as_of=now,
                ascvd_percent=risk.percent,
            )
            for pid, risk in zip(ids, risks, strict=True)
        ]
        probabilities = [float(p) for p in predict_many(model, rows)]
    version = model.version if model else None
    risk_repo.save_scores(
        conn,
        [(pid, now, version, p, r.percent, r.category) for pid, r, p in zip(ids, risks, probabilities, strict=True)],
    )
    return len(ids)


def score_everyone(settings: Settings) -> dict[str, object]:
    """The nightly job: score every patient with the latest trained model (ASCVD risk alone if there is none)."""
    model = load_latest(settings.data_dir / "models")
    window = timedelta(days=settings.assessment_window_days)
    done = failed = 0
    with db.connect(settings.database_url or "", app="cdm-risk") as conn:
        ids = risk_repo.all_patient_ids(conn)
        conn.commit()
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start : start + CHUNK]
            try:
                with conn.transaction():
                    done += score(conn, patient_ids=chunk, now=datetime.now(UTC), model=model, window=window)
            except Exception:  # one chunk's failure must not stop the rest of the county
                failed += len(chunk)
                log.exception("risk scoring failed for patients %s..%s", chunk[0], chunk[-1])
    summary: dict[str, object] = {"scored": done, "failed": failed, "model_version": model.version if model else None}
    log.info("nightly risk scores: %s", summary)
    return summary
