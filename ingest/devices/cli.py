"""`cdm devices …`: provision meters, issue broker accounts, write the broker's password file and ACL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Literal

import typer

from cdm.commands import refuse, run_in_store
from cdm.i18n import Refusal
from cdm.settings import Settings
from ingest.devices import service as devices
from ingest.devices.broker import TlsListener
from ingest.devices.logic import Credentials

devices_app = typer.Typer(no_args_is_help=True, help="Meters: provisioning, MQTT credentials, broker files, revocation")


def _shown_once(creds: Credentials) -> dict[str, str]:
    out = {"username": creds.username, "password": creds.password}
    if creds.uid:
        out["uid"] = creds.uid
    out["note"] = "the password is shown only now (the store keeps its hash); configure the meter with it"
    return out


@devices_app.command("provision")
def provision(
    ctx: typer.Context,
    kind: Annotated[Literal["bp", "glucose"], typer.Option("--type", help="bp or glucose")],
    clinic: Annotated[str, typer.Option(help="village clinic code where the meter stands")],
    serial: Annotated[str, typer.Option(help="serial number on the meter's label")],
    imei: Annotated[str, typer.Option(help="the 4G module's IMEI (15 digits)")],
    uid: Annotated[str | None, typer.Option(help="meter id in topics (default BP-<serial> / GLU-<serial>)")] = None,
) -> None:
    """Register a meter and print its own MQTT username and password, once."""
    run_in_store(
        ctx,
        lambda conn: _shown_once(
            devices.provision(
                conn, kind=kind, clinic_code=clinic, serial=serial, imei=imei, uid=uid, now=datetime.now(UTC)
            )
        ),
    )


@devices_app.command("rotate")
def rotate(ctx: typer.Context, uid: Annotated[str, typer.Argument(help="meter id")]) -> None:
    """Issue a provisioned meter new credentials (regenerate the broker files afterwards)."""
    run_in_store(ctx, lambda conn: _shown_once(devices.rotate(conn, uid=uid)))


@devices_app.command("account")
def account(
    ctx: typer.Context,
    username: Annotated[str, typer.Option(help="account name, e.g. cdm-ingest")],
    role: Annotated[Literal["ingest", "simulator", "monitor"], typer.Option(help="what it may do")] = "ingest",
) -> None:
    """A broker account for ingest workers (or a monitor; `simulator` only for demos); password printed once."""
    run_in_store(
        ctx, lambda conn: _shown_once(devices.add_account(conn, username=username, role=role, now=datetime.now(UTC)))
    )


@devices_app.command("revoke")
def revoke(ctx: typer.Context, uid: Annotated[str, typer.Argument(help="meter id or account name")]) -> None:
    """Revoke a meter or account; regenerate the broker files and reload the broker for it to take effect."""
    run_in_store(ctx, lambda conn: {"revoked": uid, "was": devices.revoke(conn, uid=uid, now=datetime.now(UTC))})


@devices_app.command("move")
def move(
    ctx: typer.Context,
    uid: Annotated[str, typer.Argument(help="meter id")],
    clinic: Annotated[str, typer.Option(help="the village clinic it now stands in")],
    at: Annotated[datetime | None, typer.Option(help="since when (ISO time, default now)")] = None,
) -> None:
    """Record that a meter moved to another clinic; readings measured since then belong to that clinic."""
    settings: Settings = ctx.obj
    when = at or datetime.now(UTC)
    when = when if when.tzinfo else when.replace(tzinfo=settings.tz)  # a time without offset is China time
    run_in_store(ctx, lambda conn: devices.move(conn, uid=uid, clinic_code=clinic, at=when))


@devices_app.command("list")
def list_(
    ctx: typer.Context, clinic: Annotated[str | None, typer.Option(help="only this village clinic")] = None
) -> None:
    """Meters with their clinic, provisioning and online/offline status."""
    run_in_store(ctx, lambda conn: devices.list_devices(conn, clinic_code=clinic))


@devices_app.command("broker-files")
def broker_files(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(help="folder for passwd, acl and cdm-auth.conf")],
    owner: Annotated[
        str | None, typer.Option(help="give the files to this user (the broker's, e.g. mosquitto)")
    ] = None,
    tls_port: Annotated[int | None, typer.Option(help="add a TLS listener on this port (e.g. 8883)")] = None,
    tls_cafile: Annotated[Path | None, typer.Option(help="CA that signs client certificates (PEM)")] = None,
    tls_certfile: Annotated[Path | None, typer.Option(help="the broker's certificate (PEM)")] = None,
    tls_keyfile: Annotated[Path | None, typer.Option(help="the broker's private key (PEM)")] = None,
    require_certificate: Annotated[bool, typer.Option(help="clients must present a certificate of the CA")] = True,
    identity_as_username: Annotated[
        bool, typer.Option(help="a client certificate's CN is its username and client id (per-meter certificates)")
    ] = False,
) -> None:
    """Write Mosquitto's password file and ACL from the registry (then `kill -HUP` the broker to reload)."""
    settings: Settings = ctx.obj
    tls = None
    if tls_port is not None:
        if not (tls_cafile and tls_certfile and tls_keyfile):
            refuse(settings, Refusal("cli.refused.tls_files"), code=2)
        tls = TlsListener(tls_port, tls_cafile, tls_certfile, tls_keyfile, require_certificate, identity_as_username)
    run_in_store(
        ctx,
        lambda conn: devices.write_broker_files(
            out, devices.broker_accounts(conn), county_code=settings.county_code, owner=owner, tls=tls
        ),
    )
