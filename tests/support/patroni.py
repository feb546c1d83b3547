"""Debian's etcd and Patroni for the failover test: one etcd member and two Patroni-managed PostgreSQL 15 servers,
configured by the files `cdm deploy render` writes, all in a temporary folder on free ports."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import httpx

from app.deploy.logic import PatroniCluster, PatroniNode
from app.services import free_port, stop_process, wait_for_port
from tests.support import pg15


class Etcd:
    """A one-member etcd cluster (Patroni's DCS) with its data in `folder`."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.client_port, self.peer_port = free_port(), free_port()
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    def start(self) -> Etcd:
        self.folder.mkdir(parents=True, exist_ok=True)
        peer, client = f"http://127.0.0.1:{self.peer_port}", f"http://{self.endpoint}"
        cmd = [
            str(shutil.which("etcd")),
            "--name=n1",
            f"--data-dir={self.folder / 'data'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=n1={peer}",
            "--initial-cluster-state=new",
            "--log-level=warn",
        ]
        with (self.folder / "etcd.log").open("ab") as log:
            self._proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
        wait_for_port(self.client_port, proc=self._proc)
        return self

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None


@dataclass
class Member:
    """One Patroni process and the PostgreSQL server it manages."""

    node: PatroniNode
    config: Path
    log: Path
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Member:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                pg15.as_postgres([str(shutil.which("patroni")), str(self.config)]), stdout=out, stderr=subprocess.STDOUT
            )
        return self

    def state(self) -> dict[str, object]:
        """Patroni's own view of its node (GET /patroni), or {} when its REST API does not answer."""
        try:
            return httpx.get(f"http://127.0.0.1:{self.node.rest_port}/patroni", timeout=2).json()
        except (httpx.HTTPError, ValueError):
            return {}

    def is_primary(self) -> bool:
        state = self.state()
        return state.get("role") in ("master", "primary") and state.get("state") == "running"

    def postmaster_pid(self) -> int:
        return int((Path(self.node.data_dir) / "postmaster.pid").read_text().splitlines()[0])

    def stop(self) -> None:
        """Stop Patroni (SIGKILL: the test is over) and the PostgreSQL it left, at once."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        pid_file = Path(self.node.data_dir) / "postmaster.pid"
        if pid_file.exists():
            with contextlib.suppress(ProcessLookupError, ValueError):
                os.kill(self.postmaster_pid(), signal.SIGKILL)


def cluster_nodes(folder: Path, names: tuple[str, ...] = ("pg1", "pg2")) -> tuple[PatroniNode, ...]:
    """Nodes on 127.0.0.1, each with its own ports, data folder and socket folder under `folder`."""
    return tuple(
        PatroniNode(
            name=name,
            host="127.0.0.1",
            pg_port=free_port(),
            rest_port=free_port(),
            data_dir=str(folder / name / "data"),
            socket_dir=str(folder / name),
            pgpass=str(folder / name / "pgpass"),
        )
        for name in names
    )


def cluster_state(cluster: PatroniCluster) -> list[dict[str, object]]:
    """The members as Patroni's REST API lists them (role: leader / sync_standby / replica), [] when unreachable."""
    for node in cluster.nodes:
        try:
            return list(httpx.get(f"http://127.0.0.1:{node.rest_port}/cluster", timeout=2).json()["members"])
        except (httpx.HTTPError, ValueError, KeyError):
            continue
    return []
