"""Recording a follow-up from the list: the form's checks (pure, each bad field named in the catalogue's words) and
the save, which goes through alerts.followups.service so a visit from the screen closes alerts and feeds the rules
exactly like one from the CLI."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import psycopg

from alerts.followups.service import record_follow_up
from cdm.domain import FollowUpClass
from cdm.i18n import t
from cdm.privacy import mask_card
from cdm.settings import Settings
from dashboard import audit
from dashboard.access import Principal
from dashboard.followups.repo import card_in_scope

NEXT_STEP_MAX = 200  # characters: a line for the record, not a case note
OLDEST_VISIT = timedelta(days=366)  # a visit typed more than a year back is almost surely a typing error
SCREEN = "followups"


@dataclass(frozen=True, slots=True)
class Visit:
    """A checked visit, ready to be saved."""

    done_on: date
    follow_up_class: FollowUpClass
    next_step: str | None
    next_due: date | None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text.strip()) if text and text.strip() else None


def validate(
    *,
    patient_id: int | None,
    done_on: str | None,
    follow_up_class: str | None,
    next_step: str | None,
    next_due: str | None,
    today: date,
    lang: str,
) -> tuple[Visit | None, dict[str, str]]:
    """The visit, or the errors by field name ("patient", "done_on", "class", "next_step", "next_due")."""
    errors: dict[str, str] = {}
    if patient_id is None:
        errors["patient"] = t("followups.error.no_patient", lang)
    visit_day: date | None = None
    try:
        visit_day = _date(done_on)
        if visit_day is None:
            errors["done_on"] = t("followups.error.done_on_missing", lang)
        elif visit_day > today:
            errors["done_on"] = t("followups.error.done_on_future", lang)
        elif visit_day < today - OLDEST_VISIT:
            errors["done_on"] = t("followups.error.done_on_old", lang)
    except ValueError:
        errors["done_on"] = t("followups.error.date_format", lang)
    try:
        cls = FollowUpClass(follow_up_class or "")
    except ValueError:
        errors["class"] = t("followups.error.class_missing", lang)
    step = (next_step or "").strip() or None
    if step is not None and len(step) > NEXT_STEP_MAX:
        errors["next_step"] = t("followups.error.next_step_long", lang, n=NEXT_STEP_MAX)
    due: date | None = None
    try:
        due = _date(next_due)
        if due is not None and visit_day is not None and due < visit_day:
            errors["next_due"] = t("followups.error.next_due_before", lang)
    except ValueError:
        errors["next_due"] = t("followups.error.date_format", lang)
    if errors or visit_day is None:
        return None, errors
    return Visit(done_on=visit_day, follow_up_class=cls, next_step=step, next_due=due), {}


def save(
    conn: psycopg.Connection,
    *,
    principal: Principal,
    patient_id: int,
    visit: Visit,
    settings: Settings,
    now: datetime,
) -> dict[str, Any]:
    """Record the visit of a patient in `principal`'s scope (PermissionError otherwise), audited, in one transaction."""
    with conn.transaction():
        card = card_in_scope(conn, principal=principal, patient_id=patient_id)
        if card is None:
            raise PermissionError(t("followups.error.out_of_scope", settings.language))
        result = record_follow_up(
            conn,
            card=card,
            done_on=visit.done_on,
            follow_up_class=visit.follow_up_class.value,
            recorded_by=principal.username,
            now=now,
            settings=settings,
            next_step=visit.next_step,
            next_due=visit.next_due,
        )
        audit.record(
            conn,
            principal=principal,
            action="record_follow_up",
            patient_id=patient_id,
            screen=SCREEN,
            detail={"follow_up_id": result["follow_up_id"], "closed_alerts": result["closed_alerts"]},
        )
    return {**result, "patient": mask_card(card)}
