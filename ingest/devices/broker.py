"""The broker's password file and ACL, generated from the device registry: each meter publishes only as itself.

Mosquitto 2.x (what `cdm devices broker-files` writes):
  passwd   `username:$7$<iterations>$<salt b64>$<PBKDF2-HMAC-SHA512 b64>`, the format of `mosquitto_passwd`
  acl      one `user` block per account; a meter may write only its own readings, status and heartbeat topics
           (its last will is on its status topic, so the will is allowed too); ingest accounts may read every
           meter's topics of the county; nothing else is allowed (Mosquitto denies what no line grants).
  cdm-auth.conf   `allow_anonymous false`, `password_file`, `acl_file`: `include_dir` it, or copy the lines.
Revoked meters and accounts are left out, so after regenerating, `kill -HUP <mosquitto pid>` (Mosquitto reloads
both files on SIGHUP) is enough for a revoked meter to be refused at its next connect.

Transport: the generated lines say who may do what; `--tls-port` adds a TLS listener (level 3 of GB/T 22239 asks
for encrypted transport; see TlsListener), and meters and ingest use mqtts:// (CDM_MQTT_URL, CDM_MQTT_CA_FILE,
CDM_MQTT_CERT_FILE, CDM_MQTT_KEY_FILE). The plain listener of the tests and the demo stays on 127.0.0.1.

Meter passwords are 32 random URL-safe characters (192 bits), so Mosquitto's default of 101 PBKDF2 rounds is no
weakness (nobody can guess such a password, however fast the hash) and keeps each connect cheap for the broker.

Known limit of Mosquitto's built-in checks: it cannot tie a client id to a username, so a meter that used another
meter's client id could push that meter's connection off (never publish as it). The simulated and real meters use
their username as client id; EMQX below can refuse any other.

EMQX 5.x equivalent (EMQX is not on this machine, so this part is documentation, not tested here):
  authentication: EMQX's PostgreSQL authenticator can read the same registry, no files to regenerate:
      authentication = [{
        mechanism = password_based, backend = postgresql, server = "db:5432", database = "cdm",
        username = "emqx_auth", password = "...",
        password_hash_algorithm = {name = pbkdf2, mac_fun = sha512, iterations = 101, dk_length = 64},
        query = "SELECT password_hash, salt FROM mqtt_auth WHERE username = ${username} LIMIT 1"
      }]
  with a view `mqtt_auth` (not shipped: check the salt and digest encodings your EMQX release expects) over
  `device where provisioned_at is not null and revoked_at is null` (mqtt_username, mqtt_password_hash) and
  `mqtt_account where revoked_at is null`, splitting `$7$101$<salt b64>$<digest b64>` into salt and digest.
  Revoking then takes effect at the meter's next connect with no reload.
  authorization (a file source or the same database), deny when nothing matches (`authorization.no_match = deny`):
      {allow, {username, {re, "^(BP|GLU)-"}}, publish, ["cdm/v1/<county>/devices/${username}/readings",
                                                          "cdm/v1/<county>/devices/${username}/status",
                                                          "cdm/v1/<county>/devices/${username}/heartbeat"]}.
      {allow, {username, "cdm-ingest"}, subscribe, ["$share/cdm-ingest/cdm/v1/<county>/devices/+/readings",
                                                    "cdm/v1/<county>/devices/+/status",
                                                    "cdm/v1/<county>/devices/+/heartbeat"]}.
      {deny, all}.
  To pin client ids, a rule on `${clientid}` equal to `${username}`, or TLS client certificates with
  `peer_cert_as_clientid`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

MOSQUITTO_ITERATIONS = 101  # mosquitto_passwd's default; see the module docstring for why it is enough here
SALT_BYTES = 12  # as mosquitto_passwd
PASSWORD_CHARS = 32

Role = Literal["meter", "ingest", "simulator", "monitor"]


@dataclass(frozen=True, slots=True)
class Account:
    """One broker account and what it may do."""

    username: str
    password_hash: str
    role: Role


def new_password() -> str:
    """A fresh random password (shown once to the person provisioning, then only its hash is kept)."""
    return secrets.token_urlsafe(PASSWORD_CHARS)[:PASSWORD_CHARS]


def mosquitto_hash(password: str, *, salt: bytes | None = None, iterations: int = MOSQUITTO_ITERATIONS) -> str:
    """The password in Mosquitto 2.x's password-file form: `$7$<iterations>$<salt>$<PBKDF2-SHA512>`."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_mosquitto_hash(password: str, stored: str) -> bool:
    """Whether `password` matches a `$7$…` hash (what the broker checks at connect)."""
    try:
        _, kind, rounds, salt, digest = stored.split("$")
        if kind != "7":
            return False
        expected = hashlib.pbkdf2_hmac("sha512", password.encode(), base64.b64decode(salt), int(rounds))
        return hmac.compare_digest(expected, base64.b64decode(digest))
    except ValueError:
        return False


