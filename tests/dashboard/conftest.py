"""Fixtures of the dashboard tests: a connection to this test's fresh database; one headless Chromium a module."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser

from .browser import chromium


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to this test's own migrated database, for building a county."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, shared by a module's browser tests (each marked `needs_chromium`)."""
    with chromium() as launched:
        yield launched
