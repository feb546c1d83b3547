"""The pure rules of signing in: password strength, lock-out after failed log-ins, and the decision on one attempt.

GB/T 22239-2019 level 3 asks for unique accounts, passwords of some complexity, lock-out after repeated failures
and a stronger factor for administrators; the numbers (length, failures, minutes) are settings.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

# Three of the four kinds of character (lower, upper, digit, other) is the usual reading of "complexity" in a
# level-3 review; length does more for strength, so the minimum length is a setting of its own.
MIN_CHARACTER_CLASSES = 3
# Passwords that pass the class rule but are the first ones tried by anyone guessing.
COMMON_PASSWORDS = frozenset(
    {
        "password1!",
        "passw0rd!",
        "p@ssw0rd",
        "p@ssw0rd1",
        "admin@123",
        "admin123!",
        "qwer1234!",
        "abc@123456",
        "1qaz@wsx",
        "1qaz2wsx!",
        "aa123456!",
        "a123456789!",
    }
)


class Outcome(StrEnum):
    """What one log-in attempt comes to; the audit trail records the value."""

    OK = "ok"
    UNKNOWN_USER = "unknown_user"
    DISABLED = "disabled"
    LOCKED = "locked"
    BAD_PASSWORD = "bad_password"
    TOTP_REQUIRED = "totp_required"  # an administrator without a second factor on file
    BAD_TOTP = "bad_totp"


# Outcomes that count towards the lock-out: someone guessing, whichever factor they got wrong.
COUNTED_FAILURES = frozenset({Outcome.BAD_PASSWORD, Outcome.BAD_TOTP})


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """Lock an account for `lock_minutes` after `max_failures` failed log-ins in a row."""

    max_failures: int
    lock_minutes: int


@dataclass(frozen=True, slots=True)
class AccountState:
    """What the store holds about an account that matters to signing in."""

    failed_logins: int
    locked_until: datetime | None
    disabled: bool
    is_admin: bool
    has_totp: bool


def password_problems(password: str, *, username: str, min_length: int) -> list[str]:
    """Reason codes (catalogue keys under `password.`) why `password` may not be set; empty when it may."""
    problems = []
    if len(password) < min_length:
        problems.append("too_short")
    classes = sum(
        any(test(c) for c in password)
        for test in (str.islower, str.isupper, str.isdigit, lambda c: c in string.punctuation or c == " ")
    )
    if classes < MIN_CHARACTER_CLASSES:
        problems.append("too_simple")
    if username and username.lower() in password.lower():
        problems.append("contains_username")
    if password.lower() in COMMON_PASSWORDS:
        problems.append("common")
    return problems


def is_locked(locked_until: datetime | None, *, now: datetime) -> bool:
    """Whether a lock set until `locked_until` still holds at `now`."""
    return locked_until is not None and now < locked_until


def after_failure(failed_logins: int, *, now: datetime, policy: LockoutPolicy) -> tuple[int, datetime | None]:
    """(failed count, locked until) after one more counted failure; reaching the limit locks and restarts the count."""
    failures = failed_logins + 1
    if failures >= policy.max_failures:
        return 0, now + timedelta(minutes=policy.lock_minutes)
    return failures, None


def decide(state: AccountState | None, *, password_ok: bool, totp_ok: bool | None, now: datetime) -> Outcome:
    """The outcome of one attempt. `totp_ok` is None when no code was checked (no secret on file).

    A locked or disabled account is refused before its password is even looked at, so a correct guess during a
    lock tells the guesser nothing.
    """
    if state is None:
        return Outcome.UNKNOWN_USER
    if state.disabled:
        return Outcome.DISABLED
    if is_locked(state.locked_until, now=now):
        return Outcome.LOCKED
    if not password_ok:
        return Outcome.BAD_PASSWORD
    if state.is_admin:
        if not state.has_totp:
            return Outcome.TOTP_REQUIRED
        if not totp_ok:
            return Outcome.BAD_TOTP
    return Outcome.OK
