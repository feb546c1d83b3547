"""Writing the rendered deployment files (app.deploy.logic) into a folder."""

from __future__ import annotations

import os
from pathlib import Path

from app.deploy.logic import Deployment, Rendered, relative, render
from cdm.settings import Settings


def write(out: Path, files: list[Rendered]) -> list[Path]:
    """Write each file under `out` (folders made as needed), each replaced atomically with its mode."""
    written = []
    for f in files:
        target = out / relative(f.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, f.mode)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f.text)
        os.chmod(tmp, f.mode)  # whatever the umask
        os.replace(tmp, target)
        written.append(target)
    return written


def render_to(out: Path, settings: Settings, deployment: Deployment) -> list[Path]:
    """Render every file of the deployment and write it under `out`."""
    return write(out, render(settings, deployment))
