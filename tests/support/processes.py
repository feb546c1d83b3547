"""Run the real `cdm` processes in tests, wired to the test's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cdm.settings import Settings


def env_for(settings: Settings) -> dict[str, str]:
    """Environment variables that make a child `cdm` process use these settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    values = {
        "CDM_DATABASE_URL": settings.database_url,
        "CDM_MQTT_URL": settings.mqtt_url,
        "CDM_COUNTY_CODE": settings.county_code,
        "CDM_INGEST_CLIENT_ID": settings.ingest_client_id,
        "CDM_INGEST_FLUSH_MS": str(settings.ingest_flush_ms),
        "CDM_NOTIFY_TOWNSHIP_URL": settings.notify_township_url,
        "CDM_NOTIFY_COUNTY_URL": settings.notify_county_url,
        "CDM_DASHBOARD_PORT": str(settings.dashboard_port),
        "CDM_DATA_DIR": str(settings.data_dir),
    }
    env.update({k: v for k, v in values.items() if v})
    return env


def spawn(settings: Settings, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `cdm <args>` as a child process, its output going to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "cdm.cli", *args], env=env_for(settings), stdout=out, stderr=subprocess.STDOUT
        )
