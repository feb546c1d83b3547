"""The `cdm` command: one entry point for every process of the system."""

from __future__ import annotations

import dataclasses
import json
import logging
import signal
import sys
import threading
from typing import Annotated

import typer

from cdm.settings import Settings, SettingsError, load_settings

app = typer.Typer(add_completion=False, no_args_is_help=True, help="County chronic-disease monitor (慢病监测)")
db_app = typer.Typer(no_args_is_help=True, help="The store: migrations")
app.add_typer(db_app, name="db")


def _add_workflow_commands() -> None:
    from alerts.cli import alerts_app, contacts_app, followups_app, notifications_app, patients_app
    from dashboard.auth.cli import users_app
    from dashboard.report.cli import report_app
    from registry.fhir.cli import export_app
    from registry.importing.cli import registry_app

    subs = (
        (alerts_app, "alerts"),
        (followups_app, "followups"),
        (contacts_app, "contacts"),
        (notifications_app, "notifications"),
        (patients_app, "patients"),
        (users_app, "users"),
        (registry_app, "registry"),
        (export_app, "export"),
        (report_app, "report"),
    )
    for sub, name in subs:
        sub.callback()(_with_settings)
        app.add_typer(sub, name=name)


def _with_settings(ctx: typer.Context) -> None:
    ctx.obj = settings_or_exit()


log = logging.getLogger("cdm")


