"""Registers the ingest stage's commands on `cdm`: devices, readings (attribution), patients register."""

from __future__ import annotations

from collections.abc import Callable

import typer


def register(app: typer.Typer, with_settings: Callable[..., None]) -> None:
    """Add `cdm devices …`, `cdm readings …` and `cdm patients register` to the `cdm` command."""
    from ingest.devices_cli import devices_app

    for sub, name in ((devices_app, "devices"),):
        sub.callback()(with_settings)
        app.add_typer(sub, name=name)
