"""Signing in and creating accounts: the policy applied to the store, with every attempt audited."""

from __future__ import annotations

import hashlib
import hmac
import logging
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from alerts.channels.base import DeliveryError
from alerts.channels.sms import normalise_mobile
from cdm.i18n import Refusal, Terms
from dashboard import audit
from dashboard.access import Principal, Role
from dashboard.auth import credentials, policy, repo
from dashboard.auth.policy import LockoutPolicy, Outcome, ThrottlePolicy
from dashboard.auth.sessions import repo as session_repo

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The outcome of one attempt, and the principal when it succeeded."""

    outcome: Outcome
    principal: Principal | None = None
    locked_now: bool = False  # this very failure locked the account
    locked_name: str | None = None
    retry_after_s: int | None = None  # THROTTLED: seconds the client address must wait


class AccountError(Refusal):
    """An account that cannot be created or changed as asked: a catalogue key and its values saying why."""


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one log-in form sent, and from where."""

    username: str
    password: str = field(repr=False)
    totp_code: str = field(default="", repr=False)
    client_addr: str | None = None


def authenticate(
    conn: psycopg.Connection,
    attempt: Attempt,
    *,
    now: datetime,
    lockout: LockoutPolicy,
    throttle: ThrottlePolicy | None = None,
    name_key: bytes = b"",
) -> LoginResult:
    """Check one log-in attempt, update the failure counts (account and client address) and audit it, in one
    transaction. An address that failed too often is told to wait before anything is checked."""
    client_addr = attempt.client_addr
    with conn.transaction():
        state = session_repo.throttle_state(conn, client_addr, for_update=True) if client_addr and throttle else None
        wait = policy.retry_after(state, now=now)
        if wait is not None:
            audit.record(
                conn, principal=None, username="?", action="login_throttled", client_addr=client_addr,
                detail={"retry_after_s": wait},
            )  # fmt: skip
            return LoginResult(Outcome.THROTTLED, retry_after_s=wait)
        result = _check(conn, attempt, now=now, lockout=lockout, name_key=name_key)
        if client_addr and throttle:
            if result.outcome is Outcome.OK:
                session_repo.clear_throttle(conn, client_addr)
            else:
                after = policy.throttle_after_failure(state, now=now, policy=throttle)
                session_repo.save_throttle(conn, client_addr, after)
    if result.locked_now and result.locked_name:
        log.warning("account %s locked after %d failed log-ins", result.locked_name, lockout.max_failures)
    return result


def _check(
    conn: psycopg.Connection, attempt: Attempt, *, now: datetime, lockout: LockoutPolicy, name_key: bytes
) -> LoginResult:
    username, password, client_addr = attempt.username.strip().lower(), attempt.password, attempt.client_addr
    account = repo.account_by_username(conn, username, for_update=True)
    password_ok = credentials.verify_password(account.password_hash if account else None, password)
    totp_ok = None
    if account is not None and account.totp_secret and password_ok:
        step = credentials.totp_step(account.totp_secret, attempt.totp_code, now=now.timestamp())
        # A code is accepted once: its time step must be later than the last one this account used.
        totp_ok = step is not None and session_repo.accept_totp_step(conn, user_id=account.principal.user_id, step=step)
    outcome = policy.decide(account.state if account else None, password_ok=password_ok, totp_ok=totp_ok, now=now)
    if account is None:
        # What was typed is not kept: someone may type an ID-card number into the name field. A keyed fingerprint
        # still shows the same name being tried again and again.
        typed = {"reason": str(outcome), "typed": _fingerprint(username, name_key)}
        audit.record(conn, principal=None, username="?", action="login_failed", detail=typed, client_addr=client_addr)
        return LoginResult(outcome)
    principal = account.principal
    if outcome is Outcome.OK:
        new_hash = credentials.hash_password(password) if credentials.needs_rehash(account.password_hash) else None
        repo.record_success(conn, principal.user_id, now=now, new_hash=new_hash)
        audit.record(conn, principal=principal, action="login", client_addr=client_addr)
        return LoginResult(outcome, principal)
    locked_now = False
    if outcome in policy.COUNTED_FAILURES:
        failed, locked_until = policy.after_failure(account.state.failed_logins, now=now, policy=lockout)
        repo.record_failure(conn, principal.user_id, failed_logins=failed, locked_until=locked_until)
        locked_now = locked_until is not None
    detail: dict[str, object] = {"reason": str(outcome)}
    if locked_now:
        detail["locked_for_minutes"] = lockout.lock_minutes
    audit.record(conn, principal=principal, action="login_failed", detail=detail, client_addr=client_addr)
    return LoginResult(outcome, locked_now=locked_now, locked_name=principal.username if locked_now else None)


