"""`cdm bench ingest --storm`: a thousand meters reconnect at once and replay their buffers while live readings
keep arriving; how soon the fresh critical readings among them are alerted, and that nothing is lost or doubled.

1. The benchmark's own PostgreSQL and Mosquitto, a simulated county with `meters` meters (two a clinic), one
   ingest worker running and subscribed.
2. The storm: `meters` MQTT connections open at once (each meter its own client id, as in the field), each
   publishes its buffer — `buffered` readings measured 7 to 30 hours ago (stale: they re-assess, never alert) in
   the shuffled order of a replay — and `criticals` of the BP meters end their replay with one fresh critical
   reading (192/118 mmHg, measured now) of a patient of their clinic, each a different patient.
3. Meanwhile a live publisher offers `live_rate` fresh readings a second (the same path as the benchmark's live run).
4. Each fresh critical's latency: its publish -> its patient's alert committed (polled every 20 ms). Then every
   reading is counted: lost, duplicated (rows beyond one per key, the meters' counters), and the alerts of the
   critical patients (missing: none committed; doubled: more than one).
"""

from __future__ import annotations

import random
import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.common import cpu_seconds, machine, percentile, postmaster_pid
from bench.ingest_live import POLL_S, live
from cdm import db
from cdm.payload import PatientRef, bp_payload, reading_topic
from cdm.settings import Settings

STALE_HOURS = (7.0, 30.0)  # older than CDM_INGEST_STALE_AFTER_S (6 h), younger than the buffer limit
CRITICAL = (192, 118)


