"""Fixtures for the store's TimescaleDB path: real TimescaleDB code (PGlite + TimescaleDB under Node.js)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.timescale import PgliteTimescale, install_packages, missing_tools


@pytest.fixture(scope="session")
def pglite_prefix() -> Path:
    """The npm prefix holding PGlite with TimescaleDB, installed once per machine; skips without Node.js."""
    reason = missing_tools()
    if reason:
        pytest.skip(reason)
    return install_packages()


def _serve(prefix: Path, log_dir: Path) -> Iterator[str]:
    server = PgliteTimescale(log_dir, prefix=prefix)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="module")
def timescale_url(pglite_prefix: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of an empty TimescaleDB server shared by one test module (one connection at a time)."""
    yield from _serve(pglite_prefix, tmp_path_factory.mktemp("pglite"))


@pytest.fixture
def empty_timescale_url(pglite_prefix: Path, tmp_path: Path) -> Iterator[str]:
    """URL of an empty TimescaleDB server of this test's own (about 2.5 s to start)."""
    yield from _serve(pglite_prefix, tmp_path)
