"""The `cdm` command as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from cdm.migrate import discover


def cdm(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.integration
def test_db_upgrade_twice_applies_then_reports_nothing_to_do(empty_db_url):
    first = cdm("db", "upgrade", CDM_DATABASE_URL=empty_db_url)
    second = cdm("db", "upgrade", CDM_DATABASE_URL=empty_db_url)
    assert first.returncode == 0, first.stderr
    shipped = [f"{m.version:04d}_{m.name}" for m in discover()]
    assert len(shipped) >= 8
    assert json.loads(first.stdout)["applied"] == shipped
    assert json.loads(second.stdout) == {
        "engine": "native",
        "applied": [],
        "thresholds_changed": 0,
        "partitions_created": 0,
    }


def test_a_wrong_setting_stops_the_command_with_the_variable_named():
    result = cdm("db", "upgrade", CDM_DATABASE_URL="postgresql://x/y", CDM_MQTT_URL="tcp://broker:1883")
    assert result.returncode == 2
    assert "CDM_MQTT_URL" in result.stderr and "mqtt://" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_that_need_the_store_say_how_to_name_it():
    result = cdm("ingest")
    assert result.returncode == 2 and "CDM_DATABASE_URL is not set" in result.stderr
