"""`cdm db upgrade` on plain PostgreSQL: creates the store once, and a second run changes nothing."""

from __future__ import annotations

import psycopg
import pytest

from cdm import migrate
from cdm.store import upgrade_store

pytestmark = pytest.mark.integration


def _schema_snapshot(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select table_name, column_name, data_type from information_schema.columns"
            " where table_schema = 'public' order by 1, 2"
        ).fetchall()


def test_upgrade_twice_changes_nothing_the_second_time(empty_db_url: str) -> None:
    first = upgrade_store(empty_db_url)
    assert first["engine"] == "native"
    assert first["applied"] == [f"{m.version:04d}_{m.name}" for m in migrate.discover()]
    assert first["thresholds_changed"] > 0
    snapshot = _schema_snapshot(empty_db_url)

    second = upgrade_store(empty_db_url)

    assert second == {"engine": "native", "applied": [], "thresholds_changed": 0, "partitions_created": 0}
    assert _schema_snapshot(empty_db_url) == snapshot


def test_readings_are_range_partitioned_by_month_with_a_default(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        parts = [
            r[0]
            for r in conn.execute(
                "select c.relname from pg_inherits i join pg_class c on c.oid = i.inhrelid"
                " where i.inhparent = 'reading'::regclass order by 1"
            )
        ]
        strategy = conn.execute("select partstrat from pg_partitioned_table where partrelid = 'reading'::regclass")
        assert strategy.fetchone() == ("r",)
    assert "reading_default" in parts
    assert len([p for p in parts if p != "reading_default"]) == 6


def test_thresholds_table_matches_the_python_table(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        value = conn.execute(
            "select value from clinical_threshold where edition = '2020' and name = 'bp_critical_systolic'"
        ).fetchone()
    assert value is not None and float(value[0]) == 180.0
