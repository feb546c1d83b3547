"""A real local HTTP receiver that stands in for the township and county centres in the demo and the tests.

It answers each webhook with a receipt, and drops repeats by the Idempotency-Key header the way a real
receiver should, counting them so a run can prove no notification arrived twice.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    idempotency_key: str | None
    body: dict[str, Any]
    at: float  # time.time() on arrival
    raw: bytes = b""
    signature: str | None = None


@dataclass
class _State:
    received: list[Received] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    repeats: int = 0
    fail_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)


class NotificationSink:
    """Listens on 127.0.0.1:<port>; every POST path is accepted (e.g. /township/<code>, /county)."""

    def __init__(self, port: int = 0) -> None:
        state = _State()
        self._state = state

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                key = self.headers.get("Idempotency-Key")
                with state.lock:
                    if state.fail_next > 0:
                        state.fail_next -= 1
                        self._answer(503, {"error": "unavailable"})
                        return
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        self._answer(400, {"error": "body is not JSON"})
                        return
                    if key and key in state.keys:
                        state.repeats += 1
                    else:
                        if key:
                            state.keys.add(key)
                        state.received.append(
                            Received(self.path, key, body, time.time(), raw, self.headers.get("X-CDM-Signature"))
                        )
                        state.arrived.notify_all()
                self._answer(200, {"receipt": str(uuid.uuid4())})

            def _answer(self, status: int, body: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="notification-sink", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> NotificationSink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def received(self) -> list[Received]:
        with self._state.lock:
            return list(self._state.received)

    @property
    def repeats(self) -> int:
        with self._state.lock:
            return self._state.repeats

    def fail_next(self, count: int) -> None:
        """Answer the next `count` requests with 503, as a receiver that is down would."""
        with self._state.lock:
            self._state.fail_next = count

    def wait_for(self, count: int, *, timeout: float) -> list[Received]:
        """Block until at least `count` distinct notifications arrived (or the timeout passes)."""
        with self._state.arrived:
            self._state.arrived.wait_for(lambda: len(self._state.received) >= count, timeout=timeout)
            return list(self._state.received)
