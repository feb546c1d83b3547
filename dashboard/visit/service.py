"""Recording a visit on the national form from the screens: the form's checks are alerts.followups.form's (the same
as the CLI's); the save goes through alerts.followups.service.record_visit, so a visit from the screen feeds the rules
and closes alerts exactly like one from the CLI, for a patient in the signed-in person's scope, audited."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg

from alerts.followups.form import VisitForm
from alerts.followups.service import record_visit
from cdm.i18n import t
from cdm.privacy import mask_card
from cdm.settings import Settings
from dashboard import audit
from dashboard.access import Principal
from dashboard.followups.repo import card_in_scope
from dashboard.language import request_language

SCREEN = "visit"


def save(
    conn: psycopg.Connection,
    *,
    principal: Principal,
    patient_id: int,
    visit: VisitForm,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Record the visit of a patient in `principal`'s scope (PermissionError otherwise), audited, in one transaction;
    the signed-in person is the form's doctor."""
    with conn.transaction():
        card = card_in_scope(conn, principal=principal, patient_id=patient_id)
        if card is None:
            raise PermissionError(t("followups.error.out_of_scope", request_language(settings)))
        result = record_visit(conn, card=card, form=visit, recorded_by=principal.username, now=now, settings=settings)
        audit.record(
            conn,
            principal=principal,
            action="record_follow_up",
            patient_id=patient_id,
            screen=SCREEN,
            detail={"follow_up_id": result["follow_up_id"], "closed_alerts": result["closed_alerts"]},
        )
    return {**result, "patient": mask_card(card)}
