"""The store-derived figures `cdm metrics` reports at each scrape, and what `cdm health` asks the store."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg


@dataclass(frozen=True)
class StoreFigures:
    """What the store says about the system at this moment."""

    outbox_pending: int
    outbox_oldest_s: float  # age of the oldest notification not yet delivered (0 when none waits)
    devices_offline: int
    devices_total: int
    colours: dict[str, int]


def store_figures(conn: psycopg.Connection) -> StoreFigures:
    """Outbox backlog, meters offline of those in service, and patients by current colour (a few cheap counts)."""
    outbox = conn.execute(
        "select count(*), coalesce(extract(epoch from now() - min(created_at)), 0)::float8"
        " from notification where status in ('pending', 'sending')"
    ).fetchone()
    devices = conn.execute(
        "select count(*) filter (where status = 'offline'), count(*) from device where revoked_at is null"
    ).fetchone()
    colours: dict[str, int] = dict(
        conn.execute("select colour, count(*) from assessment_current group by colour").fetchall()
    )
    return StoreFigures(
        outbox_pending=int(outbox[0]) if outbox else 0,
        outbox_oldest_s=float(outbox[1]) if outbox else 0.0,
        devices_offline=int(devices[0]) if devices else 0,
        devices_total=int(devices[1]) if devices else 0,
        colours={str(k): int(v) for k, v in colours.items()},
    )


def schema_version(conn: psycopg.Connection) -> str | None:
    """The newest migration applied to the store (None on an empty database)."""
    try:
        row = conn.execute("select max(version) from schema_migration").fetchone()
    except psycopg.errors.UndefinedTable:
        return None
    return str(row[0]) if row and row[0] is not None else None
