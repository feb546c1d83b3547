"""`cdm bench …`: the benchmarks, each printing one JSON line of figures (the README records them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks: each prints one JSON line of figures")

# The options several benchmarks take (each command gives its own default).
SimulatedPatients = Annotated[int, typer.Option(help="patients of the simulated county")]
SyntheticPatients = Annotated[int, typer.Option(help="patients in the synthetic county")]
Reuse = Annotated[bool, typer.Option(help="keep the generated database under /tmp for the next run")]


def _print(figures: dict[str, Any]) -> None:
    """A benchmark's figures as its one JSON line."""
    typer.echo(json.dumps(figures, ensure_ascii=False))


@bench_app.command("alerts")
def bench_alerts(
    ctx: typer.Context,
    rate: Annotated[float, typer.Option(help="background readings per second")] = 1000.0,
    criticals: Annotated[int, typer.Option(help="critical readings, each a different patient")] = 200,
    interval: Annotated[float, typer.Option(help="seconds between critical readings")] = 0.1,
) -> None:
    """Meters -> broker -> ingest -> dispatcher -> both centres, under background load."""
    from bench.alerts import run

    _print(run(settings=ctx.obj, rate=rate, criticals=criticals, interval=interval))


@bench_app.command("score")
def bench_score(
    ctx: typer.Context,
    patients: SyntheticPatients = 1_000_000,
    reuse: Reuse = False,
) -> None:
    """A full rescore of a synthetic county, store to store, and the incremental path of ingest."""
    from bench.score import run

    _print(run(settings=ctx.obj, patients=patients, reuse=reuse))


@bench_app.command("ingest")
def bench_ingest(
    ctx: typer.Context,
    readings: Annotated[int, typer.Option(help="backlog published before ingest starts (QoS 1)")] = 300_000,
    workers: Annotated[int, typer.Option(help="ingest processes sharing the stream ($share/...)")] = 1,
    live_rate: Annotated[float, typer.Option(help="readings/s offered in the latency run")] = 2_000.0,
    live_seconds: Annotated[float, typer.Option(help="length of the latency run")] = 20.0,
    naive_readings: Annotated[
        int, typer.Option(help="backlog messages the one-row-per-commit baseline drains")
    ] = 30_000,
    patients: SimulatedPatients = 3_000,
    profile: Annotated[
        Path | None, typer.Option(help="folder for py-spy, pg_stat_statements and EXPLAIN of the drain")
    ] = None,
    storm: Annotated[
        bool, typer.Option(help="the replay storm instead: --meters reconnect and replay, fresh criticals among them")
    ] = False,
    meters: Annotated[int, typer.Option(help="meters of the storm (two a clinic)")] = 1_000,
    buffered: Annotated[int, typer.Option(help="stale readings each meter replays in the storm")] = 20,
    criticals: Annotated[int, typer.Option(help="fresh critical readings among the storm's replays")] = 100,
    stages: Annotated[
        bool, typer.Option(help="CPU per reading of each stage, Python and PostgreSQL, without a broker")
    ] = False,
) -> None:
    """A backlog drained by ingest vs a bare paho subscriber and a one-row-per-commit one; live latency.

    With --storm: the replay storm (bench/ingest_storm.py); --live-rate, --live-seconds and --patients apply."""
    if stages:
        from bench.ingest_stages import run as run_stages

        _print(run_stages(settings=ctx.obj, readings=readings, patients=patients))
        return
    if storm:
        from bench.ingest_storm import run as run_storm

        out = run_storm(settings=ctx.obj, meters=meters, buffered=buffered, criticals=criticals,
                        live_rate=live_rate, live_seconds=live_seconds, patients=patients)  # fmt: skip
        _print(out)
        return
    from bench.ingest import run

    figures = run(
        settings=ctx.obj,
        readings=readings,
        workers=workers,
        live_rate=live_rate,
        live_seconds=live_seconds,
        naive_readings=naive_readings,
        patients=patients,
        profile=profile,
    )
    _print(figures)


@bench_app.command("dashboard")
def bench_dashboard(
    ctx: typer.Context,
    patients: SyntheticPatients = 260_000,
    readings_per_patient: Annotated[int, typer.Option(help="readings a year per patient")] = 40,
    iterations: Annotated[int, typer.Option(help="timed calls per screen")] = 40,
    reuse: Reuse = False,
    database: Annotated[
        str | None,
        typer.Option(help="database name on CDM_DATABASE_URL's server (default cdm_bench_dashboard_<patients>)"),
    ] = None,
) -> None:
    """The server side of each screen's main callbacks on a county of 260,000 patients."""
    from bench.dashboard import run

    figures = run(
        settings=ctx.obj,
        patients=patients,
        readings_per_patient=readings_per_patient,
        iterations=iterations,
        reuse=reuse,
        database=database,
    )
    _print(figures)


@bench_app.command("import")
def bench_import(
    ctx: typer.Context,
    patients: Annotated[int, typer.Option(help="patients in the county's GB18030 CSV")] = 260_000,
    baseline_patients: Annotated[int, typer.Option(help="patients the one-at-a-time baseline registers")] = 1_000,
) -> None:
    """A county's registry files imported into an empty store (`cdm registry import`), vs one patient at a time."""
    from bench.import_registry import run

    _print(run(settings=ctx.obj, patients=patients, baseline_patients=baseline_patients))


@bench_app.command("storage")
def bench_storage(
    patients: SimulatedPatients = 3_000,
    days: Annotated[int, typer.Option(help="days of past readings")] = 90,
) -> None:
    """Bytes a reading takes on PostgreSQL and on TimescaleDB (compressed), disk per 100,000 patients a year."""
    from bench.storage import run

    _print(run(patients=patients, days=days))


@bench_app.command("capacity")
def bench_capacity(
    ctx: typer.Context,
    readings: Annotated[int, typer.Option(help="readings the meters publish to a running ingest")] = 30_000,
    alerts: Annotated[int, typer.Option(help="critical readings, each a new alert for a patient of its own")] = 1_000,
    patients: SimulatedPatients = 3_000,
) -> None:
    """Readings and alerts per CPU-second of the server's processes (ingest, worker, PostgreSQL, Mosquitto)."""
    from bench.capacity import run

    figures = run(settings=ctx.obj, readings=readings, alerts=alerts, patients=patients)
    _print(figures)
