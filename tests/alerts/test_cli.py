"""The alert workflow as staff drive it from the `cdm` command, against a real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import psycopg
import pytest

from alerts.service import AlertContext, alert_changes
from assess.repo import save
from assess.rules import RuleSettings
from cdm.domain import Assessment, Change, Colour
from cdm.thresholds import for_edition
from tests.support.processes import env_for
from tests.support.registry import build

pytestmark = pytest.mark.integration

ALERTING = AlertContext(RuleSettings(for_edition("2020")))


def cdm(settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env_for(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_staff_acknowledge_act_and_close_from_the_command_line(settings):
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=2)
        card, pid = next(iter(county.patients.items()))
        facts = {"bp_critical": {"sbp": 186, "dbp": 112, "at": "2026-11-23T01:12:00+00:00"}}
        red = Assessment(Colour.RED, ("bp_critical",), 210.0, ("BP-x:1",), facts=facts)
        save(conn, assessed=[(pid, red)], changed=[(pid, red, None)], now=datetime.now(UTC), edition="2020")
        alert_changes(conn, [Change(pid, None, red)], now=datetime.now(UTC), ctx=ALERTING)
        conn.commit()
        alert_id = conn.execute("select id from alert").fetchone()[0]

    listed = json.loads(cdm(settings, "alerts", "list", "--township", f"{settings.county_code}-tw1").stdout)
    assert [a["id"] for a in listed] == [alert_id] and listed[0]["patient"] != card
    assert card not in json.dumps(listed)
    assert listed[0]["reason_texts"] == ["最近一次 186/112 mmHg（11-23 09:12），≥180/110 需紧急转诊"]

    assert json.loads(cdm(settings, "alerts", "ack", str(alert_id), "--by", "wang").stdout)["status"] == "acknowledged"
    again = cdm(settings, "alerts", "ack", str(alert_id), "--by", "wang")
    # Refused in the county's language, naming the status the alert is in, with no traceback
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert again.stderr.strip() == "未执行：预警当前为“已确认”，不能再改为“已确认”"
    act = cdm(settings, "alerts", "act", str(alert_id), "--by", "li", "--action", "phone_call")
    assert json.loads(act.stdout)["action"] == "phone_call"

    team = f"{settings.county_code}-team1"
    first = json.loads(cdm(settings, "followups", "list", "--team", team).stdout)[0]
    assert first["colour"] == "红" and first["patient"] != card
    recorded = json.loads(
        cdm(
            settings,
            "followups",
            "record",
            "--by",
            "li",
            "--patient",
            card,
            "--class",
            "controlled",
            "--next-step",
            "继续服药",
        ).stdout
    )
    assert recorded["closed_alerts"] == [alert_id]
    assert (
        json.loads(cdm(settings, "alerts", "list", "--status", "closed").stdout)[0]["outcome"] == "控制满意; 继续服药"
    )


def test_failed_notifications_are_listed_with_their_reason_and_can_be_sent_again(settings):
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=1)
        pid = next(iter(county.patients.values()))
        alert_changes(
            conn,
            [Change(pid, None, Assessment(Colour.RED, ("bp_critical",), 210.0, ("BP-x:1",)))],
            now=datetime.now(UTC),
            ctx=ALERTING,
        )
        conn.execute("update notification set status = 'failed', last_error = 'HTTP 503: unavailable'")
        conn.commit()
    failed = json.loads(cdm(settings, "notifications", "list", "--status", "failed").stdout)
    assert len(failed) == 2 and all(n["last_error"] == "HTTP 503: unavailable" for n in failed)
    assert json.loads(cdm(settings, "notifications", "retry").stdout) == {"queued_again": 2}
    assert json.loads(cdm(settings, "notifications", "list", "--status", "pending").stdout)[0]["attempts"] == 0


def test_a_patients_phone_is_checked_and_never_printed(settings):
    with psycopg.connect(settings.database_url) as conn:
        county = build(conn, code=settings.county_code, patients=1)
        conn.commit()
    card = next(iter(county.patients))
    bad = cdm(settings, "patients", "contact", "--patient", card, "--phone", "12345")
    assert bad.returncode == 1 and "11" in bad.stderr and "12345" not in bad.stderr
    good = cdm(
        settings,
        "patients",
        "contact",
        "--patient",
        card,
        "--phone",
        "+86 138 1234 5678",
        "--medication-times",
        "08:00,20:00",
    )
    assert json.loads(good.stdout)["medication_times"] == ["08:00", "20:00"] and "5678" not in good.stdout
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("select phone from patient_contact").fetchone() == ("13812345678",)


def test_a_contact_is_refused_when_typed_wrong_saying_what_to_change(settings):
    with psycopg.connect(settings.database_url) as conn:
        build(conn, code=settings.county_code, patients=1)
        conn.commit()
    township = f"{settings.county_code}-tw1"
    refused = {
        ("--role", "boss", "--channel", "sms", "--address", "13812345678", "--region", township):
            "没有“boss”这种联系人：请选 centre / on_duty / team",
        ("--role", "centre", "--channel", "fax", "--address", "13812345678", "--region", township):
            "没有“fax”这种发送渠道：请选 webhook / wecom / sms / email",
        ("--role", "centre", "--channel", "sms", "--address", "1381234567", "--region", township):
            "该地址无法用于 sms：手机号为 10 位，大陆手机号应为 11 位",
        ("--role", "centre", "--channel", "webhook", "--address", "hooks.example/t1", "--region", township):
            "该地址无法用于 webhook：不是以 http:// 或 https:// 开头的网址",
        ("--role", "centre", "--channel", "sms", "--address", "13812345678"):
            "请用 --region（县或乡镇编码）或 --team（团队编码）说明这是谁的联系方式，二者只选其一",
        ("--role", "centre", "--channel", "sms", "--address", "13812345678", "--region", "nowhere"):
            "没有编码为“nowhere”的地区",
    }  # fmt: skip
    for args, why in refused.items():
        answer = cdm(settings, "contacts", "add", *args)
        assert answer.returncode == 1 and "Traceback" not in answer.stderr, answer.stderr
        assert why in answer.stderr.strip(), answer.stderr
        assert "1381234567" not in answer.stderr, "the number is not repeated"
    added = cdm(settings, "contacts", "add", "--role", "centre", "--channel", "sms", "--address", "+86 138 1234 5678",
                "--region", township)  # fmt: skip
    assert added.returncode == 0, added.stderr
    with psycopg.connect(settings.database_url) as conn:
        assert conn.execute("select channel, address from contact").fetchall() == [("sms", "13812345678")]
