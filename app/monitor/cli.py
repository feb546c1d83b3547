"""`cdm metrics` and `cdm health`."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Annotated

import typer


class Process(StrEnum):
    all = "all"
    ingest = "ingest"
    worker = "worker"
    dashboard = "dashboard"


def metrics_cmd() -> None:
    """Serve every process's metrics and the store's gauges on one /metrics endpoint (CDM_METRICS_PORT)."""
    from app.cli import process_settings, stop_on_signals
    from app.monitor.service import serve

    serve(process_settings("metrics"), stop=stop_on_signals())


def health_cmd(
    process: Annotated[Process, typer.Argument(help="the process to check, or all")] = Process.all,
) -> None:
    """Check the store, the brokers and each process of this machine; one JSON line; exit 1 when unhealthy."""
    from app.cli import settings_or_exit
    from app.monitor.service import health

    result = health(settings_or_exit(), process=process.value)
    typer.echo(json.dumps(result, ensure_ascii=False))
    raise typer.Exit(0 if result["ok"] else 1)