@app.callback()
def _main(log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR")] = "INFO") -> None:
    logging.basicConfig(
        level=log_level.upper(), stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


def settings_or_exit(*, need_database: bool = True) -> Settings:
    """The settings, or exit 2 with a message naming what is wrong (for every `cdm` command)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    if need_database and not settings.database_url:
        typer.echo(
            "CDM_DATABASE_URL is not set (e.g. postgresql://cdm@127.0.0.1:5432/cdm); "
            "`cdm demo` starts an embedded PostgreSQL when it is unset.",
            err=True,
        )
        raise typer.Exit(2)
    return settings


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C, so a process finishes its current work and exits cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations (a second run changes nothing)."""
    from cdm.store import upgrade_store

    typer.echo(json.dumps(upgrade_store(settings_or_exit().database_url or "")))


@app.command()
def ingest() -> None:
    """Subscribe to the county's meters and store their readings (ack after commit)."""
    from ingest.worker import run

    totals = run(settings_or_exit(), stop=_stop_on_signals())
    typer.echo(json.dumps(dataclasses.asdict(totals)))


@app.command()
def worker() -> None:
    """Send notifications from the outbox and run the scheduled jobs."""
    from app.worker import run

    run(settings_or_exit(), stop=_stop_on_signals())


@app.command()
def dashboard() -> None:
    """Serve the Dash screens."""
    from dashboard.app import serve

    serve(settings_or_exit())


@app.command()
def sim(
    seconds: Annotated[float | None, typer.Option(help="stop after this many seconds (default: until Ctrl-C)")] = None,
    rate: Annotated[float, typer.Option(help="readings per second over the whole county")] = 20.0,
    townships: Annotated[int, typer.Option(min=1)] = 12,
    clinics: Annotated[int, typer.Option(min=1, help="village clinics, each with a BP and a glucose meter")] = 336,
    patients: Annotated[int, typer.Option(min=1)] = 3000,
    unstable_share: Annotated[
        float, typer.Option(min=0, max=1, help="share of patients with critical episodes")
    ] = 0.02,
    seed: Annotated[int, typer.Option()] = 1,
    duplicate_share: Annotated[float, typer.Option(min=0, max=1, help="share of readings sent twice")] = 0.01,
    bad_share: Annotated[float, typer.Option(min=0, max=1, help="share of deliberately bad messages")] = 0.005,
    register: Annotated[bool, typer.Option(help="write the county's registry into the store first")] = True,
) -> None:
    """Simulate the county's meters publishing readings; prints one JSON line of what was published."""
    from cdm import db
    from device_sim.county import generate_county
    from device_sim.publisher import run
    from device_sim.repo import register_county

    settings = settings_or_exit(need_database=register)
    county = generate_county(
        code=settings.county_code,
        name=settings.county_name,
        townships=townships,
        clinics=clinics,
        patients=patients,
        seed=seed,
        unstable_share=unstable_share,
    )
    if register:
        with db.connect(settings.database_url or "") as conn:
            register_county(conn, county)
            conn.commit()
    stats = run(
        settings,
        county,
        seconds=seconds,
        rate=rate,
        duplicate_share=duplicate_share,
        bad_share=bad_share,
        seed=seed,
        stop=_stop_on_signals(),
    )
    typer.echo(json.dumps(dataclasses.asdict(stats)))


@app.command()
def demo(
    seconds: Annotated[float | None, typer.Option(help="run this long, print a JSON summary and exit")] = None,
    patients: Annotated[int, typer.Option(min=10)] = 3000,
    rate: Annotated[float, typer.Option(help="readings per second")] = 20.0,
    unstable_share: Annotated[
        float, typer.Option(min=0, max=1, help="share of patients with critical episodes")
    ] = 0.02,
) -> None:
    """Run the whole system on this machine: store, broker, simulator, ingest, worker and dashboard."""
    from app.demo import Demo

    summary = Demo(
        settings_or_exit(need_database=False), patients=patients, rate=rate, unstable_share=unstable_share
    ).run(seconds=seconds)
    typer.echo(json.dumps(summary, ensure_ascii=False))


@app.command()
def assess(file: Annotated[str, typer.Option("--file", help="the case (JSON): patient, readings, follow-ups")]) -> None:
    """Assess one patient described in a file, without a database; prints one JSON object."""
    from assess.cli import assess_file

    raise typer.Exit(assess_file(file, settings=settings_or_exit(need_database=False)))


bench_app = typer.Typer(no_args_is_help=True, help="Benchmarks: each prints one JSON line of figures")
app.add_typer(bench_app, name="bench")


@bench_app.command("alerts")
def bench_alerts(
    rate: Annotated[float, typer.Option(help="background readings per second")] = 1000.0,
    criticals: Annotated[int, typer.Option(help="critical readings, each a different patient")] = 200,
    interval: Annotated[float, typer.Option(help="seconds between critical readings")] = 0.1,
) -> None:
    """Meters -> broker -> ingest -> dispatcher -> both centres, under background load."""
    from bench.alerts import run

    typer.echo(
        json.dumps(
            run(settings=settings_or_exit(need_database=False), rate=rate, criticals=criticals, interval=interval),
            ensure_ascii=False,
        )
    )


@bench_app.command("score")
def bench_score(
    patients: Annotated[int, typer.Option(help="patients in the synthetic county")] = 1_000_000,
    reuse: Annotated[bool, typer.Option(help="keep the generated database under /tmp for the next run")] = False,
) -> None:
    """A full rescore of a synthetic county, store to store, and the incremental path of ingest."""
    from bench.score import run

    typer.echo(json.dumps(run(settings=settings_or_exit(need_database=False), patients=patients, reuse=reuse)))


@bench_app.command("ingest")
def bench_ingest(
    readings: Annotated[int, typer.Option(help="backlog published before ingest starts (QoS 1)")] = 300_000,
    workers: Annotated[int, typer.Option(help="ingest processes sharing the stream ($share/...)")] = 1,
    live_rate: Annotated[float, typer.Option(help="readings/s offered in the latency run")] = 2_000.0,
    live_seconds: Annotated[float, typer.Option(help="length of the latency run")] = 20.0,
    naive_readings: Annotated[
        int, typer.Option(help="backlog messages the one-row-per-commit baseline drains")
    ] = 30_000,
    patients: Annotated[int, typer.Option(help="patients of the simulated county")] = 3_000,
) -> None:
    """A backlog drained by ingest vs a bare paho subscriber and a one-row-per-commit one; live latency."""
    from bench.ingest import run

    figures = run(
        settings=settings_or_exit(need_database=False),
        readings=readings,
        workers=workers,
        live_rate=live_rate,
        live_seconds=live_seconds,
        naive_readings=naive_readings,
        patients=patients,
    )
    typer.echo(json.dumps(figures, ensure_ascii=False))


@bench_app.command("dashboard")
def bench_dashboard(
    patients: Annotated[int, typer.Option(help="patients in the synthetic county")] = 260_000,
    readings_per_patient: Annotated[int, typer.Option(help="readings a year per patient")] = 40,
    iterations: Annotated[int, typer.Option(help="timed calls per screen")] = 40,
    reuse: Annotated[bool, typer.Option(help="keep the generated database under /tmp for the next run")] = False,
) -> None:
    """The server side of each screen's main callbacks on a county of 260,000 patients."""
    from bench.dashboard import run

    figures = run(
        settings=settings_or_exit(need_database=False),
        patients=patients,
        readings_per_patient=readings_per_patient,
        iterations=iterations,
        reuse=reuse,
    )
    typer.echo(json.dumps(figures, ensure_ascii=False))


@bench_app.command("import")
def bench_import(
    patients: Annotated[int, typer.Option(help="patients in the county's GB18030 CSV")] = 260_000,
    baseline_patients: Annotated[int, typer.Option(help="patients the one-at-a-time baseline registers")] = 1_000,
) -> None:
    """A county's registry files imported into an empty store (`cdm registry import`), vs one patient at a time."""
    from bench.import_registry import run

    settings = settings_or_exit(need_database=False)
    figures = run(settings=settings, patients=patients, baseline_patients=baseline_patients)
    typer.echo(json.dumps(figures, ensure_ascii=False))


def main() -> None:
    """Console-script entry point."""
    app()


_add_workflow_commands()


def _add_model_commands() -> None:
    from assess.risk.cli import model_app

    app.add_typer(model_app, name="model")


_add_model_commands()


def _add_device_commands() -> None:
    from ingest.cli import register

    register(app, _with_settings)


_add_device_commands()


if __name__ == "__main__":
    main()
