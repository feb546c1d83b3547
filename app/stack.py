"""A whole system on one machine: the servers it needs (store, broker, stand-in receivers) and its processes.

Used by `cdm demo` and the benchmarks. Each server is started only when the settings do not name a real one:
CDM_DATABASE_URL, CDM_MQTT_URL, CDM_NOTIFY_TOWNSHIP_URL + CDM_NOTIFY_COUNTY_URL. Child processes run in their
own sessions, so Ctrl-C reaches only the parent, which stops them in order and leaves nothing running.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from app import repo
from app.services import EmbeddedPostgres, LocalBroker, stop_process, with_database
from app.sink import NotificationSink
from cdm import db
from cdm.db_roles import DbRoles, runtime_url
from cdm.settings import Settings
from cdm.store import upgrade_store

log = logging.getLogger(__name__)

STOP_TIMEOUT_S = 15.0


class LocalStack:
    """Start with `with LocalStack(...) as stack:`; `stack.settings` and `stack.env` describe the running system."""

    def __init__(self, settings: Settings, *, data_dir: Path, database: str, sink: NotificationSink | None = None):
        self.data_dir = Path(data_dir).resolve()
        self.database = database
        self.sink = sink
        self._given = settings
        self._pg: EmbeddedPostgres | None = None
        self._broker: LocalBroker | None = None
        self._own_sink = False
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.settings = settings
        self.env: dict[str, str] = {}

    @property
    def url(self) -> str:
        return self.settings.database_url or ""

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.stop()

    def start(self) -> Self:
        """Start what is missing, bring the store up to date, and describe the system for child processes."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        url, services_url, roles = self._store()
        mqtt_url = self._given.mqtt_url if "CDM_MQTT_URL" in os.environ else self._start_broker()
        update: dict[str, object] = {"database_url": url, "mqtt_url": mqtt_url}
        if not (self._given.notify_township_url and self._given.notify_county_url):
            if self.sink is None:
                self.sink, self._own_sink = NotificationSink().start(), True
            update |= {
                "notify_township_url": f"{self.sink.url}/township/{{township}}",
                "notify_county_url": f"{self.sink.url}/county",
            }
        update["metrics_dir"] = self._metrics_dir()
        self.settings = self._given.model_copy(update=update)
        # Children resolve their secrets from the same files as this process (cdm.secret_files), wherever they run.
        data_dir = str(Path(self._given.data_dir).resolve())
        # The children connect as the runtime role, like production services; this process (registering the
        # county, the summary) keeps the administrator's connection.
        self.env = {**os.environ, "CDM_DATABASE_URL": services_url, "CDM_MQTT_URL": mqtt_url, "CDM_DATA_DIR": data_dir}
        self.env["CDM_METRICS_DIR"] = str(self.settings.metrics_dir)
        for key in ("notify_township_url", "notify_county_url"):
            self.env[f"CDM_{key.upper()}"] = str(getattr(self.settings, key))
        upgrade_store(url, roles=roles)
        return self

    def _store(self) -> tuple[str, str, DbRoles | None]:
        """(URL to upgrade and set up with, URL of the services, the roles) for the configured or embedded store."""
        given = self._given
        if given.database_url and not given.database_admin_url:
            return given.database_url, given.database_url, None  # one URL only: no roles to make
        roles = DbRoles(owner=given.db_owner_role, runtime=given.db_runtime_role)
        admin = given.database_admin_url or self._fresh_embedded_database()
        return admin, given.database_url or runtime_url(admin, roles), roles

    def _metrics_dir(self) -> Path:
        """CDM_METRICS_DIR when given, else a folder of this stack's own, emptied (counts start at zero)."""
        if self._given.metrics_dir is not None:
            return self._given.metrics_dir
        folder = self.data_dir / "metrics"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return folder

    def _fresh_embedded_database(self) -> str:
        self._pg = EmbeddedPostgres(self.data_dir / "pg")
        server = self._pg.start()
        with db.connect(server, autocommit=True) as conn:
            repo.recreate_database(conn, self.database)
        return with_database(server, self.database)

    def _start_broker(self) -> str:
        self._broker = LocalBroker(self.data_dir / "broker")
        url = self._broker.start()
        print(f"消息服务器 / broker: {self._broker.kind} on {url}", file=sys.stderr, flush=True)
        return url

    def spawn(
        self,
        name: str,
        *args: str,
        capture: bool = False,
        env: dict[str, str] | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start `cdm <args or name>` as a child process; its log goes to <data_dir>/logs/<name>.log."""
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        with (logs / f"{name}.log").open("ab") as logfile:
            proc = subprocess.Popen(
                [sys.executable, "-m", "app.cli", *(args or (name,))],
                env={**self.env, **(env or {})},
                start_new_session=True,
                stdout=subprocess.PIPE if capture else logfile,
                stderr=logfile,
            )
        self.procs[name] = proc
        return proc

    def wait_for_log(self, name: str, text: str, *, timeout: float = 60.0) -> None:
        """Block until process `name` has written `text` to its log (e.g. ingest's "subscribed")."""
        log_path = self.data_dir / "logs" / f"{name}.log"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if log_path.exists() and text in log_path.read_text(errors="replace"):
                return
            if self.procs[name].poll() is not None:
                raise RuntimeError(f"{name} exited with code {self.procs[name].returncode}; see {log_path}")
            time.sleep(0.1)
        raise TimeoutError(f"{name} did not say {text!r} within {timeout:.0f} s; see {log_path}")

    def stop(self) -> None:
        """Stop every process and server this stack started (children first, all signalled at once)."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            stop_process(proc, timeout=STOP_TIMEOUT_S)
        self.procs.clear()
        if self._own_sink and self.sink:
            self.sink.stop()
            self._own_sink = False
        if self._broker:
            self._broker.stop()
            self._broker = None
        if self._pg:
            self._pg.stop()
            self._pg = None
