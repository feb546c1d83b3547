"""A real dashboard served from a background thread, as a browser or an HTTP client sees it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import dash

from cdm.settings import Settings
from dashboard.app import create_app
from dashboard.runtime import runtime_of
from dashboard.web_server import make_server


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
    """create_app(settings) served by waitress (as `cdm dashboard` serves it) on a free port until the block ends."""
    app = create_app(settings)
    server = make_server(app.server, host="127.0.0.1", port=0, proxy_hops=settings.dashboard_proxy_hops)
    thread = threading.Thread(target=server.run, name="dashboard-test-server", daemon=True)
    thread.start()
    try:
        yield RunningDashboard(app=app, url=f"http://127.0.0.1:{server.port}")
    finally:
        server.close()
        thread.join(timeout=10)
        runtime_of(app.server).pool.close()
