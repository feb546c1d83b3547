"""What the log-in and session tests share: a small county with a county and a township account."""

from __future__ import annotations

import psycopg

from dashboard.access import Role

from ..accounts import make_account
from ..county_builder import small_county


def county_with_accounts(conn: psycopg.Connection) -> None:
    """The small county, `county.wang` (the county) and `town.li` (its township t01), both with PASSWORD."""
    small_county(conn)
    make_account(conn, "county.wang", Role.COUNTY, county="tc")
    make_account(conn, "town.li", Role.TOWNSHIP, township="t01")
