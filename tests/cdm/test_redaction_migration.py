"""Migration 0050 redacts identity and mobile numbers already stored before it: quarantine, readings' references,
waiting readings and the user names typed at the log-in page in the audit trail."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
import pytest

from cdm import migrate
from cdm.identity import check_character
from tests.support.migrations import migrate_until
from tests.support.registry import build

pytestmark = pytest.mark.integration

ID = "33010219800101124" + check_character("33010219800101124")
MASKED = "330102********1248"


def test_rows_stored_before_the_migration_are_redacted(empty_db_url: str) -> None:
    with psycopg.connect(empty_db_url, autocommit=True) as conn:
        migrate_until(conn, 50)
        county = build(conn, code="old")
        now = datetime.now(UTC)
        conn.execute(
            "insert into quarantine (received_at, topic, device_uid, reason, detail, raw)"
            " values (%s, %s, %s, 'schema_invalid', %s, %s)",
            (now, f"cdm/v1/old/devices/{ID}/readings", ID, f"{ID}: Extra inputs", f'{{"x": {ID}}}'.encode()),
        )
        device = conn.execute("select id from device where uid = %s", (county.bp_meter,)).fetchone()
        assert device is not None
        conn.execute(
            "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_scheme,"
            " patient_ref, systolic, diastolic) values (%s, 1, %s, %s, %s, 'bp', 'health_card', %s, 120, 80)",
            (device[0], now, now, county.village_id, f"ID{ID}"),
        )
        conn.execute(
            "insert into audit_event (username, action, detail) values (%s, 'login_failed', %s)",
            (ID, f'{{"typed": "{ID}"}}'),
        )
        migrate.upgrade(conn)
        quarantine = conn.execute("select topic, device_uid, detail, raw from quarantine").fetchone()
        reading = conn.execute("select patient_ref from reading").fetchone()
        audit = conn.execute("select username, detail->>'typed' from audit_event").fetchone()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("update audit_event set username = 'x'")  # append-only again afterwards
    assert quarantine is not None and reading is not None and audit is not None
    assert quarantine[:3] == (f"cdm/v1/old/devices/{MASKED}/readings", MASKED, f"{MASKED}: Extra inputs")
    assert bytes(quarantine[3]) == f'{{"x": {MASKED}}}'.encode()
    assert reading == (f"ID{MASKED}",)
    assert audit == (MASKED, MASKED)
