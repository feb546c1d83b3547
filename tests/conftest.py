"""Fixtures: a real PostgreSQL and a real MQTT broker, a fresh database per test, a real HTTP notification sink.

CDM_TEST_DATABASE_URL / CDM_TEST_MQTT_URL point the suite at servers that are already running; unset, the
fixtures start an embedded PostgreSQL and a local broker (Mosquitto if installed, otherwise amqtt).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from app.services import EmbeddedPostgres, LocalBroker, with_database
from app.sink import NotificationSink
from cdm import db
from cdm.db_roles import DbRoles, runtime_url
from cdm.settings import Settings
from tests.support.registry import SmallCounty, build


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """URL of a maintenance database on a real PostgreSQL server."""
    url = os.environ.get("CDM_TEST_DATABASE_URL")
    if url:
        yield url
        return
    # Not under pytest's tmp_path: pytest makes its temp root 0700 again whenever it creates a folder there,
    # and the embedded server runs as its own system user, which then loses access to its data directory.
    home = Path(tempfile.mkdtemp(prefix="cdm-test-pg-"))
    server = EmbeddedPostgres(home / "data")
    try:
        yield server.start()
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


def _create_database(server_url: str, name: str, template: str | None = None) -> str:
    with db.connect(server_url, autocommit=True) as conn:
        conn.execute(f'create database "{name}"' + (f' template "{template}"' if template else ""))
    return with_database(server_url, name)


def _drop_database(server_url: str, name: str) -> None:
    with db.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


# The roles `cdm db upgrade` makes, under names of the tests' own: roles belong to the whole server, which may be a
# shared one (CDM_TEST_DATABASE_URL). Each test's database is cloned from a template, grants included.
TEST_ROLES = DbRoles(owner="cdm_test_owner", runtime="cdm_test_runtime")


@pytest.fixture(scope="session")
def template_db(pg_server: str) -> Iterator[str]:
    """Name of a database migrated once per run (as `cdm db upgrade` does, roles included), cloned for each test."""
    from cdm.store import upgrade_store

    name = f"cdm_tpl_{uuid.uuid4().hex[:12]}"
    url = _create_database(pg_server, name)
    upgrade_store(url, roles=TEST_ROLES)
    yield name
    _drop_database(pg_server, name)


@pytest.fixture
def admin_db_url(pg_server: str, template_db: str) -> Iterator[str]:
    """A fresh, migrated database of this test's own, as the administrator (for what only `cdm db upgrade` does)."""
    name = f"cdm_t_{uuid.uuid4().hex[:12]}"
    url = _create_database(pg_server, name, template=template_db)
    yield url
    _drop_database(pg_server, name)


@pytest.fixture
def db_url(admin_db_url: str) -> str:
    """The same database as the services see it: connected as the runtime role, as in production and the demo."""
    return runtime_url(admin_db_url, TEST_ROLES)


@pytest.fixture
def empty_db_url(pg_server: str) -> Iterator[str]:
    """A fresh database with no schema at all."""
    name = f"cdm_e_{uuid.uuid4().hex[:12]}"
    url = _create_database(pg_server, name)
    yield url
    _drop_database(pg_server, name)


@pytest.fixture(scope="session")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(URL, kind) of a real MQTT broker: 'external', 'mosquitto' or 'amqtt'."""
    url = os.environ.get("CDM_TEST_MQTT_URL")
    if url:
        yield url, "external"
        return
    # CDM_TEST_BROKER=amqtt runs the suite as a machine without Mosquitto would.
    local = LocalBroker(tmp_path_factory.mktemp("broker"), prefer=os.environ.get("CDM_TEST_BROKER", "mosquitto"))
    try:
        yield local.start(), local.kind
    finally:
        local.stop()


@pytest.fixture(scope="session")
def mqtt_url(broker: tuple[str, str]) -> str:
    """URL of a real MQTT broker."""
    return broker[0]


@pytest.fixture
def redelivering_broker(broker: tuple[str, str]) -> None:
    """Skip unless the broker redelivers unacknowledged QoS 1 messages to a persistent session that died.

    amqtt 0.12 drops an in-flight message as soon as its PUBACK wait fails, so only Mosquitto (or a real
    production broker) can show that a worker killed before its commit loses nothing.
    """
    if broker[1] == "amqtt":
        pytest.skip("amqtt does not redeliver in-flight QoS 1 messages after a subscriber dies")


@pytest.fixture
def county_code() -> str:
    """A county code of this test's own, so its MQTT topics never meet another run's."""
    return f"t{uuid.uuid4().hex[:12]}"


@pytest.fixture
def sink() -> Iterator[NotificationSink]:
    """A real HTTP server standing in for the township and county centres."""
    server = NotificationSink().start()
    yield server
    server.stop()


@pytest.fixture
def settings(db_url: str, mqtt_url: str, county_code: str, sink: NotificationSink, tmp_path: Path) -> Settings:
    """Settings of a whole system wired to this test's database, topics and sink."""
    return Settings(
        database_url=db_url,
        mqtt_url=mqtt_url,
        county_code=county_code,
        notify_township_url=f"{sink.url}/township/{{township}}",
        notify_county_url=f"{sink.url}/county",
        ingest_client_id=f"ingest-{county_code}",
        ingest_flush_ms=20,
        # Tests share one broker, each with a county of its own: a catch-all subscription would file every other
        # test's messages (retained statuses too) as other_county here. Tests of strays turn it on.
        ingest_catch_all=False,
        data_dir=tmp_path / "cdm",
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture
def county(settings: Settings) -> SmallCounty:
    """The small county of tests.support.registry, in this test's database (its meters, clinics and patients)."""
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code)
        conn.commit()
    return county
