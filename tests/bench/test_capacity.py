"""`cdm bench capacity` and `cdm bench storage` at CI size: they run end to end and their figures add up."""

from __future__ import annotations

import shutil

import pytest

from bench import capacity, storage
from cdm.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.skipif(shutil.which("mosquitto") is None, reason="needs Mosquitto")]


def test_capacity_counts_the_cpu_of_every_server_process():
    figures = capacity.run(settings=Settings(_env_file=None), readings=2_000, alerts=40, patients=300)  # type: ignore[call-arg]
    assert figures["alerts"] == 40
    assert figures["readings_cpu_s"] > 0 and figures["alerts_cpu_s"] > 0
    assert figures["readings_per_cpu_s"] == round(2_000 / figures["readings_cpu_s"], 1)
    # An alert costs more than a reading: it is a reading, an alert, two notifications sent and two receipts.
    assert figures["alerts_per_cpu_s"] < figures["readings_per_cpu_s"]


def test_storage_measures_both_engines_and_the_disk_they_need():
    figures = storage.run(patients=150, days=35)
    assert figures["readings"] > 300 and figures["postgres_bytes_per_reading"] > 50
    per_year = figures["readings_per_patient_year"]
    assert figures["gb_per_100k_patients_year"]["postgres_simulated"] == round(
        figures["postgres_bytes_per_reading"] * per_year * 100_000 / 1024**3, 2
    )
    ts = figures["timescale"]
    if "skipped" in ts:
        pytest.skip(ts["skipped"])
    # the schema as migrated (30-day chunks) compresses; one-day chunks hold too few rows a meter to
    assert ts["timescale_30d_compressed"] < ts["timescale_30d_uncompressed"], "the migrated schema compresses"
    assert ts["timescale_30d_compressed"] < ts["timescale_1d_compressed"], "longer chunks compress better"
