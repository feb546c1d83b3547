"""A real local HTTP receiver that stands in for the township and county centres in the demo and the tests.

It answers each webhook with a receipt, and drops repeats by the Idempotency-Key header the way a real
receiver should, counting them so a run can prove no notification arrived twice. Under `/wecom/` it answers as a
WeCom group robot (`{"errcode": 0, "errmsg": "ok"}`), under `/sms` as an SMS gateway (`{"code": "OK", …}`);
`fail_next` makes it answer the way each of them fails.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WECOM_PREFIX = "/wecom/"
SMS_PREFIX = "/sms"


@dataclass(frozen=True)
class Received:
    path: str
    idempotency_key: str | None
    body: dict[str, Any]
    at: float  # time.time() on arrival
    raw: bytes = b""
    signature: str | None = None
    authorization: str | None = None


@dataclass
class _State:
    received: list[Received] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    repeats: int = 0
    requests: int = 0  # every POST, failed ones included: shows whether a sender called at all
    fail_next: int = 0
    fail_status: int = 503
    fail_errcode: int = 45009
    answer_delay_s: float = 0.0  # a slow receiver: the request is recorded, the answer comes this much later
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self.arrived = threading.Condition(self.lock)

    def take_failure(self) -> tuple[int, int] | None:
        """(HTTP status, WeCom errcode) when this request is to fail; call with the lock held."""
        if self.fail_next <= 0:
            return None
        self.fail_next -= 1
        return self.fail_status, self.fail_errcode

    def record(self, item: Received) -> None:
        """Keep a request, or count it as a repeat of an Idempotency-Key already seen; call with the lock held."""
        key = item.idempotency_key
        if key and key in self.keys:
            self.repeats += 1
            return
        if key:
            self.keys.add(key)
        self.received.append(item)
        self.arrived.notify_all()


def _failure_answer(path: str, status: int, errcode: int) -> tuple[int, dict[str, Any]]:
    if path.startswith(WECOM_PREFIX):
        return 200, {"errcode": errcode, "errmsg": "api freq out of limit" if errcode == 45009 else "failed"}
    if path.startswith(SMS_PREFIX) and status == 200:
        return 200, {"code": "REFUSED", "message": "refused by the test gateway"}
    return status, {"error": "unavailable" if status >= 500 else "refused"}


def _success_answer(path: str) -> dict[str, Any]:
    if path.startswith(WECOM_PREFIX):
        return {"errcode": 0, "errmsg": "ok"}
    if path.startswith(SMS_PREFIX):
        return {"code": "OK", "message_id": str(uuid.uuid4())}
    return {"receipt": str(uuid.uuid4())}


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # the dispatcher sends from a pool of threads; the default backlog of 5 drops connections

    def handle_error(self, request: object, client_address: object) -> None:
        """A sender that went away mid-request (a killed dispatcher) is expected here, not worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


class NotificationSink:
    """Listens on 127.0.0.1:<port>; every POST path is accepted (e.g. /township/<code>, /county, /wecom/x, /sms)."""

    def __init__(self, port: int = 0) -> None:
        state = _State()
        self._state = state

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, answer = self._handle(raw)
                if state.answer_delay_s:
                    time.sleep(state.answer_delay_s)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, raw: bytes) -> tuple[int, dict[str, Any]]:
                with state.lock:
                    state.requests += 1
                    failure = state.take_failure()
                    if failure:
                        return _failure_answer(self.path, *failure)
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        return 400, {"error": "body is not JSON"}
                    h = self.headers
                    key, signature, auth = h.get("Idempotency-Key"), h.get("X-CDM-Signature"), h.get("Authorization")
                    state.record(Received(self.path, key, body, time.time(), raw, signature, auth))
                return 200, _success_answer(self.path)

            def log_message(self, format: str, *args: object) -> None:
                return

        self._server = _Server(("127.0.0.1", port), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # stop() waits up to one poll; the default 0.5 s adds up over a suite
            name="notification-sink",
            daemon=True,
        )

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

    @property
    def requests(self) -> int:
        """Every POST that arrived, answered with a failure or not."""
        with self._state.lock:
            return self._state.requests

    def answer_after(self, seconds: float) -> None:
        """Keep every request but answer it only `seconds` later, as a slow or hanging receiver would."""
        with self._state.lock:
            self._state.answer_delay_s = seconds

    def fail_next(self, count: int, *, status: int = 503, errcode: int = 45009) -> None:
        """Fail the next `count` requests with HTTP `status`, or under /wecom/ with HTTP 200 and WeCom `errcode`."""
        with self._state.lock:
            self._state.fail_next, self._state.fail_status, self._state.fail_errcode = count, status, errcode

    def wait_for(self, count: int, *, timeout: float) -> list[Received]:
        """Block until at least `count` distinct notifications arrived (or the timeout passes)."""
        with self._state.arrived:
            self._state.arrived.wait_for(lambda: len(self._state.received) >= count, timeout=timeout)
            return list(self._state.received)
