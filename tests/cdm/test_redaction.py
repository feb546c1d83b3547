"""One redaction of identity and mobile numbers (cdm.privacy.redact), and its twin in the store (cdm_redact, migration
0050) held equal to it, boundaries included."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cdm.identity import check_character
from cdm.privacy import contains_id_number, redact, redact_bytes


def _id(first17: str) -> str:
    return first17 + check_character(first17)


ID = _id("33010219800101124")  # 330102198001011248
ID_X = _id("11010519491231002")  # 11010519491231002X
WRONG_CHECK = ID[:17] + ("0" if ID[17] != "0" else "1")
FULL_WIDTH = "".join(chr(0xFF10 + int(c)) for c in ID)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ID, "330102********1248"),
        (f'{{"patient": {{"value": "{ID}"}}}}', '{"patient": {"value": "330102********1248"}}'),
        (f'{{"v": 1, "id": {ID}}}', '{"v": 1, "id": 330102********1248}'),  # a JSON number
        (f'{{"id": "{ID}', '{"id": "330102********1248'),  # JSON cut off after it
        (f'"  {ID}  "', '"  330102********1248  "'),
        (f"ID{ID}", "ID330102********1248"),
        (f"{ID[:6]} {ID[6:14]} {ID[14:]}", "330102********1248"),
        (f"{ID[:6]}-{ID[6:14]}-{ID[14:]}", "330102********1248"),
        (ID_X.lower(), "110105********002X"),
        (FULL_WIDTH, "330102********1248"),
        ("\\u0033\\u0033" + ID[2:], "330102********1248"),  # JSON escapes of the digits
        (WRONG_CHECK, WRONG_CHECK[:6] + "********" + WRONG_CHECK[-4:]),  # a mistyped number is still a number
        (f"00{ID}99", "**********"),  # inside a longer run of digits
        ("330102800101123", "330102******123"),  # first-generation 15 digits
        ("call 13812345678 or +86 139-1234-5678", "call 138****5678 or 139****5678"),
        ("8613812345678", "138****5678"),
        # left alone: not numbers of a person
        ("seq 123456789012345678 ok", "seq 123456789012345678 ok"),
        ("H330100000123", "H330100000123"),
        ("2026-11-23T08:15:02+08:00", "2026-11-23T08:15:02+08:00"),
        ("12345678901", "12345678901"),
        ("330102801301123", "330102801301123"),  # month 13: not a date
    ],
)
def test_redact_masks_every_form_of_a_number(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_unchanged_text_is_the_same_object_and_raw_bytes_round_trip() -> None:
    text = "nothing here"
    assert redact(text) is text
    raw = b"\xff\xfe not utf-8 \x00 " + ID.encode() + b" \x80"
    assert redact_bytes(raw) == b"\xff\xfe not utf-8 \x00 330102********1248 \x80"
    assert redact_bytes(b"\xff\x00 plain") == b"\xff\x00 plain"


def test_contains_id_number_needs_a_valid_number_anywhere() -> None:
    assert contains_id_number(f"ID{ID}") and contains_id_number(f"x{ID_X}y") and contains_id_number(f"7{ID}7")
    assert not contains_id_number(WRONG_CHECK) and not contains_id_number("H330100000123")


_pieces = st.sampled_from(
    [ID, ID_X, WRONG_CHECK, FULL_WIDTH, "330102800101123", "13812345678", "+86 139-1234-5678", "H330100000123",
     " ", "-", '"', "{", ":", "x", "X", "0", "7", "\\u0033", "\\u0058", "é", "１", "\x00"]
)  # fmt: skip


@pytest.mark.integration
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(parts=st.lists(st.one_of(_pieces, st.text(alphabet="0123456789 -xX", max_size=25)), max_size=8))
def test_the_store_redacts_exactly_as_python_does(db_url: str, parts: list[str]) -> None:
    text = "".join(parts)
    with psycopg.connect(db_url) as conn:
        stored_text = conn.execute("select cdm_redact(%s)", (text.replace("\x00", ""),)).fetchone()
        stored_raw = conn.execute("select cdm_redact_bytes(%s)", (text.encode(),)).fetchone()
    assert stored_text is not None and stored_raw is not None
    assert stored_text[0] == redact(text.replace("\x00", ""))
    if "\x00" not in text or text.isascii():
        assert bytes(stored_raw[0]) == redact_bytes(text.encode())


@pytest.mark.integration
def test_quarantine_rows_are_redacted_by_the_store_too(db_url: str) -> None:
    with psycopg.connect(db_url) as conn:
        conn.execute(
            "insert into quarantine (received_at, topic, device_uid, reason, detail, raw)"
            " values (now(), %s, %s, 'bad_topic', %s, %s)",
            (f"cdm/v1/x/devices/{ID}/readings", ID, f"detail {ID}", f'{{"id": {ID}}}'.encode()),
        )
        row = conn.execute("select topic, device_uid, detail, raw from quarantine").fetchone()
    assert row is not None
    assert row[:3] == (
        "cdm/v1/x/devices/330102********1248/readings",
        "330102********1248",
        "detail 330102********1248",
    )
    assert bytes(row[3]) == b'{"id": 330102********1248}'


def test_log_lines_and_tracebacks_are_redacted_by_the_handler_filter() -> None:
    import io
    import logging

    from cdm.privacy import install_log_redaction

    stream = io.StringIO()
    logger = logging.getLogger("tests.redaction")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.propagate = False
    install_log_redaction(logger)
    try:
        logger.warning("meter sent %s and %s", ID, "13812345678")
        try:
            raise ValueError(f"value {ID} refused")
        except ValueError:
            logger.exception("store said no")
    finally:
        logger.removeHandler(handler)
    text = stream.getvalue()
    assert ID not in text and "13812345678" not in text
    assert "330102********1248" in text and "138****5678" in text and "ValueError" in text
