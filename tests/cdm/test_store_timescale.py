"""The store on real TimescaleDB code: migrations, hypertable, policies, idempotent writes, the daily aggregate.

The server is PGlite with TimescaleDB 2.23 (bench/pglite.py): one connection at a time and no COPY,
so every connection to it here is `client_side=True` (the contract the architecture notes promise) and rows go
in as multi-row INSERTs.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import pytest

from cdm import db, migrate
from cdm.store import upgrade_store

pytestmark = [pytest.mark.timescale, pytest.mark.integration]

Row = tuple[Any, ...]
CHINA = ZoneInfo("Asia/Shanghai")
COLUMNS = (
    "device_id",
    "seq",
    "measured_at",
    "received_at",
    "clinic_id",
    "kind",
    "patient_id",
    "systolic",
    "diastolic",
    "pulse",
    "glucose_mmol",
    "glucose_context",
)
INSERT = f"insert into reading ({', '.join(COLUMNS)}) values {{rows}} on conflict do nothing"

DAILY_MEANS = (
    "select day, patient_id, kind, n, systolic_mean, diastolic_mean, fasting_glucose_mean, nonfasting_glucose_mean"
    " from reading_daily where patient_id = any(%s) order by patient_id, day, kind"
)
LATEST_READING = (
    "select distinct on (patient_id) patient_id, device_id, seq, measured_at, kind, systolic, diastolic, glucose_mmol"
    " from reading where patient_id = any(%s) order by patient_id, measured_at desc, seq desc"
)


def _snapshot(conn: psycopg.Connection) -> dict[str, list[Row]]:
    """What a repeated upgrade must leave alone: tables and columns, hypertables, chunk intervals, jobs."""
    queries = {
        "columns": (
            "select table_name, column_name, data_type from information_schema.columns"
            " where table_schema = 'public' order by 1, 2"
        ),
        "hypertables": (
            "select hypertable_name, num_dimensions, compression_enabled"
            " from timescaledb_information.hypertables order by 1"
        ),
        "dimensions": (
            "select hypertable_name, column_name, time_interval from timescaledb_information.dimensions order by 1, 2"
        ),
        "jobs": (
            "select job_id, proc_name, hypertable_name, schedule_interval, config::text"
            " from timescaledb_information.jobs order by 1"
        ),
    }
    return {name: conn.execute(sql).fetchall() for name, sql in queries.items()}


def _china_midnight(days_ago: int) -> datetime:
    today = datetime.now(CHINA).replace(hour=0, minute=0, second=0, microsecond=0)
    return today - timedelta(days=days_ago)


def _bp(device: int, seq: int, at: datetime, patient: int, systolic: int, diastolic: int) -> Row:
    return (device, seq, at, at + timedelta(seconds=5), 1, "bp", patient, systolic, diastolic, 72, None, None)


def _glucose(device: int, seq: int, at: datetime, patient: int, mmol: float, context: str) -> Row:
    return (device, seq, at, at + timedelta(seconds=5), 1, "glucose", patient, None, None, None, mmol, context)


def _readings(base: int) -> list[Row]:
    """Two days of readings (China time) for patients base+1 (BP) and base+2 (glucose) on meters base+1/base+2.

    The BP patient's 23:59:59 and 00:00:00 readings fall on different China days but on the same UTC day, so a
    store that bucketed by UTC would give one day, not two.
    """
    bp, glu, day2, day1 = base + 1, base + 2, _china_midnight(2), _china_midnight(1)
    return [
        _bp(bp, 1, day2 + timedelta(hours=8), bp, 150, 95),
        _bp(bp, 2, day2 + timedelta(hours=23, minutes=59, seconds=59), bp, 130, 85),
        _bp(bp, 3, day1, bp, 120, 80),
        _glucose(glu, 1, day2 + timedelta(hours=7), glu, 5.5, "fasting"),
        _glucose(glu, 2, day1 + timedelta(hours=7), glu, 6.0, "fasting"),
        _glucose(glu, 3, day1 + timedelta(hours=7, minutes=5), glu, 7.0, "fasting"),
        _glucose(glu, 4, day1 + timedelta(hours=12), glu, 9.0, "non_fasting"),
    ]


def _insert(conn: psycopg.Connection, rows: Sequence[Row]) -> int:
    """One multi-row INSERT ... ON CONFLICT DO NOTHING (the WASM build crashes on COPY); rows actually written."""
    placeholders = ", ".join("(" + ", ".join(["%s"] * len(COLUMNS)) + ")" for _ in rows)
    cur = conn.execute(INSERT.format(rows=placeholders), [value for row in rows for value in row])
    return cur.rowcount


def _refresh_daily(conn: psycopg.Connection) -> None:
    """Materialise reading_daily over the test's days (the policy would do it within the hour in production)."""
    conn.execute("call refresh_continuous_aggregate('reading_daily', %s, %s)", (_china_midnight(4), _china_midnight(0)))


