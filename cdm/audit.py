"""The audit trail, append-only in the store: who saw or changed what, on which screen or command.

Every stage writes its audit rows here, in its own transaction, so a row commits with what it records. The table
refuses UPDATE, DELETE and TRUNCATE; `detail` never carries an identity or phone number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import psycopg
from psycopg.types.json import Jsonb


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acted: a signed-in account (id, name, role), or only a name (a command's --by, a failed log-in)."""

    username: str
    user_id: int | None = None
    role: str | None = None


def record(
    conn: psycopg.Connection,
    *,
    actor: Actor,
    action: str,
    patient_id: int | None = None,
    screen: str | None = None,
    detail: Mapping[str, object] | None = None,
    client_addr: str | None = None,
    match_account: bool = False,
) -> None:
    """Append one audit event (in the caller's transaction). With `match_account`, an actor known only by name
    (a command's --by) is linked to the account of that name when there is one."""
    conn.execute(
        "insert into audit_event (user_id, username, role, action, patient_id, screen, detail, client_addr)"
        " values (coalesce(%s, (select id from app_user where %s and username = %s)), %s, %s, %s, %s, %s, %s, %s)",
        (
            actor.user_id,
            match_account,
            actor.username,
            actor.username,
            actor.role,
            action,
            patient_id,
            screen,
            Jsonb(dict(detail or {})),
            client_addr,
        ),
    )


def record_each(
    conn: psycopg.Connection, *, actor: Actor, action: str, patient_ids: Iterable[int], screen: str
) -> None:
    """One audit event per patient (a list shown, an export), in one statement."""
    ids = list(patient_ids)
    if not ids:
        return
    conn.execute(
        "insert into audit_event (user_id, username, role, action, patient_id, screen)"
        " select %s, %s, %s, %s, pid, %s from unnest(%s::bigint[]) as pid",
        (actor.user_id, actor.username, actor.role, action, screen, ids),
    )
