"""E-mail over SMTP: a UTF-8 subject and plain-text body, a Message-ID derived from the idempotency key."""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

from alerts.channels.base import DeliveryError, OutboundMessage, Receipt
from cdm.privacy import mask_email

log = logging.getLogger(__name__)

TIMEOUT_S = 10.0  # SMTP servers greet slowly on purpose (anti-spam delays); longer than an HTTP endpoint
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


def message_id(idempotency_key: str, *, sender: str) -> str:
    """The same Message-ID for every retry of one notification, so a receiver can drop repeats."""
    domain = sender.rpartition("@")[2] or "localhost"
    return f"<{_UNSAFE_ID.sub('_', idempotency_key)}.cdm@{domain}>"


def compose(message: OutboundMessage, *, sender: str) -> EmailMessage:
    """The e-mail for one message: subject = title, body = text, both UTF-8."""
    mail = EmailMessage()
    mail["Subject"] = " ".join(message.title.split())  # a line break in a header would end the header
    mail["From"] = sender
    mail["To"] = message.address.strip()
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = message_id(message.idempotency_key, sender=sender)
    # base64 rather than 8bit: every SMTP server accepts it, whether or not it offers 8BITMIME
    mail.set_content(message.text, charset="utf-8", cte="base64")
    return mail


class EmailChannel:
    """Sends each message in its own SMTP session (alerts are few; a held connection would go stale)."""

    name = "email"

    def __init__(
        self,
        *,
        host: str,
        port: int = 25,
        sender: str,
        username: str | None = None,
        password: str | None = None,
        starttls: bool = False,
        tls_context: ssl.SSLContext | None = None,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        self._host, self._port, self._sender = host, port, sender
        self._username, self._password = username, password
        self._starttls = starttls
        self._tls_context = tls_context or ssl.create_default_context()
        self._timeout_s = timeout_s

    def send(self, message: OutboundMessage) -> Receipt:
        """Hand one e-mail to the SMTP server; raise DeliveryError unless it queues it (250)."""
        address = message.address.strip()
        if not usable_email(address):
            raise DeliveryError("delivery.email_address", permanent=True)
        mail = compose(message, sender=self._sender)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout_s) as smtp:
                self._open(smtp)
                code, reply = _transmit(smtp, mail, sender=self._sender, recipient=address)
        except smtplib.SMTPResponseException as exc:
            raise _refused("SMTP", exc.smtp_code, exc.smtp_error) from exc
        except (smtplib.SMTPNotSupportedError, ssl.SSLCertVerificationError) as exc:
            # the server lacks STARTTLS or its certificate is not trusted: settings to fix, not a passing outage
            error, detail = type(exc).__name__, str(exc)
            raise DeliveryError("delivery.smtp_settings", error=error, detail=detail, permanent=True) from exc
        except (smtplib.SMTPException, OSError) as exc:
            # a dropped connection, a refused connection or a timeout: the server may be back later
            raise DeliveryError("delivery.smtp_unreachable", error=type(exc).__name__, detail=str(exc)) from exc
        log.debug("e-mail to %s queued: %s", mask_email(address), reply)
        return Receipt(code, f"{reply} {mail['Message-ID']}".strip()[:500])

    def _open(self, smtp: smtplib.SMTP) -> None:
        """STARTTLS and log-in, when configured."""
        if self._starttls:
            smtp.starttls(context=self._tls_context)
        if self._username:
            try:
                smtp.login(self._username, self._password or "")
            except UnicodeEncodeError as exc:
                raise DeliveryError("delivery.smtp_ascii", permanent=True) from exc

    def close(self) -> None:
        """Nothing is held between messages."""


def usable_email(address: str) -> bool:
    """Whether `address` is one mailbox this channel can send to: ASCII name@domain."""
    return address.isascii() and _ADDRESS.fullmatch(address) is not None


def _transmit(smtp: smtplib.SMTP, mail: EmailMessage, *, sender: str, recipient: str) -> tuple[int, str]:
    """MAIL, RCPT and DATA by hand, so the server's final reply (its queue id) becomes the receipt."""
    smtp.ehlo_or_helo_if_needed()
    code, reply = smtp.mail(sender)
    if code != 250:
        raise _refused("MAIL FROM", code, reply)
    code, reply = smtp.rcpt(recipient)
    if code not in (250, 251):
        raise _refused("RCPT TO", code, reply)
    code, reply = smtp.data(mail.as_bytes())
    if code != 250:
        raise _refused("DATA", code, reply)
    return code, reply.decode("utf-8", errors="replace")


def _refused(stage: str, code: int, reply: bytes | str) -> DeliveryError:
    """4xx is a temporary refusal (retried), 5xx a permanent one; the reply text is kept for staff."""
    text = reply.decode("utf-8", errors="replace") if isinstance(reply, bytes) else reply
    # the server's reply may quote the recipient's address: mask anything that looks like one
    text = _ADDRESS.sub(lambda m: mask_email(m.group(0)), text)
    return DeliveryError(
        "delivery.smtp_refused", stage=stage, code=code, reply=text[:200], status=code, permanent=500 <= code < 600
    )
