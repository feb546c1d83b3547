"""`cdm bench import`: a county's registry, 260,000 patients in one GB18030 CSV, imported into an empty store by
`cdm registry import` in a process of its own, timed from start to exit, its peak memory (max RSS) read from the
kernel. In the same run: the floor (only reading and parsing the file) and the path it replaces (registering
patients one at a time, `cdm patients register`'s service, one transaction each), and the same import again
(nothing changes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.services import EmbeddedPostgres, with_database
from bench.common import machine
from bench.registry_files import write_county
from cdm import db
from cdm.settings import Settings
from cdm.store import upgrade_store
from ingest.attribution.service import NewPatient, Reassess, register_patient
from registry.importing.files import Source, open_table
from registry.importing.service import Actor, import_directory

COUNTY = "bench"
GOAL_SECONDS = 60.0
GOAL_RSS_MB = 1024.0


def run(*, settings: Settings, patients: int, baseline_patients: int = 1_000) -> dict[str, Any]:
    """Generate the files, import them twice in a child process, measure the baselines; the figures."""
    home = Path(tempfile.mkdtemp(prefix="cdm-bench-import-"))
    server = None if settings.database_url else EmbeddedPostgres(home / "pg")
    try:
        server_url = settings.database_url or server.start()  # type: ignore[union-attr]
        county = home / "county"
        started = time.perf_counter()
        patients_file = write_county(county, patients=patients)
        generate_s = time.perf_counter() - started
        read_s = _read_only(patients_file)
        url = _fresh_database(server_url, "cdm_bench_import")
        first = _child_import(url, county, home / "report-1.csv")
        again = _child_import(url, county, home / "report-2.csv")
        per_row = _per_row_baseline(_fresh_database(server_url, "cdm_bench_import_rows"), county, baseline_patients)
        return _figures(patients, patients_file, generate_s, read_s, first, again, per_row)
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(home, ignore_errors=True)


def _figures(
    patients: int,
    patients_file: Path,
    generate_s: float,
    read_s: float,
    first: dict[str, Any],
    again: dict[str, Any],
    per_row: float,
) -> dict[str, Any]:
    seconds = first["seconds"]
    return {
        "patients": patients,
        "file_mb": round(patients_file.stat().st_size / 1e6, 1),
        "encoding": "gb18030",
        "import_s": seconds,
        "patients_per_s": round(patients / seconds, 1),
        "peak_rss_mb": first["peak_rss_mb"],
        "summary": first["summary"]["patients"],
        "again_s": again["seconds"],
        "again_summary": again["summary"]["patients"],
        "again_peak_rss_mb": again["peak_rss_mb"],
        "read_only_s": round(read_s, 2),
        "per_row_baseline_patients_per_s": round(per_row, 1),
        "ratio_to_per_row": round(patients / seconds / per_row, 1),
        "generate_s": round(generate_s, 1),
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),  # other work on the same two cores
        "goal_met": seconds <= GOAL_SECONDS and first["peak_rss_mb"] <= GOAL_RSS_MB,
        "machine": machine(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _fresh_database(server_url: str, name: str) -> str:
    with db.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}"')  # the name is this module's constant
        conn.execute(f'create database "{name}"')
    url = with_database(server_url, name)
    upgrade_store(url)
    return url


def _read_only(path: Path) -> float:
    """The floor: decoding and parsing every row of the file, nothing else."""
    started = time.perf_counter()
    with open_table(Source("patients", path)) as table:
        for _ in table.rows:
            pass
    return time.perf_counter() - started


def _child_import(url: str, directory: Path, report: Path) -> dict[str, Any]:
    """`cdm registry import` in its own process: wall time, peak RSS, its JSON line."""
    env = {**os.environ, "CDM_DATABASE_URL": url, "CDM_COUNTY_CODE": COUNTY, "CDM_LOG_LEVEL": "WARNING"}
    command = [
        sys.executable,
        "-m",
        "app.cli",
        "--log-level",
        "WARNING",
        "registry",
        "import",
        "--dir",
        str(directory),
        "--report",
        str(report),
        "--by",
        "bench",
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()  # type: ignore[union-attr]
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"cdm registry import exited {proc.returncode}: {err.decode(errors='replace')[-2000:]}")
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),  # Linux reports kilobytes
        "summary": json.loads(out.decode().strip().splitlines()[-1]),
    }


def _per_row_baseline(url: str, county: Path, count: int) -> float:
    """Patients per second registered one at a time, each in its own transaction, as `cdm patients register`."""
    places = county.parent / "places-only"
    places.mkdir(exist_ok=True)
    for name in ("townships.csv", "villages.csv", "teams.csv"):
        shutil.copy(county / name, places / name)
    settings = Settings(database_url=url, county_code=COUNTY, _env_file=None)  # type: ignore[call-arg]
    key = settings.id_card_key.get_secret_value().encode()
    with db.connect(url) as conn:
        import_directory(
            conn, directory=places, settings=settings, actor=Actor("bench"), report=county.parent / "places.csv"
        )
        conn.commit()
        rows = _first_rows(county / "patients.csv", count)
        started = time.perf_counter()
        for row in rows:
            reassess = Reassess.from_settings(settings, now=datetime.now(UTC))
            register_patient(conn, row[0], id_number=row[1], key=key, reassess=reassess)
            conn.commit()
        return len(rows) / (time.perf_counter() - started)


def _first_rows(path: Path, count: int) -> list[tuple[NewPatient, str | None]]:
    out = []
    with open_table(Source("patients", path)) as table:
        for _, raw in table.rows:
            diseases = str(raw["diseases"])
            out.append(
                (
                    NewPatient(
                        health_card_no=str(raw["card"]),
                        sex="M" if raw["sex"] == "男" else "F",
                        birth_year=int(str(raw["birth_date"])[:4]),
                        village_code=str(raw["village"]),
                        team_code=str(raw["team"]),
                        hypertension="高血压" in diseases,
                        diabetes="糖尿病" in diseases,
                    ),
                    str(raw["id_number"]) or None,
                )
            )
            if len(out) >= count:
                break
    return out
