"""A test-local Mosquitto started with the password file and ACL that `cdm devices broker-files` writes."""

from __future__ import annotations

import shutil
import signal
import subprocess
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from app.services import free_port, stop_process, wait_for_port

MOSQUITTO = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
needs_mosquitto = pytest.mark.skipif(MOSQUITTO is None, reason="Mosquitto is not installed")


class AuthBroker:
    """Mosquitto on a free port using generated auth files; `reload` sends SIGHUP as an operator would."""

    def __init__(self, work: Path, files: Path) -> None:
        self.port = free_port()
        self.log = work / "mosquitto.log"
        self.conf = work / "mosquitto.conf"
        auth = (files / "cdm-auth.conf").read_text(encoding="utf-8")
        self.conf.write_text(
            # As root, Mosquitto would switch to the `mosquitto` user, which cannot read pytest's private folders.
            auth + f"user root\nlistener {self.port} 127.0.0.1\npersistence false\nlog_dest file {self.log}\n"
            "log_type all\n",
            encoding="utf-8",
        )
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> AuthBroker:
        self._proc = subprocess.Popen([str(MOSQUITTO), "-c", str(self.conf)])
        wait_for_port(self.port, proc=self._proc)
        return self

    def reload(self) -> None:
        """SIGHUP: Mosquitto re-reads its password file and ACL; wait until its log says so."""
        assert self._proc is not None
        before = self.log.read_text(encoding="utf-8", errors="replace").count("Reloading config")
        self._proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.log.read_text(encoding="utf-8", errors="replace").count("Reloading config") > before:
                time.sleep(0.2)  # the reload is logged just before the files are read
                return
            time.sleep(0.05)
        raise TimeoutError("Mosquitto did not log a reload")

    def stop(self) -> None:
        if self._proc is not None:
            stop_process(self._proc)
            self._proc = None


class Client:
    """A paho client that records the CONNACK and every message it receives."""

    def __init__(self, port: int, *, username: str | None, password: str | None, client_id: str) -> None:
        self.port = port
        self.messages: list[tuple[str, bytes]] = []
        self.got = threading.Condition()
        self.connack: threading.Event = threading.Event()
        self.reason: object = None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message

    def _on_connect(self, _c: object, _u: object, _f: object, reason: object, _p: object) -> None:
        self.reason = reason
        self.connack.set()

    def _on_message(self, _c: object, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self.got:
            self.messages.append((msg.topic, bytes(msg.payload)))
            self.got.notify_all()

    def connect(self, *, timeout: float = 10) -> bool:
        """Connect; whether the broker accepted (False: it refused the credentials)."""
        self.client.connect("127.0.0.1", self.port, keepalive=30)
        self.client.loop_start()
        assert self.connack.wait(timeout), "no CONNACK from the broker"
        ok = not getattr(self.reason, "is_failure", True)
        if not ok:
            self.client.loop_stop()
        return ok

    def subscribe(self, *topics: str) -> None:
        done = threading.Event()
        self.client.on_subscribe = lambda *_: done.set()
        self.client.subscribe([(t, 1) for t in topics])
        assert done.wait(10), "no SUBACK"

    def publish(self, topic: str, payload: bytes) -> None:
        info = self.client.publish(topic, payload, qos=1)
        info.wait_for_publish(timeout=10)

    def wait_for(self, payload: bytes, timeout: float = 10) -> bool:
        with self.got:
            return self.got.wait_for(lambda: any(p == payload for _, p in self.messages), timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
