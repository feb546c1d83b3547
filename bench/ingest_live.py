"""The live run of `cdm bench ingest`: a fixed offered rate, and each reading's publish -> commit latency."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

from cdm import db
from cdm.settings import Settings

POLL_S = 0.02  # how often the watcher looks for newly committed readings (up to this much of each latency)
LIVE_SEQ_BASE = 10**12  # the live run's sequence numbers, above the backlog's


def live(settings: Settings, messages: list[tuple[str, bytes]], url: str, *, rate: float) -> dict[str, Any]:
    """Offer `messages` at `rate` a second to the running ingest; each reading's publish -> committed latency.

    Their sequence numbers start at LIVE_SEQ_BASE, above any backlog's.
    """
    from device_sim.meter import MeterPublisher

    n = len(messages)
    keys = [(_uid(topic), _seq(payload)) for topic, payload in messages]
    published: dict[tuple[str, int], float] = {}
    seen: dict[tuple[str, int], float] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_commits, args=(url, seen, stop), daemon=True)
    watcher.start()
    publisher = MeterPublisher(settings, client_id="bench-live").connect()
    started = time.perf_counter()
    for i, (topic, payload) in enumerate(messages):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        published[keys[i]] = time.time()
        publisher.publish_raw(topic, payload)
    publisher.close(timeout=60)
    deadline = time.monotonic() + 60
    while len(seen) < n and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    watcher.join(5)
    ms = [1000 * (seen[k] - t) for k, t in published.items() if k in seen]
    return {"published": n, "ms": ms, "unseen": n - len(ms)}


def _uid(topic: str) -> str:
    return topic.split("/")[4]


def _seq(payload: bytes) -> int:
    return int(json.loads(payload)["seq"])


def _watch_commits(url: str, seen: dict[tuple[str, int], float], stop: threading.Event) -> None:
    """Note when each live reading becomes visible (committed), by its key; polled every POLL_S.

    Each meter's live sequence numbers run on from LIVE_SEQ_BASE; the poll asks, per meter, for the rows from its
    lowest sequence not seen yet (a range of the primary key), so it stays small however long the run.
    """
    with db.connect(url, autocommit=True, app="cdm-bench-watch") as conn:
        uids: dict[int, str] = dict(conn.execute("select id, uid from device").fetchall())
        nxt = dict.fromkeys(uids, LIVE_SEQ_BASE)
        got: dict[int, set[int]] = {i: set() for i in uids}
        while not stop.is_set():
            ids = sorted(nxt)
            rows = conn.execute(
                "select r.device_id, r.seq from unnest(%s::integer[], %s::bigint[]) as u(id, s)"
                " join reading r on r.device_id = u.id and r.seq >= u.s",
                (ids, [nxt[i] for i in ids]),
            ).fetchall()
            now = time.time()
            for device_id, seq in rows:
                seen.setdefault((uids[device_id], seq), now)
                got[device_id].add(seq)
            for device_id in {d for d, _ in rows}:
                while nxt[device_id] in got[device_id]:
                    got[device_id].discard(nxt[device_id])
                    nxt[device_id] += 1
            time.sleep(POLL_S)
