"""Debian's PostgreSQL 15 for the tests of backups and failover: clusters in temporary folders on free ports, run as
the `postgres` user when the tests run as root (PostgreSQL refuses to run as root). The machine's own cluster
(port 5432) is never touched."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import psycopg

from app.services import free_port
from tests.support.waiting import wait_until

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def missing(*programs: str) -> str | None:
    """Why PostgreSQL 15 (and `programs`) cannot be used here, or None when they can."""
    if not (PG_BIN / "postgres").exists():
        return "Debian's PostgreSQL 15 is not installed (apt-get install postgresql-15)"
    for program in programs:
        if shutil.which(program) is None:
            return f"{program} is not installed (apt-get install {program}; .ci/run does)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "no `postgres` user to run PostgreSQL as"
    return None


def as_postgres(cmd: list[str]) -> list[str]:
    """`cmd` run as the postgres user when we are root (as ourselves otherwise); setpriv execs the program itself,
    so the process started is the program (signals reach it) and it gets the postgres user's plain environment."""
    if os.geteuid() != 0:
        return cmd
    return ["setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--reset-env", "--", *cmd]


def give_to_postgres(path: Path) -> None:
    """Hand a folder (and what is in it) to the postgres user when we are root."""
    if os.geteuid() != 0:
        return
    for folder, _, files in os.walk(path):
        shutil.chown(folder, "postgres", "postgres")
        for name in files:
            shutil.chown(os.path.join(folder, name), "postgres", "postgres")


def home(prefix: str) -> Path:
    """A temporary folder the postgres user may use (pytest's own temp root is private to us)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)
    give_to_postgres(folder)
    return folder


class Cluster:
    """One PostgreSQL 15 server: initdb, start, stop, kill — its data folder and socket where it is told."""

    def __init__(self, data_dir: Path, *, socket_dir: Path, port: int | None = None) -> None:
        self.data_dir, self.socket_dir = data_dir, socket_dir
        self.port = port or free_port()
        self.log = data_dir.parent / f"{data_dir.name}.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def run(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return subprocess.run(as_postgres(list(cmd)), capture_output=True, text=True, check=check, timeout=120)

    def init(self, *, include_dir: Path | None = None) -> Cluster:
        """initdb (trust on the loopback: the test is the only client), then this cluster's port and socket."""
        for folder in (self.data_dir.parent, self.socket_dir):
            folder.mkdir(parents=True, exist_ok=True)
            give_to_postgres(folder)
        self.run(str(PG_BIN / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        lines = [
            f"port = {self.port}",
            "listen_addresses = '127.0.0.1'",
            f"unix_socket_directories = '{self.socket_dir}'",
        ]
        if include_dir is not None:
            lines.append(f"include_dir = '{include_dir}'")
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n" + "\n".join(lines) + "\n")
        return self

    def start(self, *options: str) -> Cluster:
        """pg_ctl start (with extra `-c name=value` options), waiting until it accepts connections."""
        opts = " ".join([f"-p {self.port}", *options])
        self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.log), "-o", opts, "-w", "start")
        assert wait_until(self.accepts, 30), self.log.read_text(errors="replace")[-3000:]
        return self

    def accepts(self) -> bool:
        try:
            with psycopg.connect(self.url(), connect_timeout=2):
                return True
        except psycopg.OperationalError:
            return False

    def stop(self, mode: str = "fast") -> None:
        if (self.data_dir / "postmaster.pid").exists():
            self.run(str(PG_BIN / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop", check=False)
