"""`cdm report monthly`: the programme's monthly report for the county, as the county screen offers it."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from cdm import db
from cdm.commands import refuse
from cdm.i18n import Refusal
from cdm.settings import Settings

report_app = typer.Typer(no_args_is_help=True, help="Programme reports (月报) as Excel workbooks")


@report_app.command("monthly")
def monthly(
    ctx: typer.Context,
    month: Annotated[str, typer.Option(help="the month, YYYY-MM")],
    out: Annotated[Path, typer.Option("--out", help="the .xlsx file to write")],
    by: Annotated[str | None, typer.Option(help="who exports (audited; default: the login name)")] = None,
) -> None:
    """A county sheet, one sheet per township and a definitions sheet; prints one JSON line."""
    from dashboard.access import Principal, Role
    from dashboard.report.logic import MonthError
    from dashboard.report.service import monthly_workbook
    from registry.fhir.repo import county_id

    settings: Settings = ctx.obj
    with db.connect(settings.database_url or "", app="cdm-report") as conn:
        county = county_id(conn, settings.county_code)
        if county is None:
            refuse(settings, Refusal("cli.refused.no_county", code=settings.county_code))
        principal = Principal(user_id=0, username=by or getpass.getuser(), role=Role.COUNTY, county_id=county)
        try:
            data, period = monthly_workbook(
                conn, principal=principal, month=month, settings=settings, now=datetime.now(UTC), screen="cli"
            )
        except MonthError as exc:
            refuse(settings, exc, code=2)
        conn.commit()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    typer.echo(json.dumps({"month": period.month, "as_of": period.as_of.isoformat(), "out": str(out)}))
