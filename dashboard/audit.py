"""The audit trail: every view of a patient's record, every export and every log-in, append-only in the store.

Rows are only ever inserted (the table refuses UPDATE, DELETE and TRUNCATE); `detail` never carries an identity
or phone number.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import psycopg
from psycopg.types.json import Jsonb

from dashboard.access import Principal


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
    conn.execute(
        "insert into audit_event (user_id, username, role, action, patient_id, screen, detail, client_addr)"
        " values (%s, %s, %s, %s, %s, %s, %s, %s)",
        (
            principal.user_id if principal else None,
            principal.username if principal else username,
            str(principal.role) if principal else None,
            action,
            patient_id,
            screen,
            Jsonb(dict(detail or {})),
            client_addr,
        ),
    )


def record_view(conn: psycopg.Connection, *, principal: Principal, patient_id: int, screen: str) -> None:
    """Audit that `principal` was shown patient `patient_id`'s record on `screen`."""
    record(conn, principal=principal, action="view_patient", patient_id=patient_id, screen=screen)


def record_list_view(
    conn: psycopg.Connection, *, principal: Principal, patient_ids: Iterable[int], screen: str
) -> None:
    """Audit that `principal` was shown a list naming these patients (one row per patient, in one statement)."""
    ids = list(patient_ids)
    if not ids:
        return
    conn.execute(
        "insert into audit_event (user_id, username, role, action, patient_id, screen)"
        " select %s, %s, %s, 'view_list', pid, %s from unnest(%s::bigint[]) as pid",
        (principal.user_id, principal.username, str(principal.role), screen, ids),
    )
