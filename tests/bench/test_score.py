"""`cdm bench score` at CI size: the figures, one current row per patient, history only for changes."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from assess.rules import RuleSettings
from assess.service import rescore_all
from bench import score
from cdm.settings import Settings

pytestmark = pytest.mark.integration
PATIENTS = 2_000


@pytest.fixture
def bench_url(pg_server):
    from tests.conftest import _drop_database

    _drop_database(pg_server, f"cdm_bench_score_{PATIENTS}")
    yield score._database(pg_server, PATIENTS)
    _drop_database(pg_server, f"cdm_bench_score_{PATIENTS}")


def test_bench_score_figures_and_what_the_full_rescore_wrote(bench_url, monkeypatch):
    monkeypatch.setattr(score, "BASELINE_SAMPLE", 500)
    url = bench_url
    settings = Settings(database_url=url, _env_file=None)
    figures = score._measure(url, settings, PATIENTS, batches=20, batch_size=50, workers=2)
    for field in ("patients", "readings", "full_rescore_s", "patients_per_s", "incremental_ms_p99"):
        assert figures[field] is not None, field
    assert figures["patients"] == figures["assessed"] == figures["current_rows"] == PATIENTS
    assert PATIENTS * 20 < figures["readings"] < PATIENTS * 32  # about two a week for 90 days
    assert figures["history_rows"] == PATIENTS  # the first assessment of each patient is a change
    assert set(figures["colours"]) == {"green", "yellow", "red"}
    assert figures["baseline"]["patients"] == 500

    # Again, later: every patient reassessed, history only where colour or reasons changed.
    with psycopg.connect(url) as conn:
        before = dict(conn.execute("select patient_id, (colour, reasons)::text from assessment_current").fetchall())
    totals = rescore_all(url, now=datetime.now(UTC), rules=RuleSettings.from_settings(settings), workers=2, chunk=300)
    with psycopg.connect(url) as conn:
        after = dict(conn.execute("select patient_id, (colour, reasons)::text from assessment_current").fetchall())
        history = conn.execute("select count(*) from assessment_history").fetchone()[0]
    changed = sum(before[p] != after[p] for p in after)
    assert totals.patients + totals.skipped == PATIENTS and totals.failed_chunks == 0
    assert history == PATIENTS + changed == PATIENTS + totals.changes
