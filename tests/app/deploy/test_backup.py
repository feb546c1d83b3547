"""Backups that restore: continuous archiving with pgBackRest as `cdm deploy render` configures it, a base backup
taken while readings flow, and a point-in-time restore into a fresh server that finds every reading, alert and
audit row committed before that point (and none begun after it).

Debian's PostgreSQL 15 and pgbackrest, run as the postgres user, in temporary folders on free ports.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from app.deploy.logic import Deployment, paths
from app.deploy.service import render_to
from app.deploy.sizing import Machine
from app.services import free_port
from cdm import audit
from cdm.settings import Settings
from cdm.store import upgrade_store
from ingest.batch import IngestContext, process_batch
from tests.support import pg15
from tests.support.registry import SmallCounty, bp_message, build

REASON = pg15.missing("pgbackrest")
pytestmark = [pytest.mark.integration, pytest.mark.heavy, pytest.mark.skipif(REASON is not None, reason=str(REASON))]
PATIENTS = 400
BACKUP_TEST = audit.Actor(username="backup-test")


@dataclass
class Writer:
    """Ingest's own batch transaction, again and again: readings (one critical, so an alert) and an audit row."""

    url: str
    county: SmallCounty
    settings: Settings
    stop: threading.Event = field(default_factory=threading.Event)
    started: int = 0  # batches begun (set before the transaction starts)
    committed: int = 0  # batches whose commit has returned
    batches: dict[int, tuple[list[int], int]] = field(default_factory=dict)  # batch -> (reading seqs, patient id)
    error: BaseException | None = None

    def run(self) -> None:
        ctx = IngestContext.from_settings(self.settings)
        try:
            with psycopg.connect(self.url) as conn:
                while not self.stop.is_set() and self.started < PATIENTS:
                    self._one(conn, ctx, self.started + 1)
                    time.sleep(0.01)
        except BaseException as exc:  # the test reports it
            self.error = exc

    def _one(self, conn: psycopg.Connection, ctx: IngestContext, k: int) -> None:
        seqs = [k * 10 + i for i in range(3)]
        card = list(self.county.patients)[k - 1]
        code = self.settings.county_code
        msgs = [
            bp_message(self.county, county_code=code, card=card, seq=s, sbp=sbp, dbp=95)
            for s, sbp in zip(seqs, (132, 141, 186), strict=True)
        ]
        self.started = k
        with conn.transaction():
            process_batch(conn, msgs, ctx=ctx)
            audit.record(conn, actor=BACKUP_TEST, action="login_failed", detail={"batch": k})
        self.committed = k
        self.batches[k] = (seqs, self.county.patients[card])


def found(url: str, writer: Writer, batches: range) -> dict[str, int]:
    """How many of these batches' readings, alerts and audit rows the store at `url` holds."""
    seqs = [s for k in batches for s in writer.batches[k][0]]
    patients = [writer.batches[k][1] for k in batches]
    with psycopg.connect(url) as conn:
        readings = conn.execute("select count(*) from reading where seq = any(%s)", (seqs,)).fetchone()[0]
        alerts = conn.execute("select count(*) from alert where patient_id = any(%s)", (patients,)).fetchone()[0]
        audits = conn.execute(
            "select count(*) from audit_event where username = 'backup-test' and (detail->>'batch')::int = any(%s)",
            (list(batches),),
        ).fetchone()[0]
    return {"readings": readings, "alerts": alerts, "audit": audits}


