"""What `cdm deploy render` writes, rendered from the settings and the deployment's shape (pure: no file is written
here; the templates are package data, app/deploy/templates).

The output mirrors the server's file system (etc/systemd/system/…, etc/mosquitto/…), so it can be reviewed, kept
under version control, and copied into place. `root` prefixes every absolute path the files name (like DESTDIR):
the tests render into a temporary root and run the real programs on the result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import jinja2

from app.deploy.envfile import env_file
from app.deploy.sizing import Machine, parameters
from cdm.settings import Settings

SHARE_GROUP = "cdm-ingest"
STATE_DIR = "/var/lib/cdm"  # the units' WorkingDirectory and StateDirectory
# What an offline persistent session (an ingest worker restarting) may queue at the broker: about a minute of a
# province's peak, far beyond Mosquitto's default of 1,000 (the demo's broker uses the same, app/services.py).
BROKER_QUEUED = 1_000_000
PATRONI_BIN_DIR = "/usr/lib/postgresql/15/bin"
_SAFE_YAML = re.compile(r"^[A-Za-z0-9_./:-]+$")
# Words YAML 1.1 (PyYAML, which Patroni uses) reads as booleans or null: quoted, so `on` stays the string "on".
_YAML_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"}


@dataclass(frozen=True)
class PatroniNode:
    """One PostgreSQL server under Patroni."""

    name: str
    host: str
    pg_port: int = 5432
    rest_port: int = 8008
    data_dir: str = "/var/lib/postgresql/15/main"
    socket_dir: str = "/var/run/postgresql"
    pgpass: str = "/var/lib/postgresql/.pgpass_patroni"


@dataclass(frozen=True)
class PatroniCluster:
    """Two (or more) PostgreSQL servers, a synchronous standby among them, leadership kept in etcd."""

    nodes: tuple[PatroniNode, ...]
    etcd_hosts: tuple[str, ...]
    scope: str = "cdm"
    database: str = "cdm"
    service_user: str = "cdm_runtime"  # the runtime role (CDM_DB_RUNTIME_ROLE) the services connect as
    # Patroni checks its node every loop_wait seconds, so a crashed primary is noticed within that; the leader key
    # lapses after ttl seconds of silence (Patroni wants ttl >= loop_wait + 2 x retry_timeout). Measured failover
    # with these values: docs/deploying.md.
    ttl: int = 20
    loop_wait: int = 5
    retry_timeout: int = 5
    bin_dir: str = PATRONI_BIN_DIR
    network: str = "0.0.0.0/0"
    log_dir: str | None = None
    superuser_password: str = "change-me-superuser"
    replication_password: str = "change-me-replication"
    rewind_password: str = "change-me-rewind"

    @property
    def service_url(self) -> str:
        """The services' CDM_DATABASE_URL: every node, and only a writable one accepted."""
        return multi_host_url([(n.host, n.pg_port) for n in self.nodes], database=self.database, user=self.service_user)


def multi_host_url(hosts: list[tuple[str, int]], *, database: str, user: str, password: str | None = None) -> str:
    """postgresql://user@h1:p1,h2:p2/db?target_session_attrs=read-write: libpq tries each host and keeps the one
    that accepts writes, so a promoted standby is found with no change of settings."""
    auth = user + (f":{password}" if password else "")
    netloc = ",".join(f"{h}:{p}" for h, p in hosts)
    return f"postgresql://{auth}@{netloc}/{database}?target_session_attrs=read-write&connect_timeout=5"


