"""`cdm followups …`: a family-doctor team's follow-up list and recording a visit, from a terminal."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from alerts.followups.form import validate
from alerts.followups.service import record_follow_up, record_visit, team_list
from assess.reasons import reason_texts
from cdm.commands import refuse, run_in_store
from cdm.domain import FollowUpClass
from cdm.i18n import Refusal, t
from cdm.settings import Settings

followups_app = typer.Typer(no_args_is_help=True, help="Follow-up lists of family-doctor teams")
Actor = Annotated[str, typer.Option("--by", help="your account name (kept with the change)")]


def _run(ctx: typer.Context, work: Any) -> None:
    run_in_store(ctx, work)


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
                "reasons": reason_texts(e.reasons, e.facts, lang=settings.language, tz=settings.tz),
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
        str | None, typer.Option("--class", help="controlled, uncontrolled, adverse_reaction, complication")
    ] = None,
    done_on: Annotated[str | None, typer.Option(help="visit date YYYY-MM-DD (default today)")] = None,
    next_step: Annotated[str | None, typer.Option()] = None,
    next_due: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default by class)")] = None,
    form: Annotated[
        Path | None, typer.Option(help="the national form as a JSON file: {field: value}, the screen's field names")
    ] = None,
    kind: Annotated[str | None, typer.Option(help="national form: hypertension or diabetes")] = None,
    field: Annotated[
        list[str] | None, typer.Option("--field", help="a form field as NAME=VALUE (repeat), e.g. sbp1=148")
    ] = None,
    medication: Annotated[list[str] | None, typer.Option(help="a medication as NAME,DOSE,FREQUENCY (repeat)")] = None,
) -> None:
    """Record a follow-up visit; it closes the patient's open alerts and reassesses the patient.

    With --form, --kind or --field it is the national form (高血压 / 2型糖尿病患者随访服务记录表), checked field by
    field as the screen checks it; its BP and glucose become readings the rules read like a meter's.
    """
    settings: Settings = ctx.obj
    now = datetime.now(UTC)
    if form is not None or kind is not None or field:
        try:
            raw = _form_fields(form, kind=kind, fields=field or [], medications=medication or [])
        except Refusal as refused:
            refuse(settings, refused)
        given = {"class": follow_up_class, "done_on": done_on, "next_step": next_step, "next_due": next_due}
        raw.update({name: value for name, value in given.items() if value is not None})
        _record_form(ctx, raw, patient=patient, by=by, now=now)
        return
    if follow_up_class is None:
        refuse(settings, Refusal("cli.refused.class_required", classes=" / ".join(FollowUpClass)))
    try:
        day = date.fromisoformat(done_on) if done_on else now.astimezone(settings.tz).date()
        due = date.fromisoformat(next_due) if next_due else None
    except ValueError:
        refuse(settings, Refusal("cli.refused.dates"))
    cls = follow_up_class
    _run(
        ctx,
        lambda conn: record_follow_up(
            conn,
            card=patient,
            done_on=day,
            follow_up_class=cls,
            recorded_by=by,
            now=now,
            settings=settings,
            next_step=next_step,
            next_due=due,
        ),
    )


def _record_form(ctx: typer.Context, raw: dict[str, Any], *, patient: str, by: Actor, now: datetime) -> None:
    """The national form's path: checked field by field as the screen checks it, refused with each field's reason."""
    settings: Settings = ctx.obj
    today = now.astimezone(settings.tz).date()
    raw.setdefault("done_on", today.isoformat())
    visit, errors = validate(raw, today=today, lang=settings.language)
    if visit is None:
        for message in errors.values():  # each field's reason, worded by the form's checks
            typer.echo(t("cli.refused", settings.language, reason=message), err=True)
        raise typer.Exit(1)
    _run(ctx, lambda conn: record_visit(conn, card=patient, form=visit, recorded_by=by, now=now, settings=settings))


def _form_fields(path: Path | None, *, kind: str | None, fields: list[str], medications: list[str]) -> dict[str, Any]:
    """The form's fields from a JSON file, then --kind, --field NAME=VALUE and --medication on top."""
    raw: dict[str, Any] = {}
    if path is not None:
        try:
            loaded = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise Refusal("cli.refused.form_file", error=type(exc).__name__) from None
        if not isinstance(loaded, dict):
            raise Refusal("cli.refused.form_object")
        raw.update(loaded)
    if kind is not None:
        raw["kind"] = kind
    for item in fields:
        name, sep, value = item.partition("=")
        if not sep:
            raise Refusal("cli.refused.field", given=name)
        raw[name.strip()] = value.strip()
    if medications:
        raw["medications"] = [dict(zip(("name", "dose", "frequency"), m.split(","), strict=False)) for m in medications]
    return raw
