"""`cdm demo`: the whole system on one machine, started, watched and stopped as one.

Embedded PostgreSQL unless CDM_DATABASE_URL is set; Mosquitto (or amqtt) unless CDM_MQTT_URL is set; a local
HTTP sink standing in for the township and county centres unless their webhooks are set; then ingest, worker,
dashboard and the simulator as child processes in their own sessions, so Ctrl-C reaches only this process,
which stops them in order and leaves nothing running.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alerts.sink import NotificationSink
from cdm import db
from cdm.services import (
    EmbeddedPostgres,
    LocalBroker,
    free_port,
    port_in_use,
    stop_process,
    wait_for_port,
    with_database,
)
from cdm.settings import Settings
from cdm.store import upgrade_store

log = logging.getLogger(__name__)

DEMO_DATABASE = "cdm_demo"
HISTORY_DAYS = 28  # the demo county opens with four weeks of readings, so every patient has a colour
DRAIN_TIMEOUT_S = 60.0  # after the meters stop: time for ingest to store what the broker still holds
STOP_TIMEOUT_S = 15.0


class Demo:
    def __init__(self, settings: Settings, *, patients: int, rate: float, unstable_share: float) -> None:
        self.settings = settings
        self.patients = patients
        self.unstable_share = unstable_share
        self.rate = rate
        self.data_dir = Path(settings.data_dir).resolve()
        self.stop = threading.Event()
        self._pg: EmbeddedPostgres | None = None
        self._broker: LocalBroker | None = None
        self._sink: NotificationSink | None = None
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self.env: dict[str, str] = {}

    def run(self, *, seconds: float | None) -> dict[str, Any]:
        """Run until `seconds` pass (or Ctrl-C), drain, and return the summary."""
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())
        try:
            self._start_services()
            baseline = _counts(self.env["CDM_DATABASE_URL"])
            port = self._start_children()
            _say(f"看板 / dashboard: http://{self.settings.dashboard_host}:{port}/")
            sim = self._spawn(
                "sim",
                "sim",
                "--no-register",
                "--rate",
                str(self.rate),
                "--patients",
                str(self.patients),
                "--unstable-share",
                str(self.unstable_share),
                *(["--seconds", str(seconds)] if seconds else []),
                capture=True,
            )
            while sim.poll() is None and not self.stop.wait(0.2):
                pass
            if sim.poll() is None:
                _say("stopping the meters…")
                sim.send_signal(signal.SIGTERM)
            published = _last_json(sim.communicate(timeout=60)[0])
            self._drain(published.get("published", 0), baseline)
            return _summary(self.env["CDM_DATABASE_URL"], baseline, published, self._sink)
        finally:
            self._stop_all()

    def _start_services(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        if self.settings.database_url:
            url = self.settings.database_url
        else:
            self._pg = EmbeddedPostgres(self.data_dir / "pg")
            server = self._pg.start()
            with db.connect(server, autocommit=True) as conn:
                conn.execute(f"drop database if exists {DEMO_DATABASE} with (force)")
                conn.execute(f"create database {DEMO_DATABASE}")
            url = with_database(server, DEMO_DATABASE)
        if "CDM_MQTT_URL" in os.environ:
            mqtt_url = self.settings.mqtt_url
        else:
            self._broker = LocalBroker(self.data_dir / "broker")
            mqtt_url = self._broker.start()
            _say(f"broker: {self._broker.kind} on {mqtt_url}")
        if not (self.settings.notify_township_url and self.settings.notify_county_url):
            self._sink = NotificationSink().start()
            env["CDM_NOTIFY_TOWNSHIP_URL"] = f"{self._sink.url}/township/{{township}}"
            env["CDM_NOTIFY_COUNTY_URL"] = f"{self._sink.url}/county"
        env.update(CDM_DATABASE_URL=url, CDM_MQTT_URL=mqtt_url)
        self.env = env
        upgrade_store(url)
        self._register_county(url)

    def _register_county(self, url: str) -> None:
        from cdm.jobs import rescore_everyone
        from device_sim.county import generate_county
        from device_sim.history import backfill
        from device_sim.repo import register_county

        county = generate_county(
            code=self.settings.county_code,
            name=self.settings.county_name,
            patients=self.patients,
            unstable_share=self.unstable_share,
        )
        with db.connect(url) as conn:
            register_county(conn, county)
            if conn.execute("select not exists (select 1 from reading)").fetchone() == (True,):
                written = backfill(conn, county, days=HISTORY_DAYS, now=datetime.now(UTC))
                _say(f"history: {written} readings over the last {HISTORY_DAYS} days")
            conn.commit()
        rescore_everyone(self.settings.model_copy(update={"database_url": url}))

    def _start_children(self) -> int:
        port = self.settings.dashboard_port
        if port == 0 or port_in_use(port):
            port = free_port()  # rather than fail because another program has the configured port
        self.env["CDM_DASHBOARD_PORT"] = str(port)
        for name in ("ingest", "worker", "dashboard"):
            self._spawn(name, name)
        wait_for_port(port, timeout=60, proc=self._procs["dashboard"])
        return port

    def _spawn(self, name: str, *args: str, capture: bool = False) -> subprocess.Popen[bytes]:
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        with (logs / f"{name}.log").open("ab") as logfile:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cdm.cli", *args],
                env=self.env,
                start_new_session=True,
                stdout=subprocess.PIPE if capture else logfile,
                stderr=logfile,
            )
        self._procs[name] = proc
        return proc

    def _drain(self, published: int, baseline: dict[str, int]) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        url = self.env["CDM_DATABASE_URL"]
        while time.monotonic() < deadline:
            now = _counts(url)
            seen = sum(now[k] - baseline[k] for k in ("stored", "duplicates", "quarantined"))
            if seen >= published and now["notifications_open"] == 0:
                return
            time.sleep(0.3)
        log.warning("drain timed out after %.0f s", DRAIN_TIMEOUT_S)

    def _stop_all(self) -> None:
        for name in ("sim", "dashboard", "ingest", "worker"):  # signal all first, so they stop in parallel
            proc = self._procs.get(name)
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self._procs.values():
            stop_process(proc, timeout=STOP_TIMEOUT_S)
        if self._sink:
            self._sink.stop()
        if self._broker:
            self._broker.stop()
        if self._pg:
            self._pg.stop()


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _last_json(output: bytes) -> dict[str, Any]:
    lines = [line for line in output.decode(errors="replace").splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def _counts(url: str) -> dict[str, int]:
    with db.connect(url) as conn:
        row = conn.execute(
            "select (select coalesce(sum(readings_count), 0) from device),"
            " (select coalesce(sum(duplicates_count), 0) from device), (select count(*) from quarantine),"
            " (select count(*) from alert), (select count(*) from notification where status = 'delivered'),"
            " (select count(*) from notification where status in ('pending', 'sending'))"
        ).fetchone()
    keys = ("stored", "duplicates", "quarantined", "alerts", "delivered", "notifications_open")
    return dict(zip(keys, (int(v) for v in row or (0,) * len(keys)), strict=True))


def _summary(url: str, baseline: dict[str, int], sim: dict[str, Any], sink: NotificationSink | None) -> dict[str, Any]:
    now = _counts(url)
    delta = {k: now[k] - baseline[k] for k in now if k != "notifications_open"}
    with db.connect(url) as conn:
        colours: dict[str, int] = dict(
            conn.execute("select colour, count(*) from assessment_current group by colour").fetchall()
        )
    published = int(sim.get("published", 0))
    return {
        "readings_published": published,
        "readings_stored": delta["stored"],
        "quarantined": delta["quarantined"],
        "duplicates": delta["duplicates"],
        "lost": published - delta["stored"] - delta["quarantined"] - delta["duplicates"],
        "alerts": delta["alerts"],
        "notifications_delivered": delta["delivered"],
        "notifications_pending": now["notifications_open"],
        "colours": {c: int(colours.get(c, 0)) for c in ("green", "yellow", "red")},
        "sink_received": len(sink.received()) if sink else None,
        "sink_repeats": sink.repeats if sink else None,
        "simulator": sim,
    }
