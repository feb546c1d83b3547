"""The administration screen's actions on a real PostgreSQL: each does what the command line does, is audited, and
is refused with a catalogue reason (a taken name, a weak password, the last administrator, an unknown clinic …);
nobody but an administrator may act."""

from __future__ import annotations

import psycopg
import pytest

from cdm.i18n import Refusal
from dashboard.access import Role
from dashboard.admin import repo, service
from dashboard.auth import preferences
from dashboard.auth import repo as auth_repo

from .accounts import PASSWORD
from .work_builder import WorkCounty, work_county

pytestmark = pytest.mark.integration
NEW_PASSWORD = "Harbour-Lantern-2026"
IMEI = "490154203237518"  # a valid Luhn check digit


@pytest.fixture
def county(conn: psycopg.Connection) -> WorkCounty:
    c = work_county(conn)
    c.user("admin.wu", Role.ADMIN)
    return c


def _refused(work: object, lang: str = "zh") -> str:
    """What the screen shows for the refusal (the screen's own, or the accounts' or registry's it passes on)."""
    with pytest.raises(Refusal) as refused:
        work()  # type: ignore[operator]
    return refused.value.text(lang)


def _audit(conn: psycopg.Connection, action: str) -> list[tuple[object, ...]]:
    return conn.execute(
        "select username, screen, detail from audit_event where action = %s order by id", (action,)
    ).fetchall()


def test_accounts_are_added_disabled_reset_moved_and_signed_out_with_every_action_audited(county: WorkCounty) -> None:
    conn, admin, now = county.conn, county.users["admin.wu"], county.now
    uri = service.add_account(conn, by=admin, username="Town.Li", display_name="李", role=Role.TOWNSHIP,
                              scope_code="t02", password=NEW_PASSWORD, min_length=10)  # fmt: skip
    assert uri is None
    made = auth_repo.account_by_username(conn, "town.li")
    assert made is not None and made.principal.township_id == county.regions["t02"]
    assert service.set_disabled(conn, by=admin, username="town.li", disabled=True, now=now) == 0
    assert repo.account_role(conn, "town.li") == ("township", True)
    service.set_disabled(conn, by=admin, username="town.li", disabled=False, now=now)
    service.reset_password(conn, by=admin, username="town.li", password="Quiet-Meadow-2027", min_length=10,
                           now=now)  # fmt: skip
    ended, totp = service.set_role(conn, by=admin, username="town.li", role=Role.ADMIN, scope_code="", now=now)
    assert ended == 0 and totp is not None and totp.startswith("otpauth://")  # a new administrator's second factor
    service.sign_out(conn, by=admin, username="town.li", now=now)
    assert _audit(conn, "account_created")[0][:2] == ("admin.wu", "admin")
    for action in ("account_disabled", "account_enabled", "password_changed", "account_role_changed",
                   "sign_out_everywhere"):  # fmt: skip
        assert _audit(conn, action), action
    assert all(NEW_PASSWORD not in str(row) for row in conn.execute("select detail from audit_event"))


def test_an_account_gets_the_mobile_an_assigned_alert_is_texted_to_audited_without_the_number(
    county: WorkCounty,
) -> None:
    conn, admin = county.conn, county.users["admin.wu"]
    service.add_account(conn, by=admin, username="doc.he", display_name="何医生", role=Role.TOWNSHIP,
                        scope_code="t02", password=NEW_PASSWORD, min_length=10, phone="139 1234 5678")  # fmt: skip
    assert conn.execute("select phone from app_user where username = 'doc.he'").fetchone() == ("13912345678",)
    assert service.set_phone(conn, by=admin, username="town.wang", phone="+86 138-0013-0000") is True
    assert service.set_phone(conn, by=admin, username="doc.he", phone="") is False
    phones = dict(conn.execute("select username, phone from app_user where username in ('doc.he', 'town.wang')"))
    assert phones == {"doc.he": None, "town.wang": "13800130000"}
    assert "手机号不可用" in _refused(lambda: service.set_phone(conn, by=admin, username="town.wang", phone="0571-888"))
    nobody = _refused(lambda: service.set_phone(conn, by=admin, username="nobody", phone="13800130000"))
    assert nobody == "没有账号 nobody"
    audited = conn.execute("select username, action, detail from audit_event where action like 'account_phone%'")
    assert audited.fetchall() == [("admin.wu", "account_phone_set", {"account": "town.wang"}),
                                  ("admin.wu", "account_phone_removed", {"account": "doc.he"})]  # fmt: skip
    assert all("5678" not in str(row) and "0000" not in str(row) for row in conn.execute("select * from audit_event"))
    listed = {a["username"]: a["phone"] for a in repo.accounts(conn)}
    assert listed["town.wang"] == "13800130000" and listed["doc.he"] is None  # the screen masks it (pages/admin.py)