@dataclass(frozen=True)
class Deployment:
    """Where things live on the county's server, and its size; everything else comes from the settings."""

    server_name: str = "cdm.example.gov.cn"
    ingest_instances: int = 2
    cdm_bin: str = "/opt/cdm/venv/bin/cdm"
    pgbackrest_bin: str = "/usr/bin/pgbackrest"
    user: str = "cdm"
    root: str = ""
    machine: Machine = field(default_factory=Machine)
    mqtt_tls_port: int = 8883
    mqtt_local_port: int | None = 1883
    mosquitto_user: str = "mosquitto"
    mosquitto_autosave_s: int = 60
    pg_version: int = 15
    pg_port: int = 5432
    stanza: str = "cdm"
    backup_full_kept: int = 2
    timescaledb: bool = False
    assets_dir: str = ""
    patroni: PatroniCluster | None = None


@dataclass(frozen=True)
class Rendered:
    """One file to write: its path under the output folder, its text, its mode."""

    path: str
    text: str
    mode: int = 0o644


def paths(d: Deployment) -> dict[str, str]:
    """Every path the files name, under `d.root`."""
    r = d.root.rstrip("/")
    return {
        "env_file": f"{r}/etc/cdm/cdm.env",
        "metrics_dir": f"{r}/run/cdm/metrics",
        "broker_files": f"{r}/etc/mosquitto/cdm",
        "broker_cert": f"{r}/etc/cdm/tls/broker.crt",
        "broker_key": f"{r}/etc/cdm/tls/broker.key",
        "web_cert": f"{r}/etc/cdm/tls/web.crt",
        "web_key": f"{r}/etc/cdm/tls/web.key",
        "mosquitto_pid": f"{r}/run/mosquitto/mosquitto.pid",
        "mosquitto_data": f"{r}/var/lib/mosquitto",
        "mosquitto_log": f"{r}/var/log/mosquitto/mosquitto.log",
        "nginx_logs": f"{r}/var/log/nginx",
        "pg_data": f"{r}/var/lib/postgresql/{d.pg_version}/main",
        "pg_socket": f"{r}/var/run/postgresql",
        "pgbackrest_conf": f"{r}/etc/pgbackrest/pgbackrest.conf",
        "backup_repo": f"{r}/var/lib/pgbackrest",
        "backup_logs": f"{r}/var/log/pgbackrest",
    }


def archive_command(d: Deployment) -> str:
    """PostgreSQL's archive_command: each finished WAL segment into the pgBackRest repository."""
    return f"{d.pgbackrest_bin} --config={paths(d)['pgbackrest_conf']} --stanza={d.stanza} archive-push %p"


def yaml_scalar(value: object) -> str:
    """A value written safely into YAML: plain when unambiguous, else a JSON string (valid YAML)."""
    text = str(value)
    if text.startswith("'") and text.endswith("'") and len(text) > 1:
        text = text[1:-1]  # postgresql.conf quoting; YAML needs its own
    plain = _SAFE_YAML.match(text) and text.lower() not in _YAML_WORDS and not text.replace(".", "").isdigit()
    return text if plain else json.dumps(text)


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("app.deploy", "templates"),
        undefined=jinja2.StrictUndefined,  # a name missing from the context is an error, not an empty string
        keep_trailing_newline=True,
        autoescape=False,  # configuration files, not HTML
    )
    env.filters["yaml_scalar"] = yaml_scalar
    return env


def env_overrides(settings: Settings, d: Deployment) -> dict[str, Any]:
    """What the deployment decides for the services whatever the settings said (the rest is the settings')."""
    # The services' state (secret files, models) under systemd's StateDirectory, whatever the folder rendered from.
    overrides: dict[str, Any] = {"metrics_dir": Path(paths(d)["metrics_dir"]), "data_dir": Path(STATE_DIR)}
    # nginx is in front of the dashboard: one proxy whose X-Forwarded-For / -Proto to trust (client addresses in the
    # audit trail and the log-in throttle; https for HSTS and secure cookies).
    overrides["dashboard_proxy_hops"] = max(1, settings.dashboard_proxy_hops)
    if d.ingest_instances > 1 and not settings.ingest_share_group:
        overrides["ingest_share_group"] = SHARE_GROUP
    if d.patroni is not None and settings.database_url is None:
        overrides["database_url"] = d.patroni.service_url
    return overrides


