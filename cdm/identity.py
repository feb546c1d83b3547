"""Resident identity numbers (GB 11643-1999): validation, the keyed hash the store keeps, the masked form. Pure.

An 18-character number is a 6-digit area code, the birth date (YYYYMMDD), a 3-digit sequence whose parity is
the sex (odd: male) and a check character (ISO 7064 MOD 11-2: 0-9 or X). The store never keeps the number: only
HMAC-SHA256 under the deployment's own key (CDM_ID_CARD_KEY), so a leaked table cannot be reversed by hashing the
few hundred million possible numbers, and the masked form `330102********123X` for screens. No function here puts
the number into an exception message or a log line.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date

_SHAPE = re.compile(r"^\d{17}[\dX]$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
EARLIEST_BIRTH = date(1900, 1, 1)


class IdNumberError(ValueError):
    """An ID-card number that cannot be right; the message says why, never the number. `reason` names it for a
    refusal in the reader's language: shape, birth_date, birth_range or check."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class IdNumber:
    """A checked identity number and what it says about its holder."""

    number: str  # normalised: upper-case X
    birth_date: date
    sex: str  # 'M' or 'F'

    def __repr__(self) -> str:  # a dataclass repr would print the number into any traceback or log
        return f"IdNumber({mask_id_number(self.number)})"


def check_character(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def looks_like_id_number(text: str) -> bool:
    """Whether a value has the shape of an 18-character identity number (whether or not its check holds)."""
    return bool(_SHAPE.match(text.strip().upper()))


def parse_id_number(text: str, *, today: date | None = None) -> IdNumber:
    """Check an identity number (shape, birth date, check character); raise IdNumberError saying what is wrong."""
    number = text.strip().upper()
    if not _SHAPE.match(number):
        raise IdNumberError("an ID-card number has 18 characters: 17 digits, then a digit or X", reason="shape")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError(
            "characters 7-14 of the ID-card number are not a valid birth date", reason="birth_date"
        ) from None
    if not EARLIEST_BIRTH <= born <= (today or date.today()):
        raise IdNumberError(
            "the birth date in the ID-card number is before 1900 or in the future", reason="birth_range"
        )
    if check_character(number[:17]) != number[17]:
        raise IdNumberError(
            "the ID-card number's check character does not match (a typing error at the meter?)", reason="check"
        )
    return IdNumber(number=number, birth_date=born, sex="M" if int(number[16]) % 2 else "F")


def id_card_hash(number: IdNumber, key: bytes) -> bytes:
    """The keyed hash (HMAC-SHA256, 32 bytes) the store keeps in place of the number."""
    return hmac.new(key, number.number.encode("ascii"), hashlib.sha256).digest()


def mask_id_number(number: str) -> str:
    """The first 6 (area) and last 4 characters, the birth date and most of the sequence hidden."""
    n = number.strip().upper()
    return n[:6] + "*" * 8 + n[-4:] if len(n) == 18 else "*" * 8


def disagreement(number: IdNumber, *, sex: str, birth_year: int) -> str | None:
    """Why an identity number cannot be this patient's (sex or birth year differ), or None when they agree."""
    if number.sex != sex:
        return "the ID-card number's sex digit does not match the patient record"
    if number.birth_date.year != birth_year:
        return "the ID-card number's birth year does not match the patient record"
    return None
