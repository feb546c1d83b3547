"""`cdm bench ingest` at a small N: it runs end to end, prints every figure, and loses or doubles nothing.

Speed is the benchmark's business (`cdm bench ingest` prints the figures); this only checks it measures honestly.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.support.processes import env_for

pytestmark = pytest.mark.integration

FIELDS = {
    "ingest_rps",
    "bare_rps",
    "naive_rps",
    "ratio_to_bare",
    "ratio_to_naive",
    "workers",
    "readings",
    "lost",
    "duplicated",
    "unacked",
    "p50_ms",
    "p99_ms",
    "bytes_per_reading",
    "cpu_ms_per_1k",
    "bare_cpu_ms_per_1k",
    "cpu_ratio_to_bare",
}


@pytest.mark.skipif(shutil.which("mosquitto") is None and shutil.which("mosquitto", path="/usr/sbin") is None,
                    reason="the benchmark runs a Mosquitto of its own")  # fmt: skip
@pytest.mark.parametrize("workers", [1, 2])
def test_a_small_run_prints_one_json_line_with_nothing_lost_or_doubled(settings, workers):
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "ingest", "--readings", "3000", "--workers", str(workers),
         "--live-rate", "200", "--live-seconds", "2", "--naive-readings", "300", "--patients", "300"],
        env=env_for(settings.model_copy(update={"database_url": None})),
        capture_output=True,
        timeout=240,
        check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    lines = [line for line in out.stdout.decode().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    figures = json.loads(lines[0])
    assert figures.keys() >= FIELDS
    assert (figures["lost"], figures["duplicated"], figures["unacked"]) == (0, 0, 0)
    assert figures["readings"] == 3000 and figures["workers"] == workers
    assert figures["live_unseen"] == 0 and figures["p99_ms"] is not None
    assert figures["ingest_rps"] > 0 and figures["bare_rps"] > 0 and figures["naive_rps"] > 0
    assert figures["bytes_per_reading"] > 0
    assert figures["cpu_ms_per_1k"] > 0 and figures["bare_cpu_ms_per_1k"] > 0 and figures["cpu_ratio_to_bare"] > 0
    assert set(figures["cpu_ms_per_1k_by_process"]) == {"broker", "ingest", "postgres"}


def _bench(settings, *args: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "bench", "ingest", *args],
        env=env_for(settings.model_copy(update={"database_url": None})),
        capture_output=True,
        timeout=240,
        check=False,
    )
    assert out.returncode == 0, out.stderr.decode()[-3000:]
    lines = [line for line in out.stdout.decode().splitlines() if line.strip()]
    assert len(lines) == 1, lines
    return json.loads(lines[0])


@pytest.mark.skipif(shutil.which("mosquitto") is None and shutil.which("mosquitto", path="/usr/sbin") is None,
                    reason="the storm runs a Mosquitto of its own")  # fmt: skip
def test_a_small_replay_storm_alerts_every_fresh_critical_once_and_loses_nothing(settings):
    figures = _bench(settings, "--storm", "--meters", "40", "--buffered", "5", "--criticals", "5",
                     "--live-rate", "20", "--live-seconds", "2", "--patients", "300")  # fmt: skip
    assert figures["benchmark"] == "ingest_storm" and figures["fresh_criticals"] == 5
    assert (figures["lost"], figures["duplicated"], figures["unacked"]) == (0, 0, 0)
    assert (figures["alerts_missing"], figures["alerts_doubled"]) == (0, 0)
    assert figures["stale_readings"] > 0 and figures["live_readings"] == 40
    assert figures["critical_p99_ms"] is not None and figures["critical_p99_ms"] >= figures["critical_p50_ms"] > 0
    assert figures["cpu_ms_per_1k"] > 0


def test_the_stages_account_for_the_cpu_of_a_batch(settings):
    figures = _bench(settings, "--stages", "--readings", "1500", "--patients", "300")
    stages = figures["stages"]
    assert {"validation", "attribution", "COPY + insert"} <= set(stages)
    assert figures["py_us_per_reading"] > 0 and figures["pg_us_per_reading"] > 0
    parts = sum(s["py_us"] for s in stages.values())  # the stages and the rest add up to the whole
    assert abs(parts - figures["py_us_per_reading"]) <= 0.01 * figures["py_us_per_reading"] + len(stages) * 0.1
