"""Fixtures of the dashboard tests: a connection to this test's fresh database."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest


@pytest.fixture
def conn(db_url: str) -> Iterator[psycopg.Connection]:
    """An autocommit connection to this test's own migrated database, for building a county."""
    with psycopg.connect(db_url, autocommit=True) as connection:
        yield connection
