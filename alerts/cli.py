"""`cdm alerts …`, `cdm followups …`, `cdm contacts …`: the alert workflow from a terminal."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from alerts.followups.service import record_follow_up, team_list
from alerts.workflow import repo as workflow_repo
from alerts.workflow import service as workflow
from alerts.workflow.logic import ACTIONS, TransitionError
from cdm import db
from cdm.i18n import t
from cdm.privacy import mask_card
from cdm.settings import Settings

alerts_app = typer.Typer(no_args_is_help=True, help="Alerts: list, acknowledge, record an action, close")
followups_app = typer.Typer(no_args_is_help=True, help="Follow-up lists of family-doctor teams")
contacts_app = typer.Typer(no_args_is_help=True, help="Where centres, on-duty staff and teams are reached")
Actor = Annotated[str, typer.Option("--by", help="your account name (kept with the change)")]


def _settings_from(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _run(ctx: typer.Context, work: Callable[[Any], Any]) -> None:
    """Run `work(conn)` and print its result as JSON; a refused request exits 1 with the reason."""
    with db.connect(_settings_from(ctx).database_url or "", app="cdm-cli") as conn:
        try:
            result = work(conn)
        except (TransitionError, LookupError) as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
        conn.commit()
    typer.echo(json.dumps(result, ensure_ascii=False, default=str, indent=1))


@alerts_app.command("list")
def list_alerts(
    ctx: typer.Context,
    township: Annotated[str | None, typer.Option(help="township code")] = None,
    status: Annotated[str | None, typer.Option(help="open, acknowledged, actioned or closed")] = None,
    overdue: Annotated[bool, typer.Option(help="only alerts past the action window")] = False,
) -> None:
    """Alerts, newest first (patients shown masked)."""

    def work(conn: Any) -> list[dict[str, Any]]:
        rows = workflow_repo.list_alerts(conn, township_code=township, status=status, overdue_only=overdue)
        return [
            {**{k: v for k, v in r.items() if k != "health_card_no"}, "patient": mask_card(r["health_card_no"])}
            for r in rows
        ]

    _run(ctx, work)


@alerts_app.command("ack")
def ack(ctx: typer.Context, alert_id: int, by: Actor) -> None:
    """Acknowledge an alert."""
    _run(ctx, lambda conn: workflow.acknowledge(conn, alert_id=alert_id, actor=by, now=datetime.now(UTC)))


@alerts_app.command("act")
def act(
    ctx: typer.Context,
    alert_id: int,
    by: Actor,
    action: Annotated[str, typer.Option(help=" / ".join(ACTIONS))],
    note: Annotated[str, typer.Option()] = "",
) -> None:
    """Record what was done: a phone call, a home visit or a referral."""
    _run(
        ctx,
        lambda conn: workflow.record_action(
            conn, alert_id=alert_id, actor=by, action=action, note=note, now=datetime.now(UTC)
        ),
    )


@alerts_app.command("close")
def close_alert(
    ctx: typer.Context,
    alert_id: int,
    by: Actor,
    outcome: Annotated[str, typer.Option(help="what was done and how the patient is")],
) -> None:
    """Close an alert with its outcome."""
    _run(ctx, lambda conn: workflow.close(conn, alert_id=alert_id, actor=by, outcome=outcome, now=datetime.now(UTC)))


@followups_app.command("list")
def followup_list(
    ctx: typer.Context,
    team: Annotated[str, typer.Option(help="team code")],
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """A team's list: red, yellow, green; by priority; longest overdue first."""
    settings = _settings_from(ctx)
    today = datetime.now(settings.tz).date()

    def work(conn: Any) -> list[dict[str, Any]]:
        return [
            {
                "patient": e.card,
                "colour": t(f"colour.{e.colour.value}", settings.language),
                "reasons": [t(f"reason.{r}", settings.language) for r in e.reasons],
                "due": e.due,
                "days_overdue": e.days_overdue,
                "last_bp": e.last_bp,
                "last_glucose": e.last_glucose,
            }
            for e in team_list(conn, team_code=team, today=today, tz=settings.tz)[:limit]
        ]

    _run(ctx, work)


