"""`cdm bench capacity`: readings and alerts per CPU-second of the server's processes, the figures a county, a city
or a province is sized from (docs/deploying.md, "Capacity").

Everything a server runs is counted — `cdm ingest`, `cdm worker`, PostgreSQL (the postmaster and every backend,
living or reaped) and Mosquitto — and nothing else: the meters (the publisher) and the centres (the local
receiver) are other machines in the field. Each phase takes the processes' CPU time before and after:

1. readings: ingest runs, subscribed; the simulated county's meters publish N readings as fast as the broker takes
   them; the phase ends when the meters' counters show all N committed (validation, attribution, the idempotent
   insert, the assessment). readings per CPU-second = N / CPU seconds.
2. alerts: the worker runs too; M critical readings, each for a patient with no open alert, are published; the
   phase ends when all 2 x M notifications are delivered (ingest's alert and outbox rows, the dispatcher's sends
   and receipts). alerts per CPU-second = M / CPU seconds.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from app.sink import NotificationSink
from bench import ingest_setup as setup
from bench.common import cpu_seconds, machine, postmaster_pid
from cdm import db
from cdm.payload import PatientRef
from cdm.settings import Settings

TIMEOUT_S = 600.0


def run(*, settings: Settings, readings: int = 30_000, alerts: int = 1_000, patients: int = 3_000) -> dict[str, Any]:
    """Run both phases and return the figures (one JSON object)."""
    sink = NotificationSink().start()
    try:
        with setup.stack(settings, prefix="cdm-bench-capacity-") as here:
            url, home, procs = here.url, here.home, here.procs
            bench = settings.model_copy(
                update={
                    "database_url": url,
                    "mqtt_url": here.broker.url,
                    "county_code": "bench",
                    "notify_township_url": f"{sink.url}/township/{{township}}",
                    "notify_county_url": f"{sink.url}/county",
                }
            )
            county, _ = setup.county(url, bench, patients=patients)
            server = [postmaster_pid(here.pg), here.broker.pid or 0]
            procs.append(setup.spawn_ingest(bench, "capacity-ingest", home / "ingest.log"))
            _wait_log(home / "ingest.log", "subscribed")
            first = _phase(
                url, [*server, procs[0].pid], lambda: _readings(bench, county, readings), _committed, readings
            )
            procs.append(_spawn_worker(bench, home / "worker.log"))
            _wait_log(home / "worker.log", "scheduler active")
            time.sleep(2.0)  # the worker's start-up is not part of the cost of an alert
            wanted = _alert_patients(url, county, alerts)
            pids = [*server, *(p.pid for p in procs)]
            second = _phase(url, pids, lambda: _criticals(bench, county, wanted), _delivered, 2 * len(wanted))
    finally:
        sink.stop()
    return {
        "benchmark": "capacity",
        "readings": readings,
        "readings_cpu_s": round(first[0], 2),
        "readings_per_cpu_s": round(readings / first[0], 1),
        "readings_wall_rps": round(readings / first[1], 1),
        "alerts": len(wanted),
        "alerts_cpu_s": round(second[0], 2),
        "alerts_per_cpu_s": round(len(wanted) / second[0], 1),
        "alerts_wall_per_s": round(len(wanted) / second[1], 1),
        "patients": patients,
        "machine": machine(),
    }


def _phase(url: str, pids: list[int], publish: Any, count: Any, target: int) -> tuple[float, float]:
    """(CPU seconds, wall seconds) from before `publish()` until `count(url)` reaches `target`."""
    before, started = cpu_seconds(pids), time.monotonic()
    baseline = count(url)
    publish()
    deadline = started + TIMEOUT_S
    while count(url) - baseline < target:
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {count(url) - baseline} of {target} after {TIMEOUT_S:.0f} s")
        time.sleep(0.05)
    return cpu_seconds(pids) - before, time.monotonic() - started


def _wait_log(path: Path, text: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and text in path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise TimeoutError(f"{path.name} did not say {text!r}")


def _spawn_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    import sys

    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", "worker"],
            env=setup.child_env(settings, "unused"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _readings(settings: Settings, county: Any, n: int) -> None:
    setup.publish(settings, setup.messages(county, n, seed=11, first_seq=1))


def _criticals(settings: Settings, county: Any, patients: list[Any]) -> None:
    from device_sim.meter import MeterPublisher

    publisher = MeterPublisher(settings, client_id="capacity-criticals", first_seq=10**9).connect()
    for patient in patients:
        meter = county.meter_for(patient.village_code, "bp").uid
        ref = PatientRef(scheme="health_card", value=patient.health_card_no)
        publisher.publish_bp(meter, systolic=192, diastolic=118, pulse=80, patient=ref)
    publisher.close(timeout=120)


def _alert_patients(url: str, county: Any, n: int) -> list[Any]:
    with db.connect(url) as conn:
        busy = {
            r[0]
            for r in conn.execute(
                "select p.health_card_no from alert a join patient p on p.id = a.patient_id where a.status <> 'closed'"
            )
        }
    return [p for p in county.patients if p.health_card_no not in busy][:n]


def _committed(url: str) -> int:
    with db.connect(url) as conn:
        row = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()
    return int(row[0]) if row else 0


def _delivered(url: str) -> int:
    with db.connect(url) as conn:
        row = conn.execute("select count(*) from notification where status = 'delivered'").fetchone()
    return int(row[0]) if row else 0
