"""Importing a county's registry from its files, in one transaction: townships, villages, teams, patients, meters,
accounts, in that order, each row taken whole or refused whole with every problem named in the report.

A dry run checks everything the same way and changes nothing (the transaction is rolled back, no credentials are
made). The same files again change nothing; a later export updates what changed and keeps its history; nothing
is ever deleted.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import psycopg

from cdm import audit
from cdm.i18n import t
from cdm.identity import mask_id_number
from cdm.settings import Settings
from registry.importing import files, places, repo
from registry.importing.logic import FirstSeen, Problem
from registry.importing.report import Line, Secret, default_report_path, secrets_path, write_report, write_secrets

log = logging.getLogger(__name__)
_ID_LIKE = re.compile(r"\d{17}[\dXx]")
R = TypeVar("R")  # a clean row of one of the smaller files


@dataclass
class Tally:
    """What one file's rows came to."""

    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: int = 0


@dataclass
class Outcome:
    """What an import did (or, dry, would do), and where its report and credentials are."""

    tallies: dict[str, Tally]
    lines: list[Line]
    report: Path
    credentials: Path | None
    dry_run: bool
    readings_attributed: int = 0
    missing: int = 0

    def summary(self) -> dict[str, Any]:
        """The JSON line: per file rows, added, updated, unchanged, refused; the report's path."""
        out: dict[str, Any] = {kind: asdict(tally) for kind, tally in self.tallies.items()}
        if "patients" in out:
            out["patients"]["missing"] = self.missing
        out |= {"report": str(self.report), "dry_run": self.dry_run, "readings_attributed": self.readings_attributed}
        if self.credentials is not None:
            out["credentials"] = str(self.credentials)
        return out


@dataclass(frozen=True, slots=True)
class Actor:
    """Who runs the import: an account of the screens, or the operating-system user at the command line."""

    name: str
    source: str = "cli"  # 'cli' or 'screen'
    user_id: int | None = None
    role: str | None = None


@dataclass
class Run:
    """The state of one import: the store's registry as the files change it, and what the report will say."""

    conn: psycopg.Connection
    settings: Settings
    dry_run: bool
    now: datetime
    county_id: int = 0
    import_id: int | None = None
    regions: dict[str, repo.Region] = field(default_factory=dict)
    teams: dict[str, repo.Team] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=dict)
    lines: list[Line] = field(default_factory=list)
    secrets: list[Secret] = field(default_factory=list)
    attributed: int = 0
    missing: int = 0

    @property
    def lang(self) -> str:
        return self.settings.language

    @property
    def today(self) -> Any:
        return self.now.astimezone(self.settings.tz).date()

    @property
    def county(self) -> str:
        return self.settings.county_code

    def reason(self, code: str, values: dict[str, object] | Any) -> str:
        """A refusal in words; a cell quoted in it never shows an ID-card number (one typed in the wrong column)."""
        shown = {k: _ID_LIKE.sub(lambda m: mask_id_number(m[0]), v) if isinstance(v, str) else v
                 for k, v in dict(values).items()}  # fmt: skip
        return t(f"registry.reason.{code}", self.lang, **shown)

    def refuse(self, table: files.Table, row: int, problems: list[Problem]) -> None:
        """Count a row refused and put each of its problems in the report."""
        self.tallies[table.source.kind].refused += 1
        name = table.source.path.name
        self.lines.extend(Line(name, row, p.column, self.reason(p.code, p.values)) for p in problems)

    def checked(
        self,
        table: files.Table,
        clean: Callable[[int, dict[str, object]], tuple[R | None, list[Problem]]],
        checks: Callable[[R, FirstSeen], list[Problem]],
    ) -> Iterator[R]:
        """Each row of a smaller file cleaned by `clean` and, when clean, checked by `checks` (against the file's
        earlier rows in `FirstSeen` and against the store); every row counted, a refused one reported, the others
        yielded one at a time, so that a check sees what the rows before it wrote."""
        tally = self.tallies[table.source.kind]
        seen = FirstSeen()
        for number, raw in table.rows:
            tally.rows += 1
            record, problems = clean(number, raw)
            if files.has_bad_characters(raw):
                problems.append(Problem("", "bad_encoding"))
            if record is not None:
                problems += checks(record, seen)
            if problems or record is None:
                self.refuse(table, number, problems)
            else:
                yield record


