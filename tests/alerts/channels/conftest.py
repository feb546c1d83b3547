"""Real local servers for the channel tests: an SMTP server (aiosmtpd), a port nobody listens on, a silent one."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

SMTP_USER, SMTP_PASSWORD = "cdm", "s3cret"


@dataclass
class RecordingHandler:
    """An SMTP receiver that keeps each message once per Message-ID and can be told to refuse."""

    messages: list[EmailMessage] = field(default_factory=list)
    repeats: int = 0
    rcpt_reply: str | None = None  # e.g. "550 5.1.1 no such user"
    data_reply: str | None = None  # e.g. "451 4.3.0 try again later"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.rcpt_reply:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.data_reply:
            return self.data_reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        if any(m["Message-ID"] == message["Message-ID"] for m in self.messages):
            self.repeats += 1
        else:
            self.messages.append(message)
        return f"250 2.0.0 Ok: queued as Q{len(self.messages)}"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = auth_data.login == SMTP_USER.encode() and auth_data.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)  # handled=False: the server itself answers 535 on failure


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class SmtpServer:
    host: str
    port: int
    handler: RecordingHandler


def _start(handler: RecordingHandler, **kwargs: object) -> Controller:
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    return controller


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on a free port; AUTH allowed without TLS so the log-in can be tested on plain SMTP."""
    handler = RecordingHandler()
    controller = _start(handler, authenticator=_authenticate, auth_require_tls=False)
    yield SmtpServer("127.0.0.1", controller.port, handler)
    controller.stop()


@pytest.fixture
def certificate(tmp_path: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (cert and key in one PEM file)."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed; needed to make a test certificate")
    pem = tmp_path / "server.pem"
    subject = ["-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            *subject,
            "-keyout",
            pem,
            "-out",
            pem,
        ],
        check=True,
        capture_output=True,
    )
    return pem


@pytest.fixture
def tls_smtp_server(certificate: Path) -> Iterator[SmtpServer]:
    """A real SMTP server that requires STARTTLS before anything else, and a log-in over TLS."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certificate)
    handler = RecordingHandler()
    controller = _start(handler, authenticator=_authenticate, tls_context=context, require_starttls=True)
    yield SmtpServer("127.0.0.1", controller.port, handler)
    controller.stop()


@pytest.fixture
def closed_port() -> int:
    """A port on which the connection is refused."""
    return free_port()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel completes them) but never answers: a hung receiver."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        yield int(s.getsockname()[1])
