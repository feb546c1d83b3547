"""Importing patients, the big file (a county holds some 260,000): rows are streamed from the file through the
checks straight into a COPY, never held in memory together; the store's checks, the comparison with what is
stored and the writes are set-based statements (patients.repo). Readings waiting for the new
patients are attributed, and every new or changed patient is assessed, as registering one patient does."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from alerts.service import AlertContext, assess_and_alert
from cdm.privacy import mask_phone
from registry.importing import cells
from registry.importing.cells import CellProblem
from registry.importing.files import Table, has_bad_characters
from registry.importing.logic import FirstSeen, PatientRow, Problem, patient_row
from registry.importing.patients import repo
from registry.importing.report import Line

if TYPE_CHECKING:
    from registry.importing.service import Run

log = logging.getLogger(__name__)

ASSESS_CHUNK = 10_000  # patients per rescore call: one summary query each, bounded memory
# New patients without readings are assessed at once when an import brings a few (a weekly update); a go-live
# import of a whole county leaves them to the nightly rescore (app.jobs.rescore_everyone, two processes), which
# does the same work at about three times the rate, instead of holding the import's transaction open for it.
ASSESS_NEW_AT_ONCE_MAX = 20_000
# What the store's checks (repo.conflicts) found, as (column field, reason code).
_CONFLICT_REASONS = {
    "id_number": ("id_number", "duplicate_in_store"),
    "id_on_record": ("id_number", "id_other_on_record"),
    "card": ("card", "duplicate_in_store"),
    "card_in_file": ("card", "duplicate_in_file"),
}
_MASKED_FIELDS = {"phone": mask_phone}


def import_patients(run: Run, table: Table) -> None:
    """Check, compare and (unless dry) write the file's patients; report every refused row and missing patient."""
    conn = run.conn
    repo.create_staging(conn)
    _stream(run, table)
    repo.resolve_targets(conn)
    _store_checks(run, table)
    changes = repo.changes(conn, tz=run.settings.timezone)
    stored, new = repo.counts(conn)
    changed = sorted({c[1] for c in changes})
    tally = run.tallies[table.source.kind]
    tally.added, tally.updated, tally.unchanged = new, len(changed), stored - len(changed)
    missing = repo.missing(conn, county_id=run.county_id)
    run.missing = len(missing)
    name, column = table.source.path.name, table.headers["record_no"]
    run.lines.extend(Line(name, None, column, run.reason("not_in_file", {"record": r})) for r in missing)
    if run.dry_run:
        run.attributed = repo.waiting_readings(conn)
        return
    repo.mark_changed(conn, changed)
    if run.import_id is not None:
        repo.write_history(conn, _history(changes), import_id=run.import_id, now=run.now)
    tz = run.settings.timezone
    repo.update_changed(conn, tz=tz)
    repo.write_details(conn, now=run.now)
    repo.insert_new(conn, tz=tz, now=run.now)
    moved = repo.attribute_waiting(conn, now=run.now)
    run.attributed = len(moved)
    touched = set(repo.changed_ids(conn, with_new=new <= ASSESS_NEW_AT_ONCE_MAX))
    _assess(run, touched | set(moved))


def _stream(run: Run, table: Table) -> None:
    """Every row checked and copied into staging (a refused row with its record number only)."""
    tally = run.tallies[table.source.kind]
    seen = FirstSeen()
    keyring, chains = run.settings.id_card_keyring, repo.key_chains(run.conn)
    regions, teams, county = run.regions, run.teams, run.county
    with repo.staging_copy(run.conn) as copy:
        for number, raw in table.rows:
            tally.rows += 1
            record, problems = patient_row(
                number, raw, headers=table.headers, today=run.today, keyring=keyring, chains=chains
            )
            if has_bad_characters(raw):
                problems.append(Problem("", "bad_encoding"))
            record_no = record.record_no if record else _record_no(raw)
            problems += seen.repeated("record_no", record_no, number, table.headers)
            if record is not None:
                problems += _references(record, table, regions=regions, teams=teams, county=county)
                id_digest = record.id_card.digest if record.id_card else None
                for name, value in (("id_number", id_digest), ("card", record.card)):
                    problems += seen.repeated(name, value, number, table.headers)
            if problems or record is None:
                run.refuse(table, number, problems)
                copy.write_row((number, True, record_no) + (None,) * (len(repo.STAGING_COLUMNS) - 3))
            else:
                copy.write_row(_staged(record, regions[record.village].id, teams[record.team].id))


