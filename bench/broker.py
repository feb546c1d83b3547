"""A Mosquitto of a benchmark's or a fault test's own: its window and queue sized for ingest, restartable.

Ack-after-commit meets Mosquitto's in-flight window: it sends a subscriber at most `max_inflight_messages`
unacknowledged QoS 1 messages, so a batch can never hold more than that many. The window is set to twice the
batch size, so the broker keeps streaming the next batch while the worker commits the previous one (a window equal
to the batch would stall the stream at every commit). `max_queued_messages` must hold the backlog of an offline
persistent session (Mosquitto's default of 1,000 would drop the rest). With `persistent`, the broker saves its
sessions and queues on a clean stop and restores them on start, so a restart loses nothing.
"""

from __future__ import annotations

import getpass
import shutil
import subprocess
from pathlib import Path

from app.services import free_port, stop_process, wait_for_port

MAX_QUEUED = 2_000_000


def window_for(batch_size: int) -> int:
    """The broker's in-flight window for a worker that commits `batch_size` messages at a time."""
    return 2 * batch_size


class Mosquitto:
    """`mosquitto -c <own config>` on 127.0.0.1; start, stop (SIGTERM, saving its state), start again."""

    def __init__(
        self, work_dir: Path, *, max_inflight: int, max_queued: int = MAX_QUEUED, persistent: bool = False
    ) -> None:
        exe = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
        if exe is None:
            raise RuntimeError("mosquitto is not installed (apt-get install mosquitto)")
        self.exe = exe
        self.work_dir = Path(work_dir)
        self.port = free_port()
        self.max_inflight = max_inflight
        self.max_queued = max_queued
        self.persistent = persistent
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> str:
        self.work_dir.mkdir(parents=True, exist_ok=True)
        conf = self.work_dir / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            # Run as whoever started it: as root Mosquitto would switch to user `mosquitto`, who cannot write a
            # persistence file under a private temporary folder.
            f"user {getpass.getuser()}",
            f"max_inflight_messages {self.max_inflight}",
            f"max_queued_messages {self.max_queued}",
            "max_queued_bytes 0",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if self.persistent:
            lines += ["persistence true", f"persistence_location {self.work_dir}/", "autosave_interval 1800"]
        else:
            lines.append("persistence false")
        conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with (self.work_dir / "mosquitto.log").open("ab") as log:
            self._proc = subprocess.Popen([self.exe, "-c", str(conf)], stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.port, proc=self._proc)
        return self.url

    def stop(self) -> None:
        """SIGTERM and wait: a persistent broker writes its sessions and queues to disk first."""
        if self._proc is not None:
            stop_process(self._proc, timeout=30)
            self._proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
