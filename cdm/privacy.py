"""How personal identifiers are shown: masked on screens and in messages, and redacted from any text before it is
stored or logged."""

from __future__ import annotations

import logging
import re
from datetime import date
from urllib.parse import urlsplit

MASK = "****"  # a fixed width, so the mask does not tell how long the number is
_HEAD = 3
_TAIL = 4


def mask_card(number: str) -> str:
    """The number with its middle replaced by four asterisks, e.g. H330100000123 -> H33****0123.

    At most 3 leading and 4 trailing characters stay, and never more than a third of the number at either end,
    so short numbers still lose most of their characters.
    """
    number = number.strip()
    keep = len(number) // 3
    head, tail = min(_HEAD, keep), min(_TAIL, keep)
    return number[:head] + MASK + (number[-tail:] if tail else "")


def mask_name(name: str) -> str:
    """A person's name with all but its first character hidden, e.g. 张三丰 -> 张**."""
    name = name.strip()
    return name[:1] + "*" * max(len(name) - 1, 1) if name else ""


def mask_phone(number: str) -> str:
    """A phone number with its middle masked, e.g. 13812345678 -> 138****678, for logs and error texts."""
    return mask_card(number)


def mask_email(address: str) -> str:
    """An e-mail address with its local part masked, e.g. zhang.san@example.cn -> z****@example.cn."""
    local, at, domain = address.strip().rpartition("@")
    if not at:
        return mask_card(address)
    return (local[:1] + MASK) + "@" + domain


def mask_url(url: str) -> str:
    """A URL without its query and user part: a WeCom robot's key travels in the query and is a secret."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


# --- Redaction: identity and mobile numbers found anywhere in free text ------------------------------------------
#
# One function, `redact`, used before anything a message or a person typed is written where people or logs can read
# it: quarantine (raw bytes, topic, meter id, detail), refusal details, log lines, screen cells. Migration
# 0050_redaction.sql holds the same rules in PL/pgSQL (cdm_redact) for rows already stored and as a trigger on
# quarantine; tests/cdm/test_redaction.py holds the two equal.
#
# What counts as an identity or mobile number, bounded by anything but a digit (letters, quotes, blanks, brackets):
#   * 18 characters (17 digits, then a digit or X), possibly written in groups with single blanks or hyphens, whose
#     ISO 7064 check character is right or whose characters 7-14 are a real date (a mistyped number is still
#     someone's number);
#   * a run of more than 18 digits holding such a number (valid check and date) anywhere inside: the whole run;
#   * 15 digits whose characters 7-12 are a date (YYMMDD; the first-generation cards);
#   * a mainland mobile number: 1[3-9] and 9 more digits, optionally after +86 / 86, in 3-4-4 groups or not.
# Full-width digits (０-９) count as digits, and JSON's \u0030-style escapes of digits and X are read as what they
# stand for, so a number cannot hide behind either.

_D = "[0-9\uff10-\uff19]"  # a digit, ASCII or full-width
_X = "[Xx\uff38\uff58]"
_NOT_BEFORE = f"(?<!{_D})"
_NOT_AFTER = f"(?!{_D})"
ID18 = re.compile(f"{_NOT_BEFORE}{_D}(?:[ -]?{_D}){{16}}[ -]?(?:{_D}|{_X}){_NOT_AFTER}")
LONG_RUN = re.compile(f"{_NOT_BEFORE}{_D}{{19,}}{_NOT_AFTER}")
ID15 = re.compile(f"{_NOT_BEFORE}{_D}{{15}}{_NOT_AFTER}")
MOBILE = re.compile(f"{_NOT_BEFORE}(?:\\+?[8８][6６][ -]?)?[1１][3-9３-９]{_D}(?:[ -]?{_D}){{8}}{_NOT_AFTER}")
JSON_ESCAPE = re.compile(r"\\u(00(?:3[0-9]|58|78)|ff(?:1[0-9]|38|58))", re.IGNORECASE)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_FULL_WIDTH = str.maketrans("０１２３４５６７８９Ｘｘ", "0123456789XX")
_LONG_MASK = "**********"


def _normalise(text: str) -> str:
    """ASCII digits and upper-case X, blanks and hyphens dropped."""
    return text.translate(_FULL_WIDTH).replace(" ", "").replace("-", "").upper()


def _real_date(year: int, month: int, day: int) -> bool:
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _check_ok(number: str) -> bool:
    return _CHECK[sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True)) % 11] == number[17]


def _birth_date_ok(number: str) -> bool:
    year = int(number[6:10])
    return 1900 <= year <= 2099 and _real_date(year, int(number[10:12]), int(number[12:14]))


def is_id_number(number: str) -> bool:
    """Whether an 18-character value (normalised) is a valid identity number: a real birth date and the check."""
    n = _normalise(number)
    return len(n) == 18 and n[:17].isdigit() and _birth_date_ok(n) and _check_ok(n)


def _mask_id18(match: re.Match[str]) -> str:
    n = _normalise(match.group())
    return n[:6] + "********" + n[-4:] if _check_ok(n) or _birth_date_ok(n) else match.group()


def _mask_long(match: re.Match[str]) -> str:
    n = _normalise(match.group())
    hit = any(_check_ok(n[i : i + 18]) and _birth_date_ok(n[i : i + 18]) for i in range(len(n) - 17))
    return _LONG_MASK if hit else match.group()


def _mask_id15(match: re.Match[str]) -> str:
    n = _normalise(match.group())
    return n[:6] + "******" + n[-3:] if _real_date(1900 + int(n[6:8]), int(n[8:10]), int(n[10:12])) else match.group()


def _mask_mobile(match: re.Match[str]) -> str:
    n = _normalise(match.group())[-11:]
    return n[:3] + "****" + n[-4:]


def _unescape(text: str) -> str:
    return JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text) if "\\" in text else text


def redact(text: str) -> str:
    """`text` with every identity and mobile number in it masked (see above); anything else unchanged."""
    plain = _unescape(text)
    out = LONG_RUN.sub(_mask_long, plain)
    out = ID18.sub(_mask_id18, out)
    out = ID15.sub(_mask_id15, out)
    out = MOBILE.sub(_mask_mobile, out)
    return text if out == plain else out


def redact_bytes(raw: bytes) -> bytes:
    """Raw message bytes with every identity and mobile number masked; bytes that are not UTF-8 stay as they are."""
    text = raw.decode("utf-8", "surrogateescape")
    out = redact(text)
    return raw if out is text else out.encode("utf-8", "surrogateescape")


def contains_id_number(text: str) -> bool:
    """Whether a valid identity number (check character and birth date right) appears anywhere in `text`."""
    plain = _unescape(text)
    for match in ID18.finditer(plain):
        if is_id_number(match.group()):
            return True
    return any(_mask_long(m) != m.group() for m in LONG_RUN.finditer(plain))


class RedactingFilter(logging.Filter):
    """A log handler's filter that masks identity and mobile numbers in the finished line, traceback included.

    Installed on every handler of a `cdm` process (app.cli), so no log line reaches a file or journal with a number
    in clear, whatever a module logged (a payload, a database error quoting a value, a name someone typed).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg, record.args = redact(message), None
        if record.exc_info:
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Put a RedactingFilter on every handler of `logger` (the root logger by default)."""
    for handler in (logger or logging.getLogger()).handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
