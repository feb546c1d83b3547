"""`cdm readings …` (waiting readings, staff matches) and `cdm patients register`.

An ID-card number is never a command-line argument (it would stay in shell history and in `ps`): the commands
that need one read it from standard input, hidden when typed at a terminal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import typer

from cdm import secret_files
from cdm.commands import refuse, run_in_store
from cdm.i18n import Refusal
from cdm.id_keys import IdCardKeyring
from cdm.settings import Settings
from ingest.attribution.logic import NewPatient
from ingest.attribution.service import Reassess, attach_id_card, attribute, list_waiting, register_patient, rekey

readings_app = typer.Typer(no_args_is_help=True, help="Readings waiting for a patient: list, attribute")


def _reassess(settings: Settings) -> Reassess:
    return Reassess.from_settings(settings, now=datetime.now(UTC))


def _read_id_number() -> str:
    return str(typer.prompt("ID-card number / 身份证号", hide_input=True, err=True)).strip()


@readings_app.command("unattributed")
def unattributed(
    ctx: typer.Context,
    clinic: Annotated[str | None, typer.Option(help="only this village clinic")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
) -> None:
    """Readings whose patient reference matched nobody, newest first (references masked)."""
    run_in_store(ctx, lambda conn: list_waiting(conn, clinic_code=clinic, limit=limit))


@readings_app.command("attribute")
def attribute_cmd(
    ctx: typer.Context,
    patient: Annotated[str, typer.Option(help="the patient's health-card number")],
    by: Annotated[str, typer.Option("--by", help="your account name (audited)")],
    meter: Annotated[str | None, typer.Option(help="meter id of one reading")] = None,
    seq: Annotated[int | None, typer.Option(help="its sequence number")] = None,
    ref_scheme: Annotated[
        Literal["health_card", "qr", "id_card"] | None,
        typer.Option(help="or: every reading waiting under this reference (id_card: number read from stdin)"),
    ] = None,
    ref: Annotated[str | None, typer.Option(help="the reference as entered at the meter (not for id_card)")] = None,
) -> None:
    """Attribute waiting readings to a patient and re-assess them."""
    settings: Settings = ctx.obj
    reading = (meter, seq) if meter is not None and seq is not None else None
    reference: tuple[str, str] | None = None
    if ref_scheme == "id_card":
        reference = (ref_scheme, _read_id_number())
    elif ref_scheme and ref:
        reference = (ref_scheme, ref)

    def work(conn: Any) -> dict[str, Any]:
        return attribute(
            conn,
            patient_card=patient,
            by=by,
            reassess=_reassess(settings),
            reading=reading,
            ref=reference,
            keyring=settings.id_card_keyring,
        )

    run_in_store(ctx, work)


def register_patient_cmd(
    ctx: typer.Context,
    health_card: Annotated[str, typer.Option(help="health-card number")],
    village: Annotated[str, typer.Option(help="village clinic code")],
    sex: Annotated[Literal["M", "F"], typer.Option(help="M or F")],
    birth_year: Annotated[int, typer.Option()],
    hypertension: Annotated[bool, typer.Option()] = False,
    diabetes: Annotated[bool, typer.Option()] = False,
    team: Annotated[str | None, typer.Option(help="family-doctor team code")] = None,
    qr: Annotated[str | None, typer.Option(help="QR code printed on the card")] = None,
    with_id_card: Annotated[bool, typer.Option(help="read the ID-card number from stdin (hidden)")] = False,
) -> None:
    """Register a patient; readings waiting under their card, QR or ID-card number are attributed to them."""
    settings: Settings = ctx.obj
    id_number = _read_id_number() if with_id_card else None
    patient = NewPatient(
        health_card_no=health_card,
        sex=sex,
        birth_year=birth_year,
        village_code=village,
        team_code=team,
        hypertension=hypertension,
        diabetes=diabetes,
        qr_code=qr,
    )
    run_in_store(
        ctx,
        lambda conn: register_patient(
            conn,
            patient,
            id_number=id_number,
            keyring=settings.id_card_keyring,
            reassess=_reassess(settings),
        ),
    )


def set_id_card_cmd(
    ctx: typer.Context, patient: Annotated[str, typer.Option(help="the patient's health-card number")]
) -> None:
    """Record a registered patient's ID-card number (read from stdin, hidden); waiting readings are attributed."""
    settings: Settings = ctx.obj
    id_number = _read_id_number()
    run_in_store(
        ctx,
        lambda conn: attach_id_card(
            conn,
            patient_card=patient,
            id_number=id_number,
            keyring=settings.id_card_keyring,
            reassess=_reassess(settings),
        ),
    )


id_cards_app = typer.Typer(no_args_is_help=True, help="The ID-card key: rotate it, re-key the stored hashes")


@id_cards_app.command("rekey")
def rekey_cmd(ctx: typer.Context) -> None:
    """Wrap every stored ID-card hash not yet under the current key (CDM_ID_CARD_KEY); needs no ID-card number."""
    settings: Settings = ctx.obj
    run_in_store(ctx, lambda conn: rekey(conn, settings.id_card_keyring))


@id_cards_app.command("rotate-key")
def rotate_key_cmd(ctx: typer.Context) -> None:
    """A new ID-card key in <data dir>/secrets/id_card.key (the old one kept as retired), then re-key the store."""
    settings: Settings = ctx.obj
    path = secret_files.secret_file(settings.data_dir, "id_card_key")
    if not path.is_file() or secret_files.read_secret(path) != settings.id_card_key.get_secret_value():
        refuse(settings, Refusal("cli.refused.key_in_environment"), code=2)
    old = settings.id_card_keyring
    retired, _ = secret_files.rotate_id_card_key(settings.data_dir, key_id=old.current_id)
    keyring = IdCardKeyring(current=secret_files.read_secret(path).encode(), retired=(*old.retired, old.current))

    def work(conn: Any) -> dict[str, Any]:
        return {**rekey(conn, keyring), "retired_key_file": str(retired), "back_up": [str(path), str(retired)]}

    run_in_store(ctx, work)