@pytest.fixture(scope="module")
def timescale_store(timescale_url: str) -> str:
    """The module's TimescaleDB server with every migration applied."""
    with db.connect(timescale_url, client_side=True) as conn:
        migrate.upgrade(conn)
    return timescale_url


@pytest.fixture
def ts_conn(timescale_store: str) -> Iterator[psycopg.Connection]:
    """An autocommit, client-side-binding connection to the migrated TimescaleDB store (the only one open)."""
    with db.connect(timescale_store, client_side=True, autocommit=True) as conn:
        yield conn


def test_upgrade_applies_the_timescale_migrations_once(empty_timescale_url: str) -> None:
    """What `cdm db upgrade` does (migrations, thresholds, partitions), twice: the second run changes nothing."""
    first = upgrade_store(empty_timescale_url, client_side=True)
    with db.connect(empty_timescale_url, client_side=True) as conn:
        engines = conn.execute("select distinct engine from schema_migration").fetchall()
        snapshot = _snapshot(conn)

    second = upgrade_store(empty_timescale_url, client_side=True)

    assert first["applied"] == [f"{m.version:04d}_{m.name}" for m in migrate.discover()]
    assert first["engine"] == "timescale" and first["thresholds_changed"] > 0
    assert engines == [("timescale",)]
    assert second == {"engine": "timescale", "applied": [], "thresholds_changed": 0, "partitions_created": 0}
    with db.connect(empty_timescale_url, client_side=True) as conn:
        assert _snapshot(conn) == snapshot
    assert {table for table, _, _ in snapshot["columns"]} >= {"region", "device", "patient", "reading", "reading_daily"}


def test_reading_is_a_hypertable_with_thirty_day_chunks(ts_conn: psycopg.Connection) -> None:
    hypertable = ts_conn.execute(
        "select num_dimensions, compression_enabled from timescaledb_information.hypertables"
        " where hypertable_schema = 'public' and hypertable_name = 'reading'"
    ).fetchone()
    dimension = ts_conn.execute(
        "select column_name, time_interval from timescaledb_information.dimensions where hypertable_name = 'reading'"
    ).fetchall()

    assert hypertable == (1, True)
    assert dimension == [("measured_at", timedelta(days=30))]  # 0031: one day held too few rows a meter


def test_compression_is_segmented_by_device_and_ordered_by_time(ts_conn: psycopg.Connection) -> None:
    settings = ts_conn.execute(
        "select attname, segmentby_column_index, orderby_column_index, orderby_asc"
        " from timescaledb_information.compression_settings where hypertable_name = 'reading'"
        " order by segmentby_column_index nulls last, orderby_column_index"
    ).fetchall()

    assert settings == [("device_id", 1, None, None), ("measured_at", None, 1, False), ("seq", None, 2, True)]


def test_compression_retention_and_refresh_policies_exist(ts_conn: psycopg.Connection) -> None:
    jobs = {
        proc: (table, config)
        for proc, table, config in ts_conn.execute(
            "select proc_name, hypertable_name, config from timescaledb_information.jobs"
            " where hypertable_name is not null"
        )
    }

    assert jobs["policy_compression"][0] == "reading"
    assert jobs["policy_compression"][1]["compress_after"] == "45 days"
    assert jobs["policy_retention"][0] == "reading"
    assert jobs["policy_retention"][1]["drop_after"] == "3650 days"
    assert jobs["policy_refresh_continuous_aggregate"][0] == "reading_daily"


