"""One endpoint for every process (prometheus_client's multiprocess mode), `cdm health`, and JSON log lines."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from app.monitor.service import build_registry
from cdm.db_roles import DbRoles, runtime_url
from cdm.settings import Settings
from tests.support.processes import env_for, spawn
from tests.support.waiting import wait_until

CHILD = textwrap.dedent(
    """
    import sys, time
    from cdm.metrics import enable, observe_batch
    from cdm.settings import Settings
    enable(Settings(_env_file=None, metrics_dir=sys.argv[1]), process="ingest")
    observe_batch(outcomes={"stored": int(sys.argv[2])}, alerts=1, seconds=0.02, queue_depth=int(sys.argv[3]))
    print("ready", flush=True)
    time.sleep(120)
    """
)


def scrape(settings: Settings) -> dict[str, float]:
    text = generate_latest(build_registry(settings)).decode()
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("cdm_") and "_bucket" not in line
    }


def child(folder: Path, stored: int, depth: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(folder), str(stored), str(depth)], stdout=subprocess.PIPE)
    assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
    return proc


def test_one_endpoint_sums_every_process_and_drops_a_killed_ones_live_gauges(tmp_path: Path):
    settings = Settings(_env_file=None, metrics_dir=tmp_path / "metrics")
    first, second = child(settings.metrics_dir, 7, 3), child(settings.metrics_dir, 5, 4)  # type: ignore[arg-type]
    try:
        both = scrape(settings)
        assert both['cdm_ingest_readings_total{outcome="stored"}'] == 12
        assert both["cdm_ingest_queue_depth"] == 7
        beats = [k for k in both if k.startswith("cdm_process_heartbeat_timestamp_seconds")]
        assert sorted(beats) == sorted(
            f'cdm_process_heartbeat_timestamp_seconds{{pid="{p.pid}",process="ingest"}}' for p in (first, second)
        )
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        after = scrape(settings)
        assert after['cdm_ingest_readings_total{outcome="stored"}'] == 12, "what a dead process counted stays counted"
        assert after["cdm_ingest_queue_depth"] == 4, "its queue is gone with it"
        assert [k for k in after if k.startswith("cdm_process_heartbeat")] == [
            f'cdm_process_heartbeat_timestamp_seconds{{pid="{second.pid}",process="ingest"}}'
        ]
    finally:
        for proc in (first, second):
            proc.kill()
            proc.wait(10)


def run_cdm(settings: Settings, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**env_for(settings), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.integration
def test_cdm_health_says_whether_ingest_runs_here(settings: Settings, tmp_path: Path):
    settings = settings.model_copy(update={"metrics_dir": tmp_path / "metrics"})
    down = run_cdm(settings, "health", "ingest")
    assert down.returncode == 1
    report = json.loads(down.stdout)
    assert {c["name"]: c["ok"] for c in report["checks"]} == {
        "store": True,
        f"broker {settings.mqtt_host}:{settings.mqtt_port}": True,
        "ingest": False,
    }
    log = tmp_path / "ingest.log"
    proc = spawn(settings, "ingest", log=log)
    try:
        assert wait_until(lambda: "subscribed" in log.read_text(), 30), log.read_text()
        up = run_cdm(settings, "health", "ingest")
        assert up.returncode == 0, up.stdout + up.stderr
        assert json.loads(up.stdout)["ok"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert run_cdm(settings, "health", "ingest").returncode == 1, "a stopped worker is seen as stopped"


@pytest.mark.integration
def test_json_log_lines_are_one_object_each(empty_db_url: str):
    roles = DbRoles(owner="json_log_owner", runtime="json_log_runtime")
    settings = Settings(_env_file=None, database_url=runtime_url(empty_db_url, roles))  # type: ignore[call-arg]
    done = run_cdm(
        settings,
        "db",
        "upgrade",
        CDM_LOG_FORMAT="json",
        CDM_DATABASE_ADMIN_URL=empty_db_url,
        CDM_DB_OWNER_ROLE=roles.owner,
        CDM_DB_RUNTIME_ROLE=roles.runtime,
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    assert any(line["logger"] == "cdm.store" and "store upgraded" in line["message"] for line in lines)
