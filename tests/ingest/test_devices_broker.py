"""Provisioning and the generated broker files, against a real Mosquitto started with them."""

from __future__ import annotations

import base64
import contextlib
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from cdm.payload import heartbeat_topic, reading_topic, status_topic
from ingest.devices import service as devices
from ingest.devices.broker import acl_file, mosquitto_hash, verify_mosquitto_hash
from ingest.devices.logic import RegistryError, imei_ok
from ingest.devices.service import write_broker_files
from tests.ingest.broker_support import AuthBroker, Client, needs_mosquitto
from tests.support.registry import build

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def imei(body: str) -> str:
    """A 15-digit IMEI: 14 digits and their Luhn check digit."""
    for d in "0123456789":
        if imei_ok(body + d):
            return body + d
    raise AssertionError


def test_the_hash_is_the_one_mosquitto_passwd_writes(tmp_path):
    file = tmp_path / "pw"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(file), "alice", "s3cret"], check=True)
    line = file.read_text().strip()
    _, stored = line.split(":", 1)
    salt = base64.b64decode(stored.split("$")[3])
    assert mosquitto_hash("s3cret", salt=salt) == stored
    assert verify_mosquitto_hash("s3cret", stored) and not verify_mosquitto_hash("wrong", stored)


def test_a_meter_may_write_only_its_own_topics():
    text = acl_file([devices.Account("BP-1", "x", "meter")], county_code="c")
    assert "user BP-1\ntopic write cdm/v1/c/devices/BP-1/readings\n" in text
    assert "devices/+/" not in text and "topic read" not in text


def test_imei_check_digit():
    assert imei_ok("490154203237518") and not imei_ok("490154203237519") and not imei_ok("4901542032375")


@pytest.fixture
def registry(db_url):
    with psycopg.connect(db_url) as conn:
        county = build(conn, code="c")
        conn.commit()
    return county


def test_provisioning_refuses_what_would_be_wrong(db_url, registry):
    with psycopg.connect(db_url) as conn:
        creds = devices.provision(
            conn, kind="bp", clinic_code="c-v1", serial="S1", imei=imei("86000000000001"), now=NOW
        )
        assert creds.uid == creds.username == "BP-S1" and len(creds.password) == 32
        stored = conn.execute("select mqtt_password_hash from device where uid = 'BP-S1'").fetchone()[0]
        assert creds.password not in stored and verify_mosquitto_hash(creds.password, stored)
        for kwargs, says in (
            ({"serial": "S2", "imei": "86000000000001"}, "IMEI须为15位数字且校验位正确"),  # no check digit
            ({"serial": "S1", "imei": imei("86000000000002")}, "设备 BP-S1 已配发"),
            ({"serial": "S3", "imei": imei("86000000000001")}, "该IMEI已登记给设备 BP-S1"),
            ({"serial": "bad serial", "imei": imei("86000000000003")}, "序列号须为1至40位"),
        ):
            with pytest.raises(RegistryError, match=says):
                devices.provision(conn, kind="bp", clinic_code="c-v1", now=NOW, **kwargs)
        # A meter registered before provisioning existed (as the simulated county's) gets credentials in place.
        with pytest.raises(RegistryError, match="设备 GLU-c-1 登记的是血糖仪") as other_kind:
            devices.provision(
                conn, kind="bp", clinic_code="c-v1", serial="G1", imei=imei("86000000000005"), uid="GLU-c-1", now=NOW
            )
        assert other_kind.value.text("en") == "meter GLU-c-1 is registered as a glucose meter"
        legacy = devices.provision(
            conn, kind="bp", clinic_code="c-v1", serial="L1", imei=imei("86000000000006"), uid="BP-c-1", now=NOW
        )
        assert legacy.username == "BP-c-1"
        with pytest.raises(RegistryError, match="没有编码为“nowhere”的村卫生室"):
            devices.provision(conn, kind="bp", clinic_code="nowhere", serial="S4", imei=imei("86000000000004"), now=NOW)


