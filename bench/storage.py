"""`cdm bench storage`: bytes a reading takes in the store, on PostgreSQL and on TimescaleDB with compression, and
the disk 100,000 patients need a year.

1. A simulated county (device_sim) with `days` of past readings at the simulator's density (clinic meters: about
   two sittings a week for an unstable patient, fewer for a stable one) goes into an embedded PostgreSQL with the
   native schema (monthly partitions): table, indexes and TOAST of every partition, per reading.
2. The same rows go into PGlite with TimescaleDB 2.23 (bench/pglite.py; the build the tests use) with the
   TimescaleDB schema as migrated (30-day chunks since migration 0031, compression segmented by meter), measured
   before and after compressing every chunk; then once more into a hypertable with the 1-day chunks the schema had
   before, to show what the chunk length does to compression when each meter sends only a few readings a day.
3. Disk per 100,000 patients a year = bytes per reading x readings per patient a year (at the simulated density,
   and at a home meter's two readings a day).
"""

from __future__ import annotations

import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from app.services import EmbeddedPostgres, with_database
from bench.common import bytes_per_reading, machine
from bench.pglite import PgliteTimescale, install_packages, missing_tools
from cdm import db
from cdm.store import upgrade_store

DATABASE = "cdm_bench_storage"
COLUMNS = (
    "device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, patient_scheme, patient_ref, systolic,"
    " diastolic, pulse, glucose_mmol, glucose_flag, glucose_context"
)
INSERT_ROWS = 500  # per multi-row INSERT: PGlite takes neither COPY nor server-side binding
HOME_METER_PER_YEAR = 730  # two readings a day
GB = 1024**3


def run(*, patients: int = 3_000, days: int = 90) -> dict[str, Any]:
    """Measure and return the figures (one JSON object)."""
    home = Path(tempfile.mkdtemp(prefix="cdm-bench-storage-"))
    pg = EmbeddedPostgres(home / "pg")
    try:
        url = _native(pg, patients=patients, days=days)
        rows = _rows(url)
        native = bytes_per_reading(url)
        assert native is not None, "the storage benchmark stored no reading"
        timescale = _timescale(home, rows) if missing_tools() is None else {"skipped": missing_tools()}
    finally:
        pg.stop()
        shutil.rmtree(home, ignore_errors=True)
    per_year = len(rows) / patients * 365 / days
    figures: dict[str, Any] = {
        "benchmark": "storage",
        "patients": patients,
        "days": days,
        "readings": len(rows),
        "readings_per_patient_year": round(per_year, 1),
        "postgres_bytes_per_reading": native,
        "timescale": timescale,
        "gb_per_100k_patients_year": _disk(native, timescale, per_year),
        "machine": machine(),
    }
    return figures


def _disk(native: float, timescale: dict[str, Any], per_year: float) -> dict[str, float]:
    sizes = {"postgres": native, **{k: v for k, v in timescale.items() if isinstance(v, float)}}
    out = {}
    for name, size in sizes.items():
        out[f"{name}_simulated"] = round(size * per_year * 100_000 / GB, 2)
        out[f"{name}_home_meters"] = round(size * HOME_METER_PER_YEAR * 100_000 / GB, 2)
    return out


def _native(pg: EmbeddedPostgres, *, patients: int, days: int) -> str:
    from device_sim.county import generate_county
    from device_sim.history import backfill
    from device_sim.repo import register_county

    server = pg.start()
    with db.connect(server, autocommit=True) as conn:
        conn.execute(f"create database {DATABASE}")
    url = with_database(server, DATABASE)
    upgrade_store(url)
    county = generate_county(code="storage", name="存储县", patients=patients)
    with db.connect(url) as conn:
        register_county(conn, county)
        conn.execute(
            "select cdm_ensure_reading_partitions((date_trunc('month', now()) - make_interval(days => %s))::date, %s)",
            (days + 31, days // 28 + 4),
        )
        backfill(conn, county, days=days, now=datetime.now(UTC))
        conn.commit()
    with db.connect(url, autocommit=True) as conn:
        conn.execute("vacuum analyze reading")
    return url


def _rows(url: str) -> list[tuple[Any, ...]]:
    with db.connect(url) as conn:
        return conn.execute(f"select {COLUMNS} from reading order by measured_at").fetchall()


def _timescale(home: Path, rows: list[tuple[Any, ...]]) -> dict[str, Any]:
    server = PgliteTimescale(home / "pglite", prefix=install_packages())
    url = server.start()
    try:
        upgrade_store(url, client_side=True)
        with db.connect(url, client_side=True, autocommit=True) as conn:
            _drop_foreign_keys(conn)  # sizes only: the registry is not copied over
            _insert(conn, "reading", rows)
            raw = _hypertable_bytes(conn, "reading") / len(rows)
            _compress(conn, "reading")
            compressed = _hypertable_bytes(conn, "reading") / len(rows)
            conn.execute("create table reading_1d (like reading including all)")  # same key and indexes
            conn.execute(
                "select create_hypertable('reading_1d', 'measured_at', chunk_time_interval => interval '1 day')"
            )
            conn.execute(
                "alter table reading_1d set (timescaledb.compress, timescaledb.compress_segmentby = 'device_id',"
                " timescaledb.compress_orderby = 'measured_at desc, seq')"
            )
            conn.execute("insert into reading_1d select * from reading")
            raw_day = _hypertable_bytes(conn, "reading_1d") / len(rows)
            _compress(conn, "reading_1d")
            day = _hypertable_bytes(conn, "reading_1d") / len(rows)
            version = conn.execute("select extversion from pg_extension where extname = 'timescaledb'").fetchone()
    finally:
        server.stop()
    return {
        "version": version[0] if version else None,
        "timescale_30d_uncompressed": round(raw, 1),
        "timescale_30d_compressed": round(compressed, 1),
        "timescale_1d_uncompressed": round(raw_day, 1),
        "timescale_1d_compressed": round(day, 1),
    }


def _drop_foreign_keys(conn: psycopg.Connection) -> None:
    names = [
        r[0]
        for r in conn.execute(
            "select conname from pg_constraint where conrelid = 'reading'::regclass and contype = 'f'"
        )
    ]
    for name in names:
        conn.execute(f'alter table reading drop constraint "{name}"')


def _insert(conn: psycopg.Connection, table: str, rows: list[tuple[Any, ...]]) -> None:
    width = len(rows[0])
    for start in range(0, len(rows), INSERT_ROWS):
        chunk = rows[start : start + INSERT_ROWS]
        values = ", ".join(["(" + ", ".join(["%s"] * width) + ")"] * len(chunk))
        conn.execute(f"insert into {table} ({COLUMNS}) values {values}", [v for row in chunk for v in row])


def _compress(conn: psycopg.Connection, table: str) -> None:
    for (chunk,) in conn.execute(f"select show_chunks('{table}')::text").fetchall():
        conn.execute("select compress_chunk(%s::regclass, true)", (chunk,))


def _hypertable_bytes(conn: psycopg.Connection, table: str) -> float:
    row = conn.execute(f"select total_bytes from hypertable_detailed_size('{table}')").fetchone()
    return float(row[0]) if row and row[0] is not None else 0.0
