"""The `cdm` command: one entry point for every process of the system."""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import signal
import threading
from collections.abc import Callable
from typing import Annotated

import typer

from alerts.cli import alerts_app, contacts_app, notifications_app
from alerts.followups.cli import followups_app
from alerts.reminders.cli import patient_contact
from app.deploy.cli import deploy_app
from app.monitor.cli import health_cmd, metrics_cmd
from assess.cli import assess_command
from assess.risk.cli import model_app
from bench.cli import bench_app
from cdm.i18n import t
from cdm.privacy import install_log_redaction
from cdm.settings import Settings, SettingsError, load_settings
from dashboard.auth.cli import users_app
from dashboard.report.cli import report_app
from ingest.attribution.cli import id_cards_app, readings_app, register_patient_cmd, set_id_card_cmd
from ingest.devices.cli import devices_app
from registry.fhir.cli import export_app
from registry.importing.cli import registry_app

app = typer.Typer(add_completion=False, no_args_is_help=True, help="County chronic-disease monitor (慢病监测)")
db_app = typer.Typer(no_args_is_help=True, help="The store: migrations")
app.add_typer(db_app, name="db")


log = logging.getLogger("cdm")


@app.callback()
def _main(log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR")] = "INFO") -> None:
    from app.logs import configure

    configure(log_level)
    install_log_redaction()  # no identity or mobile number in clear in any log line of any process


def settings_or_exit(*, need_database: bool = True) -> Settings:
    """The settings, or exit 2 with a message naming what is wrong (for every `cdm` command)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    from app.logs import use_format

    use_format(settings.log_format)
    if need_database and not settings.database_url:
        typer.echo(t("cli.no_database", settings.language), err=True)
        raise typer.Exit(2)
    return settings


def process_settings(process: str) -> Settings:
    """The settings of a long-running process, its metrics enabled before anything is counted (cdm.metrics)."""
    from cdm.metrics import enable

    settings = settings_or_exit()
    enable(settings, process=process)
    return settings


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C (for the commands of other modules)."""
    return _stop_on_signals()


def _stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or Ctrl-C, so a process finishes its current work and exits cleanly."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Make the owner and runtime roles, apply pending migrations as the owner, grant the runtime role its rights
    (a second run changes nothing). Connects with CDM_DATABASE_ADMIN_URL, else CDM_DATABASE_URL."""
    from cdm import db_roles
    from cdm.store import upgrade_store

    settings = settings_or_exit()
    services_url = settings.database_url or ""
    user, password = db_roles.url_user(services_url)
    roles = db_roles.DbRoles(
        owner=settings.db_owner_role,
        runtime=settings.db_runtime_role,
        runtime_password=password if user == settings.db_runtime_role else None,
    )
    admin_url = settings.database_admin_url or services_url
    if db_roles.url_user(admin_url)[0] == roles.runtime:
        typer.echo(t("cli.runtime_may_not_migrate", settings.language), err=True)
        raise typer.Exit(2)
    result = upgrade_store(admin_url, roles=roles)
    if user != roles.runtime:
        log.warning(
            "the services connect as %r, not as the runtime role %r: point CDM_DATABASE_URL at it", user, roles.runtime
        )
    typer.echo(json.dumps({**result, "services_connect_as": user}))


secrets_app = typer.Typer(no_args_is_help=True, help="The deployment's secrets (session, webhook, ID-card key)")
app.add_typer(secrets_app, name="secrets")


@secrets_app.command("init")
def secrets_init() -> None:
    """Make the secret files not yet set or on file (mode 0600 under <data dir>/secrets/); prints where they are."""
    from cdm import secret_files

    try:
        settings = load_settings(generate_secrets=True)
    except SettingsError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    files = {name: str(secret_files.secret_file(settings.data_dir, name)) for name in secret_files.FILES}
    typer.echo(json.dumps({"secrets": files, "back_up": files["id_card_key"]}))


@app.command()
def ingest() -> None:
    """Subscribe to the county's meters and store their readings (ack after commit)."""
    from ingest.worker import run

    totals = run(process_settings("ingest"), stop=_stop_on_signals())
    typer.echo(json.dumps(dataclasses.asdict(totals)))


@app.command()
def worker() -> None:
    """Send notifications from the outbox and run the scheduled jobs."""
    from app.worker import run

    run(process_settings("worker"), stop=_stop_on_signals())


@app.command()
def dashboard() -> None:
    """Serve the Dash screens."""
    from dashboard.app import serve

    serve(process_settings("dashboard"), stop=_stop_on_signals())


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


def main() -> None:
    """Console-script entry point."""
    app()


def _with_settings(ctx: typer.Context) -> None:
    """Load the settings once, for every command of a stage's group (they read `ctx.obj`)."""
    ctx.obj = settings_or_exit()


def _with_settings_no_store(ctx: typer.Context) -> None:
    ctx.obj = settings_or_exit(need_database=False)


def _assemble() -> None:
    """Each stage offers its commands; the application gathers them under `cdm` and hands them the settings."""
    patients_app = typer.Typer(no_args_is_help=True, help="Patients: registration, ID card, reminder contact")
    patients_app.command("register")(register_patient_cmd)
    patients_app.command("set-id-card")(set_id_card_cmd)
    patients_app.command("contact")(patient_contact)
    groups: tuple[tuple[typer.Typer, str, Callable[[typer.Context], None]], ...] = (
        (alerts_app, "alerts", _with_settings),
        (followups_app, "followups", _with_settings),
        (contacts_app, "contacts", _with_settings),
        (notifications_app, "notifications", _with_settings),
        (patients_app, "patients", _with_settings),
        (users_app, "users", _with_settings),
        (devices_app, "devices", _with_settings),
        (readings_app, "readings", _with_settings),
        (id_cards_app, "id-cards", _with_settings),
        (model_app, "model", _with_settings_no_store),
        (bench_app, "bench", _with_settings_no_store),
        (registry_app, "registry", _with_settings_no_store),  # `import` checks for the store; `template` needs none
        (export_app, "export", _with_settings),
        (report_app, "report", _with_settings),
        (deploy_app, "deploy", _with_settings_no_store),
    )
    for sub, name, load in groups:
        sub.callback()(load)
        app.add_typer(sub, name=name)
    app.command("assess")(_no_store(assess_command))
    app.command("metrics")(metrics_cmd)
    app.command("health")(health_cmd)


def _no_store(command: Callable[..., None]) -> Callable[..., None]:
    """A top-level command of a stage, with the settings (no store needed) in `ctx.obj`."""

    @functools.wraps(command)
    def run(ctx: typer.Context, *args: object, **kwargs: object) -> None:
        ctx.obj = settings_or_exit(need_database=False)
        command(ctx, *args, **kwargs)

    return run


_assemble()


if __name__ == "__main__":
    main()