@needs_mosquitto
def test_meters_publish_only_as_themselves_and_strangers_cannot_connect(db_url, registry, tmp_path: Path):
    with psycopg.connect(db_url) as conn:
        a = devices.provision(conn, kind="bp", clinic_code="c-v1", serial="A1", imei=imei("86000000000011"), now=NOW)
        b = devices.provision(
            conn, kind="glucose", clinic_code="c-v1", serial="B1", imei=imei("86000000000012"), now=NOW
        )
        ingest = devices.add_account(conn, username="cdm-ingest", role="ingest", now=NOW)
        write_broker_files(tmp_path / "auth", devices.broker_accounts(conn), county_code="c")
        conn.commit()
    broker = AuthBroker(tmp_path, tmp_path / "auth").start()
    clients: list[Client] = []

    def client(username: str | None, password: str | None) -> Client:
        c = Client(broker.port, username=username, password=password, client_id=username or "anon")
        clients.append(c)
        return c

    try:
        sub = client(ingest.username, ingest.password)
        assert sub.connect()
        sub.subscribe("cdm/v1/c/devices/+/readings", "cdm/v1/c/devices/+/status", "cdm/v1/c/devices/+/heartbeat")
        shared = client("cdm-ingest", ingest.password)
        shared.client._client_id = b"cdm-ingest-2"
        assert shared.connect()
        shared.subscribe("$share/cdm/cdm/v1/c/devices/+/readings")
        meter_a = client(a.username, a.password)
        assert meter_a.connect()

        meter_a.publish(reading_topic("c", b.uid), b"forged: A pretending to be B")
        meter_a.publish(status_topic("c", b.uid), b"forged status")
        meter_a.publish(heartbeat_topic("c", a.uid), b"A's own heartbeat")
        meter_a.publish(reading_topic("c", a.uid), b"A's own reading")  # after the forgeries: same connection, in order
        assert sub.wait_for(b"A's own reading") and sub.wait_for(b"A's own heartbeat")
        assert shared.wait_for(b"A's own reading"), "the ingest account may use a shared subscription"
        assert [p for _, p in sub.messages if p.startswith(b"forged")] == []

        spy = client(a.username, a.password)
        spy.client._client_id = b"spy"
        assert spy.connect()
        spy.subscribe("cdm/v1/c/devices/+/readings")
        meter_a.publish(reading_topic("c", a.uid), b"second")
        assert sub.wait_for(b"second") and not spy.wait_for(b"second", timeout=1), "a meter may not read topics"

        assert not client("BP-unknown", "whatever").connect()
        assert not client(b.username, "not-the-password").connect()
        assert not client(None, None).connect()
        meter_b = client(b.username, b.password)
        assert meter_b.connect()
        meter_b.close()

        with psycopg.connect(db_url) as conn:
            devices.revoke(conn, uid=b.uid, now=NOW)
            write_broker_files(tmp_path / "auth", devices.broker_accounts(conn), county_code="c")
            conn.commit()
        broker.reload()
        assert not client(b.username, b.password).connect(), (
            "a revoked meter is refused after the files are regenerated"
        )
        again = client(a.username, a.password)
        again.client._client_id = b"A1-again"
        assert again.connect(), "other meters keep working"
    finally:
        for c in clients:
            with contextlib.suppress(Exception):  # a refused client has no connection to close
                c.close()
        broker.stop()


def test_the_commands_print_the_password_once_and_write_the_files(db_url, registry, tmp_path):
    import json

    from typer.testing import CliRunner

    from app.cli import app

    env = {"CDM_DATABASE_URL": db_url, "CDM_COUNTY_CODE": "c"}
    runner = CliRunner()
    made = runner.invoke(
        app,
        ["devices", "provision", "--type", "glucose", "--clinic", "c-v1", "--serial", "G7", "--imei",
         imei("86000000000077")],
        env=env,
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    creds = json.loads(made.stdout)
    assert creds["uid"] == creds["username"] == "GLU-G7" and len(creds["password"]) == 32
    refused = runner.invoke(
        app,
        ["devices", "provision", "--type", "bp", "--clinic", "c-v1", "--serial", "G8", "--imei", "123"],
        env=env,
    )
    # Refused in the county's language (CDM_LANGUAGE, Chinese unless set), with no traceback
    assert refused.exit_code == 1 and refused.output.strip() == "未执行：IMEI须为15位数字且校验位正确（见设备标签）"
    in_english = runner.invoke(app, ["devices", "rotate", "BP-NONE"], env={**env, "CDM_LANGUAGE": "en"})
    assert in_english.exit_code == 1
    assert in_english.output.strip() == "refused: no provisioned, unrevoked meter 'BP-NONE'"
    listed = runner.invoke(app, ["devices", "list"], env=env)
    assert creds["password"] not in listed.stdout and "$7$" not in listed.stdout
    assert {d["uid"] for d in json.loads(listed.stdout)} >= {"GLU-G7", "BP-c-1"}
    files = runner.invoke(app, ["devices", "broker-files", "--out", str(tmp_path / "auth")], env=env)
    assert files.exit_code == 0, files.output
    passwd = (tmp_path / "auth" / "passwd").read_text()
    assert passwd.startswith("GLU-G7:$7$101$") and creds["password"] not in passwd
    assert (tmp_path / "auth" / "passwd").stat().st_mode & 0o077 == 0, "only the broker's user may read it"
    assert "BP-c-1" not in passwd, "a meter never provisioned has no credentials"
    revoked = runner.invoke(app, ["devices", "revoke", "GLU-G7"], env=env)
    assert revoked.exit_code == 0
    runner.invoke(app, ["devices", "broker-files", "--out", str(tmp_path / "auth")], env=env)
    assert "GLU-G7" not in (tmp_path / "auth" / "passwd").read_text()
    assert "GLU-G7" not in (tmp_path / "auth" / "acl").read_text()