def pgbackrest(cluster: pg15.Cluster, conf: str, *args: str) -> str:
    done = cluster.run("pgbackrest", f"--config={conf}", "--stanza=cdm", *args, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@dataclass
class Primary:
    """PostgreSQL 15 running on the rendered settings, its backup stanza made, a county registered."""

    folder: Path
    cluster: pg15.Cluster
    conf: str  # the rendered pgbackrest.conf
    url: str
    county: SmallCounty


@pytest.fixture
def primary(settings: Settings) -> Iterator[Primary]:
    folder = pg15.home("cdm-test-backup-")
    d = Deployment(root=str(folder / "root"), pg_port=free_port(), machine=Machine(memory_gb=1, cores=2))
    render_to(folder / "root", settings, d)
    where = paths(d)
    for key in ("backup_repo", "backup_logs"):
        Path(where[key]).mkdir(parents=True, exist_ok=True)
    pg15.give_to_postgres(folder)
    cluster = pg15.Cluster(Path(where["pg_data"]), socket_dir=Path(where["pg_socket"]), port=d.pg_port)
    try:
        cluster.init(include_dir=folder / "root/etc/postgresql/15/main/conf.d").start()
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            assert conn.execute("show archive_mode").fetchone() == ("on",), "the rendered settings are in force"
            conn.execute("create database cdm")
        url = cluster.url("cdm")
        upgrade_store(url)
        with psycopg.connect(url) as conn:
            county = build(conn, code=settings.county_code, patients=PATIENTS)
            conn.commit()
        pgbackrest(cluster, where["pgbackrest_conf"], "stanza-create")
        yield Primary(folder, cluster, where["pgbackrest_conf"], url, county)
    finally:
        cluster.stop("immediate")
        shutil.rmtree(folder, ignore_errors=True)


def test_a_backup_taken_under_load_restores_to_a_point_in_time(settings: Settings, primary: Primary):
    writer = Writer(primary.url, primary.county, settings)
    thread = threading.Thread(target=writer.run)
    thread.start()
    try:
        time.sleep(1.0)
        during = writer.committed
        pgbackrest(primary.cluster, primary.conf, "--type=full", "backup")  # readings go on flowing meanwhile
        assert writer.committed > during + 5, "the writer kept committing during the backup"
        time.sleep(1.0)
        before = writer.committed
        with psycopg.connect(primary.url) as conn:
            target: datetime = conn.execute("select clock_timestamp()").fetchone()[0]
        after = writer.started + 1  # batches from here on began after the target
        time.sleep(1.0)
    finally:
        writer.stop.set()
        thread.join(30)
    assert before >= 20 and writer.error is None and writer.committed >= after + 5, (writer.error, before, after)
    pgbackrest(primary.cluster, primary.conf, "check")  # switches the WAL segment and waits until it is archived
    primary.cluster.stop()
    restored = restore(primary, target)
    try:
        restored_url = restored.url("cdm")
        committed = found(restored_url, writer, range(1, before + 1))
        assert committed == {"readings": 3 * before, "alerts": before, "audit": before}, "all before the target"
        begun_after = found(restored_url, writer, range(after, writer.committed + 1))
        assert begun_after == {"readings": 0, "alerts": 0, "audit": 0}, "nothing begun after it"
    finally:
        restored.stop("immediate")


def restore(primary: Primary, target: datetime) -> pg15.Cluster:
    """The backup restored to `target` into a fresh data folder, started (not archiving) and promoted."""
    restored = pg15.Cluster(primary.folder / "restored" / "data", socket_dir=primary.cluster.socket_dir)
    restored.data_dir.parent.mkdir(parents=True)
    pg15.give_to_postgres(restored.data_dir.parent)
    pgbackrest(
        restored, primary.conf, f"--pg1-path={restored.data_dir}", "--type=time",
        f"--target={target.isoformat(sep=' ')}", "--target-action=promote", "restore",
    )  # fmt: skip
    # The copy must not archive into the repository of the server it was restored from.
    restored.start("-c archive_mode=off")
    with psycopg.connect(restored.url()) as conn:
        assert pg15_wait_promoted(conn)
    return restored


def pg15_wait_promoted(conn: psycopg.Connection, timeout: float = 60) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if conn.execute("select not pg_is_in_recovery()").fetchone() == (True,):
            return True
        time.sleep(0.2)
    return False