def import_directory(
    conn: psycopg.Connection,
    *,
    directory: Path,
    settings: Settings,
    actor: Actor,
    dry_run: bool = False,
    report: Path | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Import every file of `directory` the template knows; write the report (and credentials); return the outcome."""
    now = now or datetime.now(UTC)
    report = report or default_report_path(directory, now.astimezone(settings.tz))
    sources, doubles = files.discover(directory)
    run = Run(conn=conn, settings=settings, dry_run=dry_run, now=now)
    for names in doubles.values():
        run.lines.append(Line("、".join(names), None, "", run.reason("duplicate_file", {"files": "、".join(names)})))
    credentials = secrets_path(report) if not dry_run else None
    written = False
    try:
        with conn.transaction(force_rollback=dry_run):
            detail = _run_files(run, sources, actor)
            if run.secrets and credentials is not None:
                write_secrets(credentials, run.secrets, lang=run.lang)
                written = True
    except BaseException:
        if written and credentials is not None:
            credentials.unlink(missing_ok=True)  # the store never took these credentials
        raise
    if dry_run:  # the run's own transaction was rolled back: the audit of the dry run stands on its own
        with conn.transaction():
            _audit(conn, actor, "registry_dry_run", detail)
    write_report(report, run.lines, lang=run.lang)
    return Outcome(
        tallies=run.tallies,
        lines=run.lines,
        report=report,
        credentials=credentials if written else None,
        dry_run=dry_run,
        readings_attributed=run.attributed,
        missing=run.missing,
    )


def _run_files(run: Run, sources: dict[str, files.Source], actor: Actor) -> dict[str, Any]:
    from registry.importing import accounts, meters
    from registry.importing.patients import service as patients

    steps = {
        "townships": places.import_townships,
        "villages": places.import_villages,
        "teams": places.import_teams,
        "patients": patients.import_patients,
        "meters": meters.import_meters,
        "accounts": accounts.import_accounts,
    }
    conn = run.conn
    run.county_id = repo.ensure_county(conn, code=run.county, name=run.settings.county_name)
    if not run.dry_run:
        run.import_id = repo.start_import(conn, by=actor.name, source=actor.source, now=run.now)
    run.regions, run.teams = repo.regions(conn), repo.teams(conn)
    for kind, source in sources.items():
        run.tallies[kind] = Tally()
        with files.open_table(source) as table:
            if table.missing:
                name = source.path.name
                run.lines.extend(Line(name, 1, col, run.reason("missing_column", {})) for col in table.missing)
                run.tallies[kind].rows = run.tallies[kind].refused = sum(1 for _ in table.rows)
                continue
            steps[kind](run, table)
    summary = {kind: asdict(tally) for kind, tally in run.tallies.items()}
    detail = {"files": summary, "dry_run": run.dry_run, "readings_attributed": run.attributed}
    if run.import_id is not None:
        repo.finish_import(conn, import_id=run.import_id, summary=summary, now=datetime.now(UTC))
    if not run.dry_run:
        _audit(conn, actor, "registry_import", detail)
    log.info("registry import (dry run: %s): %s", run.dry_run, json.dumps(summary))
    return detail


def _audit(conn: psycopg.Connection, actor: Actor, action: str, detail: dict[str, Any]) -> None:
    """The run's audit event (counts only: never an identity or phone number)."""
    who = audit.Actor(actor.name, actor.user_id, actor.role)
    audit.record(conn, actor=who, action=action, screen="registry", detail=detail, match_account=True)
