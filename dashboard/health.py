"""`GET /healthz` of the dashboard (200 when the store answers, 503 when it does not) and its request metrics.

A WSGI middleware in front of the Flask server: the check needs no log-in, runs under any WSGI server, and a load
balancer or systemd watchdog can call it as often as it likes (one pooled round trip, bounded by a timeout).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from psycopg_pool import ConnectionPool

from cdm.metrics import metrics

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
CHECK_TIMEOUT_S = 2.0  # a store slower than this to hand out and check a connection counts as not answering

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def store_answers(pool: ConnectionPool, *, timeout: float = CHECK_TIMEOUT_S) -> bool:
    """Whether the pool can hand out a connection to the store within `timeout` and the store answers on it."""
    try:
        with pool.connection(timeout=timeout) as conn:
            ConnectionPool.check_connection(conn)
        return True
    except Exception as exc:  # any failure means "not healthy"; the reason goes to the log, not to the caller
        log.warning("health check: the store does not answer (%s)", exc)
        return False


class HealthMiddleware:
    """Answers /healthz itself; times and counts every other request on the way to the dashboard."""

    def __init__(self, app: WsgiApp, pool: ConnectionPool) -> None:
        self.app = app
        self.pool = pool

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH:
            return self._health(start_response)
        started = time.perf_counter()
        code = ["500"]

        def recording(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            code[0] = status.split(" ", 1)[0]
            return start_response(status, headers, exc_info)

        try:
            return self.app(environ, recording)
        finally:
            m = metrics()
            m.requests.labels(code[0]).inc()
            m.request_seconds.observe(time.perf_counter() - started)

    def _health(self, start_response: StartResponse) -> list[bytes]:
        ok = store_answers(self.pool)
        body = json.dumps({"status": "ok" if ok else "unavailable", "store": ok}).encode()
        start_response(
            "200 OK" if ok else "503 Service Unavailable",
            [("Content-Type", "application/json"), ("Cache-Control", "no-store"), ("Content-Length", str(len(body)))],
        )
        return [body]
