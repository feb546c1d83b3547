"""A real dashboard served from a background thread, as a browser or an HTTP client sees it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dash
from werkzeug.serving import make_server

from cdm.settings import Settings
from dashboard.app import create_app
from dashboard.runtime import runtime_of


@dataclass(frozen=True)
class RunningDashboard:
    """The app and the address it answers on."""

    app: dash.Dash
    url: str


def dashboard_settings(db_url: str, **overrides: object) -> Settings:
    """Settings of a dashboard reading `db_url`, ignoring any .env file of the developer."""
    return Settings(database_url=db_url, _env_file=None, **overrides)  # type: ignore[call-arg, arg-type]


@contextmanager
def running_dashboard(settings: Settings) -> Iterator[RunningDashboard]:
    """create_app(settings) served by werkzeug on a free port until the block ends; the pool closed after."""
    app = create_app(settings)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="dashboard-test-server", daemon=True)
    thread.start()
    try:
        yield RunningDashboard(app=app, url=f"http://127.0.0.1:{server.server_port}")
    finally:
        server.shutdown()
        thread.join(timeout=10)
        runtime_of(app.server).pool.close()
