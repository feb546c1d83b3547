"""A family-doctor team's follow-up list, and recording a visit: it feeds the rules and closes the alerts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

import psycopg

from alerts.followups import repo as followup_repo
from alerts.followups.form import VisitForm
from alerts.followups.logic import ListEntry, default_next_due, due_date, order
from alerts.service import AlertContext, assess_and_alert
from alerts.workflow.logic import TransitionError
from alerts.workflow.service import close
from cdm.domain import Colour, FollowUpClass
from cdm.i18n import t
from cdm.privacy import mask_card
from cdm.settings import Settings


def team_list(conn: psycopg.Connection, *, team_code: str, today: date, tz: tzinfo) -> list[ListEntry]:
    """Who the team should see or call, most urgent first; days counted in `tz` (the county's time zone)."""
    entries = []
    for row in followup_repo.team_patients(conn, team_code=team_code):
        colour = Colour(row["colour"])
        due = due_date(
            colour=colour,
            colour_since=row["colour_since"].astimezone(tz).date(),
            last_done=row["last_done"],
            next_due=row["next_due"],
            registered=row["registered_at"].astimezone(tz).date(),
        )
        entries.append(
            ListEntry(
                patient_id=row["id"],
                card=mask_card(row["health_card_no"]),
                colour=colour,
                reasons=tuple(row["reasons"]),
                priority=row["priority"],
                due=due,
                days_overdue=max((today - due).days, 0),
                last_bp=_bp(row),
                last_glucose=_glucose(row),
                facts=row["reason_facts"] or {},
            )
        )
    return order(entries)


def _bp(row: dict[str, Any]) -> str | None:
    return f"{row['systolic']}/{row['diastolic']}" if row["systolic"] is not None else None


def _glucose(row: dict[str, Any]) -> str | None:
    return f"{row['glucose_mmol']:.1f}" if row["glucose_mmol"] is not None else None


def record_follow_up(
    conn: psycopg.Connection,
    *,
    card: str,
    done_on: date,
    follow_up_class: str,
    recorded_by: str,
    now: datetime,
    settings: Settings,
    next_step: str | None = None,
    next_due: date | None = None,
) -> dict[str, Any]:
    """Record a visit; close the patient's open alerts with it as the outcome; reassess the patient."""
    try:
        cls = FollowUpClass(follow_up_class)
    except ValueError:
        raise TransitionError("followups.refused.class", classes=", ".join(c.value for c in FollowUpClass)) from None
    if done_on > now.astimezone(settings.tz).date():
        raise TransitionError("followups.refused.future")
    due = next_due or default_next_due(cls, done_on)
    if due < done_on:
        raise TransitionError("followups.refused.next_before")
    return _record(
        conn, card=card, done_on=done_on, cls=cls, next_step=next_step, due=due, form=None,
        recorded_by=recorded_by, now=now, settings=settings,
    )  # fmt: skip


def record_visit(
    conn: psycopg.Connection, *, card: str, form: VisitForm, recorded_by: str, now: datetime, settings: Settings
) -> dict[str, Any]:
    """Record a visit on the national form (checked by alerts.followups.form.validate): its BP and glucose become
    readings (source 'visit') that the rules read like a meter's; alerts close and the patient is reassessed."""
    return _record(
        conn, card=card, done_on=form.done_on, cls=form.follow_up_class, next_step=form.next_step,
        due=form.next_due, form=form, recorded_by=recorded_by, now=now, settings=settings,
    )  # fmt: skip


def _measured_at(done_on: date, *, now: datetime, settings: Settings) -> datetime:
    """When a visit's measurements were taken: now for a visit today, else noon of the visit's day (county time)."""
    if done_on >= now.astimezone(settings.tz).date():
        return now
    return datetime.combine(done_on, time(12), settings.tz).astimezone(UTC)


def _record(
    conn: psycopg.Connection,
    *,
    card: str,
    done_on: date,
    cls: FollowUpClass,
    next_step: str | None,
    due: date,
    form: VisitForm | None,
    recorded_by: str,
    now: datetime,
    settings: Settings,
) -> dict[str, Any]:
    with conn.transaction():
        patient_id = followup_repo.find_patient(conn, card=card)
        if patient_id is None:
            raise TransitionError("patient.refused.no_card")
        visit = followup_repo.insert_follow_up(
            conn,
            patient_id=patient_id,
            done_on=done_on,
            follow_up_class=cls,
            next_step=next_step,
            next_due=due,
            recorded_by=recorded_by,
            now=now,
            form=form,
        )
        readings = 0
        if form is not None:
            measured = _measured_at(done_on, now=now, settings=settings)
            readings = followup_repo.insert_visit_readings(
                conn, patient_id=patient_id, follow_up_id=visit, form=form, measured=measured, now=now
            )
        outcome = t(f"followup.class.{cls.value}", settings.language) + (f"; {next_step}" if next_step else "")
        closed = []
        for alert_id in followup_repo.open_alerts_of(conn, patient_id):
            close(conn, alert_id=alert_id, actor=recorded_by, outcome=outcome, now=now)
            followup_repo.link_follow_up(conn, follow_up_id=visit, alert_id=alert_id)
            closed.append(alert_id)
        assessed = assess_and_alert(
            conn, patient_ids={patient_id}, fresh={patient_id}, now=now, ctx=AlertContext.from_settings(settings)
        )
    colour = assessed.changes[0].assessment.colour.value if assessed.changes else None
    return {
        "follow_up_id": visit,
        "patient_id": patient_id,
        "next_due": due.isoformat(),
        "closed_alerts": closed,
        "new_alerts": assessed.alerts,
        "colour": colour,
        "visit_readings": readings,
    }
