"""`GET /healthz`: 200 while the store answers, 503 while it does not, 200 again when it is back (the pool
reconnects by itself); no log-in needed."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest

from app.services import EmbeddedPostgres
from cdm.settings import Settings
from cdm.store import upgrade_store
from dashboard.app import create_app
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_healthz_follows_the_store_down_and_back_up(settings: Settings):
    home = Path(tempfile.mkdtemp(prefix="cdm-test-pg-health-"))  # not under pytest's tmp_path: see conftest
    server = EmbeddedPostgres(home / "data")
    app = None
    try:
        url = server.start()
        upgrade_store(url)
        app = create_app(settings.model_copy(update={"database_url": url}))
        client = app.server.test_client()
        first = client.get("/healthz")
        assert (first.status_code, first.json) == (200, {"status": "ok", "store": True})
        assert client.get("/").status_code == 302, "everything else still asks for a log-in"
        server.stop()
        down = client.get("/healthz")
        assert (down.status_code, down.json) == (503, {"status": "unavailable", "store": False})
        assert server.start() == url
        assert wait_until(lambda: client.get("/healthz").status_code == 200, 30)
    finally:
        if app is not None:
            app.server.extensions["cdm_dashboard"].pool.close()
        server.stop()
        shutil.rmtree(home, ignore_errors=True)
