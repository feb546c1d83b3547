"""The administration screen's actions: the same service functions as `cdm users`, `cdm devices` and `cdm contacts`,
for an administrator only, each audited, each refusal a catalogue key the screen shows in the user's language.

Refusals are checked before the command line's functions run, so that what the screen says is specific (a taken
name, the last administrator); the refusals of those functions (a weak password, a meter's IMEI) are catalogue
refusals too (cdm.i18n.Refusal) and reach the screen as they are, in the administrator's language, never
swallowed. Credentials made here (a meter's MQTT password, an administrator's TOTP set-up URI) are returned once to
be shown once; they are never logged or audited.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime

import psycopg

from alerts.workflow import repo as workflow_repo
from alerts.workflow.service import checked_contact
from cdm.i18n import LANGUAGES, Refusal
from dashboard import audit
from dashboard.access import Principal, Role
from dashboard.admin import repo
from dashboard.auth import credentials, service
from dashboard.auth import repo as auth_repo
from dashboard.auth.sessions import service as sessions
from ingest.devices import service as devices

SCREEN = "admin"
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")  # the app_user check constraint (migration 0020)


class Refused(Refusal):
    """An action refused for a reason the administrator can act on: `key` and `values` name the catalogue text."""

    def __init__(self, key: str, values: Mapping[str, object] | None = None) -> None:
        super().__init__(key, **(values or {}))


def require_admin(principal: Principal) -> Principal:
    """The principal, when an administrator; PermissionError otherwise."""
    if principal.role is not Role.ADMIN:
        raise PermissionError("administration is for administrators")
    return principal


def _record(conn: psycopg.Connection, by: Principal, action: str, **detail: object) -> None:
    audit.record(conn, principal=by, action=action, screen=SCREEN, detail=detail)


def _place(conn: psycopg.Connection, role: Role, code: str) -> tuple[int, int | None, int | None]:
    """(county, township, team) ids of the scope a role needs, from a township or team code."""
    if role is Role.TEAM:
        team = auth_repo.team_place(conn, code) if code else None
        if team is None:
            raise Refused("admin.refused.unknown_team" if code else "admin.refused.no_scope", {"code": code})
        return team[2], team[1], team[0]
    if role is Role.TOWNSHIP:
        township = auth_repo.region_id(conn, code, level="township") if code else None
        county = auth_repo.township_county(conn, township) if township else None
        if township is None or county is None:
            raise Refused("admin.refused.unknown_township" if code else "admin.refused.no_scope", {"code": code})
        return county, township, None
    county = auth_repo.first_county(conn)
    if county is None:
        raise Refused("admin.refused.no_county")
    return county, None, None


def add_account(
    conn: psycopg.Connection,
    *,
    by: Principal,
    username: str,
    display_name: str,
    role: Role,
    scope_code: str,
    password: str,
    min_length: int,
    phone: str = "",
) -> str | None:
    """Create an account (as `cdm users add`), with the mobile an alert assigned to the person is texted to when
    given; an administrator's TOTP set-up URI, to show once."""
    require_admin(by)
    name = username.strip().lower()
    if not USERNAME.match(name):
        raise Refused("admin.refused.username_format")
    if auth_repo.account_by_username(conn, name) is not None:
        raise Refused("admin.refused.username_taken", {"username": name})
    service.check_password(password, username=name, min_length=min_length)
    _, township, team = _place(conn, role, scope_code.strip())
    with conn.transaction():
        created = service.create_account(
            conn,
            username=name,
            password=password,
            role=role,
            display_name=display_name.strip(),
            township_code=scope_code.strip() if role is Role.TOWNSHIP else None,
            team_code=scope_code.strip() if role is Role.TEAM else None,
            county_code=None,
            min_password_length=min_length,
            phone=phone.strip() or None,
        )
        _record(conn, by, "account_created", account=name, role=str(role), township_id=township, team_id=team)
    return created.totp_uri