def test_an_administrator_sets_the_language_a_person_reads_and_is_texted_in(county: WorkCounty) -> None:
    conn, admin = county.conn, county.users["admin.wu"]
    service.set_language(conn, by=admin, username="Town.Wang", language="en")
    assert preferences.account_language(conn, "town.wang") == "en"
    service.set_language(conn, by=admin, username="town.wang", language="")  # back to the county's
    assert preferences.account_language(conn, "town.wang") is None
    assert _refused(lambda: service.set_language(conn, by=admin, username="town.wang", language="fr")) == (
        "没有这种语言：fr"
    )
    with pytest.raises(PermissionError):
        service.set_language(conn, by=county.users["town.wang"], username="town.wang", language="en")
    audited = [detail for _, _, detail in _audit(conn, "account_language_set")]
    assert audited == [{"account": "town.wang", "language": "en", "was": "county"},
                       {"account": "town.wang", "language": "county", "was": "en"}]  # fmt: skip


REFUSALS = [
    ("town.wang", NEW_PASSWORD, "t01", "用户名 town.wang 已被使用"),
    ("x", NEW_PASSWORD, "t01", "用户名须为3至32位小写字母"),
    ("town.new", "Qwerty12345", "t01", "密码"),
    ("town.new", NEW_PASSWORD, "t99", "没有编码为 t99 的乡镇"),
    ("town.new", NEW_PASSWORD, "", "乡镇账号须填乡镇编码"),
]


def test_an_account_is_refused_with_a_chinese_reason(county: WorkCounty) -> None:
    for username, password, scope, says in REFUSALS:
        said = _refused(lambda u=username, p=password, s=scope: service.add_account(
            county.conn, by=county.users["admin.wu"], username=u, display_name="", role=Role.TOWNSHIP,
            scope_code=s, password=p, min_length=10))  # fmt: skip
        assert says in said, (username, said)
    weak = _refused(lambda: service.add_account(
        county.conn, by=county.users["admin.wu"], username="town.new", display_name="", role=Role.TOWNSHIP,
        scope_code="t01", password="Qwerty12345", min_length=10), "en")  # fmt: skip
    assert weak.startswith("password refused: ") and "密码" not in weak, weak
    assert _audit(county.conn, "account_created") == []


def test_the_last_administrator_cannot_be_disabled_or_demoted(county: WorkCounty) -> None:
    conn, admin, now = county.conn, county.users["admin.wu"], county.now
    county.user("admin.zhou", Role.ADMIN)
    zhou = county.users["admin.zhou"]
    assert _refused(lambda: service.set_disabled(conn, by=admin, username="admin.wu", disabled=True, now=now)) == (
        "不能停用或降级自己的账号"
    )
    service.set_disabled(conn, by=admin, username="admin.zhou", disabled=True, now=now)
    # admin.wu is now the only administrator able to sign in: nobody may disable or demote it (zhou's stale session)
    last = "不能停用或降级最后一个可用的管理员账号"
    assert _refused(lambda: service.set_disabled(conn, by=zhou, username="admin.wu", disabled=True, now=now)) == last
    assert (
        _refused(lambda: service.set_role(conn, by=zhou, username="admin.wu", role=Role.COUNTY, scope_code="", now=now))
        == last
    )
    assert repo.account_role(conn, "admin.wu") == ("admin", False)


