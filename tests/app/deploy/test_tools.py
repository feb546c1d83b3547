"""The rendered files, run by the real programs: Mosquitto serves meters over TLS with the registry's accounts,
`nginx -t` accepts the site, `systemd-analyze verify` the units, `promtool` the rules (each skipped where the
program is absent; .ci/run installs them with apt when it can)."""

from __future__ import annotations

import getpass
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from app.deploy.logic import Deployment
from app.deploy.service import render_to
from app.deploy.sizing import Machine
from app.services import free_port, stop_process, wait_for_port
from cdm.payload import PatientRef
from cdm.settings import Settings
from device_sim.sim_meter import SimMeter
from ingest.devices import service as devices
from ingest.worker import IngestWorker
from tests.support.certs import make_server_certificate
from tests.support.registry import build
from tests.support.waiting import wait_until

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def tool(name: str) -> str | None:
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin")


def needs(name: str) -> pytest.MarkDecorator:
    return pytest.mark.skipif(tool(name) is None, reason=f"{name} is not installed (apt-get install; .ci/run does)")


def rendered(tmp_path: Path, settings: Settings, **deployment: object) -> tuple[Path, Deployment]:
    """Render into tmp_path/out with every path under tmp_path/root, the test's certificates in place."""
    root = tmp_path / "root"
    d = Deployment(
        root=str(root),
        cdm_bin=str(Path(sys.executable).with_name("cdm")),
        mosquitto_user=getpass.getuser(),  # as root Mosquitto would become `mosquitto`, locked out of tmp_path
        machine=Machine(memory_gb=1, cores=2),
        assets_dir=str(Path(__file__).resolve().parents[3] / "dashboard" / "assets"),
        **deployment,  # type: ignore[arg-type]
    )
    render_to(root, settings, d)  # the tree lands where its own paths point
    cert = make_server_certificate(tmp_path / "certs")
    tls = root / "etc/cdm/tls"
    tls.mkdir(parents=True, exist_ok=True)
    for name in ("broker", "web"):
        shutil.copy(cert.cert, tls / f"{name}.crt")
        shutil.copy(cert.key, tls / f"{name}.key")
    shutil.copy(cert.ca, tls / "ca.crt")
    for folder in ("var/lib/mosquitto", "run/mosquitto", "var/log/mosquitto", "var/log/nginx"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    return root, d


@needs("mosquitto")
@pytest.mark.integration
def test_meters_reach_ingest_over_tls_through_the_rendered_broker(settings: Settings, tmp_path: Path):
    tls_port, local_port = free_port(), free_port()
    root, _ = rendered(tmp_path, settings, mqtt_tls_port=tls_port, mqtt_local_port=local_port)
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code)
        meter = devices.provision(
            conn, kind="bp", clinic_code=f"{settings.county_code}-v1", serial="S1", imei="490154203237518", now=NOW,
            uid=county.bp_meter,
        )  # fmt: skip
        ingest = devices.add_account(conn, username="cdm-ingest", role="ingest", now=NOW)
        devices.write_broker_files(
            root / "etc/mosquitto/cdm", devices.broker_accounts(conn), county_code=settings.county_code
        )
        conn.commit()
    broker = subprocess.Popen([str(tool("mosquitto")), "-c", str(root / "etc/mosquitto/mosquitto.conf")])
    stop = threading.Event()
    try:
        wait_for_port(tls_port, proc=broker)
        service = settings.model_copy(
            update={"mqtt_url": f"mqtt://cdm-ingest:{ingest.password}@127.0.0.1:{local_port}"}
        )
        worker = IngestWorker(service, stop=stop)
        thread = threading.Thread(target=worker.run)
        thread.start()
        assert worker.connected.wait(10), "ingest logs in on the loopback listener with its service account"
        field = settings.model_copy(
            update={"mqtt_url": f"mqtts://127.0.0.1:{tls_port}", "mqtt_ca_file": root / "etc/cdm/tls/ca.crt"}
        )
        sim = SimMeter(field, uid=meter.uid, password=meter.password).connect()
        card = next(iter(county.patients))
        sim.publish_bp(meter.uid, systolic=128, diastolic=82, patient=PatientRef(scheme="health_card", value=card))
        assert sim.close() == 0
        assert wait_until(lambda: worker.totals.stored == 1, 15), worker.totals
        intruder = settings.model_copy(update={"mqtt_url": f"mqtts://127.0.0.1:{tls_port}"})
        with pytest.raises(ConnectionError):  # no CA given: the broker's certificate is not trusted
            SimMeter(intruder, uid=meter.uid, password=meter.password).connect(timeout=3)
    finally:
        stop.set()
        stop_process(broker)
    log = (root / "var/log/mosquitto/mosquitto.log").read_text()
    assert "New client connected from 127.0.0.1" in log and f"u'{meter.uid}'" in log


@needs("nginx")
def test_nginx_accepts_the_site(settings: Settings, tmp_path: Path):
    root, _ = rendered(tmp_path, Settings(_env_file=None))  # type: ignore[call-arg]
    wrapper = tmp_path / "nginx.conf"
    wrapper.write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{\n  include {root}/etc/nginx/sites-available/cdm.conf;\n}}\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [str(tool("nginx")), "-t", "-p", str(tmp_path), "-c", str(wrapper)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert "syntax is ok" in done.stderr and "test is successful" in done.stderr


@needs("systemd-analyze")
def test_systemd_accepts_the_units(tmp_path: Path):
    root, _ = rendered(tmp_path, Settings(_env_file=None))  # type: ignore[call-arg]
    units = root / "etc/systemd/system"
    # Instances of the templates, as `systemctl start cdm-ingest@1` and the backup timers name them.
    shutil.copy(units / "cdm-ingest@.service", units / "cdm-ingest@1.service")
    shutil.copy(units / "cdm-backup@.service", units / "cdm-backup@full.service")
    names = sorted(p.name for p in units.iterdir() if "@." not in p.name)
    done = subprocess.run(
        [str(tool("systemd-analyze")), "verify", "--man=no", *(str(units / n) for n in names)],
        capture_output=True,
        text=True,
        env={"SYSTEMD_UNIT_PATH": f"{units}:", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"},
    )
    problems = [line for line in done.stderr.splitlines() if str(units) in line or "cdm" in line]
    assert done.returncode == 0 and problems == [], done.stderr


@needs("promtool")
def test_prometheus_accepts_the_rules_and_they_fire_when_they_should(tmp_path: Path):
    root, _ = rendered(tmp_path, Settings(_env_file=None))  # type: ignore[call-arg]
    rules = root / "etc/prometheus/cdm-rules.yml"
    checked = subprocess.run([str(tool("promtool")), "check", "rules", str(rules)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 9 rules found" in checked.stdout
    cases = tmp_path / "cdm-rules.test.yml"
    cases.write_text(
        (Path(__file__).with_name("cdm-rules.test.yml")).read_text().replace("RULES", str(rules)), encoding="utf-8"
    )
    tested = subprocess.run([str(tool("promtool")), "test", "rules", str(cases)], capture_output=True, text=True)
    assert tested.returncode == 0, tested.stdout + tested.stderr