def _existing(conn: psycopg.Connection, username: str) -> tuple[str, str, bool]:
    name = (username or "").strip().lower()
    if not name:
        raise Refused("admin.refused.no_account")
    found = repo.account_role(conn, name)
    if found is None:
        raise Refused("admin.refused.unknown_account", {"username": name})
    return name, found[0], found[1]


def _keep_an_admin(conn: psycopg.Connection, *, by: Principal, name: str, role: str) -> None:
    """Refuse taking away an administrator when it is oneself or the last one still able to sign in."""
    if name == by.username:
        raise Refused("admin.refused.self")
    if role == Role.ADMIN and repo.other_active_admins(conn, name) == 0:
        raise Refused("admin.refused.last_admin")


def set_disabled(conn: psycopg.Connection, *, by: Principal, username: str, disabled: bool, now: datetime) -> int:
    """Disable an account (its sessions end) or enable it again (as `cdm users disable`); sessions ended."""
    require_admin(by)
    with conn.transaction():
        name, role, _ = _existing(conn, username)
        if disabled:
            _keep_an_admin(conn, by=by, name=name, role=role)
        return sessions.set_disabled(conn, username=name, disabled=disabled, by=by, now=now)


def reset_password(
    conn: psycopg.Connection, *, by: Principal, username: str, password: str, min_length: int, now: datetime
) -> int:
    """Set a new password (as `cdm users set-password`); every session of the account ends. Sessions ended."""
    require_admin(by)
    name, _, _ = _existing(conn, username)
    service.check_password(password, username=name, min_length=min_length)
    return sessions.change_password(conn, username=name, password=password, min_length=min_length, by=by, now=now)


def sign_out(conn: psycopg.Connection, *, by: Principal, username: str, now: datetime) -> int:
    """End every session of an account (as `cdm users sign-out`); how many."""
    require_admin(by)
    name, _, _ = _existing(conn, username)
    return sessions.sign_out_everywhere(conn, username=name, by=by, now=now)


def set_phone(conn: psycopg.Connection, *, by: Principal, username: str, phone: str) -> bool:
    """Set (or, empty, remove) the mobile an alert assigned to the person is texted to (as `cdm users phone`);
    audited without the number. Whether the account now has one."""
    require_admin(by)
    name, _, _ = _existing(conn, username)
    return sessions.set_phone(conn, username=name, phone=phone, by=by)


def set_language(conn: psycopg.Connection, *, by: Principal, username: str, language: str) -> None:
    """Set the language of an account's screens and of the texts it is sent (zh or en), or with "" let it follow
    the county's; audited. The person may still change their own with the switch."""
    require_admin(by)
    if language not in ("", *LANGUAGES):
        raise Refused("admin.refused.language", {"language": language})
    name, _, _ = _existing(conn, username)
    with conn.transaction():
        account = auth_repo.account_by_username(conn, name, for_update=True)
        assert account is not None  # _existing found it; accounts are disabled, never deleted
        auth_repo.set_language(conn, account.principal.user_id, language or None)
        _record(conn, by, "account_language_set", account=name, language=language or "county",
                was=account.principal.language or "county")  # fmt: skip


def set_role(
    conn: psycopg.Connection, *, by: Principal, username: str, role: Role, scope_code: str, now: datetime
) -> tuple[int, str | None]:
    """Give an account another role and scope; its sessions end (what it may see changed). Sessions ended, and a
    TOTP set-up URI to show once when it became an administrator without a second factor."""
    require_admin(by)
    with conn.transaction():
        name, current, _ = _existing(conn, username)
        if current == Role.ADMIN and role is not Role.ADMIN:
            _keep_an_admin(conn, by=by, name=name, role=current)
        place = _place(conn, role, scope_code.strip())
        secret = credentials.new_totp_secret() if role is Role.ADMIN and not repo.has_totp(conn, name) else None
        repo.set_role(conn, username=name, role=str(role), place=place, totp_secret=secret)
        ended = sessions.sign_out_everywhere(conn, username=name, by=by, now=now)
        _record(conn, by, "account_role_changed", account=name, role=str(role), was=current)
    return ended, credentials.provisioning_uri(secret, username=name) if secret else None


