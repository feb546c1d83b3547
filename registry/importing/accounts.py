"""Importing screen accounts: each made through the accounts service (argon2id hash, a TOTP secret for
administrators) with a random first password that goes to the run's 0600 credentials file only and must be
changed at the first sign-in. An existing account's name and phone are updated; its role or scope never is."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from dashboard.access import Role
from dashboard.auth import service as accounts_service
from registry.importing import repo
from registry.importing.files import Table
from registry.importing.logic import FirstSeen, Problem
from registry.importing.report import Secret
from registry.importing.rows import AccountRow, account_row

if TYPE_CHECKING:
    from registry.importing.service import Run

# Easy to read out over the phone: no 0/O, 1/l/I. Four groups of four, a dash between: 19 characters, four classes.
_ALPHABET_LOWER = "abcdefghijkmnpqrstuvwxyz"
_ALPHABET_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"


def first_password() -> str:
    """A random first password meeting the password policy (upper, lower, digit, punctuation; 19 characters)."""
    pool = _ALPHABET_LOWER + _ALPHABET_UPPER + _DIGITS
    while True:
        chars = "".join(secrets.choice(pool) for _ in range(16))
        if all(any(c in group for c in chars) for group in (_ALPHABET_LOWER, _ALPHABET_UPPER, _DIGITS)):
            return "-".join(chars[i : i + 4] for i in range(0, 16, 4))


def import_accounts(run: Run, table: Table) -> None:
    """Create new accounts, update names and phones of existing ones."""
    tally = run.tallies[table.source.kind]
    existing = repo.accounts(run.conn)
    for record in run.checked(
        table,
        lambda number, raw: account_row(number, raw, headers=table.headers),
        lambda record, seen: _checks(run, table, record, seen=seen, existing=existing),
    ):
        found = existing.get(record.username)
        if found is None:
            tally.added += 1
            if not run.dry_run:
                _create(run, record)
        elif (found.display_name, found.phone) == (record.name, record.phone or found.phone):
            tally.unchanged += 1
        else:
            tally.updated += 1
            if not run.dry_run:
                repo.update_account(run.conn, username=record.username, display_name=record.name, phone=record.phone)
        existing[record.username] = repo.Account(record.role, record.scope, record.name, record.phone)


def _checks(
    run: Run, table: Table, record: AccountRow, *, seen: FirstSeen, existing: dict[str, repo.Account]
) -> list[Problem]:
    h = table.headers
    problems = seen.repeated("username", record.username, record.row, h)
    if record.role == "township":
        place = run.regions.get(record.scope or "")
        if place is None or place.level != "township" or place.county_code != run.county:
            problems.append(Problem(h["scope"], "unknown_township", {"code": record.scope}))
    elif record.role == "team":
        team = run.teams.get(record.scope or "")
        if team is None or getattr(run.regions.get(team.township_code), "county_code", None) != run.county:
            problems.append(Problem(h["scope"], "unknown_team", {"code": record.scope}))
    found = existing.get(record.username)
    if found is not None and (found.role, found.scope_code) != (record.role, record.scope):
        problems.append(Problem(h["role"], "account_role_changed"))
    return problems


def _create(run: Run, record: AccountRow) -> None:
    password = first_password()
    created = accounts_service.create_account(
        run.conn,
        username=record.username,
        password=password,
        role=Role(record.role),
        display_name=record.name,
        township_code=record.scope if record.role == "township" else None,
        team_code=record.scope if record.role == "team" else None,
        county_code=run.county,
        min_password_length=run.settings.password_min_length,
    )
    repo.mark_new_account(run.conn, username=record.username, phone=record.phone)
    run.secrets.append(Secret("account", record.username, password, created.totp_uri))
