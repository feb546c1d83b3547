"""Importing townships, village clinics and family-doctor teams: new ones added, a changed name or township
updated, codes another region or county already uses refused."""

from __future__ import annotations

from typing import TYPE_CHECKING

from registry.importing import repo
from registry.importing.files import Table
from registry.importing.logic import Problem
from registry.importing.rows import PlaceRow, place_row

if TYPE_CHECKING:
    from registry.importing.service import Run


def _rows(run: Run, table: Table, *, with_township: bool) -> list[PlaceRow]:
    """Each row checked on its own and against the file's earlier rows, all before any is written; refused rows
    already reported."""
    return list(
        run.checked(
            table,
            lambda number, raw: place_row(number, raw, headers=table.headers, with_township=with_township),
            lambda record, seen: seen.repeated("code", record.code, record.row, table.headers),
        )
    )


def _township_problem(run: Run, table: Table, code: str) -> Problem | None:
    """Why a row's township code cannot be used: unknown, or not a township of this county."""
    found = run.regions.get(code)
    if found is None or found.level != "township" or found.county_code != run.county:
        return Problem(table.headers["township"], "unknown_township", {"code": code})
    return None


def _code_taken(run: Run, table: Table, code: str, *, level: str) -> Problem | None:
    """Why a code cannot name this region: another level, or another county, holds it."""
    found = run.regions.get(code)
    if found is None or (found.level == level and found.county_code == run.county):
        return None
    other = found.level if found.county_code == run.county else "other_county"
    words = run.reason(f"level.{other}", {})
    return Problem(table.headers["code"], "code_taken", {"code": code, "level": words})


def import_townships(run: Run, table: Table) -> None:
    """The county's townships."""
    tally = run.tallies[table.source.kind]
    for record in _rows(run, table, with_township=False):
        problem = _code_taken(run, table, record.code, level="township")
        if problem:
            run.refuse(table, record.row, [problem])
            continue
        _write_region(run, record, level="township", parent=run.county, tally=tally)


def import_villages(run: Run, table: Table) -> None:
    """Village clinics, each under a township of the county (from this import's files or the store)."""
    tally = run.tallies[table.source.kind]
    for record in _rows(run, table, with_township=True):
        problems = [
            p
            for p in (
                _code_taken(run, table, record.code, level="village"),
                _township_problem(run, table, record.township or ""),
            )
            if p
        ]
        if problems:
            run.refuse(table, record.row, problems)
            continue
        _write_region(run, record, level="village", parent=record.township or "", tally=tally)


def _write_region(run: Run, record: PlaceRow, *, level: str, parent: str, tally: object) -> None:
    found = run.regions.get(record.code)
    county = run.county
    if found is None:
        region_id = 0
        if not run.dry_run:
            region_id = repo.insert_region(
                run.conn, code=record.code, name=record.name, level=level, parent_code=parent
            )
        run.regions[record.code] = repo.Region(region_id, level, record.name, parent, county)
        tally.added += 1  # type: ignore[attr-defined]
    elif (found.name, found.parent_code) == (record.name, parent):
        tally.unchanged += 1  # type: ignore[attr-defined]
    else:
        if not run.dry_run:
            repo.update_region(run.conn, code=record.code, name=record.name, parent_code=parent)
        run.regions[record.code] = repo.Region(found.id, level, record.name, parent, county)
        tally.updated += 1  # type: ignore[attr-defined]


def import_teams(run: Run, table: Table) -> None:
    """Family-doctor teams, each of a township of the county."""
    tally = run.tallies[table.source.kind]
    for record in _rows(run, table, with_township=True):
        township = record.township or ""
        problem = _township_problem(run, table, township)
        found = run.teams.get(record.code)
        home = run.regions.get(found.township_code) if found is not None else None
        if problem is None and home is not None and home.county_code != run.county:  # another county's team
            words = run.reason("level.other_county", {})
            problem = Problem(table.headers["code"], "code_taken", {"code": record.code, "level": words})
        if problem:
            run.refuse(table, record.row, [problem])
            continue
        if found is not None and (found.name, found.township_code) == (record.name, township):
            tally.unchanged += 1
            continue
        team_id = found.id if found else 0
        if not run.dry_run:
            team_id = repo.upsert_team(run.conn, code=record.code, name=record.name, township_code=township)
        run.teams[record.code] = repo.Team(team_id, record.name, township)
        if found is None:
            tally.added += 1
        else:
            tally.updated += 1
