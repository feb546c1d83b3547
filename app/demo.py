"""`cdm demo`: the whole system on one machine (app.stack), with a simulated county, watched and stopped as one.

The county opens with its past (app.demo_past: 90 days of readings and colours, visits, closed alerts); then
ingest, worker, dashboard and the simulator run until
`--seconds` pass or Ctrl-C; the meters stop, ingest drains, the outbox empties, and a JSON summary is printed.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app import repo
from app.demo_past import HISTORY_DAYS, write_past
from app.jobs import rescore_everyone
from app.services import free_port, port_in_use, wait_for_port
from app.sink import NotificationSink
from app.stack import LocalStack
from cdm import db
from cdm.settings import Settings
from dashboard.access import Principal, Role
from dashboard.auth.cli import create_demo_accounts
from dashboard.indicators.repo import indicators, refresh_activity
from device_sim.county import generate_county
from device_sim.fleet import Fleet
from device_sim.repo import register_county

log = logging.getLogger(__name__)

DEMO_DATABASE = "cdm_demo"
FLEET_SIZE = 24  # meters on their own connections with status and heartbeats (the rest share the simulator's)
FLEET_HEARTBEAT_S = 15.0  # often enough that a minute's demo shows heartbeats arriving
FLEET_VANISH = 3  # meters that lose power early in the run
FLEET_VANISH_AFTER_S = 10.0  # soon enough that a short run (or an early Ctrl-C) shows them go offline
DRAIN_TIMEOUT_S = 60.0  # after the meters stop: time for ingest to store what the broker still holds


class Demo:
    def __init__(self, settings: Settings, *, patients: int, rate: float, unstable_share: float) -> None:
        self.settings = settings
        self.patients = patients
        self.unstable_share = unstable_share
        self.rate = rate
        self.stop = threading.Event()
        self._fleet_uids: list[str] = []
        self.stack = LocalStack(settings, data_dir=Path(settings.data_dir), database=DEMO_DATABASE)

    def run(self, *, seconds: float | None) -> dict[str, Any]:
        """Run until `seconds` pass (or Ctrl-C), drain, and return the summary."""
        log_file = quiet_terminal(Path(self.settings.data_dir) / "logs")
        _say(f"日志 / logs: {log_file.parent}/")
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: self.stop.set())
        _say("启动数据库与消息服务器 / starting the store and the broker…")
        with self.stack as stack:
            self._register_county(stack.settings)
            baseline = _counts(stack.url)
            _say("启动接收、通知与看板进程 / starting ingest, the worker and the dashboard…")
            port = self._start_children()
            _say(f"看板 / dashboard: http://{self.settings.dashboard_host}:{port}/")
            _say(f"数据库 / store (administrator): {stack.url}")
            _say(f"监控指标 / metrics: {self._start_metrics()}")
            how_long = f"{seconds:.0f} s" if seconds else "Ctrl-C 停止 / Ctrl-C stops"
            _say(f"模拟设备上传中 / the meters are publishing, {self.rate:g} readings/s ({how_long})…")
            args = [
                "--no-register",
                "--rate",
                str(self.rate),
                "--patients",
                str(self.patients),
                "--unstable-share",
                str(self.unstable_share),
                *(["--seconds", str(seconds)] if seconds else []),
            ]
            sim = stack.spawn("sim", "sim", *args, capture=True)
            fleet = Fleet(stack.settings, self._fleet_uids, heartbeat_s=FLEET_HEARTBEAT_S).start()
            vanish_at = time.monotonic() + min((seconds or 60) / 2, FLEET_VANISH_AFTER_S)
            while sim.poll() is None and not self.stop.wait(0.2):
                if vanish_at and time.monotonic() >= vanish_at:
                    fleet.vanish(FLEET_VANISH)  # lose power: the broker's last will turns them offline
                    vanish_at = 0.0
            if vanish_at:  # stopped (or the run ended) before their time: they lose power now, as promised
                fleet.vanish(FLEET_VANISH)
            if sim.poll() is None:
                _say("停止模拟设备 / stopping the meters…")
                sim.send_signal(signal.SIGTERM)
            published = {**_last_json(sim.communicate(timeout=60)[0]), **fleet.close()}
            _say("处理剩余消息与通知 / storing what the broker still holds and sending the last notifications…")
            self._drain(published.get("published", 0), baseline)
            summary = _summary(stack.url, baseline, published, stack.sink)
            _say("停止所有进程 / stopping every process…")
        return summary

    def _register_county(self, settings: Settings) -> None:
        county = generate_county(
            code=settings.county_code,
            name=settings.county_name,
            patients=self.patients,
            unstable_share=self.unstable_share,
        )
        # Meters on connections of their own (status, heartbeats, last will): a few per township.
        self._fleet_uids = [m.uid for m in county.meters[:: max(1, len(county.meters) // FLEET_SIZE)]][:FLEET_SIZE]
        with db.connect(settings.database_url or "") as conn:
            register_county(conn, county)
            _say(f"模拟县 / simulated county: {len(county.patients)} patients, {len(county.meters)} meters")
            if not repo.has_readings(conn):
                _say("写入过去 90 天 / writing the county's past (readings, colours, visits, alerts)…")
                past = write_past(conn, county, settings=settings, now=datetime.now(UTC))
                _say(
                    f"历史 / history: {past.readings} readings and colours over {HISTORY_DAYS} days,"
                    f" {past.follow_ups} visits, {past.alerts_closed} alerts closed"
                )
            conn.commit()
            _announce_accounts(create_demo_accounts(conn, county_code=settings.county_code))
            conn.commit()
        _say("评估每位患者 / assessing every patient…")
        rescore_everyone(settings)

    def _start_children(self) -> int:
        port = self.settings.dashboard_port
        if port == 0 or port_in_use(port):
            port = free_port()  # rather than fail because another program has the configured port
        for name in ("ingest", "worker"):
            self.stack.spawn(name)
        dashboard = self.stack.spawn("dashboard", env={"CDM_DASHBOARD_PORT": str(port)})
        wait_for_port(port, timeout=60, proc=dashboard)
        return port

    def _start_metrics(self) -> str:
        """Start `cdm metrics` (every process's metrics and the store's gauges on one endpoint); its URL."""
        port = self.settings.metrics_port
        if port == 0 or port_in_use(port):
            port = free_port()
        proc = self.stack.spawn("metrics", env={"CDM_METRICS_PORT": str(port)})
        wait_for_port(port, timeout=60, proc=proc)
        return f"http://{self.settings.metrics_host}:{port}/metrics"

    def _drain(self, published: int, baseline: dict[str, int]) -> None:
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while time.monotonic() < deadline:
            now = _counts(self.stack.url)
            seen = sum(now[k] - baseline[k] for k in ("stored", "duplicates", "quarantined"))
            if seen >= published and now["notifications_open"] == 0:
                return
            time.sleep(0.3)
        log.warning("drain timed out after %.0f s", DRAIN_TIMEOUT_S)


def quiet_terminal(log_dir: Path) -> Path:
    """Send this process's log records and Python warnings to `log_dir`/demo.log, so the terminal shows only what
    the demo says to a person (the URL, the accounts, what is happening, the summary). Returns the log file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "demo.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    logging.captureWarnings(True)  # library warnings (platformdirs, …) go to the file too
    return path


