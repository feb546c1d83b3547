"""What every stage's command line shares: running one unit of work against the store and printing its result."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import psycopg
import typer

from cdm import db
from cdm.settings import Settings


def run_in_store(
    ctx: typer.Context,
    work: Callable[[psycopg.Connection], Any],
    *,
    refusals: tuple[type[Exception], ...] = (LookupError,),
) -> None:
    """Run `work(conn)` in one transaction and print its result as JSON; a refusal exits 1 with its reason.

    `ctx.obj` holds the settings the application loaded once; `refusals` are the exceptions that mean "refused
    for a reason the person can act on" rather than a fault.
    """
    settings: Settings = ctx.obj
    with db.connect(settings.database_url or "", app="cdm-cli") as conn:
        try:
            result = work(conn)
        except refusals as exc:
            typer.echo(f"refused: {exc}", err=True)
            raise typer.Exit(1) from None
        conn.commit()
    typer.echo(json.dumps(result, ensure_ascii=False, default=str, indent=1))
