"""Sessions of the screens, held in the store: started at log-in, checked on every request, ended by signing out,
a password change, disabling the account or an administrator's "sign out everywhere" — each audited.

The browser's cookie carries only a random token (256 bits); the store keeps its SHA-256. A cookie signed with a
leaked session secret is still worth nothing without a token the store knows, and a token stolen before a sign-out
is worth nothing after it. Sessions end at an absolute time (CDM_DASHBOARD_SESSION_HOURS after sign-in) however
much they are used.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from datetime import datetime, timedelta

import psycopg

from dashboard import audit
from dashboard.access import Principal
from dashboard.auth import credentials, repo
from dashboard.auth.service import AccountError, check_password, checked_mobile
from dashboard.auth.sessions import repo as session_repo

TOKEN_BYTES = 32
# How long a session the store confirmed may go on while the store is unreachable: long enough for a wall screen
# to ride out a restart or a failover, short enough that a session ended meanwhile elsewhere soon stops.
STORE_DOWN_GRACE_S = 300.0


class RecentlyConfirmed:
    """Sessions the store confirmed, by token hash, with when: used only while the store cannot be reached."""

    def __init__(self, grace_s: float = STORE_DOWN_GRACE_S) -> None:
        self.grace_s = grace_s
        self._seen: dict[bytes, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def put(self, token: str, principal: Principal | None) -> None:
        """Remember a confirmation (None: the store said no, so forget the token)."""
        with self._lock:
            if principal is None:
                self._seen.pop(token_hash(token), None)
            else:
                self._seen[token_hash(token)] = (principal, time.monotonic())

    def get(self, token: str) -> Principal | None:
        """The principal, if the store confirmed this session less than `grace_s` ago."""
        with self._lock:
            seen = self._seen.get(token_hash(token))
        return seen[0] if seen and time.monotonic() - seen[1] < self.grace_s else None

    def forget(self, token: str) -> None:
        """The session was ended here."""
        self.put(token, None)


def token_hash(token: str) -> bytes:
    """What the store keeps of a session token."""
    return hashlib.sha256(token.encode()).digest()


def start(conn: psycopg.Connection, *, principal: Principal, now: datetime, hours: int, client_addr: str | None) -> str:
    """A new session for a principal who just signed in; the token for the cookie."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with conn.transaction():
        session_repo.insert_session(
            conn,
            token_hash=token_hash(token),
            user_id=principal.user_id,
            expires_at=now + timedelta(hours=hours),
            client_addr=client_addr,
        )
    return token


def principal_of(conn: psycopg.Connection, token: str, *, now: datetime) -> Principal | None:
    """The principal of an open, unexpired session of an enabled account; None otherwise."""
    user_id = session_repo.session_user(conn, token_hash=token_hash(token), now=now)
    return repo.active_principal(conn, user_id) if user_id is not None else None


def sign_out(
    conn: psycopg.Connection, token: str, *, principal: Principal, now: datetime, client_addr: str | None
) -> None:
    """End this session (audited as a log-out)."""
    with conn.transaction():
        session_repo.end_session(conn, token_hash=token_hash(token), now=now, reason="logout")
        audit.record(conn, principal=principal, action="logout", client_addr=client_addr)


def _account_id(conn: psycopg.Connection, username: str) -> int:
    account = repo.account_by_username(conn, username.strip().lower(), for_update=True)
    if account is None:
        raise AccountError("accounts.refused.no_account", username=username.strip().lower())
    return account.principal.user_id


def _audit(conn: psycopg.Connection, by: Principal | str, action: str, **detail: object) -> None:
    """Audit an action on an account, by a signed-in person or by name (the command line's --by)."""
    principal = by if isinstance(by, Principal) else None
    username = None if isinstance(by, Principal) else by
    audit.record(conn, principal=principal, username=username, action=action, detail=detail)


def set_phone(conn: psycopg.Connection, *, username: str, phone: str, by: Principal | str) -> bool:
    """Keep the account's mobile (an alert assigned to the person is texted to it), or remove it with an empty
    `phone`; audited without the number. Whether the account now has one."""
    mobile = checked_mobile(phone) if phone.strip() else None
    with conn.transaction():
        user_id = _account_id(conn, username)
        repo.set_phone(conn, user_id=user_id, phone=mobile)
        _audit(conn, by, "account_phone_set" if mobile else "account_phone_removed", account=username.strip().lower())
    return mobile is not None


def sign_out_everywhere(
    conn: psycopg.Connection, *, username: str, by: Principal | str, now: datetime, client_addr: str | None = None
) -> int:
    """End every session of an account (an administrator's action, or the account's own); how many ended."""
    with conn.transaction():
        user_id = _account_id(conn, username)
        ended = session_repo.end_sessions_of(conn, user_id=user_id, now=now, reason="signed_out_everywhere")
        _audit(conn, by, "sign_out_everywhere", account=username.strip().lower(), sessions=ended)
    return ended


def change_password(
    conn: psycopg.Connection, *, username: str, password: str, min_length: int, by: Principal | str, now: datetime
) -> int:
    """Set a new password (checked against the policy); every session of the account ends. How many ended."""
    name = username.strip().lower()
    check_password(password, username=name, min_length=min_length)
    with conn.transaction():
        user_id = _account_id(conn, name)
        session_repo.set_password_hash(
            conn, user_id=user_id, password_hash=credentials.hash_password(password), now=now
        )
        ended = session_repo.end_sessions_of(conn, user_id=user_id, now=now, reason="password_changed")
        _audit(conn, by, "password_changed", account=name, sessions=ended)
    return ended


def set_disabled(conn: psycopg.Connection, *, username: str, disabled: bool, by: Principal | str, now: datetime) -> int:
    """Disable an account (every session ends at once) or enable it again; how many sessions ended."""
    name = username.strip().lower()
    with conn.transaction():
        user_id = _account_id(conn, name)
        session_repo.set_disabled(conn, user_id=user_id, now=now if disabled else None)
        ended = session_repo.end_sessions_of(conn, user_id=user_id, now=now, reason="disabled") if disabled else 0
        action = "account_disabled" if disabled else "account_enabled"
        _audit(conn, by, action, account=name, sessions=ended)
    return ended
