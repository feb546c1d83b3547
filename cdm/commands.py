"""What every stage's command line shares: running one unit of work against the store and printing its result."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, NoReturn

import psycopg
import typer

from cdm import db
from cdm.i18n import Refusal, t
from cdm.settings import Settings


def run_in_store(
    ctx: typer.Context,
    work: Callable[[psycopg.Connection], Any],
    *,
    refusals: tuple[type[Exception], ...] = (Refusal, LookupError),
) -> None:
    """Run `work(conn)` in one transaction and print its result as JSON; a refusal exits 1 with its reason, in the
    county's language (CDM_LANGUAGE) when it is a catalogue Refusal.

    `ctx.obj` holds the settings the application loaded once; `refusals` are the exceptions that mean "refused
    for a reason the person can act on" rather than a fault.
    """
    settings: Settings = ctx.obj
    with db.connect(settings.database_url or "", app="cdm-cli") as conn:
        try:
            result = work(conn)
        except refusals as exc:
            refuse(settings, exc if isinstance(exc, Refusal) else str(exc))
        conn.commit()
    typer.echo(json.dumps(result, ensure_ascii=False, default=str, indent=1))


def refuse(settings: Settings, reason: Refusal | str, *, code: int = 1) -> NoReturn:
    """Exit with `code` (1: refused, 2: the options are wrong) after saying why on stderr, in the county's language:
    "未执行：…" around a catalogue Refusal (or a text already worded)."""
    text = reason.text(settings.language) if isinstance(reason, Refusal) else reason
    typer.echo(t("cli.refused", settings.language, reason=text), err=True)
    raise typer.Exit(code)
