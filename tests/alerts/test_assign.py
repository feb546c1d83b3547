"""Assigning an alert to a named doctor tells that doctor (issue 15's "not yet"), on a real PostgreSQL, the real
dispatcher and SMS channel, and a real HTTP gateway: the text goes to the doctor's own mobile, in their language,
once; an account without a mobile fails where staff see it, naming the command that fixes it, and no centre's
number stands in for the doctor's; `cdm alerts assign` and `cdm users phone` do it from a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import psycopg
import pytest
from pydantic import SecretStr

from alerts.dispatcher import Dispatcher
from alerts.service import AlertContext, alert_changes
from alerts.workflow import service as workflow
from alerts.workflow.logic import TransitionError
from assess.rules import RuleSettings
from cdm.domain import Assessment, Change, Colour
from cdm.thresholds import for_edition
from dashboard.access import Role
from tests.dashboard.accounts import make_account
from tests.support.registry import build

pytestmark = pytest.mark.integration

DOCTOR_MOBILE = "13912345678"


@pytest.fixture
def sms_settings(settings, sink):
    """The test's settings with the SMS gateway pointed at the sink."""
    return settings.model_copy(update={"sms_gateway_url": f"{sink.url}/sms", "sms_api_key": SecretStr("gw-key")})


@pytest.fixture
def alert(sms_settings) -> int:
    """One red patient's alert in 城关镇, its centres' notifications already sent, and the township's people:
    nurse.li (with a mobile), doc.en (with a mobile, reads English), doc.nophone, and other.wu of another township."""
    with psycopg.connect(sms_settings.database_url, autocommit=True) as conn:
        county = build(conn, code=sms_settings.county_code)
        code = sms_settings.county_code
        conn.execute(
            "insert into region (code, name, level, parent_id) values (%s, '河口乡', 'township', %s)",
            (f"{code}-tw2", county.county_id),
        )
        township = f"{code}-tw1"
        make_account(conn, "nurse.li", Role.TOWNSHIP, township=township, display_name="李护士")
        make_account(conn, "doc.en", Role.TEAM, team=f"{code}-team1", display_name="Dr Chen")
        make_account(conn, "doc.nophone", Role.TOWNSHIP, township=township, display_name="王医生")
        make_account(conn, "other.wu", Role.TOWNSHIP, township=f"{code}-tw2", display_name="吴医生")
        conn.execute("update app_user set phone = %s where username = 'nurse.li'", (DOCTOR_MOBILE,))
        conn.execute("update app_user set phone = '13800001111', language = 'en' where username = 'doc.en'")
        # the township centre has an SMS contact: it must never receive what is meant for a doctor
        conn.execute(
            "insert into contact (region_id, role, channel, address) values (%s, 'centre', 'sms', '13700002222')",
            (county.township_id,),
        )
        pid = next(iter(county.patients.values()))
        change = Change(pid, Colour.YELLOW, Assessment(Colour.RED, ("bp_critical",), 210.0, ("BP-1:1",)))
        with conn.transaction():
            alert_changes(conn, [change], now=datetime.now(UTC), ctx=AlertContext(RuleSettings(for_edition("2020"))))
        conn.execute("update notification set status = 'delivered'")  # the centres' part is not under test here
        return int(conn.execute("select id from alert").fetchone()[0])


def _assign(url: str, alert_id: int, who: str, *, actor: str = "county.wang") -> None:
    with psycopg.connect(url) as conn:
        workflow.assign(conn, alert_id=alert_id, actor=actor, who=who, now=datetime.now(UTC), lang="zh")


def _dispatch(settings) -> None:
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        Dispatcher(settings).dispatch_once(conn)


def _told(url: str) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "select address, status, body->>'assignee', body->>'title', body->'patient'->>'card', last_error"
            " from notification where recipient = 'assignee' order by id"
        ).fetchall()


