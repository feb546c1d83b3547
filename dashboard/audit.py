"""The screens' audit trail: every view of a patient's record, every export and every log-in (cdm.audit)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import psycopg

from cdm import audit
from dashboard.access import Principal


def actor_of(principal: Principal) -> audit.Actor:
    """The signed-in person as the audit trail names them."""
    return audit.Actor(principal.username, principal.user_id, str(principal.role))


def record(
    conn: psycopg.Connection,
    *,
    principal: Principal | None,
    action: str,
    patient_id: int | None = None,
    screen: str | None = None,
    detail: Mapping[str, object] | None = None,
    client_addr: str | None = None,
    username: str | None = None,
) -> None:
    """Append one audit event (in the caller's transaction, so it commits with what it records)."""
    if principal is None and username is None:
        raise ValueError("an audit event names who acted: a principal or, for a failed log-in, the username tried")
    actor = actor_of(principal) if principal else audit.Actor(username or "")
    audit.record(
        conn, actor=actor, action=action, patient_id=patient_id, screen=screen, detail=detail, client_addr=client_addr
    )


def record_view(conn: psycopg.Connection, *, principal: Principal, patient_id: int, screen: str) -> None:
    """Audit that `principal` was shown patient `patient_id`'s record on `screen`."""
    record(conn, principal=principal, action="view_patient", patient_id=patient_id, screen=screen)


def record_denied(conn: psycopg.Connection, *, principal: Principal, screen: str, **detail: int) -> None:
    """Audit that `principal` asked `screen` for a record outside their scope (`detail`: which one)."""
    record(conn, principal=principal, action="view_patient_denied", screen=screen, detail=detail)


def record_list_view(
    conn: psycopg.Connection, *, principal: Principal, patient_ids: Iterable[int], screen: str
) -> None:
    """Audit that `principal` was shown a list naming these patients (one row per patient, in one statement)."""
    audit.record_each(conn, actor=actor_of(principal), action="view_list", patient_ids=patient_ids, screen=screen)
