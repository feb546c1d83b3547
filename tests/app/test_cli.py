"""The `cdm` command as an operator runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from cdm.db_roles import DbRoles, runtime_url
from cdm.migrate import discover


def cdm(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.integration
def test_db_upgrade_twice_applies_then_reports_nothing_to_do(empty_db_url):
    runtime = runtime_url(empty_db_url, DbRoles(owner="cli_owner", runtime="cli_runtime"))
    env = {"CDM_DATABASE_ADMIN_URL": empty_db_url, "CDM_DATABASE_URL": runtime,
           "CDM_DB_OWNER_ROLE": "cli_owner", "CDM_DB_RUNTIME_ROLE": "cli_runtime"}  # fmt: skip
    first = cdm("db", "upgrade", **env)
    second = cdm("db", "upgrade", **env)
    assert first.returncode == 0, first.stderr
    shipped = [f"{m.version:04d}_{m.name}" for m in discover()]
    assert len(shipped) >= 8
    assert json.loads(first.stdout)["applied"] == shipped
    assert json.loads(second.stdout) == {
        "engine": "native",
        "applied": [],
        "thresholds_changed": 0,
        "partitions_created": 0,
        "roles": {"owner": "cli_owner", "runtime": "cli_runtime"},
        "services_connect_as": "cli_runtime",
    }
    with psycopg.connect(runtime) as conn:  # what the services connect with
        assert conn.execute("select current_user").fetchone() == ("cli_runtime",)
        owners = conn.execute(
            "select distinct pg_get_userbyid(c.relowner) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and c.relkind in ('r', 'p', 'v')"
        ).fetchall()
        assert owners == [("cli_owner",)]
        conn.execute("insert into audit_event (username, action) values ('x', 'test')")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("delete from audit_event")


@pytest.mark.integration
def test_db_upgrade_refuses_to_migrate_as_the_runtime_role(empty_db_url):
    runtime = runtime_url(empty_db_url, DbRoles())
    done = cdm("db", "upgrade", CDM_DATABASE_URL=runtime)
    assert done.returncode == 2 and "CDM_DATABASE_ADMIN_URL" in done.stderr


def test_a_wrong_setting_stops_the_command_with_the_variable_named():
    result = cdm("db", "upgrade", CDM_DATABASE_URL="postgresql://x/y", CDM_MQTT_URL="tcp://broker:1883")
    assert result.returncode == 2
    assert result.stderr.startswith("配置有误，未启动：")
    assert "CDM_MQTT_URL: 应以 mqtt:// 或 mqtts:// 开头（现为 tcp://）" in result.stderr
    assert "Traceback" not in result.stderr


def test_commands_that_need_the_store_say_how_to_name_it():
    result = cdm("ingest")
    assert result.returncode == 2 and "未设置 CDM_DATABASE_URL" in result.stderr
    result = cdm("ingest", CDM_LANGUAGE="en")
    assert result.returncode == 2 and "CDM_DATABASE_URL is not set" in result.stderr
