"""`cdm export fhir`: FHIR Bulk Data NDJSON files, one per resource type, and the manifest a Bulk Data client reads.

Every export is audited (`export_fhir`); the ID-card number is never in it unless asked for, and then only in the
masked form the store keeps (the store holds no full number to give: only its keyed hash and the mask).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import psycopg

from cdm import audit
from cdm.i18n import Refusal
from cdm.settings import Settings
from registry.fhir import logic, repo

TYPES = ("Patient", "Condition", "Device", "Observation", "Encounter", "RiskAssessment")


class ExportError(Refusal, LookupError):
    """An export that cannot be made as asked: a catalogue key and its values saying why."""


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What to export: where to, since when, which township, whether with the (masked) ID-card number, by whom."""

    out: Path
    by: str
    since: datetime | None = None
    township: str | None = None
    include_id_number: bool = False


def export(conn: psycopg.Connection, request: ExportRequest, *, settings: Settings) -> dict[str, Any]:
    """Write the NDJSON files and manifest.json into `request.out`; the manifest, with a count per type."""
    county = repo.county_id(conn, settings.county_code)
    if county is None:
        raise ExportError("cli.refused.no_county", code=settings.county_code)
    if request.township and not repo.township_exists(conn, county=county, code=request.township):
        raise ExportError("export.refused.no_township", code=request.township, county=settings.county_code)
    request.out.mkdir(parents=True, exist_ok=True)
    counts = dict.fromkeys(TYPES, 0)
    scope = repo.Scope(county=county, township=request.township, since=request.since)
    code, lang = settings.county_code, settings.language
    with conn.transaction(), ExitStack() as stack:
        files = {
            kind: stack.enter_context((request.out / f"{kind}.ndjson").open("w", encoding="utf-8")) for kind in TYPES
        }
        for row in repo.rows(conn, "patients", scope):
            _write(files, counts, [logic.patient(row, county=code, lang=lang, include_id=request.include_id_number)])
            _write(files, counts, logic.conditions(row, lang=lang))
        for row in repo.rows(conn, "devices", scope):
            _write(files, counts, [logic.device(row, county=code, lang=lang)])
        for row in repo.rows(conn, "readings", scope):
            _write(files, counts, logic.observations(row, county=code))
        for row in repo.rows(conn, "follow_ups", scope):
            _write(files, counts, [logic.encounter(row, county=code, lang=lang)])
        for row in repo.rows(conn, "assessments", scope):
            _write(files, counts, [logic.risk_assessment(row, lang=lang)])
        manifest = _manifest(request, counts)
        _audit(conn, request, counts)
    (request.out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def _write(files: Mapping[str, IO[str]], counts: dict[str, int], resources: Iterable[dict[str, Any]]) -> None:
    for resource in resources:
        kind = resource["resourceType"]
        files[kind].write(json.dumps(resource, ensure_ascii=False, separators=(",", ":")) + "\n")
        counts[kind] += 1


def _manifest(request: ExportRequest, counts: dict[str, int]) -> dict[str, Any]:
    """As a FHIR Bulk Data $export completes: transaction time, the request, one output entry per type."""
    query = [f"_type={','.join(TYPES)}"]
    if request.since:
        query.append(f"_since={request.since.isoformat()}")
    return {
        "transactionTime": datetime.now(UTC).isoformat(timespec="seconds"),
        "request": "cdm export fhir?" + "&".join(query),
        "requiresAccessToken": False,
        "output": [{"type": kind, "url": f"{kind}.ndjson", "count": counts[kind]} for kind in TYPES],
        "error": [],
    }


def _audit(conn: psycopg.Connection, request: ExportRequest, counts: dict[str, int]) -> None:
    detail = {
        "format": "fhir-ndjson",
        "counts": counts,
        "township": request.township,
        "since": request.since.isoformat() if request.since else None,
        "include_id_number": request.include_id_number,
    }
    audit.record(
        conn, actor=audit.Actor(request.by), action="export_fhir", screen="cli", detail=detail, match_account=True
    )