def _fingerprint(typed: str, key: bytes) -> str:
    return hmac.new(key or b"cdm", typed.encode(), hashlib.sha256).hexdigest()[:12]


def record_logout(conn: psycopg.Connection, *, principal: Principal, client_addr: str | None = None) -> None:
    """Audit a log-out."""
    with conn.transaction():
        audit.record(conn, principal=principal, action="logout", client_addr=client_addr)


@dataclass(frozen=True, slots=True)
class Created:
    """A new account's id, and for an administrator the otpauth:// URI to set up the second factor."""

    user_id: int
    totp_uri: str | None


def create_account(
    conn: psycopg.Connection,
    *,
    username: str,
    password: str,
    role: Role,
    display_name: str = "",
    township_code: str | None = None,
    team_code: str | None = None,
    county_code: str | None = None,
    min_password_length: int,
    phone: str | None = None,
) -> Created:
    """Create an account scoped by role (township by region code, team by care-team code), with the mobile an
    alert assigned to the person is texted to when given; AccountError if not."""
    username = username.strip().lower()
    check_password(password, username=username, min_length=min_password_length)
    mobile = checked_mobile(phone) if phone else None
    county_id, township_id, team_id = _place(
        conn, role=role, township_code=township_code, team_code=team_code, county_code=county_code
    )
    totp_secret = credentials.new_totp_secret() if role is Role.ADMIN else None
    new = repo.NewAccount(
        username=username,
        display_name=display_name or username,
        role=role,
        county_id=county_id,
        township_id=township_id,
        team_id=team_id,
        password_hash=credentials.hash_password(password),
        totp_secret=totp_secret,
        phone=mobile,
    )
    try:
        with conn.transaction():
            user_id = repo.insert_account(conn, new)
    except psycopg.errors.UniqueViolation:
        raise AccountError("accounts.refused.taken", username=username) from None
    except psycopg.errors.CheckViolation:
        raise AccountError("accounts.refused.username") from None
    uri = credentials.provisioning_uri(totp_secret, username=username) if totp_secret else None
    return Created(user_id, uri)


def checked_mobile(phone: str) -> str:
    """A person's mobile as SMS sends to it (its 11 digits), or AccountError saying what is wrong (never the number)."""
    try:
        return normalise_mobile(phone)
    except DeliveryError as exc:
        raise AccountError("accounts.refused.phone", reason=exc) from None


def check_password(password: str, *, username: str, min_length: int) -> None:
    """Raise AccountError saying, in the catalogue's words, why a password may not be set (each problem)."""
    problems = policy.password_problems(password, username=username, min_length=min_length)
    if problems:
        reasons = Terms(tuple(f"password.{p}" for p in problems), (("min_length", min_length),))
        raise AccountError("password.refused", reasons=reasons)


def _place(
    conn: psycopg.Connection,
    *,
    role: Role,
    township_code: str | None,
    team_code: str | None,
    county_code: str | None,
) -> tuple[int, int | None, int | None]:
    if role is Role.TEAM:
        if not team_code:
            raise AccountError("accounts.refused.team_needed")
        place = repo.team_place(conn, team_code)
        if place is None:
            raise AccountError("accounts.refused.no_team", code=team_code)
        team_id, township_id, county_id = place
        return county_id, township_id, team_id
    if role is Role.TOWNSHIP:
        if not township_code:
            raise AccountError("accounts.refused.township_needed")
        found_township = repo.region_id(conn, township_code, level="township")
        township_county = repo.township_county(conn, found_township) if found_township else None
        if found_township is None or township_county is None:
            raise AccountError("accounts.refused.no_township", code=township_code)
        return township_county, found_township, None
    county = repo.region_id(conn, county_code, level="county") if county_code else repo.first_county(conn)
    if county is None:
        if county_code:
            raise AccountError("accounts.refused.no_county", code=county_code)
        raise AccountError("accounts.refused.county_needed")
    return county, None, None