def password_file(accounts: Iterable[Account]) -> str:
    """The Mosquitto password file for these accounts."""
    return "".join(f"{a.username}:{a.password_hash}\n" for a in sorted(accounts, key=lambda a: a.username))


def _grants(account: Account, county_code: str) -> list[str]:
    base = f"cdm/v1/{county_code}/devices"
    if account.role == "meter":
        return [f"topic write {base}/{account.username}/{leaf}" for leaf in ("readings", "status", "heartbeat")]
    if account.role == "ingest":
        return [f"topic read {base}/+/{leaf}" for leaf in ("readings", "status", "heartbeat")]
    if account.role == "simulator":
        return [f"topic write {base}/+/{leaf}" for leaf in ("readings", "status", "heartbeat")]
    return [f"topic read {base}/#"]


def acl_file(accounts: Iterable[Account], *, county_code: str) -> str:
    """The Mosquitto ACL: one block per account, granting only its own topics (everything else is denied)."""
    lines = [f"# generated by `cdm devices broker-files` for county {county_code}; do not edit by hand", ""]
    for account in sorted(accounts, key=lambda a: a.username):
        lines.append(f"# {account.role}")
        lines.append(f"user {account.username}")
        lines.extend(_grants(account, county_code))
        lines.append("")
    return "\n".join(lines)


def auth_conf(out_dir: Path) -> str:
    """Mosquitto configuration lines that use the generated files."""
    return (
        "# generated by `cdm devices broker-files`\n"
        "per_listener_settings false\n"
        "allow_anonymous false\n"
        f"password_file {out_dir.resolve() / 'passwd'}\n"
        f"acl_file {out_dir.resolve() / 'acl'}\n"
    )


@dataclass(frozen=True, slots=True)
class TlsListener:
    """A Mosquitto TLS listener for meters on the public 4G network (GB/T 22239 level 3: encrypted transport).

    `require_certificate`: every client presents a certificate signed by `cafile` (a county's private CA), so a
    stolen password alone is not enough. `identity_as_username`: the certificate's CN is the MQTT username (the
    meter id), checked against the ACL with no password; with `use_username_as_clientid` the client id is forced
    to it too, so a meter can no longer take over another meter's client id (which Mosquitto's password checks
    cannot prevent): give each meter its own certificate, CN = its meter id.
    """

    port: int
    cafile: Path
    certfile: Path
    keyfile: Path
    require_certificate: bool = True
    identity_as_username: bool = False


def tls_listener_conf(tls: TlsListener) -> str:
    """Mosquitto configuration lines of the TLS listener."""
    lines = [
        "",
        "# TLS listener for meters and ingest (mqtts://)",
        f"listener {tls.port}",
        f"cafile {tls.cafile.resolve()}",
        f"certfile {tls.certfile.resolve()}",
        f"keyfile {tls.keyfile.resolve()}",
        "tls_version tlsv1.2",
        f"require_certificate {str(tls.require_certificate).lower()}",
        f"use_identity_as_username {str(tls.identity_as_username).lower()}",
    ]
    if tls.identity_as_username:
        lines.append("use_username_as_clientid true")
    return "\n".join(lines) + "\n"


def broker_files(
    accounts: list[Account], *, county_code: str, out_dir: Path, tls: TlsListener | None = None
) -> dict[str, str]:
    """The text of passwd, acl and cdm-auth.conf (with a TLS listener when `tls`) for these accounts, by file name."""
    return {
        "passwd": password_file(accounts),
        "acl": acl_file(accounts, county_code=county_code),
        "cdm-auth.conf": auth_conf(out_dir) + (tls_listener_conf(tls) if tls else ""),
    }


def role_counts(accounts: Iterable[Account]) -> dict[str, int]:
    """How many accounts of each role."""
    return dict(Counter(a.role for a in accounts))