def test_inserting_the_same_readings_twice_keeps_one_row_each(ts_conn: psycopg.Connection) -> None:
    rows = _readings(base=100)
    devices = sorted({row[0] for row in rows})
    # a broker redelivery or a meter's store-and-forward replay: same identity, later arrival
    redelivered = [(*row[:3], row[3] + timedelta(minutes=10), *row[4:]) for row in rows]

    first = _insert(ts_conn, rows)
    again = _insert(ts_conn, redelivered)

    counts = ts_conn.execute(
        "select count(*), count(distinct (device_id, seq, measured_at)), max(received_at - measured_at)"
        " from reading where device_id = any(%s)",
        (devices,),
    ).fetchone()
    assert (first, again) == (len(rows), 0)
    assert counts == (len(rows), len(rows), timedelta(seconds=5))


def test_daily_aggregate_gives_the_daily_means_in_china_time(ts_conn: psycopg.Connection) -> None:
    _insert(ts_conn, _readings(base=200))

    _refresh_daily(ts_conn)
    daily = ts_conn.execute(DAILY_MEANS, ([201, 202],)).fetchall()

    day2, day1 = _china_midnight(2), _china_midnight(1)
    assert daily == [
        (day2, 201, "bp", 2, 140.0, 90.0, None, None),
        (day1, 201, "bp", 1, 120.0, 80.0, None, None),
        (day2, 202, "glucose", 1, None, None, 5.5, None),
        (day1, 202, "glucose", 3, None, None, 6.5, 9.0),
    ]


def test_reading_daily_has_the_same_columns_on_both_engines(db_url: str, ts_conn: psycopg.Connection) -> None:
    columns = (
        "select column_name, data_type from information_schema.columns"
        " where table_schema = 'public' and table_name = 'reading_daily' order by ordinal_position"
    )
    with db.connect(db_url) as native:
        expected = native.execute(columns).fetchall()

    assert ts_conn.execute(columns).fetchall() == expected


@pytest.mark.parametrize("query", [DAILY_MEANS, LATEST_READING], ids=["daily_means", "latest_reading"])
def test_same_query_gives_the_same_answer_on_both_engines(query: str, db_url: str, ts_conn: psycopg.Connection) -> None:
    base = 300 if query is DAILY_MEANS else 400
    rows, patients = _readings(base), [base + 1, base + 2]
    with db.connect(db_url) as native:  # the production path: server-side binding
        _insert(native, rows)
        expected = native.execute(query, (patients,)).fetchall()
    _insert(ts_conn, rows)
    _refresh_daily(ts_conn)

    assert len(expected) == (4 if query is DAILY_MEANS else 2)
    assert ts_conn.execute(query, (patients,)).fetchall() == expected


def test_the_ingest_transaction_runs_unchanged_on_timescaledb(timescale_store: str) -> None:
    """Readings, duplicates, assessment, alert and outbox: the production queries, on the hypertable."""
    from datetime import UTC

    from cdm.payload import PatientRef, bp_payload, reading_topic
    from cdm.settings import Settings
    from ingest.batch import IngestContext, process_batch
    from ingest.message import InboundMessage
    from tests.support.registry import build

    with db.connect(timescale_store, client_side=True) as conn:
        county = build(conn, code="tsdb")
        card, patient_id = next(iter(county.patients.items()))
        now = datetime.now(UTC)
        raw = bp_payload(
            device_uid=county.bp_meter,
            seq=1,
            measured_at=now,
            systolic=186,
            diastolic=100,
            pulse=80,
            patient=PatientRef(scheme="health_card", value=card),
        )
        msg = InboundMessage(1, 1, reading_topic("tsdb", county.bp_meter), raw, now)
        ctx = IngestContext.from_settings(Settings(county_code="tsdb", _env_file=None))
        result = process_batch(conn, [msg, msg], ctx=ctx)
        conn.commit()
        assert (result.stored, result.duplicates, result.alerts) == (1, 1, 1)
        assert conn.execute(
            "select colour from assessment_current where patient_id = %s", (patient_id,)
        ).fetchone() == ("red",)
        assert conn.execute("select count(*) from notification").fetchone() == (2,)
