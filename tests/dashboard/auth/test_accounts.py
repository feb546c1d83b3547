"""Creating accounts: `cdm users add` as an operator runs it, the rules it enforces, and the demo accounts."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import psycopg
import pytest

from dashboard.access import Role
from dashboard.auth import credentials, service
from dashboard.auth.cli import DEMO_PASSWORD, create_demo_accounts

from ..county_builder import small_county

pytestmark = pytest.mark.integration


def _users_add(db_url: str, *args: str, password: str, language: str = "zh") -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", "users", "add", *args],
        env={**clean, "CDM_DATABASE_URL": db_url, "CDM_LANGUAGE": language},
        input=password + "\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_users_add_creates_a_township_account_with_an_argon2_hash(db_url: str, conn: psycopg.Connection) -> None:
    small_county(conn)
    done = _users_add(
        db_url, "--username", "Town.Li", "--role", "township", "--township", "t01", password="Hekou-2025!"
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) | {"user_id": 0} == {"user_id": 0, "username": "town.li", "role": "township"}
    row = conn.execute(
        "select u.role, t.code, u.password_hash, u.totp_secret from app_user u join region t on t.id = u.township_id"
    ).fetchone()
    assert row is not None and row[:2] == ("township", "t01") and row[3] is None
    assert credentials.verify_password(row[2], "Hekou-2025!") and "Hekou" not in row[2]


def test_users_add_keeps_the_mobile_an_assigned_alert_is_texted_to(db_url: str, conn: psycopg.Connection) -> None:
    small_county(conn)
    done = _users_add(db_url, "--username", "doc.he", "--role", "township", "--township", "t01",
                      "--phone", "+86 139-1234-5678", password="Hekou-2025!")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert conn.execute("select phone from app_user where username = 'doc.he'").fetchone() == ("13912345678",)
    assert "5678" not in done.stdout  # the command does not print it back


def test_users_add_gives_an_administrator_a_totp_uri(db_url: str, conn: psycopg.Connection) -> None:
    small_county(conn)
    done = _users_add(db_url, "--username", "sysadmin", "--role", "admin", "--county", "tc", password="Root-admin-2025")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["totp_uri"].startswith("otpauth://totp/")


@pytest.mark.parametrize(
    ("args", "password", "reason"),
    [
        (("--username", "weak", "--role", "county", "--county", "tc"), "password", "密码不可用：密码长度不足"),
        (("--username", "t1", "--role", "township"), "Good-pass-2025", "乡镇账号须用 --township 写明乡镇的地区编码"),
        (("--username", "t2", "--role", "township", "--township", "nowhere"), "Good-pass-2025",
         "没有编码为“nowhere”的乡镇"),
        (("--username", "t3", "--role", "team", "--team", "x"), "Good-pass-2025", "没有编码为“x”的家庭医生团队"),
        (("--username", "Bad Name", "--role", "county", "--county", "tc"), "Good-pass-2025",
         "用户名须为3至32位小写字母、数字、“.”、“_”或“-”"),
        (("--username", "t4", "--role", "county", "--county", "tc", "--phone", "138-0013"), "Good-pass-2025",
         "手机号不可用："),
    ],
)  # fmt: skip
def test_users_add_refuses_with_the_reason(
    db_url: str, conn: psycopg.Connection, args: tuple[str, ...], password: str, reason: str
) -> None:
    small_county(conn)
    done = _users_add(db_url, *args, password=password)
    # In the county's language (Chinese unless CDM_LANGUAGE says otherwise), as the other commands refuse
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith(f"未执行：{reason}"), done.stderr
    assert conn.execute("select count(*) from app_user").fetchone() == (0,)


def test_users_add_refuses_in_english_when_the_county_reads_english(db_url: str, conn: psycopg.Connection) -> None:
    small_county(conn)
    done = _users_add(db_url, "--username", "weak", "--role", "county", "--county", "tc", password="password",
                      language="en")  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip().startswith("refused: password refused: password too short；"), done.stderr
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in done.stderr), "no Chinese in an English refusal"


def test_a_taken_username_is_refused(conn: psycopg.Connection) -> None:
    small_county(conn)
    kwargs = {"password": "Good-pass-2025", "role": Role.COUNTY, "county_code": "tc", "min_password_length": 10}
    service.create_account(conn, username="wang", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(service.AccountError, match="用户名“wang”已被使用"):
        service.create_account(conn, username="wang", **kwargs)  # type: ignore[arg-type]


def test_demo_accounts_one_per_role_and_a_second_run_keeps_them(conn: psycopg.Connection) -> None:
    small_county(conn)
    made = create_demo_accounts(conn, county_code="tc")
    assert [(a.username, a.role, a.scope) for a in made] == [
        ("demo-county", Role.COUNTY, "tc"),
        ("demo-admin", Role.ADMIN, "tc"),
        ("demo-township", Role.TOWNSHIP, "t01"),
        ("demo-team", Role.TEAM, "tc-team1"),
    ]
    assert made[1].totp_uri and all(a.password == DEMO_PASSWORD for a in made)
    assert create_demo_accounts(conn, county_code="tc") == []
