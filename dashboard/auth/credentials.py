"""Password hashes (argon2id, argon2-cffi) and the administrators' second factor (TOTP, RFC 6238, pyotp)."""

from __future__ import annotations

import hmac
import time

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()  # argon2-cffi's defaults follow RFC 9106's second recommended option
# Verified when the username is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY_HASH = _HASHER.hash("not a password anyone has")
TOTP_ISSUER = "cdm 慢病监测"
# One 30-second step either side: a phone's clock a little off still signs in, a code stays valid 90 s at most.
TOTP_VALID_WINDOW = 1


def hash_password(password: str) -> str:
    """The argon2id hash to store for `password`."""
    return _HASHER.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether `password` matches `stored_hash` (None: unknown user, checked against a dummy at the same cost)."""
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with weaker parameters than today's, so it is replaced at the next log-in."""
    return _HASHER.check_needs_rehash(stored_hash)


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret."""
    return pyotp.random_base32()


def provisioning_uri(secret: str, *, username: str) -> str:
    """The otpauth:// URI an authenticator app scans (as a QR code) to set up the second factor."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_step(secret: str, code: str, *, now: float | None = None) -> int | None:
    """The RFC 6238 time step whose code `code` is (the current one, give or take one step), or None.

    The caller accepts it only when later than the last step accepted for the account, so a code works once.
    """
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == 6):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // totp.interval)
    for step in range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1):
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def verify_totp(secret: str, code: str) -> bool:
    """Whether `code` is the secret's current one-time code (give or take one step); single use is the caller's."""
    return totp_step(secret, code) is not None
