"""Importing meters: each provisioned through the device registry (ingest.devices.service) with MQTT credentials of
its own, which go to the run's 0600 credentials file only; a meter in another clinic than the file says is moved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ingest.devices import service as devices
from ingest.devices.logic import meter_uid
from registry.importing import repo
from registry.importing.files import Table
from registry.importing.logic import FirstSeen, Problem
from registry.importing.report import Secret
from registry.importing.rows import MeterRow, meter_row

if TYPE_CHECKING:
    from registry.importing.service import Run


def import_meters(run: Run, table: Table) -> None:
    """Provision new meters, move those the file places elsewhere; refuse an IMEI another meter holds."""
    tally = run.tallies[table.source.kind]
    by_uid, by_imei = repo.meters(run.conn)
    for record in run.checked(
        table,
        lambda number, raw: meter_row(number, raw, headers=table.headers),
        lambda record, seen: _checks(run, table, record, seen=seen, by_uid=by_uid, by_imei=by_imei),
    ):
        uid = _uid(record)
        found = by_uid.get(uid)
        if found is not None and found.provisioned and found.clinic_code == record.clinic:
            tally.unchanged += 1
            continue
        if found is None:
            tally.added += 1
        else:
            tally.updated += 1
        if not run.dry_run:
            _write(run, record, uid=uid, found=found)
        by_uid[uid] = repo.Meter(uid, record.kind, record.imei, record.clinic, True, False)


def _uid(record: MeterRow) -> str:
    return meter_uid(record.kind, record.serial)


def _checks(
    run: Run,
    table: Table,
    record: MeterRow,
    *,
    seen: FirstSeen,
    by_uid: dict[str, repo.Meter],
    by_imei: dict[str, str],
) -> list[Problem]:
    h = table.headers
    problems = []
    uid = _uid(record)
    for name, value in (("serial", uid), ("imei", record.imei)):
        problems += seen.repeated(name, value, record.row, h)
    clinic = run.regions.get(record.clinic)
    if clinic is None or clinic.level != "village" or clinic.county_code != run.county:
        problems.append(Problem(h["clinic"], "unknown_village", {"code": record.clinic}))
    holder = by_imei.get(record.imei)  # the store's meters; a repeat within the file is named above
    if holder is not None and holder != uid:
        problems.append(Problem(h["imei"], "imei_taken", {"uid": holder}))
    found = by_uid.get(uid)
    if found is not None and found.revoked:
        problems.append(Problem(h["serial"], "meter_revoked", {"uid": uid}))
    elif found is not None and (found.kind != record.kind or (found.imei and found.imei != record.imei)):
        problems.append(Problem(h["serial"], "meter_changed", {"uid": uid}))
    return problems


def _write(run: Run, record: MeterRow, *, uid: str, found: repo.Meter | None) -> None:
    if found is None or not found.provisioned:
        creds = devices.provision(
            run.conn,
            kind="bp" if record.kind == "bp" else "glucose",
            clinic_code=record.clinic,
            serial=record.serial,
            imei=record.imei,
            now=run.now,
            uid=uid,
        )
        run.secrets.append(Secret("meter", creds.username, creds.password))
    else:
        devices.move(run.conn, uid=uid, clinic_code=record.clinic, at=run.now)