def test_the_assigned_doctor_is_texted_at_their_own_mobile_once(sms_settings, sink, alert):
    _assign(sms_settings.database_url, alert, "nurse.li")
    _assign(sms_settings.database_url, alert, "nurse.li")  # pressed twice: told once
    _dispatch(sms_settings)
    (address, status, assignee, title, card, _), = _told(sms_settings.database_url)
    assert (address, status, assignee) == (DOCTOR_MOBILE, "delivered", "nurse.li")
    assert title.startswith("【已指派给您】") and "*" in card  # the card masked, as every notification has it
    (sms,) = sink.received()
    assert sms.path == "/sms" and sms.body["phone"] == DOCTOR_MOBILE
    assert sms.body["params"]["title"].startswith("【已指派给您】")
    assert sms.body["params"]["alert"] == str(alert)


def test_a_doctor_who_reads_english_is_told_in_english_and_nobody_is_texted_about_their_own_choice(
    sms_settings, sink, alert
):
    _assign(sms_settings.database_url, alert, "doc.en")
    _assign(sms_settings.database_url, alert, "nurse.li", actor="nurse.li")  # she takes it herself
    _dispatch(sms_settings)
    told = _told(sms_settings.database_url)
    assert [(a, s, who) for a, s, who, *_ in told] == [("13800001111", "delivered", "doc.en")]
    assert told[0][3].startswith("[ASSIGNED TO YOU] ")
    assert [r.body["phone"] for r in sink.received()] == ["13800001111"]


def test_a_doctor_without_a_mobile_fails_where_staff_see_it_naming_the_command_and_no_centre_stands_in(
    sms_settings, sink, alert
):
    _assign(sms_settings.database_url, alert, "doc.nophone")
    _dispatch(sms_settings)
    ((address, status, _, _, _, error),) = _told(sms_settings.database_url)
    assert (address, status) == (None, "failed")
    assert "cdm users phone --username doc.nophone" in error
    assert sink.received() == []  # not the township centre's SMS contact


def test_an_alert_is_given_only_to_a_person_of_its_township_and_not_once_closed(sms_settings, alert):
    with psycopg.connect(sms_settings.database_url) as conn:
        for who in ("other.wu", "nobody"):
            with pytest.raises(TransitionError) as refused:
                workflow.assign(conn, alert_id=alert, actor="county.wang", who=who, now=datetime.now(UTC), lang="zh")
            assert refused.value.key == "workflow.refused.assignee_scope" and who in str(refused.value)
        workflow.close(conn, alert_id=alert, actor="nurse.li", outcome="已随访", now=datetime.now(UTC))
        with pytest.raises(TransitionError) as refused:
            workflow.assign(conn, alert_id=alert, actor="county.wang", who="nurse.li", now=datetime.now(UTC), lang="zh")
        assert refused.value.key == "workflow.refused.assign_closed"
        assert conn.execute("select count(*) from notification where recipient = 'assignee'").fetchone() == (0,)


def _cdm(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CDM_")}
    env |= {"CDM_DATABASE_URL": settings.database_url, "CDM_DATA_DIR": str(settings.data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_command_line_sets_a_mobile_and_assigns_refusing_in_chinese(sms_settings, alert):
    bad = _cdm(sms_settings, "users", "phone", "--username", "doc.nophone", "--phone", "0571-8888", "--by", "adm")
    assert bad.returncode == 1 and "手机号不可用" in bad.stderr and "8888" not in bad.stderr
    done = _cdm(sms_settings, "users", "phone", "--username", "doc.nophone", "--phone", "139 0000 1234", "--by", "adm")
    assert done.returncode == 0 and '"has_phone": true' in done.stdout
    with psycopg.connect(sms_settings.database_url) as conn:
        assert conn.execute("select phone from app_user where username = 'doc.nophone'").fetchone() == ("13900001234",)
        audit = conn.execute("select username, action, detail::text from audit_event").fetchall()
    assert audit == [("adm", "account_phone_set", '{"account": "doc.nophone"}')]  # who and what, not the number
    outside = _cdm(sms_settings, "alerts", "assign", str(alert), "--to", "other.wu", "--by", "county.wang")
    assert outside.returncode == 1 and "未执行：不能指派给“other.wu”" in outside.stderr
    assigned = _cdm(sms_settings, "alerts", "assign", str(alert), "--to", "Doc.NoPhone", "--by", "county.wang")
    assert assigned.returncode == 0 and '"assigned_to": "doc.nophone"' in assigned.stdout
    ((address, status, *_),) = _told(sms_settings.database_url)
    assert (address, status) == ("13900001234", "pending")
