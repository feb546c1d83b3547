"""What a running dashboard shares with its pages: the settings and the database pool, kept on the Flask server."""

from __future__ import annotations

from dataclasses import dataclass

import flask
from psycopg_pool import ConnectionPool

from cdm.settings import Settings

EXTENSION_KEY = "cdm_dashboard"


@dataclass(frozen=True)
class Runtime:
    """The settings and database pool of one dashboard app."""

    settings: Settings
    pool: ConnectionPool


def attach(server: flask.Flask, runtime: Runtime) -> None:
    """Make `runtime` reachable from the requests `server` handles."""
    server.extensions[EXTENSION_KEY] = runtime


def runtime_of(server: flask.Flask) -> Runtime:
    """The runtime attached to `server` by `create_app`."""
    return server.extensions[EXTENSION_KEY]


def current() -> Runtime:
    """The runtime of the app serving the current request (layouts and callbacks run inside one)."""
    return runtime_of(flask.current_app)