def context(settings: Settings, d: Deployment) -> dict[str, Any]:
    """What every template may use."""
    host = settings.dashboard_host
    return {
        "settings": settings,
        "d": d,
        "paths": paths(d),
        "machine": d.machine,
        "generated": "generated by `cdm deploy render` from the settings: change them and render again, not this file",
        "docs": "/opt/cdm/docs/deploying.md",
        "state_dir": STATE_DIR,
        "share_group": settings.ingest_share_group or SHARE_GROUP,
        # Ingest acknowledges after commit: the broker's window must hold a batch, and twice that keeps it streaming
        # the next batch while ingest commits (bench/broker.py measured it).
        "inflight": 2 * settings.ingest_batch_size,
        "queued": BROKER_QUEUED,
        "max_packet": max(256 * 1024, 64 * settings.max_payload_bytes),
        "upstream_host": "127.0.0.1" if host in ("0.0.0.0", "::", "") else host,
        "assets": d.assets_dir,
        "parameters": parameters(d.machine, archive_command=archive_command(d), timescaledb=d.timescaledb),
    }


SYSTEMD_UNITS = (
    "cdm-ingest@.service",
    "cdm-worker.service",
    "cdm-dashboard.service",
    "cdm-metrics.service",
    "cdm.target",
    "cdm-backup@.service",
    "cdm-backup-full.timer",
    "cdm-backup-diff.timer",
)


def render(settings: Settings, d: Deployment) -> list[Rendered]:
    """Every file of the deployment, rendered."""
    env = _environment()
    ctx = context(settings, d)

    def one(template: str, **extra: Any) -> str:
        return env.get_template(template).render(**ctx, **extra)

    files = [Rendered(f"etc/systemd/system/{u}", one(f"systemd/{u}.j2")) for u in SYSTEMD_UNITS]
    files += [
        Rendered("etc/tmpfiles.d/cdm.conf", one("systemd/tmpfiles-cdm.conf.j2")),
        Rendered("etc/cdm/cdm.env", env_file(settings, overrides=env_overrides(settings, d)), 0o640),
        Rendered("etc/mosquitto/mosquitto.conf", one("mosquitto/mosquitto.conf.j2")),
        Rendered("etc/nginx/sites-available/cdm.conf", one("nginx/cdm.conf.j2")),
        Rendered(f"etc/postgresql/{d.pg_version}/main/conf.d/cdm.conf", one("postgresql/cdm.conf.j2")),
        Rendered("etc/pgbackrest/pgbackrest.conf", one("pgbackrest/pgbackrest.conf.j2"), 0o640),
        Rendered("etc/prometheus/cdm-rules.yml", one("prometheus/cdm-rules.yml.j2")),
        Rendered("etc/prometheus/cdm-scrape.yml", one("prometheus/cdm-scrape.yml.j2")),
    ]
    if d.patroni is not None:
        files += [
            Rendered(
                f"etc/patroni/{node.name}.yml",
                one("patroni/patroni.yml.j2", node=node, cluster=d.patroni),
                0o600,  # it holds the database passwords
            )
            for node in d.patroni.nodes
        ]
    return files


def warnings(settings: Settings, d: Deployment) -> list[str]:
    """The settings the person rendering should fix before these files go to production."""
    found: list[str] = []
    if settings.env != "production":
        found.append("CDM_ENV")
    if settings.database_url is None and d.patroni is None:
        found.append("CDM_DATABASE_URL")
    if not settings.mqtt_tls and settings.mqtt_host not in ("127.0.0.1", "localhost", "::1"):
        found.append("CDM_MQTT_URL")
    return found


def relative(path: str) -> PurePosixPath:
    """A rendered file's path, refused if it would leave the output folder."""
    rel = PurePosixPath(path)
    if rel.is_absolute() or ".." in rel.parts:
        raise ValueError(f"rendered path {path!r} leaves the output folder")
    return rel
