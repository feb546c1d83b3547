"""The pure rules of signing in: password strength, lock-out after failed log-ins, and the decision on one attempt.

GB/T 22239-2019 level 3 asks for unique accounts, passwords of some complexity, lock-out after repeated failures
and a stronger factor for administrators; the numbers (length, failures, minutes) are settings.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from zxcvbn import zxcvbn

# Three of the four kinds of character (lower, upper, digit, other) is the usual reading of "complexity" in a
# level-3 review; length does more for strength, so the minimum length is a setting of its own.
MIN_CHARACTER_CLASSES = 3
# zxcvbn's score 0-4: 3 means "safely unguessable: moderate protection from an offline attack" (about 10^8
# guesses and more); 2 and below are passwords like Qwerty12345 or P@ssw0rd2024.
MIN_STRENGTH = 3
ZXCVBN_MAX_LENGTH = 100  # zxcvbn's time grows with length; beyond this a password is long enough anyway
# Passwords that pass the class rule but are the first ones tried by anyone guessing (zxcvbn knows more).
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
    BAD_TOTP = "bad_totp"  # wrong, expired, or already used once
    THROTTLED = "throttled"  # the client address failed too often: it waits, nothing is checked


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
    elif _guessable(password, username=username):
        problems.append("guessable")
    return problems


def _guessable(password: str, *, username: str) -> bool:
    # zxcvbn ships the frequency lists of common and breached passwords, names, words and keyboard patterns, and
    # estimates how many guesses a password takes; below MIN_STRENGTH it is among the first tried.
    return int(zxcvbn(password[:ZXCVBN_MAX_LENGTH], user_inputs=[username] if username else [])["score"]) < MIN_STRENGTH


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """Per client address: `max_failures` failed log-ins within `window_s` make it wait `base_wait_s`, doubling with
    each wait in a row up to `max_wait_s`. An address, not an account: nobody can lock another's account this way,
    and one address trying many names is slowed all the same."""

    max_failures: int = 5
    window_s: int = 900
    base_wait_s: int = 60
    max_wait_s: int = 3600


@dataclass(frozen=True, slots=True)
class ThrottleState:
    """What the store holds about one address's failed log-ins."""

    failures: int = 0
    first_failure_at: datetime | None = None
    blocks: int = 0
    blocked_until: datetime | None = None


def retry_after(state: ThrottleState | None, *, now: datetime) -> int | None:
    """Seconds the address must still wait before trying again, or None when it may try now."""
    if state is None or state.blocked_until is None or state.blocked_until <= now:
        return None
    return max(1, int((state.blocked_until - now).total_seconds() + 0.999))


def throttle_after_failure(state: ThrottleState | None, *, now: datetime, policy: ThrottlePolicy) -> ThrottleState:
    """The address's state after one more failed log-in: the count restarts after the window; reaching the limit
    imposes a wait twice as long as the one before."""
    state = state or ThrottleState()
    recent = state.first_failure_at is not None and now - state.first_failure_at < timedelta(seconds=policy.window_s)
    failures = state.failures + 1 if recent else 1
    first = state.first_failure_at if recent else now
    if failures < policy.max_failures:
        return ThrottleState(failures, first, state.blocks, state.blocked_until)
    wait = min(policy.base_wait_s * 2**state.blocks, policy.max_wait_s)
    return ThrottleState(0, None, state.blocks + 1, now + timedelta(seconds=wait))


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
