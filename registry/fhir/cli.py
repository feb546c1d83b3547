"""`cdm export …`: the county's data for the province platform, as FHIR R4 Bulk Data NDJSON."""

from __future__ import annotations

import getpass
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Annotated

import typer

from cdm import db
from cdm.commands import refuse
from cdm.i18n import Refusal
from cdm.settings import Settings

export_app = typer.Typer(no_args_is_help=True, help="The county's data for other systems (FHIR R4 NDJSON)")


@export_app.command("fhir")
def fhir(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="directory for the NDJSON files and manifest.json")],
    since: Annotated[
        str | None, typer.Option(help="only readings, visits and assessments from this date (YYYY-MM-DD)")
    ] = None,
    township: Annotated[str | None, typer.Option(help="only this township's patients (its code)")] = None,
    include_id_number: Annotated[
        bool, typer.Option("--include-id-number", help="add the (masked) ID-card number to each Patient; audited")
    ] = False,
    by: Annotated[str | None, typer.Option(help="who exports (audited; default: the login name)")] = None,
) -> None:
    """Write Patient, Condition, Device, Observation, Encounter and RiskAssessment NDJSON; print the manifest."""
    from registry.fhir.service import ExportError, ExportRequest, export

    settings: Settings = ctx.obj
    start = None
    if since:
        try:
            start = datetime.combine(date.fromisoformat(since), time(0), tzinfo=settings.tz)
        except ValueError:
            refuse(settings, Refusal("cli.refused.since", given=since), code=2)
    request = ExportRequest(
        out=out, by=by or getpass.getuser(), since=start, township=township, include_id_number=include_id_number
    )
    with db.connect(settings.database_url or "", app="cdm-export") as conn:
        try:
            manifest = export(conn, request, settings=settings)
        except ExportError as exc:
            refuse(settings, exc)
    typer.echo(json.dumps(manifest, ensure_ascii=False))
