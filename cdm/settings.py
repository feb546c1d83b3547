"""The one settings object: environment variables prefixed CDM_ (or a .env file), built once at start-up."""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cdm import secret_files
from cdm.i18n import Refusal, Term
from cdm.id_keys import IdCardKeyring
from cdm.settings_errors import SettingsError as SettingsError  # raised by load_settings; imported from here
from cdm.settings_errors import explained

NOT_SET = SecretStr("")  # a secret left unset: resolved from <data dir>/secrets/ (cdm.secret_files), never from code
Channel = Literal["webhook", "wecom", "sms", "email"]
_COUNTY_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


class Settings(BaseSettings):
    """Everything a process of this system can be configured with."""

    model_config = SettingsConfigDict(env_prefix="CDM_", env_file=".env", extra="ignore", frozen=True)

    env: Literal["development", "production"] = Field(
        default="development",
        description="`production` refuses the development secrets (webhook, ID-card key, session)",
    )
    database_url: str | None = Field(
        default=None, description="postgresql://… of the store; unset: `cdm demo` starts an embedded PostgreSQL"
    )
    database_admin_url: str | None = Field(
        default=None,
        description="postgresql://… of a superuser (or a role with CREATEROLE owning the database) for `cdm db"
        " upgrade`, which makes the owner and runtime roles and runs migrations as the owner; unset: CDM_DATABASE_URL",
    )
    db_owner_role: str = Field(
        default="cdm_owner", pattern=r"^[a-z_][a-z0-9_]{0,62}$", description="owns the schema; migrations run as it"
    )
    db_runtime_role: str = Field(
        default="cdm_runtime",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="what the services connect as (the user of CDM_DATABASE_URL): no ownership, INSERT and SELECT"
        " only on the audit trail",
    )
    mqtt_url: str = Field(default="mqtt://127.0.0.1:1883", description="mqtt://host:port of the broker")
    mqtt_secondary_url: str | None = Field(
        default=None,
        description="a second broker (mqtt:// or mqtts://, same accounts): meters that cannot reach the first"
        " publish here, and ingest subscribes to both (the readings' keys make the overlap harmless)",
    )
    mqtt_username: str | None = Field(default=None, description="broker account of this process (overrides the URL's)")
    mqtt_password: SecretStr | None = Field(default=None, description="its password (overrides the URL's)")
    mqtt_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CA(s) the broker's certificate must chain to (mqtts://); unset: the system's"
        " trust store. A county's private CA goes here",
    )
    mqtt_cert_file: Path | None = Field(
        default=None, description="PEM client certificate presented to the broker (with CDM_MQTT_KEY_FILE)"
    )
    mqtt_key_file: Path | None = Field(default=None, description="PEM private key of CDM_MQTT_CERT_FILE")
    county_code: str = Field(default="demo", description="short code of the county; part of every MQTT topic")
    county_name: str = Field(default="示范县", description="the county's name, shown on screens")
    timezone: str = Field(default="Asia/Shanghai", description="time zone of screens and messages")
    guideline_edition: Literal["2017", "2020", "2025"] = Field(
        default="2020", description="edition of the national guideline whose targets the rules use"
    )
    language: Literal["zh", "en"] = Field(default="zh", description="`zh` or `en`: screens and messages")

    notify_township_url: str | None = Field(
        default=None, description="webhook of the township centres; `{township}` is replaced by its code"
    )
    notify_county_url: str | None = Field(default=None, description="webhook of the county chronic-disease centre")
    webhook_secret: SecretStr = Field(
        default=NOT_SET, description="HMAC-SHA256 key of the webhook signature; unset: <data dir>/secrets/webhook.key"
    )
    notify_township_channel: Channel = Field(default="webhook", description="how township centres are told")
    notify_county_channel: Channel = Field(default="webhook", description="how the county centre is told")

    notify_retry_base_s: float = Field(default=2.0, gt=0, le=3600, description="first retry after this; doubles")
    notify_retry_max_s: float = Field(default=600.0, gt=0, le=86_400, description="longest wait between retries")
    notify_give_up_after_s: float = Field(default=86_400.0, gt=0, description="then failed, for staff to retry")
    notify_breaker_failures: int = Field(default=5, ge=1, le=1000, description="failures in a row open a channel")
    notify_breaker_cooldown_s: float = Field(default=60.0, gt=0, le=3600, description="then one trial send")
    notify_lease_s: float = Field(default=60.0, gt=0, le=3600, description="a dead dispatcher's claim lapses")

    sms_gateway_url: str | None = Field(default=None, description="HTTP API of the SMS gateway")
    sms_api_key: SecretStr | None = Field(default=None, description="API key of the SMS gateway")
    sms_sign_name: str = Field(default="县慢病中心", description="signature the gateway puts on every SMS")
    smtp_host: str | None = Field(default=None, description="mail server of e-mail notifications")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="its port")
    smtp_username: str | None = Field(default=None, description="account on the mail server")
    smtp_password: SecretStr | None = Field(default=None, description="its password")
    smtp_starttls: bool = Field(default=False, description="upgrade the mail connection with STARTTLS")
    smtp_from: str = Field(default="cdm@localhost", description="sender address of e-mail notifications")

    reminder_quiet_start: time = Field(default=time(21, 0), description="no patient message from this hour…")
    reminder_quiet_end: time = Field(default=time(8, 0), description="…until this hour (CDM_TIMEZONE)")
    reminder_daily_cap: int = Field(default=2, ge=1, le=20, description="messages a patient gets a day at most")
    reminder_measure_after_days: int = Field(default=7, ge=1, le=365, description="no reading this long: remind")

    ingest_client_id: str = Field(
        default="cdm-ingest-1",
        description="this ingest worker's persistent MQTT session (one per worker, kept across restarts)",
    )
    ingest_batch_size: int = Field(
        default=500,
        ge=1,
        le=20_000,
        description="messages committed (then acknowledged) together; the broker's in-flight window must be at"
        " least this, best twice (Mosquitto max_inflight_messages, EMQX max_inflight): `cdm bench ingest`",
    )
    ingest_flush_ms: int = Field(
        default=50,
        ge=1,
        le=10_000,
        description="commit what has arrived after this long even if the batch is not full (bounds the latency)",
    )
    ingest_queue_max: int = Field(
        default=20_000,
        ge=10,
        le=1_000_000,
        description="messages received and not yet committed, at most; when full, the network thread waits and"
        " the broker holds the rest (backpressure). Keep it above the broker's in-flight window",
    )
    max_payload_bytes: int = Field(default=4096, ge=256, le=1_048_576, description="larger messages are refused")
    max_clock_skew_s: int = Field(
        default=300, ge=0, le=86_400, description="how far in the future a reading's measured_at may be"
    )
    max_buffer_age_days: int = Field(default=30, ge=1, le=3650, description="how old a replayed reading may be")
    id_card_key: SecretStr = Field(
        default=NOT_SET,
        description="key of the HMAC-SHA256 kept in place of ID-card numbers; unset: <data dir>/secrets/id_card.key."
        " Back it up: losing it unlinks every stored hash. Change it only through `cdm id-cards rotate-key`",
    )
    device_offline_grace: float = Field(
        default=2.5, ge=1.0, le=100.0, description="a meter silent for its heartbeat interval x this is offline"
    )
    ingest_stale_after_s: int = Field(
        default=6 * 3600,
        ge=0,
        le=30 * 86_400,
        description="a reading that arrives this long after it was measured (a meter's replayed buffer) is stored"
        " and re-assesses its patient, but raises no alert: stale history shows on the screens, not as an alarm",
    )
    ingest_catch_all: bool = Field(
        default=True,
        description="subscribe to every topic under cdm/, so a message on another county's or a malformed topic is"
        " kept in quarantine with its reason; falls back to the county's topics when the broker's ACL refuses",
    )
    ingest_share_group: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="MQTT shared-subscription group ($share/<group>/...): workers with the same group and their"
        " own CDM_INGEST_CLIENT_ID split the meters' stream; unset, one worker takes every message",
    )

    assessment_window_days: int = Field(
        default=14, ge=1, le=365, description="window of the means the rules compare with targets"
    )
    monitoring_interval_days: int = Field(
        default=30, ge=1, le=365, description="no reading for longer: yellow (monitoring gap)"
    )
    sitting_minutes: int = Field(
        default=10,
        ge=1,
        le=120,
        description="BP readings of one patient on one meter less than this many minutes apart (each from the one"
        " before) form one sitting; BP means are means of sitting means, and a critical reading's alert records"
        " whether its sitting's mean confirmed it",
    )

    dashboard_host: str = Field(default="127.0.0.1", description="address the screens are served on")
    dashboard_port: int = Field(default=8050, ge=0, le=65535, description="0: any free port (`cdm demo`)")
    dashboard_refresh_s: int = Field(default=5, ge=1, le=3600, description="live refresh of the county screen")
    id_card_retired_keys: tuple[SecretStr, ...] = Field(
        default=(),
        description="earlier ID-card keys (JSON list), kept to match hashes re-keyed under a later one; the files of"
        " <data dir>/secrets/id_card.retired/ are added (`cdm id-cards rotate-key` writes them)",
    )
    dashboard_secret_key: SecretStr = Field(
        default=NOT_SET, description="signs the screens' session cookies; unset: <data dir>/secrets/session.key"
    )
    generate_secrets: bool | None = Field(
        default=None,
        description="make a secret's file in <data dir>/secrets/ when neither it nor its CDM_ variable exists;"
        " unset: yes in development, no in production (`cdm secrets init` makes them once)",
    )
    dashboard_session_hours: int = Field(default=12, ge=1, le=720, description="a log-in lasts at most this long")
    login_max_failures: int = Field(default=5, ge=1, le=100, description="failed log-ins in a row that lock")
    login_lockout_minutes: int = Field(default=30, ge=1, le=10_080, description="how long a locked account waits")
    login_throttle_failures: int = Field(
        default=5, ge=1, le=1000, description="failed log-ins from one client address that make it wait (HTTP 429)"
    )
    login_throttle_window_s: int = Field(default=900, ge=1, le=86_400, description="…counted over this long")
    login_throttle_wait_s: int = Field(default=60, ge=1, le=86_400, description="first wait; doubles each time")
    login_throttle_max_wait_s: int = Field(default=3600, ge=1, le=604_800, description="longest wait")
    dashboard_proxy_hops: int = Field(
        default=0,
        ge=0,
        le=5,
        description="reverse proxies (nginx) in front of the dashboard whose X-Forwarded-For / -Proto to trust for"
        " the client address (log-in throttle, audit) and https (HSTS, secure cookies); 0: none, trust nothing",
    )
    password_min_length: int = Field(default=10, ge=8, le=128, description="shortest password an account may set")

    metrics_dir: Path | None = Field(
        default=None,
        description="folder where every process of this machine writes its Prometheus metrics (prometheus_client's"
        " multiprocess mode: a tmpfs folder emptied at boot, e.g. /run/cdm/metrics); `cdm metrics` serves them all"
        " on one endpoint. Unset: no process writes metrics",
    )
    metrics_host: str = Field(default="127.0.0.1", description="address `cdm metrics` serves /metrics on")
    metrics_port: int = Field(default=9464, ge=0, le=65535, description="its port (0: any free port)")
    log_format: Literal["text", "json"] = Field(
        default="text", description="`json`: one JSON object a line on stderr (for journald and log collectors)"
    )

    data_dir: Path = Field(
        default=Path(".cdm"), description="embedded PostgreSQL, broker config and logs of `cdm demo`"
    )

    @field_validator("database_url", "database_admin_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        scheme = urlsplit(value).scheme
        if scheme not in {"postgresql", "postgres"}:
            raise Refusal("settings.database_scheme", scheme=_given(scheme))
        return value

    @field_validator("mqtt_secondary_url")
    @classmethod
    def _mqtt_secondary_url(cls, value: str | None) -> str | None:
        return cls._mqtt_url(value) if value else None

    @field_validator("mqtt_url")
    @classmethod
    def _mqtt_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"mqtt", "mqtts"}:
            raise Refusal("settings.mqtt_scheme", scheme=_given(parts.scheme))
        if not parts.hostname:
            raise Refusal("settings.mqtt_host")
        try:
            parts.port  # noqa: B018 - raises on a port outside 0-65535
        except ValueError:
            raise Refusal("settings.mqtt_port") from None
        return value

    @field_validator("county_code")
    @classmethod
    def _county_code(cls, value: str) -> str:
        if not _COUNTY_CODE.match(value):
            raise Refusal("settings.county_code")
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise Refusal("settings.timezone", value=value) from None
        return value

    @field_validator("notify_township_url", "notify_county_url", "sms_gateway_url")
    @classmethod
    def _webhook(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value.replace("{township}", "x"))
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise Refusal("settings.webhook")
        return value

    @model_validator(mode="after")
    def _secrets_and_exposure(self) -> Settings:
        production = self.env == "production"
        generate = (not production) if self.generate_secrets is None else self.generate_secrets
        for name in secret_files.FILES:
            configured: SecretStr = getattr(self, name)
            try:
                value = secret_files.resolve(
                    name,
                    configured.get_secret_value(),
                    data_dir=self.data_dir,
                    production=production,
                    generate=generate,
                )
            except OSError as exc:
                raise ValueError(str(exc)) from None
            object.__setattr__(self, name, SecretStr(value))  # frozen: filled once, while the object is built
        retired = [k.get_secret_value() for k in self.id_card_retired_keys]
        try:
            retired += secret_files.retired_id_card_keys(self.data_dir)
        except OSError as exc:
            raise ValueError(str(exc)) from None
        object.__setattr__(self, "id_card_retired_keys", tuple(SecretStr(k) for k in dict.fromkeys(retired)))
        _check_mqtt_tls(self)
        if not production and not _is_loopback(self.dashboard_host):
            raise Refusal("settings.dashboard_host", host=self.dashboard_host)
        return self

    @property
    def notification_routes(self) -> dict[str, str]:
        """The channel each centre is told through."""
        return {"township": self.notify_township_channel, "county": self.notify_county_channel}

    @property
    def id_card_keyring(self) -> IdCardKeyring:
        """The ID-card key and the retired ones still on file."""
        return IdCardKeyring(
            current=self.id_card_key.get_secret_value().encode(),
            retired=tuple(k.get_secret_value().encode() for k in self.id_card_retired_keys),
        )

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def mqtt_host(self) -> str:
        return urlsplit(self.mqtt_url).hostname or "127.0.0.1"

    @property
    def mqtt_port(self) -> int:
        parts = urlsplit(self.mqtt_url)
        return parts.port or (8883 if parts.scheme == "mqtts" else 1883)

    @property
    def mqtt_credentials(self) -> tuple[str | None, str | None]:
        """(username, password) from CDM_MQTT_USERNAME / CDM_MQTT_PASSWORD, else from the URL's user part."""
        parts = urlsplit(self.mqtt_url)
        password = self.mqtt_password.get_secret_value() if self.mqtt_password else parts.password
        return (self.mqtt_username or parts.username, password)

    @property
    def mqtt_tls(self) -> bool:
        return urlsplit(self.mqtt_url).scheme == "mqtts"

    @property
    def mqtt_urls(self) -> list[str]:
        """The brokers in order of preference: CDM_MQTT_URL, then CDM_MQTT_SECONDARY_URL when set."""
        return [self.mqtt_url, *([self.mqtt_secondary_url] if self.mqtt_secondary_url else [])]


def _check_mqtt_tls(settings: Settings) -> None:
    files = {"CDM_MQTT_CA_FILE": settings.mqtt_ca_file, "CDM_MQTT_CERT_FILE": settings.mqtt_cert_file,
             "CDM_MQTT_KEY_FILE": settings.mqtt_key_file}  # fmt: skip
    named = {name: path for name, path in files.items() if path is not None}
    if named and not settings.mqtt_tls:
        raise Refusal("settings.tls_plain", names=", ".join(named))
    if (settings.mqtt_cert_file is None) != (settings.mqtt_key_file is None):
        raise Refusal("settings.tls_pair")
    for name, path in named.items():
        if not path.is_file():
            raise Refusal("settings.tls_file", name=name, path=path)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _given(scheme: str) -> str | Term:
    """The scheme a URL was given with, as a refusal names it."""
    return f"{scheme}://" if scheme else Term("settings.no_scheme")


def load_settings(**overrides: object) -> Settings:
    """Build the settings; a validation failure becomes one message naming each CDM_ variable and what is wrong
    with it, in CDM_LANGUAGE (Chinese when unset or not one of ours)."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise explained(exc, overrides) from None
