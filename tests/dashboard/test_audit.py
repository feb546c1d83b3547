"""The audit trail is append-only in the store and records who saw which patient on which screen."""

from __future__ import annotations

import psycopg
import pytest

from cdm import db
from dashboard import audit
from dashboard.access import Principal, Role

pytestmark = pytest.mark.integration


def _county_and_patient(conn: psycopg.Connection) -> tuple[int, int]:
    county = conn.execute("insert into region (code, name, level) values ('c', '县', 'county') returning id").fetchone()
    town = conn.execute(
        "insert into region (code, name, level, parent_id) values ('t', '镇', 'township', %s) returning id", county
    ).fetchone()
    village = conn.execute(
        "insert into region (code, name, level, parent_id) values ('v', '村', 'village', %s) returning id", town
    ).fetchone()
    patient = conn.execute(
        "insert into patient (health_card_no, sex, birth_year, hypertension, village_id)"
        " values ('HC1', 'F', 1950, true, %s) returning id",
        village,
    ).fetchone()
    assert county and patient
    return county[0], patient[0]


def _user(conn: psycopg.Connection, county_id: int) -> Principal:
    row = conn.execute(
        "insert into app_user (username, display_name, role, county_id, password_hash)"
        " values ('county.li', '李医生', 'county', %s, 'x') returning id",
        (county_id,),
    ).fetchone()
    assert row
    return Principal(user_id=row[0], username="county.li", role=Role.COUNTY, county_id=county_id)


def test_a_view_is_recorded_with_who_which_patient_and_screen(db_url: str) -> None:
    with db.connect(db_url) as conn:
        county_id, patient_id = _county_and_patient(conn)
        who = _user(conn, county_id)
        audit.record_view(conn, principal=who, patient_id=patient_id, screen="patient")
        audit.record_list_view(conn, principal=who, patient_ids=[patient_id], screen="followups")
        conn.commit()
        rows = conn.execute(
            "select username, role, action, patient_id, screen, at is not null from audit_event order by id"
        ).fetchall()
    assert rows == [
        ("county.li", "county", "view_patient", patient_id, "patient", True),
        ("county.li", "county", "view_list", patient_id, "followups", True),
    ]


CHANGES = [
    "update audit_event set username = 'x'",
    "delete from audit_event",
    "truncate audit_event",
    "alter table audit_event disable trigger audit_event_append_only",
    "alter table audit_event disable trigger all",
    "drop trigger audit_event_append_only on audit_event",
    "alter table audit_event owner to current_user",
    "drop table audit_event",
]


@pytest.mark.parametrize("statement", CHANGES)
def test_the_services_role_cannot_alter_the_audit_trail_at_all(db_url: str, statement: str) -> None:
    """The services connect as the runtime role: INSERT and SELECT on the audit trail, nothing more — not even
    disabling the trigger that refuses changes (only the table's owner could, and the runtime role owns nothing)."""
    with db.connect(db_url) as conn:
        assert conn.execute("select current_user").fetchone() == ("cdm_test_runtime",)
        county_id, patient_id = _county_and_patient(conn)
        audit.record_view(conn, principal=_user(conn, county_id), patient_id=patient_id, screen="patient")
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(statement)
        conn.rollback()
        assert conn.execute("select count(*) from audit_event").fetchone() == (1,)
        if statement.startswith("alter table audit_event disable"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute("update audit_event set username = 'x'")  # still refused afterwards


@pytest.mark.parametrize("statement", CHANGES[:3])
def test_even_the_owner_cannot_change_a_record_without_disabling_the_trigger(admin_db_url: str, statement: str) -> None:
    with db.connect(admin_db_url) as conn:
        county_id, patient_id = _county_and_patient(conn)
        audit.record_view(conn, principal=_user(conn, county_id), patient_id=patient_id, screen="patient")
        conn.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="cannot be altered"):
            conn.execute(statement)
        conn.rollback()
        assert conn.execute("select count(*) from audit_event").fetchone() == (1,)


def test_the_services_role_owns_nothing_and_may_create_nothing(db_url: str) -> None:
    with db.connect(db_url) as conn:
        owned = conn.execute(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace"
            " where n.nspname = 'public' and pg_get_userbyid(c.relowner) = current_user"
        ).fetchone()
        assert owned == (0,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("create table sneaky (x int)")


def test_a_failed_log_in_of_an_unknown_name_is_recorded_without_an_account(db_url: str) -> None:
    with db.connect(db_url) as conn:
        audit.record(conn, principal=None, username="nobody", action="login_failed", client_addr="10.0.0.7")
        conn.commit()
        assert conn.execute("select user_id, username, action, host(client_addr) from audit_event").fetchall() == [
            (None, "nobody", "login_failed", "10.0.0.7")
        ]
