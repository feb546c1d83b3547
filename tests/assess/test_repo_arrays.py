"""The text[] literals the full rescore COPYs (assess.repo.text_array) reach the store as the items they name."""

from __future__ import annotations

import psycopg
import pytest

from assess.repo import text_array

pytestmark = pytest.mark.integration

# Meter uids are free text: separators, quotes, backslashes, braces, the word NULL, spaces, tabs, Chinese.
ITEMS = ["BP-1:7", "a,b:1", 'q"uote:2', "back\\slash:3", "{brace}:4", "NULL", " padded ", "tab\tnew\nline", "血压计:5"]


@pytest.mark.parametrize("items", [ITEMS, [], ["bp_above_target", "monitoring_gap"]])
def test_text_array_copied_into_the_store_reads_back_as_the_same_items(db_url, items):
    with psycopg.connect(db_url) as conn:
        conn.execute("create temp table arrays (a text[])")
        with conn.cursor().copy("copy arrays (a) from stdin") as copy:
            copy.write_row((text_array(items),))
        assert conn.execute("select a from arrays").fetchone() == (items,)
