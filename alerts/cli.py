"""`cdm alerts …`, `cdm followups …`, `cdm contacts …`: the alert workflow from a terminal."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from alerts.repo import list_notifications, retry_notifications
from alerts.workflow import repo as workflow_repo
from alerts.workflow import service as workflow
from alerts.workflow.logic import ACTIONS
from assess.reasons import reason_texts
from cdm.commands import run_in_store
from cdm.privacy import mask_card

alerts_app = typer.Typer(no_args_is_help=True, help="Alerts: list, acknowledge, assign, record an action, close")
contacts_app = typer.Typer(no_args_is_help=True, help="Where centres, on-duty staff and teams are reached")
Actor = Annotated[str, typer.Option("--by", help="your account name (kept with the change)")]


def _run(ctx: typer.Context, work: Callable[[Any], Any]) -> None:
    run_in_store(ctx, work)


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
        settings = ctx.obj
        return [
            {
                **{k: v for k, v in r.items() if k not in ("health_card_no", "reason_facts")},
                "patient": mask_card(r["health_card_no"]),
                # each reason with its figure and target, as the screens show it (assess.reasons)
                "reason_texts": reason_texts(r["reasons"], r["reason_facts"], lang=settings.language, tz=settings.tz),
            }
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


@alerts_app.command("assign")
def assign(
    ctx: typer.Context,
    alert_id: int,
    by: Actor,
    to: Annotated[str, typer.Option("--to", help="the account of a person of the alert's township or its teams")],
) -> None:
    """Name the doctor who takes an alert on; they are texted at their mobile (cdm users phone)."""

    def work(conn: Any) -> dict[str, Any]:
        person = workflow.assign(
            conn, alert_id=alert_id, actor=by, who=to.strip().lower(), now=datetime.now(UTC), lang=ctx.obj.language
        )
        return {"alert_id": alert_id, "assigned_to": person.username, "name": person.name}

    _run(ctx, work)


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
        workflow.add_contact(conn, role=role, channel=channel, address=address, region=region, team=team)
        return {"added": f"{role} {channel} for {region or team}"}

    _run(ctx, work)


notifications_app = typer.Typer(no_args_is_help=True, help="The outbox: what was sent, what failed, retry")


@notifications_app.command("list")
def notifications_list(
    ctx: typer.Context,
    status: Annotated[str | None, typer.Option(help="pending, sending, delivered or failed")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """Notifications, newest first, with the last error of those not delivered."""
    _run(ctx, lambda conn: list_notifications(conn, status=status, limit=limit))


@notifications_app.command("retry")
def notifications_retry(
    ctx: typer.Context,
    ids: Annotated[list[int] | None, typer.Argument(help="notification ids (default: every failed one)")] = None,
) -> None:
    """Send failed notifications again (after fixing the address or the channel's settings)."""
    _run(ctx, lambda conn: {"queued_again": retry_notifications(conn, ids=ids)})
