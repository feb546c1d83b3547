"""A store stopped part-way through the migrations, to put rows in it that only an older schema could hold."""

from __future__ import annotations

import psycopg

from cdm import migrate


def migrate_until(conn: psycopg.Connection, version: int) -> None:
    """Apply and record, on an empty database, every migration before `version`, as `migrate.upgrade` would have;
    `migrate.upgrade` applies the rest."""
    conn.execute(
        "create table schema_migration (version integer primary key, name text not null, engine text not null,"
        " checksum text not null, applied_at timestamptz not null default now())"
    )
    engine = migrate.detect_engine(conn)
    for migration in migrate.discover():
        if migration.version >= version:
            continue
        sql = migration.sql_for(engine)
        conn.execute(sql)
        conn.execute(
            "insert into schema_migration (version, name, engine, checksum) values (%s, %s, %s, %s)",
            (migration.version, migration.name, engine, migrate._checksum(sql)),
        )
