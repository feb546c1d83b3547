"""`cdm users …`: create accounts for the screens, and the demo county's accounts."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

import psycopg
import typer

from cdm import db
from cdm.commands import refuse
from cdm.settings import Settings
from dashboard.access import Role
from dashboard.auth import repo, service
from dashboard.auth.sessions import service as sessions

users_app = typer.Typer(no_args_is_help=True, help="Accounts of the screens (县/乡镇/家庭医生团队/管理员)")
# The two options of every command that changes an existing account.
Account = Annotated[str, typer.Option("--username", help="the account")]
By = Annotated[str, typer.Option("--by", help="who you are (audited)")]


def _read_password(username: str) -> str:
    """From the terminal (asked twice), or the first line of stdin when it is not a terminal."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(f"password for {username}", hide_input=True, confirmation_prompt=True))


@users_app.command("add")
def add(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="3-32 lower-case letters, digits, '.', '_' or '-'")],
    role: Annotated[Role, typer.Option(help="county, township, team or admin")],
    township: Annotated[str | None, typer.Option(help="township region code (township accounts)")] = None,
    team: Annotated[str | None, typer.Option(help="care-team code (team accounts)")] = None,
    county: Annotated[str | None, typer.Option(help="county region code (default: the store's one county)")] = None,
    display_name: Annotated[str, typer.Option(help="name shown on screens")] = "",
    phone: Annotated[str | None, typer.Option(help="mobile: an alert assigned to the person is texted to it")] = None,
) -> None:
    """Create an account; the password is asked for (or read from stdin). Admins get a TOTP set-up URI."""
    settings: Settings = ctx.obj
    password = _read_password(username)
    with db.connect(settings.database_url or "", app="cdm-cli") as conn:
        try:
            created = service.create_account(
                conn,
                username=username,
                password=password,
                role=role,
                display_name=display_name,
                township_code=township,
                team_code=team,
                county_code=county,
                min_password_length=settings.password_min_length,
                phone=phone,
            )
        except service.AccountError as exc:
            refuse(settings, exc)
        conn.commit()
    result: dict[str, object] = {"user_id": created.user_id, "username": username.strip().lower(), "role": str(role)}
    if created.totp_uri:
        result["totp_uri"] = created.totp_uri  # shown once: scan it into an authenticator app now
    typer.echo(json.dumps(result, ensure_ascii=False))


def _account_action(ctx: typer.Context, action: Callable[[psycopg.Connection, Settings], dict[str, object]]) -> None:
    settings: Settings = ctx.obj
    with db.connect(settings.database_url or "", app="cdm-cli") as conn:
        try:
            result = action(conn, settings)
        except service.AccountError as exc:
            refuse(settings, exc)
        conn.commit()
    typer.echo(json.dumps(result, ensure_ascii=False))


@users_app.command("set-password")
def set_password(ctx: typer.Context, username: Account, by: By) -> None:
    """Set a new password (asked for, or read from stdin); every session of the account ends."""
    password = _read_password(username)
    _account_action(
        ctx,
        lambda conn, s: {
            "sessions_ended": sessions.change_password(
                conn, username=username, password=password, min_length=s.password_min_length, by=by, now=_now()
            )
        },
    )


@users_app.command("disable")
def disable(
    ctx: typer.Context,
    username: Account,
    by: By,
    enable: Annotated[bool, typer.Option("--enable", help="enable the account again instead")] = False,
) -> None:
    """Disable an account (every session ends at once), or enable it again with --enable."""
    _account_action(
        ctx,
        lambda conn, _: {
            "sessions_ended": sessions.set_disabled(conn, username=username, disabled=not enable, by=by, now=_now())
        },
    )


@users_app.command("phone")
def phone_cmd(
    ctx: typer.Context,
    username: Account,
    by: By,
    phone: Annotated[str, typer.Option(help="the person's mobile; empty to remove it")],
) -> None:
    """Set the mobile an alert assigned to the person is texted to (audited, without the number)."""
    _account_action(
        ctx, lambda conn, _: {"has_phone": sessions.set_phone(conn, username=username, phone=phone, by=by)}
    )


@users_app.command("sign-out")
def sign_out(ctx: typer.Context, username: Account, by: By) -> None:
    """Sign an account out everywhere: every one of its sessions ends now (a lost phone, a shared computer)."""
    _account_action(
        ctx,
        lambda conn, _: {"sessions_ended": sessions.sign_out_everywhere(conn, username=username, by=by, now=_now())},
    )


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DemoAccount:
    """A demo account as printed by `cdm demo`."""

    username: str
    password: str
    role: Role
    scope: str
    totp_uri: str | None = None


DEMO_PASSWORD = "Demo-2025-cdm"  # development only: the demo store lives under .cdm/ and never in production


def create_demo_accounts(conn: psycopg.Connection, *, county_code: str) -> list[DemoAccount]:
    """One account per role for the demo county (first township, its first team); existing ones are kept."""
    township, team = repo.first_township(conn, county_code), repo.first_team(conn)
    wanted = [("county", Role.COUNTY, None, None, county_code), ("admin", Role.ADMIN, None, None, county_code)]
    if township:
        wanted.append(("township", Role.TOWNSHIP, township[0], None, township[0]))
    if team:
        wanted.append(("team", Role.TEAM, None, team[0], team[0]))
    made = []
    for username, role, township_code, team_code, scope in wanted:
        try:
            created = service.create_account(
                conn,
                username=f"demo-{username}",
                password=DEMO_PASSWORD,
                role=role,
                township_code=township_code,
                team_code=team_code,
                county_code=county_code,
                min_password_length=len(DEMO_PASSWORD),
            )
        except service.AccountError:
            continue  # made by an earlier demo run
        made.append(DemoAccount(f"demo-{username}", DEMO_PASSWORD, role, scope, created.totp_uri))
    return made