def test_meters_are_provisioned_once_moved_and_revoked(county: WorkCounty) -> None:
    conn, admin, now = county.conn, county.users["admin.wu"], county.now
    creds = service.provision(conn, by=admin, kind="bp", clinic_code="v01a", serial="SN7001", imei=IMEI, now=now)
    assert creds["uid"] == "BP-SN7001" and len(creds["password"]) >= 16
    assert creds["password"] not in str(conn.execute("select detail from audit_event").fetchall())
    assert service.move(conn, by=admin, uid="BP-SN7001", clinic_code="v02a", now=now) == "南村"
    service.revoke(conn, by=admin, uid="BP-SN7001", now=now)
    assert [(m["uid"], m["clinic"], m["revoked"]) for m in repo.meters(conn) if m["uid"] == "BP-SN7001"] == [
        ("BP-SN7001", "南村", True)
    ]
    assert [r[2]["meter"] for a in ("meter_provisioned", "meter_moved", "meter_revoked") for r in _audit(conn, a)] == [
        "BP-SN7001"
    ] * 3
    assert "没有未吊销的设备 BP-SN7001" in _refused(lambda: service.revoke(conn, by=admin, uid="BP-SN7001", now=now))
    assert "没有编码为 v99 的村卫生室" in _refused(
        lambda: service.provision(conn, by=admin, kind="bp", clinic_code="v99", serial="S2", imei=IMEI, now=now)
    )
    # The registry's own refusals, in the administrator's language (were English inside a Chinese sentence)
    def bad_imei(lang: str) -> str:
        return _refused(
            lambda: service.provision(conn, by=admin, kind="bp", clinic_code="v01a", serial="S3", imei="123", now=now),
            lang,
        )

    assert bad_imei("zh") == "IMEI须为15位数字且校验位正确（见设备标签）"
    assert bad_imei("en") == "the IMEI must be 15 digits with a valid check digit (printed on the meter's label)"
    assert _refused(
        lambda: service.provision(conn, by=admin, kind="bp", clinic_code="v01a", serial="S4", imei=IMEI, now=now)
    ) == "该IMEI已登记给设备 BP-SN7001"


def test_contacts_are_added_and_switched_off_without_their_address_in_the_audit(county: WorkCounty) -> None:
    conn, admin = county.conn, county.users["admin.wu"]
    service.add_contact(conn, by=admin, role="centre", channel="sms", address="13912345678", code="t01")
    [contact] = repo.contacts(conn)
    assert (contact["owner"], contact["channel"], contact["address"]) == ("城关镇", "sms", "13912345678")
    service.deactivate_contact(conn, by=admin, contact_id=contact["id"])
    assert repo.contacts(conn) == []
    assert "13912345678" not in str(conn.execute("select detail from audit_event").fetchall())
    assert "没有编码为 nowhere 的地区或团队" in _refused(
        lambda: service.add_contact(conn, by=admin, role="centre", channel="sms", address="x", code="nowhere")
    )
    # a typing error is refused when typed, saying what is wrong, never repeating the number
    mistyped = _refused(
        lambda: service.add_contact(conn, by=admin, role="centre", channel="sms", address="1391234567", code="t01")
    )
    assert mistyped == "该地址无法用于 sms：手机号为 10 位，大陆手机号应为 11 位"
    spelt = "+86 139-1234-5678"  # the usual spellings of a mobile are kept as its 11 digits
    service.add_contact(conn, by=admin, role="on_duty", channel="sms", address=spelt, code="t01")
    assert [c["address"] for c in repo.contacts(conn)] == ["13912345678"]


def test_only_an_administrator_may_act(county: WorkCounty) -> None:
    for who in ("county.li", "town.wang", "team.zhao"):
        by = county.users[who]
        with pytest.raises(PermissionError):
            service.add_account(county.conn, by=by, username="sneaky", display_name="", role=Role.ADMIN,
                                scope_code="", password=PASSWORD, min_length=10)  # fmt: skip
        with pytest.raises(PermissionError):
            service.set_disabled(county.conn, by=by, username="admin.wu", disabled=True, now=county.now)
        with pytest.raises(PermissionError):
            service.provision(county.conn, by=by, kind="bp", clinic_code="v01a", serial="S9", imei=IMEI,
                              now=county.now)  # fmt: skip
    assert auth_repo.account_by_username(county.conn, "sneaky") is None