def provision(
    conn: psycopg.Connection, *, by: Principal, kind: str, clinic_code: str, serial: str, imei: str, now: datetime
) -> dict[str, str]:
    """Register a meter and issue its MQTT credentials (as `cdm devices provision`): returned to show once."""
    require_admin(by)
    clinic_code, serial, imei = clinic_code.strip(), serial.strip(), imei.strip()
    if kind not in ("bp", "glucose") or not (clinic_code and serial and imei):
        raise Refused("admin.refused.missing")
    if repo.village(conn, clinic_code) is None:
        raise Refused("admin.refused.unknown_clinic", {"code": clinic_code})
    with conn.transaction():  # a serial, IMEI or meter the registry refuses: its RegistryError, a catalogue refusal
        creds = devices.provision(
            conn, kind=kind, clinic_code=clinic_code, serial=serial, imei=imei, now=now  # type: ignore[arg-type]
        )
        _record(conn, by, "meter_provisioned", meter=creds.uid, clinic=clinic_code)
    return {"uid": creds.uid, "username": creds.username, "password": creds.password}


def move(conn: psycopg.Connection, *, by: Principal, uid: str, clinic_code: str, now: datetime) -> str:
    """Record that a meter now stands in another village clinic (as `cdm devices move`); the clinic's name."""
    require_admin(by)
    uid, clinic_code = uid.strip(), clinic_code.strip()
    if not repo.meter_active(conn, uid):
        raise Refused("admin.refused.unknown_meter", {"uid": uid})
    clinic = repo.village(conn, clinic_code)
    if clinic is None:
        raise Refused("admin.refused.unknown_clinic", {"code": clinic_code})
    with conn.transaction():
        devices.move(conn, uid=uid, clinic_code=clinic_code, at=now)
        _record(conn, by, "meter_moved", meter=uid, clinic=clinic_code)
    return clinic


def revoke(conn: psycopg.Connection, *, by: Principal, uid: str, now: datetime) -> None:
    """Revoke a meter (as `cdm devices revoke`): the next broker files leave it out."""
    require_admin(by)
    uid = uid.strip()
    if not repo.meter_active(conn, uid):
        raise Refused("admin.refused.unknown_meter", {"uid": uid})
    with conn.transaction():
        devices.revoke(conn, uid=uid, now=now)
        _record(conn, by, "meter_revoked", meter=uid)


def add_contact(conn: psycopg.Connection, *, by: Principal, role: str, channel: str, address: str, code: str) -> None:
    """Register where a centre, the on-duty person or a team is reached (as `cdm contacts add`). The address is
    not audited (it may be a phone number); the channel and owner are."""
    require_admin(by)
    code = code.strip()
    if not address.strip() or not code:
        raise Refused("admin.refused.contact")
    region_id, team_id = repo.owner(conn, code)
    if region_id is None and team_id is None:
        raise Refused("admin.refused.unknown_region", {"code": code})
    address = checked_contact(role, channel, address)  # a role, channel and address the channel can use
    with conn.transaction():
        workflow_repo.add_contact(
            conn, role=role, channel=channel, address=address, region_id=region_id, team_id=team_id
        )
        _record(conn, by, "contact_added", role=role, channel=channel, owner=code)


def deactivate_contact(conn: psycopg.Connection, *, by: Principal, contact_id: int) -> None:
    """Switch a contact off; past notifications keep their address."""
    require_admin(by)
    with conn.transaction():
        if not repo.deactivate_contact(conn, contact_id):
            raise Refused("admin.refused.unknown_contact", {"id": contact_id})
        _record(conn, by, "contact_deactivated", contact=contact_id)
