"""`cdm registry …`: the template files a county fills in, and importing them (or a dry run of it)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer

from cdm import db
from cdm.commands import refuse
from cdm.i18n import Refusal
from cdm.settings import Settings

registry_app = typer.Typer(no_args_is_help=True, help="The county's registry from its own files (CSV / Excel)")


@registry_app.command("template")
def template(out: Annotated[Path, typer.Option("--out", help="directory to write the template files into")]) -> None:
    """Write the template files (Chinese headers, one sample row each) and a README."""
    from registry.importing.template import write_template

    written = write_template(out)
    typer.echo(json.dumps({"written": [str(p) for p in written]}, ensure_ascii=False))


@registry_app.command("import")
def import_files(
    ctx: typer.Context,
    directory: Annotated[Path, typer.Option("--dir", help="directory holding townships / villages / … files")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="check everything, change nothing")] = False,
    report: Annotated[Path | None, typer.Option(help="report CSV (default: next to the directory)")] = None,
    by: Annotated[str | None, typer.Option(help="who runs the import (audited; default: the login name)")] = None,
) -> None:
    """Import the county's files; print one JSON line: per file rows, added, updated, unchanged, refused; the report."""
    from registry.importing.service import Actor, import_directory

    settings: Settings = ctx.obj
    if not settings.database_url:
        refuse(settings, Refusal("cli.refused.no_store"), code=2)
    if not directory.is_dir():
        refuse(settings, Refusal("cli.refused.no_directory", path=str(directory)), code=2)
    actor = Actor(name=by or getpass.getuser(), source="cli")
    with db.connect(settings.database_url or "", app="cdm-registry") as conn:
        outcome = import_directory(
            conn, directory=directory, settings=settings, actor=actor, dry_run=dry_run, report=report
        )
    typer.echo(json.dumps(outcome.summary(), ensure_ascii=False))
