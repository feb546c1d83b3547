"""The dashboard's shell: builds the Dash app with its pages and database pool, and serves it."""

from __future__ import annotations

import logging
from pathlib import Path

import dash
from psycopg_pool import ConnectionPool

from cdm.db import open_pool
from cdm.i18n import t
from cdm.settings import Settings
from dashboard.runtime import Runtime, attach, runtime_of

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
PAGES_FOLDER = PACKAGE_DIR / "pages"
ASSETS_FOLDER = PACKAGE_DIR / "assets"
APP_NAME = "cdm-dashboard"


def create_app(settings: Settings, *, pool: ConnectionPool | None = None) -> dash.Dash:
    """A Dash app with every page under dashboard/pages, reading the store through a pool opened here."""
    if pool is None:
        if settings.database_url is None:
            raise ValueError("the dashboard needs a database: set CDM_DATABASE_URL")
        pool = open_pool(settings.database_url, app=APP_NAME)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_FOLDER),
        assets_folder=str(ASSETS_FOLDER),
        title=t("dashboard.title", settings.language),
        update_title="",  # a live screen refreshing every few seconds must not flash "Updating..." in its tab
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    attach(app.server, Runtime(settings=settings, pool=pool))
    return app


def serve(settings: Settings) -> None:
    """Run the dashboard on settings.dashboard_host:dashboard_port until interrupted."""
    app = create_app(settings)
    log.info("dashboard on http://%s:%s/", settings.dashboard_host, settings.dashboard_port)
    try:
        app.run(host=settings.dashboard_host, port=settings.dashboard_port, debug=False, use_reloader=False)
    finally:
        runtime_of(app.server).pool.close()
