"""`cdm bench alerts`: meters -> broker -> ingest -> dispatcher -> both centres, under background load.

A simulated county publishes background readings at a fixed rate while a separate meter client publishes a
stream of critical readings, each for a different patient. The clock of every figure is this process's:
publish time (just before the PUBLISH), commit time (the dispatcher-wake NOTIFY, which PostgreSQL delivers at
commit, carries the alert ids) and delivery time (arrival at the local receivers standing in for the township
and the county, which run in this process).
"""

from __future__ import annotations

import logging
import statistics
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.sink import NotificationSink
from bench.common import BenchStack, machine, percentile
from cdm import db
from cdm.settings import Settings

log = logging.getLogger(__name__)

WARM_UP_S = 5.0  # background load alone first
SETTLE_S = 5.0  # after the last critical reading: time for the last deliveries to arrive


@dataclass
class _Timings:
    published: dict[str, float] = field(default_factory=dict)  # "meter:seq" -> publish time
    committed: dict[int, float] = field(default_factory=dict)  # alert id -> commit time


def _listen_commits(url: str, timings: _Timings, stop: threading.Event) -> None:
    with db.connect(url, autocommit=True, app="cdm-bench") as conn:
        conn.execute("listen cdm_outbox")
        while not stop.is_set():
            for note in conn.notifies(timeout=0.2, stop_after=1):
                at = time.time()
                for alert_id in filter(None, note.payload.split(",")):
                    timings.committed.setdefault(int(alert_id), at)


def _critical_stream(
    settings: Settings, county: Any, *, count: int, interval: float, timings: _Timings, offset: int = 0
) -> None:
    from device_sim.meter import MeterPublisher
    from device_sim.readings import patient_ref

    stable = [p for p in county.patients if not p.unstable]
    with MeterPublisher(settings, client_id="bench-critical").connect() as publisher:
        for i in range(count):
            patient = stable[((i + offset) * 7919) % len(stable)]  # spread over the county, each patient once
            meter = county.meter_for(patient.village_code, "bp")
            now = datetime.now(UTC)
            seq = publisher.next_seq(meter.uid)
            timings.published[f"{meter.uid}:{seq}"] = time.time()
            publisher.publish_raw(*_critical(publisher, meter.uid, seq, now, patient_ref(patient)))
            time.sleep(interval)
        publisher.wait_acked()


def _critical(publisher: Any, uid: str, seq: int, now: datetime, ref: Any) -> tuple[str, bytes]:
    from cdm.payload import bp_payload, reading_topic

    payload = bp_payload(device_uid=uid, seq=seq, measured_at=now, systolic=192, diastolic=112, pulse=96, patient=ref)
    return reading_topic(publisher.county_code, uid), payload


def run(*, settings: Settings, rate: float, criticals: int, interval: float) -> dict[str, Any]:
    """Run the benchmark and return its figures."""
    from device_sim.county import generate_county
    from device_sim.publisher import run as simulate
    from device_sim.repo import register_county

    sink = NotificationSink().start()
    with BenchStack(settings, name="alerts", sink=sink) as services:
        bench_settings = services.settings
        county = generate_county(code=bench_settings.county_code, name="基准县", unstable_share=0.0)
        with db.connect(services.url) as conn:
            register_county(conn, county)
        services.spawn("ingest")
        services.spawn("worker")
        services.wait_for_log("ingest", "subscribed")
        services.wait_for_log("worker", "dispatcher listening")  # not the worker's start-up in the figures
        timings, stop = _Timings(), threading.Event()
        listener = threading.Thread(target=_listen_commits, args=(services.url, timings, stop), daemon=True)
        listener.start()
        # Warm up the path (connections, caches, plans) with a few criticals that are not measured.
        _critical_stream(bench_settings, county, count=5, interval=interval, timings=_Timings(), offset=3 * criticals)
        time.sleep(2.0)
        # Baseline in the same run: the same stream of critical readings with no other load.
        idle = _Timings(committed=timings.committed)
        _critical_stream(
            bench_settings, county, count=max(criticals // 4, 10), interval=interval, timings=idle, offset=criticals
        )
        time.sleep(SETTLE_S)
        baseline = _figures(services.url, idle, sink)
        background = threading.Thread(
            target=simulate,
            args=(bench_settings, county),
            kwargs={"seconds": None, "rate": rate, "duplicate_share": 0.0, "bad_share": 0.0, "stop": stop},
            daemon=True,
        )
        stored_before, started = services.stored_readings(), time.monotonic()
        background.start()
        time.sleep(WARM_UP_S)  # measure the steady state, not the first seconds of caches and plans
        _critical_stream(bench_settings, county, count=criticals, interval=interval, timings=timings)
        time.sleep(SETTLE_S)
        stop.set()
        background.join(30)
        elapsed = time.monotonic() - started
        figures = _figures(services.url, timings, sink)
        figures["background_rps"] = round((services.stored_readings() - stored_before) / elapsed, 1)
        figures["baseline_idle"] = {
            k: baseline[k] for k in ("alerts", "commit_p50_ms", "delivered_p50_ms", "delivered_p99_ms", "spread_p99_ms")
        }
        figures["postgres"] = services.server_version()
    sink.stop()
    return {"benchmark": "alerts", **figures, "offered_rps": rate, "machine": machine()}


def _figures(url: str, timings: _Timings, sink: NotificationSink) -> dict[str, Any]:
    with db.connect(url) as conn:
        alerts = conn.execute("select id, evidence[1] from alert where severity = 'critical'").fetchall()
        ours = {alert_id: timings.published[ev] for alert_id, ev in alerts if ev in timings.published}
        row = conn.execute(
            "select count(*), count(*) filter (where status = 'delivered') from notification where alert_id = any(%s)",
            (list(ours),),
        ).fetchone()
        per_patient = conn.execute(
            "select count(*) from (select patient_id from alert where status <> 'closed'"
            " group by patient_id, kind having count(*) > 1) x"
        ).fetchone()
    notifications, delivered_rows = (int(row[0]), int(row[1])) if row else (0, 0)
    arrivals: dict[int, dict[str, float]] = {}
    for received in sink.received():
        arrivals.setdefault(received.body["alert_id"], {})[received.body["recipient"]] = received.at
    commit = [1000 * (timings.committed[a] - t0) for a, t0 in ours.items() if a in timings.committed]
    both = {a: arrivals[a] for a in ours if len(arrivals.get(a, {})) == 2}
    delivered = [1000 * (max(both[a].values()) - ours[a]) for a in both]
    spread = [1000 * abs(both[a]["township"] - both[a]["county"]) for a in both]
    return {
        "criticals_published": len(timings.published),
        "alerts": len(ours),
        "notifications": notifications,
        "notifications_delivered": delivered_rows,
        "commit_p50_ms": percentile(commit, 50),
        "commit_p99_ms": percentile(commit, 99),
        "delivered_p50_ms": percentile(delivered, 50),
        "delivered_p99_ms": percentile(delivered, 99),
        "spread_p99_ms": percentile(spread, 99),
        "spread_mean_ms": round(statistics.fmean(spread), 2) if spread else None,
        "undelivered": len(ours) - len(both),
        "duplicates": sink.repeats + (int(per_patient[0]) if per_patient else 0),
    }
