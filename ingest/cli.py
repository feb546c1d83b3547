"""Registers the ingest stage's commands on `cdm`: devices, readings (attribution), patients register."""

from __future__ import annotations

from collections.abc import Callable

import typer


def register(app: typer.Typer, with_settings: Callable[..., None]) -> None:
    """Add `cdm devices …`, `cdm readings …`, `cdm id-cards …`, `cdm patients register` and `set-id-card`."""
    from alerts.cli import patients_app
    from ingest.attribution.cli import id_cards_app, readings_app, register_patient_cmd, set_id_card_cmd
    from ingest.devices.cli import devices_app

    for sub, name in ((devices_app, "devices"), (readings_app, "readings"), (id_cards_app, "id-cards")):
        sub.callback()(with_settings)
        app.add_typer(sub, name=name)
    patients_app.command("register")(register_patient_cmd)
    patients_app.command("set-id-card")(set_id_card_cmd)