def _record_no(raw: dict[str, object]) -> str | None:
    try:
        return cells.identifier(raw.get("record_no"))
    except CellProblem:
        return None


def _references(record: PatientRow, table: Table, *, regions: dict, teams: dict, county: str) -> list[Problem]:
    """The village must be a village clinic of the county; the team one of that village's township."""
    problems = []
    village = regions.get(record.village)
    if village is None or village.level != "village" or village.county_code != county:
        problems.append(Problem(table.headers["village"], "unknown_village", {"code": record.village}))
        village = None
    team = teams.get(record.team)
    if team is None or regions.get(team.township_code) is None or regions[team.township_code].county_code != county:
        problems.append(Problem(table.headers["team"], "unknown_team", {"code": record.team}))
    elif village is not None and team.township_code != village.parent_code:
        values = {"team": record.team, "village": record.village}
        problems.append(Problem(table.headers["team"], "team_other_township", values))
    return problems


def _staged(r: PatientRow, village_id: int, team_id: int) -> tuple[object, ...]:
    return (
        r.row,
        False,
        r.record_no,
        r.name,
        r.sex,
        r.birth_date,
        r.id_card.digest if r.id_card else None,
        r.id_card.key_id if r.id_card else None,
        [d for d, _ in r.id_card.stored] if r.id_card else None,
        [c for _, c in r.id_card.stored] if r.id_card else None,
        r.id_card.masked if r.id_card else None,
        r.phone,
        r.address,
        r.village,
        r.team,
        r.hypertension,
        r.diabetes,
        r.managed_since,
        r.card,
        r.on_bp_treatment,
        r.total_cholesterol,
        r.hdl,
        r.waist,
        r.height,
        r.weight,
        r.smoker,
        r.family_history,
        r.urban,
        village_id,
        team_id,
        r.card or r.record_no,
    )


def _store_checks(run: Run, table: Table) -> None:
    """Rows whose ID-card number or health card another record holds, or whose record holds another ID number."""
    found = repo.conflicts(run.conn)
    by_row: dict[int, list[Problem]] = {}
    for row, what, other in found:
        name, code = _CONFLICT_REASONS[what]
        header = table.headers[name]
        values = {"column": header, "record": other, "row": other}
        by_row.setdefault(row, []).append(Problem(header, code, values))
    if by_row:
        repo.refuse(run.conn, sorted(by_row))
    for row in sorted(by_row):
        run.refuse(table, row, by_row[row])


def _history(
    changes: list[tuple[int, int, str, str | None, str | None]],
) -> list[tuple[int, str, str | None, str | None]]:
    """The history rows of the changes: phone numbers masked, ID-card numbers only ever masked already."""
    out = []
    for _row, patient_id, name, old, new in changes:
        mask = _MASKED_FIELDS.get(name)
        if mask is not None:
            old, new = (mask(old) if old else old), (mask(new) if new else new)
        out.append((patient_id, name, old, new))
    return out


def _assess(run: Run, patient_ids: set[int]) -> None:
    """Assess the new and changed patients (and those given readings), alerting where one turned red."""
    ctx = AlertContext.from_settings(run.settings)
    ids = sorted(patient_ids)
    for start in range(0, len(ids), ASSESS_CHUNK):
        chunk = ids[start : start + ASSESS_CHUNK]
        # as registering one patient does: the readings they are given may alert (ingest.attribution.service)
        assess_and_alert(run.conn, patient_ids=chunk, fresh=chunk, now=run.now, ctx=ctx)
