"""The store survives its server: two PostgreSQL 15 servers under Patroni (etcd), synchronous replication, the
services on a multi-host URL. Meters publish steadily; the primary's postmaster is killed with SIGKILL; Patroni
promotes the standby; `cdm ingest`, `cdm worker` and `cdm dashboard` reconnect by themselves; every reading is
stored once on the new primary, and every alert reaches both centres once. The failover time is measured and
written to test-artifacts/failover.json.

Debian's postgresql-15, patroni and etcd-server, configured by the files `cdm deploy render` writes (Patroni's
timings included); skipped with the reason where they are absent.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from app.deploy.logic import Deployment, PatroniCluster, multi_host_url
from app.deploy.service import render_to
from app.services import free_port
from app.sink import NotificationSink
from cdm.db_roles import DbRoles, runtime_url
from cdm.settings import Settings
from cdm.store import upgrade_store
from tests.support import meters, pg15
from tests.support.patroni import Etcd, Member, cluster_nodes, cluster_state
from tests.support.processes import spawn
from tests.support.registry import SmallCounty, build
from tests.support.waiting import wait_until

REASON = pg15.missing("patroni", "etcd")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.heavy,
    pytest.mark.usefixtures("redelivering_broker"),
    pytest.mark.skipif(REASON is not None, reason=str(REASON)),
]
ARTIFACTS = Path(__file__).resolve().parents[3] / "test-artifacts"
PATIENTS = 120
RATE = 40.0  # readings a second: well above a county's clinics (< 10/s), so a failover happens mid-batch
CRITICAL_EVERY = 25  # one reading in 25 is critical, each for a patient of its own: an alert each
SERVICE_PASSWORD = "cdm-service-password"


class Stream(meters.Stream):
    """Meters publishing n readings (QoS 1) at RATE a second from a thread; critical ones raise alerts."""

    def __init__(self, settings: Settings, county: SmallCounty, *, n: int) -> None:
        super().__init__(settings, county, n=n, rate=RATE, seed=3)
        self.criticals: set[str] = set()

    def reading(self, i: int, rng: random.Random) -> tuple[str, int, int]:
        critical = i % CRITICAL_EVERY == CRITICAL_EVERY - 1
        card = self.cards[len(self.criticals)] if critical else self.cards[-1 - rng.randrange(40)]
        sbp = 192 if critical else rng.randint(118, 146)
        if critical:
            self.criticals.add(card)
        return card, sbp, sbp - 60


class Probe:
    """Asks the multi-host URL every 0.1 s which server accepts writes; the dashboard's /healthz likewise."""

    def __init__(self, url: str, health_url: str) -> None:
        self.url, self.health_url = url, health_url
        self.stop = threading.Event()
        self.writable: list[tuple[float, int | None]] = []  # (monotonic time, port of the writable server)
        self.health: list[tuple[float, int]] = []
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.stop.wait(0.1):
            now = time.monotonic()
            try:
                with psycopg.connect(self.url, connect_timeout=1) as conn:
                    port = conn.execute("select inet_server_port()").fetchone()[0]
            except psycopg.OperationalError:
                port = None
            self.writable.append((now, port))
            try:
                self.health.append((now, httpx.get(self.health_url, timeout=1).status_code))
            except httpx.HTTPError:
                self.health.append((now, 0))

    def first(self, series: list[tuple[float, object]], after: float, good: object) -> float | None:
        return next((t for t, value in series if t > after and value == good), None)


def _bootstrap(folder: Path, settings: Settings) -> tuple[PatroniCluster, list[Member], Etcd]:
    etcd = Etcd(folder / "etcd").start()
    cluster = PatroniCluster(
        nodes=cluster_nodes(folder),
        etcd_hosts=(etcd.endpoint,),
        network="127.0.0.1/32",
        superuser_password="test-superuser",
        replication_password="test-replication",
        rewind_password="test-rewind",
    )  # Patroni's timings: the rendered defaults, as a county gets them
    render_to(folder / "root", settings, Deployment(root=str(folder / "root"), patroni=cluster))
    for node in cluster.nodes:
        Path(node.socket_dir).mkdir(parents=True, exist_ok=True)
    pg15.give_to_postgres(folder)
    configs = folder / "root/etc/patroni"
    members = [Member(n, configs / f"{n.name}.yml", folder / f"{n.name}.log").start() for n in cluster.nodes]
    synced = wait_until(
        lambda: (
            {m.get("role") for m in cluster_state(cluster) if m.get("state") in ("running", "streaming")}
            >= {"leader", "sync_standby"}
        ),
        120,
        every=0.5,
    )
    assert synced, (cluster_state(cluster), [m.log.read_text()[-2000:] for m in members])
    return cluster, members, etcd


def _service_database(cluster: PatroniCluster, primary: Member) -> str:
    """The cdm database, made as `cdm db upgrade` makes it through the same multi-host URL with the administrator's
    account: an owner role the migrations run as, a runtime role the services connect as (never the superuser)."""
    su = f"postgresql://postgres:{cluster.superuser_password}@127.0.0.1:{primary.node.pg_port}/postgres"
    with psycopg.connect(su, autocommit=True) as conn:
        conn.execute("create database cdm")
    hosts = [(n.host, n.pg_port) for n in cluster.nodes]
    admin = multi_host_url(hosts, database="cdm", user="postgres", password=cluster.superuser_password)
    roles = DbRoles(runtime_password=SERVICE_PASSWORD)
    upgrade_store(admin, roles=roles)
    return runtime_url(admin, roles)


