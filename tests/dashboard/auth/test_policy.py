"""The pure rules of signing in: password strength, lock-out, and the decision on one attempt."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dashboard.auth import credentials
from dashboard.auth.policy import (
    AccountState,
    LockoutPolicy,
    Outcome,
    after_failure,
    decide,
    is_locked,
    password_problems,
)

NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)
POLICY = LockoutPolicy(max_failures=5, lock_minutes=30)


def state(**changes: object) -> AccountState:
    base = {"failed_logins": 0, "locked_until": None, "disabled": False, "is_admin": False, "has_totp": False}
    return AccountState(**{**base, **changes})  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("password", "problems"),
    [
        ("Tiger-lamp-93", []),
        ("tigerlamp93xq", ["too_simple"]),  # two classes only
        ("Tiger-lamp9!", []),
        ("Kx7vw2Lq9z", []),  # upper, lower, digit
        ("Kx7!q", ["too_short", "guessable"]),  # short is guessable too
        ("Kxwvqlzpe", ["too_short", "too_simple"]),
        ("Wang.li-2025x", ["contains_username"]),
        ("P@ssw0rd1", ["too_short", "common"]),
        ("降压药Tiger93!", []),
        # Guessable though long and of three classes: common, breached or keyboard and alphabet patterns (zxcvbn)
        ("Qwerty12345", ["guessable"]),
        ("P@ssw0rd2024", ["guessable"]),
        ("Abcdefg12!", ["guessable"]),
        ("中文密码Abc123", ["guessable"]),
    ],
)
def test_password_problems(password: str, problems: list[str]) -> None:
    assert password_problems(password, username="wang.li", min_length=10) == problems


def test_password_length_boundary() -> None:
    assert password_problems("Tiger-lamp9", username="x", min_length=11) == []
    assert password_problems("Tiger-lamp9", username="x", min_length=12) == ["too_short"]


def test_failures_count_up_to_the_limit_then_lock_and_restart() -> None:
    assert after_failure(0, now=NOW, policy=POLICY) == (1, None)
    assert after_failure(3, now=NOW, policy=POLICY) == (4, None)
    assert after_failure(4, now=NOW, policy=POLICY) == (0, NOW + timedelta(minutes=30))


def test_a_lock_holds_until_its_end() -> None:
    until = NOW + timedelta(minutes=30)
    assert is_locked(until, now=NOW)
    assert is_locked(until, now=until - timedelta(seconds=1))
    assert not is_locked(until, now=until)
    assert not is_locked(None, now=NOW)


@pytest.mark.parametrize(
    ("account", "password_ok", "totp_ok", "outcome"),
    [
        (None, False, None, Outcome.UNKNOWN_USER),
        (state(), True, None, Outcome.OK),
        (state(), False, None, Outcome.BAD_PASSWORD),
        (state(disabled=True), True, None, Outcome.DISABLED),
        # a correct password during a lock is still refused: the guesser learns nothing
        (state(locked_until=NOW + timedelta(minutes=1)), True, None, Outcome.LOCKED),
        (state(locked_until=NOW - timedelta(seconds=1)), True, None, Outcome.OK),
        (state(is_admin=True, has_totp=True), True, True, Outcome.OK),
        (state(is_admin=True, has_totp=True), True, False, Outcome.BAD_TOTP),
        (state(is_admin=True, has_totp=False), True, None, Outcome.TOTP_REQUIRED),
        (state(is_admin=True, has_totp=True), False, None, Outcome.BAD_PASSWORD),
    ],
)
def test_decide(account: AccountState | None, password_ok: bool, totp_ok: bool | None, outcome: Outcome) -> None:
    assert decide(account, password_ok=password_ok, totp_ok=totp_ok, now=NOW) is outcome


def test_argon2_hashes_verify_and_unknown_users_never_do() -> None:
    stored = credentials.hash_password("Abcdefgh1!")
    assert stored.startswith("$argon2id$")
    assert credentials.verify_password(stored, "Abcdefgh1!")
    assert not credentials.verify_password(stored, "abcdefgh1!")
    assert not credentials.verify_password(None, "Abcdefgh1!")
    assert not credentials.verify_password("not a hash", "x")


def test_totp_codes() -> None:
    import pyotp

    secret = credentials.new_totp_secret()
    assert credentials.verify_totp(secret, pyotp.TOTP(secret).now())
    assert not credentials.verify_totp(secret, "abc")
    assert credentials.provisioning_uri(secret, username="root").startswith("otpauth://totp/")
