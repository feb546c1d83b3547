"""Looking through every column of the store for a string kept in clear (an identity or mobile number)."""

from __future__ import annotations

import psycopg

# every type a number could be kept in: text, bytes, JSON, arrays, enums and domains, addresses
_TEXT_TYPES = ("text", "character varying", "character", "bytea", "jsonb", "json", "ARRAY", "USER-DEFINED", "inet")


def columns_holding(conn: psycopg.Connection, *needles: str) -> list[str]:
    """Each column of the store's own tables in which some row contains one of `needles` (in its text, or in its
    bytes for bytea), as `table.column: 3301…`: only the needle's first four characters, so that a failed
    assertion prints no number in clear."""
    columns = conn.execute(
        "select c.table_name, c.column_name, c.data_type from information_schema.columns c"
        " join information_schema.tables t using (table_schema, table_name)"
        " where c.table_schema = 'public' and t.table_type = 'BASE TABLE' and c.data_type = any(%s)",
        (list(_TEXT_TYPES),),
    ).fetchall()
    found = []
    for table, column, kind in columns:  # the names come from the catalogue
        if kind == "bytea":
            where = f"position(convert_to(%s, 'UTF8') in \"{column}\") > 0"
        else:
            where = f'position(%s in "{column}"::text) > 0'
        for needle in needles:
            hit = conn.execute(f'select exists (select from "{table}" where {where})', (needle,)).fetchone()
            if hit != (False,):
                found.append(f"{table}.{column}: {needle[:4]}…")
    return found
