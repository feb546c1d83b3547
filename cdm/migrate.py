"""Numbered plain-SQL migrations, applied once each and recorded in schema_migration.

A migration is `NNNN_name.sql`, or a pair `NNNN_name.native.sql` / `NNNN_name.timescale.sql` when plain
PostgreSQL and TimescaleDB need different DDL; the engine is chosen once, by whether the server offers the
timescaledb extension, and recorded so a later run never mixes the two.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from importlib import resources

import psycopg

log = logging.getLogger(__name__)

_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+?)(?:\.(?P<engine>native|timescale))?\.sql$")
_LOCK_KEY = 0x63646D  # "cdm": one upgrade at a time, whatever the number of processes starting together


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql_by_engine: dict[str, str]  # "any", "native" or "timescale" -> SQL text

    def sql_for(self, engine: str) -> str:
        return self.sql_by_engine.get("any") or self.sql_by_engine[engine]


def discover() -> list[Migration]:
    """Every migration shipped in cdm/migrations, in order."""
    found: dict[int, Migration] = {}
    for entry in resources.files("cdm.migrations").iterdir():
        match = _FILE.match(entry.name)
        if not match:
            continue
        version = int(match["version"])
        migration = found.setdefault(version, Migration(version, match["name"], {}))
        if migration.name != match["name"]:
            raise RuntimeError(f"migration {version:04d} has two names: {migration.name} and {match['name']}")
        migration.sql_by_engine[match["engine"] or "any"] = entry.read_text(encoding="utf-8")
    return [found[v] for v in sorted(found)]


def detect_engine(conn: psycopg.Connection) -> str:
    """'timescale' when the server offers TimescaleDB (or the store already uses it), otherwise 'native'."""
    row = conn.execute("select exists (select 1 from pg_available_extensions where name = 'timescaledb')").fetchone()
    return "timescale" if row and row[0] else "native"


def _checksum(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


def upgrade(conn: psycopg.Connection) -> list[str]:
    """Apply the migrations not yet recorded; return the names applied (empty when already current)."""
    conn.autocommit = True
    conn.execute("select pg_advisory_lock(%s)", (_LOCK_KEY,))
    try:
        conn.execute(
            "create table if not exists schema_migration ("
            " version integer primary key, name text not null, engine text not null,"
            " checksum text not null, applied_at timestamptz not null default now())"
        )
        applied = {row[0]: row for row in conn.execute("select version, name, engine, checksum from schema_migration")}
        engine = next((row[2] for row in applied.values()), None) or detect_engine(conn)
        done: list[str] = []
        for migration in discover():
            sql = migration.sql_for(engine)
            if migration.version in applied:
                if applied[migration.version][3] != _checksum(sql):
                    log.warning("migration %04d_%s changed after it was applied", migration.version, migration.name)
                continue
            with conn.transaction():
                conn.execute(sql)
                conn.execute(
                    "insert into schema_migration (version, name, engine, checksum) values (%s, %s, %s, %s)",
                    (migration.version, migration.name, engine, _checksum(sql)),
                )
            log.info("applied migration %04d_%s (%s)", migration.version, migration.name, engine)
            done.append(f"{migration.version:04d}_{migration.name}")
        return done
    finally:
        conn.execute("select pg_advisory_unlock(%s)", (_LOCK_KEY,))


def current_engine(conn: psycopg.Connection) -> str:
    """The engine the store's readings were created for."""
    row = conn.execute("select engine from schema_migration limit 1").fetchone()
    return row[0] if row else detect_engine(conn)