def _announce_accounts(accounts: list[Any]) -> None:
    for account in accounts:
        extra = f"  TOTP: {account.totp_uri}" if account.totp_uri else ""
        _say(
            f"演示账户 / demo account: {account.username} / {account.password} ({account.role}, {account.scope}){extra}"
        )


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _last_json(output: bytes) -> dict[str, Any]:
    lines = [line for line in output.decode(errors="replace").splitlines() if line.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def _counts(url: str) -> dict[str, int]:
    with db.connect(url) as conn:
        return repo.counts(conn)


def _summary(url: str, baseline: dict[str, int], sim: dict[str, Any], sink: NotificationSink | None) -> dict[str, Any]:
    now = _counts(url)
    delta = {k: now[k] - baseline[k] for k in now if k != "notifications_open"}
    with db.connect(url) as conn:
        colours = repo.colour_counts(conn)
        indicators = _indicators(conn)
        history_days = repo.colour_history_days(conn)
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
        "indicators": indicators,
        "colour_history_days": history_days,
        "sink_received": len(sink.received()) if sink else None,
        "sink_repeats": sink.repeats if sink else None,
        "simulator": sim,
    }


def _indicators(conn: Any) -> dict[str, float | None]:
    """The county's three programme rates now (fractions), from the same queries as the screens."""
    now = datetime.now(UTC)
    refresh_activity(conn, now=now, lookback_days=HISTORY_DAYS)
    conn.commit()
    system = Principal(user_id=0, username="system", role=Role.COUNTY, county_id=repo.first_county_id(conn))
    total = indicators(conn, principal=system, now=now).total
    names = {"bp_control_rate": "bp_control", "glucose_control_rate": "glucose_control",
             "standardised_management_rate": "standard_management"}  # fmt: skip
    return {key: _rounded(total[name].rate) for key, name in names.items()}


def _rounded(rate: float | None) -> float | None:
    return None if rate is None else round(rate, 3)
