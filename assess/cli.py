"""`cdm assess --file CASE.json`: one patient's assessment from a file, without a database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assess.case import CaseError, load_case
from assess.case_assess import evaluate
from assess.rules import RuleSettings
from cdm.i18n import t
from cdm.settings import Settings

EXIT_BAD_CASE = 2  # the same code as a wrong setting or a usage error: the input, not the system, is at fault


def assess_file(path: str | Path, *, settings: Settings) -> int:
    """Print the assessment of the case in `path` as one JSON object; return the exit code (0, or 2: bad file)."""
    try:
        case = load_case(path)
    except CaseError as exc:
        typer.echo(t("assess.error", settings.language, detail=exc), err=True)
        return EXIT_BAD_CASE
    result = evaluate(case, rules=RuleSettings.from_settings(settings), lang=settings.language)
    typer.echo(json.dumps(result, ensure_ascii=False))
    return 0


def assess_command(
    ctx: typer.Context,
    file: Annotated[str, typer.Option("--file", help="the case (JSON): patient, readings, follow-ups")],
) -> None:
    """Assess one patient described in a file, without a database; prints one JSON object."""
    raise typer.Exit(assess_file(file, settings=ctx.obj))
