"""A real dashboard for the work screens' browser tests, with the viewer chosen by the test.

Until the log-in layer is merged, the test names the principal that the app's requests are served for (the
production app gets it from the log-in layer on `flask.g`, the same place).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import flask
from werkzeug.serving import make_server

from cdm.settings import Settings
from dashboard.access import Principal
from dashboard.app import create_app
from dashboard.runtime import runtime_of


@dataclass
class Viewer:
    """Who the served requests are for; a test may change it between page loads."""

    principal: Principal | None


@dataclass(frozen=True)
class WorkDashboard:
    url: str
    viewer: Viewer


@contextmanager
def work_dashboard(settings: Settings, principal: Principal | None) -> Iterator[WorkDashboard]:
    """create_app(settings) served on a free port with every request made by `principal` (None: nobody)."""
    app = create_app(settings)
    viewer = Viewer(principal)

    @app.server.before_request
    def _sign_in() -> None:
        if viewer.principal is not None:
            flask.g.principal = viewer.principal

    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="work-dashboard", daemon=True)
    thread.start()
    try:
        yield WorkDashboard(url=f"http://127.0.0.1:{server.server_port}", viewer=viewer)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        runtime_of(app.server).pool.close()