def _counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select (select count(*) from reading), (select count(distinct (device_id, seq)) from reading),"
            " (select coalesce(sum(readings_count), 0) from device), (select count(*) from alert),"
            " (select count(*) from notification where status = 'delivered'),"
            " (select count(*) from notification)"
        ).fetchone()
    return dict(zip(("rows", "keys", "counted", "alerts", "delivered", "notifications"), row, strict=True))


@dataclass
class Store:
    """The Patroni pair, ready: the members (primary first), the services' multi-host URL, the county."""

    cluster: PatroniCluster
    primary: Member
    standby: Member
    url: str
    county: SmallCounty


@pytest.fixture
def store(settings: Settings) -> Iterator[Store]:
    folder = pg15.home("cdm-test-patroni-")
    cluster, members, etcd = _bootstrap(folder, settings)
    try:
        primary = next(m for m in members if m.is_primary())
        url = _service_database(cluster, primary)
        with psycopg.connect(url) as conn:
            county = build(conn, code=settings.county_code, patients=PATIENTS)
            conn.commit()
        yield Store(cluster, primary, next(m for m in members if m is not primary), url, county)
    finally:
        for member in members:
            member.stop()
        etcd.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def services(settings: Settings, folder: Path) -> Iterator[Probe]:
    """`cdm ingest`, `cdm worker` and `cdm dashboard` as real processes, running; a probe watching the store and
    the dashboard's /healthz."""
    port = free_port()
    logs = {name: folder / f"{name}.log" for name in ("ingest", "worker", "dashboard")}
    procs = [spawn(settings.model_copy(update={"dashboard_port": port}), name, log=log) for name, log in logs.items()]
    probe = Probe(settings.database_url or "", f"http://127.0.0.1:{port}/healthz")
    try:
        assert wait_until(lambda: "subscribed" in logs["ingest"].read_text(), 60), logs["ingest"].read_text()
        assert wait_until(lambda: probe.health and probe.health[-1][1] == 200, 60), logs["dashboard"].read_text()
        yield probe
    finally:
        probe.stop.set()
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_killed_primary_fails_over_and_nothing_is_lost_or_doubled(
    settings: Settings, sink: NotificationSink, store: Store, tmp_path: Path
):
    with services(settings.model_copy(update={"database_url": store.url}), tmp_path) as probe:
        stream = Stream(settings, store.county, n=int(RATE * 18)).start()
        assert wait_until(lambda: _counts(store.url)["delivered"] >= 2, 30), "alerts flow before the failover"
        killed_at = time.monotonic()
        os.kill(store.primary.postmaster_pid(), signal.SIGKILL)
        assert wait_until(store.standby.is_primary, 60, every=0.2), cluster_state(store.cluster)
        assert stream.finish() == 0, "every reading reached the broker"
        direct = f"postgresql://cdm_runtime:{SERVICE_PASSWORD}@127.0.0.1:{store.standby.node.pg_port}/cdm"
        alerts, n = len(stream.criticals), stream.n
        settled = wait_until(
            lambda: (c := _counts(direct))["keys"] >= n and c["delivered"] >= 2 * alerts, 90, every=0.5
        )
        time.sleep(1.0)  # a late redelivery or resend would show now
        final = _counts(direct)
        assert settled, (final, n, alerts)
        assert (final["rows"], final["keys"], final["counted"]) == (n, n, n), "0 lost, none doubled"
        assert (final["alerts"], final["notifications"], final["delivered"]) == (alerts, 2 * alerts, 2 * alerts)
        centres = {(r.path.split("/")[1], r.body.get("alert_id")) for r in sink.received()}
        assert len(sink.received()) == len(centres) == 2 * alerts, "each alert reached both centres once"
        assert wait_until(lambda: probe.health[-1][1] == 200, 30), "the dashboard's pool reconnected"
        assert wait_until(lambda: _scheduler_active(direct), 60), "a scheduler holds its lock on the new primary"
        figures = _figures(probe, killed_at, store, readings=n, alerts=alerts, repeats=sink.repeats)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "failover.json").write_text(json.dumps(figures) + "\n", encoding="utf-8")
    print("failover:", json.dumps(figures))
    assert 0 < figures["failover_s"] <= 30, figures


def _figures(probe: Probe, killed_at: float, store: Store, **counts: int) -> dict[str, object]:
    """What the failover cost: seconds until the URL found a writable server again, and the dashboard healthy."""
    writable = probe.first(probe.writable, killed_at, store.standby.node.pg_port)
    healthy = probe.first(probe.health, killed_at, 200)
    c = store.cluster
    return {
        "failover_s": round(writable - killed_at, 2) if writable else -1,
        "dashboard_503_seen": any(status != 200 for t, status in probe.health if t > killed_at),
        "dashboard_healthy_again_s": round(healthy - killed_at, 2) if healthy else -1,
        **counts,
        "patroni": {"ttl": c.ttl, "loop_wait": c.loop_wait, "retry_timeout": c.retry_timeout},
    }


def _scheduler_active(url: str) -> bool:
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "select count(*) from pg_locks l join pg_stat_activity a using (pid)"
            " where l.locktype = 'advisory' and l.granted and a.application_name = 'cdm-scheduler'"
        ).fetchone()
    return bool(row and row[0] >= 1)
