"""Run the real `cdm` processes in tests, wired to the test's settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pydantic import SecretStr

from cdm.settings import Settings


def env_for(settings: Settings) -> dict[str, str]:
    """Environment variables that make a child `cdm` process use these settings (every non-default value)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    for name, field in Settings.model_fields.items():
        value = getattr(settings, name)
        if value is None or value == field.default:
            continue
        text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
        env[f"CDM_{name.upper()}"] = text
    return env


def spawn(settings: Settings, *args: str, log: Path) -> subprocess.Popen[bytes]:
    """Start `cdm <args>` as a child process, its output going to `log`."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "app.cli", *args], env=env_for(settings), stdout=out, stderr=subprocess.STDOUT
        )
