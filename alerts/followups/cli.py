"""`cdm followups …`: a family-doctor team's follow-up list and recording a visit, from a terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer

from alerts.followups.service import record_follow_up, team_list
from alerts.workflow.logic import TransitionError
from cdm.commands import run_in_store
from cdm.i18n import t
from cdm.settings import Settings

followups_app = typer.Typer(no_args_is_help=True, help="Follow-up lists of family-doctor teams")
Actor = Annotated[str, typer.Option("--by", help="your account name (kept with the change)")]


def _run(ctx: typer.Context, work: Any) -> None:
    run_in_store(ctx, work, refusals=(TransitionError, LookupError))


@followups_app.command("list")
def followup_list(
    ctx: typer.Context,
    team: Annotated[str, typer.Option(help="team code")],
    limit: Annotated[int, typer.Option(min=1)] = 50,
) -> None:
    """A team's list: red, yellow, green; by priority; longest overdue first."""
    settings: Settings = ctx.obj
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
    settings: Settings = ctx.obj
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