def run(
    *,
    settings: Settings,
    meters: int,
    buffered: int,
    criticals: int,
    live_rate: float,
    live_seconds: float,
    patients: int,
) -> dict[str, Any]:
    """Run the storm and return its figures (one JSON object); the defaults are the command's (`cdm bench ingest
    --storm`, bench/cli.py)."""
    from bench import ingest_setup as setup

    with setup.stack(settings, prefix="cdm-bench-storm-") as here:
        url, home, procs = here.url, here.home, here.procs
        bench = _bench_settings(settings, url, here.broker.url)
        county, _ = setup.county(url, bench, patients=patients, clinics=max(1, meters // 2))
        streams, wanted = _storm_streams(county, buffered=buffered, criticals=criticals)
        live_messages = setup.live_messages(county, rate=live_rate, seconds=live_seconds, seed=3)
        procs.append(setup.spawn_ingest(bench, "bench-storm-ingest", home / "ingest.log"))
        setup.wait_connected(procs, [home / "ingest.log"])
        pids = [postmaster_pid(here.pg), here.broker.pid or 0, procs[0].pid]
        cpu_before = cpu_seconds(pids)
        seen: dict[str, float] = {}
        stop = threading.Event()
        watcher = threading.Thread(target=_watch_alerts, args=(url, set(wanted.values()), seen, stop), daemon=True)
        watcher.start()  # the moment each critical patient's alert is committed
        live_out: dict[str, Any] = {}
        live_thread = threading.Thread(
            target=lambda: live_out.update(live(bench, live_messages.messages, url, rate=live_rate)), daemon=True
        )
        started = time.monotonic()
        live_thread.start()
        published = _storm(bench, streams, wanted)
        storm_s = time.monotonic() - started
        live_thread.join(live_seconds + 180)
        total = sum(len(s) for s in streams.values()) + len(live_messages.messages)
        _wait_stored(url, total, wanted, seen)
        drain_s = time.monotonic() - started
        stop.set()
        watcher.join(5)
        cpu = cpu_seconds(pids) - cpu_before
        unacked = setup.stop_ingest(bench, procs, workers=1, client_ids=["bench-storm-ingest"])
        counts = _counts(url, list(wanted.values()))
    measured = {"storm_s": storm_s, "drain_s": drain_s, "cpu": cpu, "unacked": unacked, "total": total}
    return _figures(settings, meters, streams, wanted, live_messages.messages, live_out, seen, published, counts,
                    measured, patients=len(county.patients))  # fmt: skip


def _figures(
    settings: Settings,
    meters: int,
    streams: dict[str, list[tuple[str, bytes]]],
    wanted: dict[tuple[str, int], str],
    live_messages: list[tuple[str, bytes]],
    live_out: dict[str, Any],
    seen: dict[str, float],
    published: dict[tuple[str, int], float],
    counts: tuple[int, int, int, int, int],
    measured: dict[str, Any],
    *,
    patients: int,
) -> dict[str, Any]:
    """The storm's JSON line: the fresh criticals' publish -> alert-committed times, what was lost or doubled."""
    total, unacked = measured["total"], measured["unacked"]
    ms = [1000 * (seen[pid] - published[key]) for key, pid in wanted.items() if pid in seen and key in published]
    rows, keys, counted, doubled, alerted = counts
    return {
        "benchmark": "ingest_storm",
        "meters": meters,
        "stale_readings": sum(len(s) for s in streams.values()) - len(wanted),
        "fresh_criticals": len(wanted),
        "live_readings": len(live_messages),
        "critical_p50_ms": percentile(ms, 50),
        "critical_p99_ms": percentile(ms, 99),
        "critical_max_ms": round(max(ms), 1) if ms else None,
        "live_p50_ms": percentile(live_out.get("ms", []), 50),
        "live_p99_ms": percentile(live_out.get("ms", []), 99),
        "lost": total - keys,
        "duplicated": (rows - keys) + abs(counted - rows),
        "alerts_missing": len(set(wanted.values())) - alerted,
        "alerts_doubled": doubled,
        "unacked": unacked,
        "storm_publish_s": round(measured["storm_s"], 2),
        "drain_s": round(measured["drain_s"], 2),
        "cpu_ms_per_1k": round(measured["cpu"] * 1e6 / total, 1),
        "batch_size": settings.ingest_batch_size,
        "flush_ms": settings.ingest_flush_ms,
        "patients": patients,
        "machine": machine(),
    }


def _storm_streams(
    county: Any, *, buffered: int, criticals: int
) -> tuple[dict[str, list[tuple[str, bytes]]], dict[tuple[str, int], str]]:
    """Per meter, the messages of its replay (stale readings, shuffled; a fresh critical last for some BP meters);
    and the fresh criticals' keys (meter uid, seq) -> their patient's health-card number."""
    from device_sim.readings import encode, random_patient_ref, sitting

    rng = random.Random(7)
    now = datetime.now(UTC)
    by_clinic: dict[str, list[int]] = {}
    for i, p in enumerate(county.patients):
        by_clinic.setdefault(p.village_code, []).append(i)
    streams: dict[str, list[tuple[str, bytes]]] = {}
    for meter in county.meters:
        people = [i for i in by_clinic.get(meter.clinic_code, []) if meter.kind == "bp" or county.patients[i].diabetes]
        out: list[tuple[str, bytes]] = []
        while people and len(out) < buffered:
            patient = county.patients[rng.choice(people)]
            at = now - timedelta(hours=rng.uniform(*STALE_HOURS))
            for values in sitting(patient, meter.kind, rng=rng, now=at)[: buffered - len(out)]:
                out.append((meter.uid, encode(values, meter_uid=meter.uid, seq=0, patient=random_patient_ref(
                    patient, rng))))  # fmt: skip
        rng.shuffle(out)
        streams[meter.uid] = out
    wanted: dict[tuple[str, int], str] = {}
    bp_meters = [m for m in county.meters if m.kind == "bp" and by_clinic.get(m.clinic_code)]
    taken: set[int] = set()
    for meter in rng.sample(bp_meters, min(criticals, len(bp_meters))):
        choices = [i for i in by_clinic[meter.clinic_code] if i not in taken]
        if not choices:
            continue
        index = rng.choice(choices)
        taken.add(index)
        ref = PatientRef(scheme="health_card", value=county.patients[index].health_card_no)
        payload = bp_payload(device_uid=meter.uid, seq=0, measured_at=now.replace(microsecond=0),
                             systolic=CRITICAL[0], diastolic=CRITICAL[1], pulse=80, patient=ref)  # fmt: skip
        streams[meter.uid].append((meter.uid, payload))
        wanted[(meter.uid, len(streams[meter.uid]))] = ref.value
    return _numbered(county.code, streams), wanted


def _numbered(county_code: str, streams: dict[str, list[tuple[str, bytes]]]) -> dict[str, list[tuple[str, bytes]]]:
    """Each meter's messages with its topic and sequence numbers 1, 2, ... in publishing order."""
    import json

    out = {}
    for uid, messages in streams.items():
        numbered = []
        for seq, (_, payload) in enumerate(messages, start=1):
            body = json.loads(payload)
            body["seq"] = seq
            numbered.append((reading_topic(county_code, uid), json.dumps(body, ensure_ascii=False).encode()))
        out[uid] = numbered
    return out


def _storm(
    settings: Settings, streams: dict[str, list[tuple[str, bytes]]], wanted: dict[tuple[str, int], str]
) -> dict[tuple[str, int], float]:
    """Every meter connects at once, then each replays its stream (QoS 1); the publish time of each fresh critical.

    The meters speak MQTT 3.1.1 over plain sockets from one thread (CONNECT, PUBLISH QoS 1, PUBACK, DISCONNECT):
    a thousand paho clients, each with a network thread, could not even connect on two busy cores (their connect
    timeouts ran out and they retried for ever), which says more about the benchmark than about ingest.
    """
    deadline = time.monotonic() + 300
    socks: dict[str, socket.socket] = {}
    for uid in streams:  # the outage ends: every meter reconnects
        sock = socket.create_connection((settings.mqtt_host, settings.mqtt_port), timeout=60)
        sock.sendall(_packet(0x10, b"\x00\x04MQTT\x04\x02\x00\x3c" + _str(f"meter-{uid}".encode())))
        socks[uid] = sock
    for uid, sock in socks.items():
        if _read_exactly(sock, 4)[:2] != b"\x20\x02":
            raise ConnectionError(f"meter {uid} was refused by the broker")
    published: dict[tuple[str, int], float] = {}
    for uid, sock in socks.items():
        packets = [
            _packet(0x32, _str(topic.encode()) + seq.to_bytes(2, "big") + payload)
            for seq, (topic, payload) in enumerate(streams[uid], start=1)
        ]
        if (uid, len(packets)) in wanted:  # the fresh critical ends the meter's replay
            sock.sendall(b"".join(packets[:-1]))
            published[(uid, len(packets))] = time.time()
            sock.sendall(packets[-1])
        else:
            sock.sendall(b"".join(packets))
    for uid, sock in socks.items():
        for _ in streams[uid]:
            if time.monotonic() > deadline or _read_exactly(sock, 4)[0] != 0x40:
                raise ConnectionError(f"meter {uid}: no PUBACK for every reading")
        sock.sendall(b"\xe0\x00")
        sock.close()
    return published


def _packet(header: int, body: bytes) -> bytes:
    """An MQTT packet: its fixed header, the remaining length (variable-length integer), the body."""
    n, length = len(body), bytearray()
    while True:
        byte, n = n % 128, n // 128
        length.append(byte | (0x80 if n else 0))
        if not n:
            return bytes([header]) + bytes(length) + body


def _str(value: bytes) -> bytes:
    return len(value).to_bytes(2, "big") + value


def _read_exactly(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise ConnectionError("the broker closed the connection")
        out += chunk
    return out


def _watch_alerts(url: str, cards: set[str], seen: dict[str, float], stop: threading.Event) -> None:
    """When each critical patient's first alert became visible (committed), by health-card number."""
    with db.connect(url, autocommit=True, app="cdm-bench-watch") as conn:
        ids = dict(conn.execute("select id, health_card_no from patient where health_card_no = any(%s)",
                                (sorted(cards),)).fetchall())  # fmt: skip
        while not stop.is_set():
            waiting = [pid for pid, card in ids.items() if card not in seen]
            rows = conn.execute("select distinct patient_id from alert where patient_id = any(%s)", (waiting,))
            now = time.time()
            for (pid,) in rows.fetchall():
                seen.setdefault(ids[pid], now)
            time.sleep(POLL_S)


def _wait_stored(url: str, total: int, wanted: dict[tuple[str, int], str], seen: dict[str, float]) -> None:
    deadline = time.monotonic() + 600
    with db.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()
            if row and int(row[0]) >= total and len(seen) >= len(set(wanted.values())):
                return
            time.sleep(0.2)
    raise TimeoutError("the storm was not stored (and alerted) within 600 s")


def _counts(url: str, cards: list[str]) -> tuple[int, int, int, int, int]:
    """Rows, distinct keys, the meters' counters; alerts of the critical patients beyond one per patient and kind,
    and how many of those patients have one."""
    with db.connect(url) as conn:
        row = conn.execute("select count(*), count(distinct (device_id, seq)) from reading").fetchone()
        counted = conn.execute("select coalesce(sum(readings_count), 0) from device").fetchone()
        alerts = conn.execute(
            "select count(*) - count(distinct (a.patient_id, a.kind)), count(distinct a.patient_id)"
            " from alert a join patient p on p.id = a.patient_id where p.health_card_no = any(%s)",
            (cards,),
        ).fetchone()
    assert row and counted and alerts
    return int(row[0]), int(row[1]), int(counted[0]), int(alerts[0]), int(alerts[1])


def _bench_settings(settings: Settings, url: str, mqtt_url: str) -> Settings:
    """The settings of the storm's own store and broker: one worker, no shared subscription."""
    return settings.model_copy(
        update={"database_url": url, "mqtt_url": mqtt_url, "mqtt_username": None, "mqtt_password": None,
                "county_code": "bench", "ingest_share_group": None}
    )  # fmt: skip
