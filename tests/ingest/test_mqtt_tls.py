"""Meters and ingest over TLS, against a real Mosquitto TLS listener written by `cdm devices broker-files`, with a
private CA and certificates the test makes: ingest connects through the county's CA and stores a meter's reading;
a client with a certificate from another CA, or with none, or speaking plain MQTT to the TLS port, is refused;
with per-meter certificates (use_identity_as_username) a meter cannot take over another's client id."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from pydantic import SecretStr

from app.services import free_port
from cdm.mqtt import configure
from cdm.payload import bp_payload, reading_topic
from cdm.settings import Settings
from ingest.devices import service as devices
from ingest.devices.broker import TlsListener
from ingest.worker import IngestWorker
from tests.ingest.broker_support import AuthBroker, needs_mosquitto
from tests.support.registry import build
from tests.support.tls import Issued, TestCA
from tests.support.waiting import wait_until

pytestmark = [pytest.mark.integration, needs_mosquitto]
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


class Connection:
    """A paho client connecting to the broker, recording whether a CONNACK accepted it."""

    def __init__(self, port: int, *, client_id: str, context: ssl.SSLContext | None, user: tuple[str, str] | None):
        self.port = port
        self.accepted = threading.Event()
        self.answered = threading.Event()
        self.dropped = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if context is not None:
            self.client.tls_set_context(context)
        if user:
            self.client.username_pw_set(*user)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.dropped.set()

    def _on_connect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        if not getattr(reason, "is_failure", True):
            self.accepted.set()
        self.answered.set()

    def open(self, timeout: float = 5) -> bool:
        """Whether the broker accepted the connection within `timeout` (a failed TLS handshake: no)."""
        try:
            self.client.connect("127.0.0.1", self.port, keepalive=30)
        except (ssl.SSLError, OSError):
            return False
        self.client.loop_start()
        self.answered.wait(timeout)
        return self.accepted.is_set()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()
        self.client.loop_stop()


def _context(ca: Path, client: Issued | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(ca))
    if client:
        context.load_cert_chain(str(client.cert), str(client.key))
    return context


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, object]:
    county, rogue = TestCA(tmp_path / "ca"), TestCA(tmp_path / "rogue", name="someone else's CA")
    return {"ca": county, "server": county.issue("broker", server=True), "rogue": rogue}


def _broker(
    tmp_path: Path, conn: psycopg.Connection, code: str, pki: dict[str, object], *, identity: bool
) -> AuthBroker:
    ca, server = pki["ca"], pki["server"]
    assert isinstance(ca, TestCA) and isinstance(server, Issued)
    tls = TlsListener(free_port(), ca.files.cert, server.cert, server.key, identity_as_username=identity)
    devices.write_broker_files(tmp_path / "auth", devices.broker_accounts(conn), county_code=code, tls=tls)
    broker = AuthBroker(tmp_path, tmp_path / "auth").start()
    broker.tls_port = tls.port  # type: ignore[attr-defined]
    from app.services import wait_for_port

    wait_for_port(tls.port)
    return broker


@pytest.fixture
def registry(settings: Settings) -> Iterator[tuple[psycopg.Connection, str]]:
    with psycopg.connect(settings.database_url) as conn:
        build(conn, code=settings.county_code)
        conn.commit()
        yield conn, settings.county_code


def test_ingest_connects_through_the_countys_ca_and_strangers_are_refused(settings, registry, pki, tmp_path):
    conn, code = registry
    meter = devices.provision(conn, kind="bp", clinic_code=f"{code}-v1", serial="T1", imei="860000000000017", now=NOW)
    ingest = devices.add_account(conn, username="cdm-ingest", role="ingest", now=NOW)
    conn.commit()
    ca = pki["ca"]
    rogue = pki["rogue"]
    assert isinstance(ca, TestCA) and isinstance(rogue, TestCA)
    broker = _broker(tmp_path, conn, code, pki, identity=False)
    port = broker.tls_port  # type: ignore[attr-defined]
    ingest_cert, meter_cert = ca.issue("cdm-ingest"), ca.issue(meter.uid)
    tls = Settings(
        **{**settings.model_dump(), "mqtt_url": f"mqtts://127.0.0.1:{port}", "mqtt_username": ingest.username,
           "mqtt_password": SecretStr(ingest.password), "mqtt_ca_file": ca.files.cert,
           "mqtt_cert_file": ingest_cert.cert, "mqtt_key_file": ingest_cert.key, "_env_file": None},
    )  # fmt: skip
    stop = threading.Event()
    worker = IngestWorker(tls, stop=stop)
    thread = threading.Thread(target=worker.run)
    thread.start()
    opened: list[Connection] = []
    try:
        assert worker.connected.wait(15), "ingest did not connect over TLS"
        as_meter = Connection(port, client_id=meter.uid, context=_context(ca.files.cert, meter_cert),
                              user=(meter.username, meter.password))  # fmt: skip
        opened.append(as_meter)
        assert as_meter.open()
        payload = bp_payload(device_uid=meter.uid, seq=1, measured_at=datetime.now(UTC), systolic=150, diastolic=90,
                             pulse=70, patient=None)  # fmt: skip
        as_meter.client.publish(reading_topic(code, meter.uid), payload, qos=1).wait_for_publish(10)
        assert wait_until(lambda: worker.totals.stored == 1, 20), worker.totals

        # Another CA's certificate, no certificate, and plain MQTT on the TLS port: all refused.
        stranger = Connection(port, client_id="x1", context=_context(ca.files.cert, rogue.issue(meter.uid)),
                              user=(meter.username, meter.password))  # fmt: skip
        bare = Connection(
            port, client_id="x2", context=_context(ca.files.cert, None), user=(meter.username, meter.password)
        )
        plain = Connection(port, client_id="x3", context=None, user=(meter.username, meter.password))
        opened += [stranger, bare, plain]
        assert not stranger.open() and not bare.open() and not plain.open()
        # A broker certificate from another CA is refused by ingest's side too.
        fake_server = Connection(port, client_id="x4", context=_context(rogue.files.cert, ingest_cert),
                                 user=(ingest.username, ingest.password))  # fmt: skip
        opened.append(fake_server)
        assert not fake_server.open()
    finally:
        for c in opened:
            c.close()
        stop.set()
        thread.join(15)
        broker.stop()


def test_per_meter_certificates_pin_the_client_id(settings, registry, pki, tmp_path):
    conn, code = registry
    a = devices.provision(conn, kind="bp", clinic_code=f"{code}-v1", serial="A1", imei="860000000000025", now=NOW)
    b = devices.provision(conn, kind="glucose", clinic_code=f"{code}-v1", serial="B1", imei="860000000000033", now=NOW)
    conn.commit()
    ca = pki["ca"]
    assert isinstance(ca, TestCA)
    broker = _broker(tmp_path, conn, code, pki, identity=True)
    port = broker.tls_port  # type: ignore[attr-defined]
    opened: list[Connection] = []
    try:
        meter_b = Connection(port, client_id=b.uid, context=_context(ca.files.cert, ca.issue(b.uid)), user=None)
        opened.append(meter_b)
        assert meter_b.open(), "a meter signs in with its certificate alone"
        # Meter A, with its own certificate, asks for B's client id: the broker gives it A's instead.
        meter_a = Connection(port, client_id=b.uid, context=_context(ca.files.cert, ca.issue(a.uid)), user=None)
        opened.append(meter_a)
        assert meter_a.open()
        assert not meter_b.dropped.wait(2), "B was pushed off by a meter claiming its client id"
    finally:
        for c in opened:
            c.close()
        broker.stop()


def test_tls_settings_are_checked_at_start_up(tmp_path: Path) -> None:
    ca = TestCA(tmp_path)
    with pytest.raises(ValueError, match="不是 mqtts://"):
        Settings(mqtt_ca_file=ca.files.cert, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="须同时设置"):
        Settings(mqtt_url="mqtts://127.0.0.1:8883", mqtt_cert_file=ca.files.cert, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="不是可读取的文件"):
        Settings(
            mqtt_url="mqtts://127.0.0.1:8883", mqtt_ca_file=tmp_path / "nope.pem", data_dir=tmp_path, _env_file=None
        )  # type: ignore[call-arg]
    ok = Settings(mqtt_url="mqtts://127.0.0.1:8883", mqtt_ca_file=ca.files.cert, data_dir=tmp_path, _env_file=None)  # type: ignore[call-arg]
    client = configure(mqtt.Client(CallbackAPIVersion.VERSION2, client_id="t"), ok)
    assert client._ssl_context is not None and client._ssl_context.minimum_version >= ssl.TLSVersion.TLSv1_2