@followups_app.command("record")
def followup_record(
    ctx: typer.Context,
    by: Actor,
    patient: Annotated[str, typer.Option(help="health-card number")],
    follow_up_class: Annotated[
        str, typer.Option("--class", help="controlled, uncontrolled, adverse_reaction, complication")
    ],
    done_on: Annotated[str | None, typer.Option(help="visit date YYYY-MM-DD (default today)")] = None,
    next_step: Annotated[str | None, typer.Option()] = None,
    next_due: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default by class)")] = None,
) -> None:
    """Record a follow-up visit; it closes the patient's open alerts and reassesses the patient."""
    settings = _settings_from(ctx)
    now = datetime.now(UTC)
    try:
        day = date.fromisoformat(done_on) if done_on else now.astimezone(settings.tz).date()
        due = date.fromisoformat(next_due) if next_due else None
    except ValueError as exc:
        typer.echo(f"refused: dates are YYYY-MM-DD ({exc})", err=True)
        raise typer.Exit(1) from None
    _run(
        ctx,
        lambda conn: record_follow_up(
            conn,
            card=patient,
            done_on=day,
            follow_up_class=follow_up_class,
            recorded_by=by,
            now=now,
            settings=settings,
            next_step=next_step,
            next_due=due,
        ),
    )


@contacts_app.command("add")
def contact_add(
    ctx: typer.Context,
    role: Annotated[str, typer.Option(help="centre, on_duty or team")],
    channel: Annotated[str, typer.Option(help="webhook, wecom, sms or email")],
    address: Annotated[str, typer.Option(help="URL, phone number or e-mail address")],
    region: Annotated[str | None, typer.Option(help="region code (county or township)")] = None,
    team: Annotated[str | None, typer.Option(help="team code")] = None,
) -> None:
    """Register where a centre, the county's on-duty person or a family-doctor team is reached."""

    def work(conn: Any) -> dict[str, str]:
        region_id = _id(conn, "region", region) if region else None
        team_id = _id(conn, "care_team", team) if team else None
        workflow_repo.add_contact(
            conn, role=role, channel=channel, address=address, region_id=region_id, team_id=team_id
        )
        return {"added": f"{role} {channel} for {region or team}"}

    _run(ctx, work)


def _id(conn: Any, table: str, code: str) -> int:
    row = conn.execute(f"select id from {table} where code = %s", (code,)).fetchone()  # table is ours, not input
    if row is None:
        raise LookupError(f"no {table.replace('_', ' ')} with code {code!r}")
    return int(row[0])


notifications_app = typer.Typer(no_args_is_help=True, help="The outbox: what was sent, what failed, retry")
patients_app = typer.Typer(no_args_is_help=True, help="Patients' contact details and reminder consent")


@notifications_app.command("list")
def notifications_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, sending, delivered or failed")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Notifications, newest first, with the last error of those not delivered."""
    from alerts.repo import list_notifications

    _run(ctx, lambda conn: list_notifications(conn, status=status, limit=limit))


@notifications_app.command("retry")
def notifications_retry(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="notification ids (default: every failed one)")] = None,
) -> None:
    """Send failed notifications again (after fixing the address or the channel's settings)."""
    from alerts.repo import retry_notifications

    _run(ctx, lambda conn: {"queued_again": retry_notifications(conn, ids=ids)})


@patients_app.command("contact")
def patient_contact(
    ctx: typer.Context,
    patient: Annotated[str, typer.Option(help="health-card number")],
    phone: Annotated[str | None, typer.Option(help="mobile number for reminders")] = None,
    medication_times: Annotated[str, typer.Option(help="local times, e.g. 08:00,20:00")] = "",
    opt_out: Annotated[bool, typer.Option(help="the patient wants no reminders")] = False,
) -> None:
    """Record a patient's phone, medication times and consent to reminders."""
    from datetime import time

    from alerts.channels.base import DeliveryError
    from alerts.channels.sms import normalise_mobile
    from alerts.followups.repo import find_patient
    from alerts.reminders.repo import save_contact

    def work(conn: Any) -> dict[str, Any]:
        patient_id = find_patient(conn, card=patient)
        if patient_id is None:
            raise LookupError("no patient with that health-card number")
        try:
            times = [time.fromisoformat(x.strip()) for x in medication_times.split(",") if x.strip()]
        except ValueError:
            raise LookupError("medication times are HH:MM, separated by commas") from None
        try:
            number = normalise_mobile(phone) if phone else None
        except DeliveryError as exc:
            raise LookupError(str(exc)) from None
        save_contact(
            conn, patient_id=patient_id, phone=number, medication_times=times, opted_out=opt_out, now=datetime.now(UTC)
        )
        return {
            "patient": mask_card(patient),
            "phone": "saved" if number else None,
            "medication_times": [x.isoformat("minutes") for x in times],
            "reminders": not opt_out,
        }

    _run(ctx, work)
