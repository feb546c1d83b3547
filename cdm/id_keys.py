"""The ID-card keys: which key made each stored hash, matching a number under every key still on file, and
re-keying without the numbers. Pure.

The store keeps HMAC-SHA256(key, number) in place of an ID-card number, with the id of the key that made it (a
short fingerprint of the key, never the key). Changing the key must not unlink the patients already stored, and
the numbers themselves are not on file to hash again. So a re-key *wraps* each stored hash under the new key —
HMAC(new, HMAC(old, number)) — and records the chain of key ids that made it, e.g. `3f9a0c1d2e4b>8c77e0a1b2d3`.
An incoming number is then hashed along every chain in use (a few HMACs) and matched whichever chain stored it.
`*` stands for "one of the keys on file" (hashes stored before key ids were kept).

After a re-key the old key stays on file (retired) because the wrapped hashes still start with it; a leaked copy of
the old key alone no longer opens the table, since every stored hash now also needs the new one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from cdm.identity import IdNumber

LEGACY = "*"  # made before key ids were kept: under one of the keys on file
CHAIN_SEPARATOR = ">"
_ID_PREFIX = b"cdm id-card key id\x00"


def key_id(key: bytes) -> str:
    """A key's public name: 12 hex characters of a hash of it (says nothing usable about the key)."""
    return hashlib.sha256(_ID_PREFIX + key).hexdigest()[:12]


def _hmac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def ref_text(chain: str, digest: bytes) -> str:
    """How a hash is kept in a text column (readings' references): `<chain>:<hex>`."""
    return f"{chain}:{digest.hex()}"


def parse_ref(text: str) -> tuple[str, bytes]:
    """(chain, digest) of a stored reference; a bare hex digest is a legacy one."""
    chain, sep, hexdigest = text.rpartition(":")
    return (chain if sep else LEGACY), bytes.fromhex(hexdigest)


def last_key(chain: str) -> str:
    """The id of the key a chain ends with (the one that made the stored value)."""
    return chain.rsplit(CHAIN_SEPARATOR, 1)[-1]


@dataclass(frozen=True, slots=True)
class IdCardKeyring:
    """The current key (new hashes are made with it) and the retired ones still on file (for matching)."""

    current: bytes
    retired: tuple[bytes, ...] = ()

    @property
    def current_id(self) -> str:
        return key_id(self.current)

    def keys(self) -> dict[str, bytes]:
        """Every key on file by its id."""
        return {key_id(k): k for k in (*self.retired, self.current)}

    def hash(self, number: IdNumber) -> tuple[str, bytes]:
        """(key id, hash) of a number under the current key: what a new row keeps."""
        return self.current_id, _hmac(self.current, number.number.encode("ascii"))

    def ref(self, number: IdNumber) -> str:
        """A new reference's text form under the current key."""
        return ref_text(*self.hash(number))

    def under(self, number: IdNumber, chain: str) -> list[bytes]:
        """The hashes `chain` makes of the number (several for a legacy start); none if a key is not on file."""
        keys = self.keys()
        first, *rest = chain.split(CHAIN_SEPARATOR)
        starts = list(keys.values()) if first == LEGACY else [keys[first]] if first in keys else []
        digests = [_hmac(k, number.number.encode("ascii")) for k in starts]
        for step in rest:
            if step not in keys:
                return []
            digests = [_hmac(keys[step], d) for d in digests]
        return digests

    def candidates(self, number: IdNumber, chains: Iterable[str]) -> dict[bytes, set[str]]:
        """Every hash a stored row of this number may hold, with the chains that make it: along the chains in use,
        each key on file alone, and the legacy form. A row matches when its own chain is among them."""
        found: dict[bytes, set[str]] = {}
        for chain in {LEGACY, *self.keys(), *chains}:
            for digest in self.under(number, chain):
                found.setdefault(digest, set()).add(chain)
        return found

    def stored_forms(self, number: IdNumber, chains: Iterable[str]) -> list[str]:
        """Every `<chain>:<hex>` text a stored reference of this number may be (waiting readings)."""
        return sorted(ref_text(c, d) for d, cs in self.candidates(number, chains).items() for c in cs)

    def wrap(self, chain: str, digest: bytes) -> tuple[str, bytes]:
        """A stored hash re-keyed under the current key, without the number: (new chain, new hash)."""
        return f"{chain}{CHAIN_SEPARATOR}{self.current_id}", _hmac(self.current, digest)
