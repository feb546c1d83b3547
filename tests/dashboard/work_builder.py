"""A hand-built county for the work screens' tests: teams, meters, patients with assessments, visits, readings,
alerts, quarantined messages and an unattributed reading, inserted in SQL."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg

from alerts.followups.form import validate
from cdm.privacy import mask_card
from dashboard.access import Principal, Role
from dashboard.visit import service as visit_form

from .accounts import make_account
from .server import dashboard_settings

COUNTY_TZ = ZoneInfo("Asia/Shanghai")
PRIORITY = {"red": 250.0, "yellow": 130.0, "green": 0.0}
REASONS = {"red": ["bp_critical"], "yellow": ["bp_above_target"], "green": ["at_target"]}


@dataclass
class WorkCounty:
    """Ids of what the builder inserted, by code."""

    conn: psycopg.Connection
    now: datetime
    regions: dict[str, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)
    devices: dict[str, int] = field(default_factory=dict)
    patients: dict[str, int] = field(default_factory=dict)
    users: dict[str, Principal] = field(default_factory=dict)
    seq: int = 0

    @property
    def today(self) -> date:
        """The county's date now (screens and due dates count days in China time, not UTC)."""
        return self.now.astimezone(COUNTY_TZ).date()

    def _one(self, query: str, params: tuple[object, ...]) -> int:
        row = self.conn.execute(query, params).fetchone()  # type: ignore[arg-type]
        assert row is not None
        return int(row[0])

    def region(self, code: str, name: str, level: str, parent: str | None = None) -> None:
        self.regions[code] = self._one(
            "insert into region (code, name, level, parent_id) values (%s, %s, %s, %s) returning id",
            (code, name, level, self.regions.get(parent or "")),
        )

    def team(self, code: str, name: str, township: str) -> None:
        self.teams[code] = self._one(
            "insert into care_team (code, name, township_id) values (%s, %s, %s) returning id",
            (code, name, self.regions[township]),
        )

    def device(self, uid: str, kind: str, clinic: str, **status: object) -> None:
        cols = ", ".join(["uid", "kind", "clinic_id", *status])
        marks = ", ".join(["%s"] * (3 + len(status)))
        self.devices[uid] = self._one(
            f"insert into device ({cols}) values ({marks}) returning id",
            (uid, kind, self.regions[clinic], *status.values()),
        )

    def patient(
        self,
        name: str,
        *,
        village: str,
        team: str | None,
        colour: str | None,
        colour_days_ago: int = 20,
        registered_days_ago: int = 400,
        diabetes: bool = False,
        phone: str | None = None,
        person: tuple[str, str | None] | None = None,
    ) -> int:
        """A patient known in tests by `name`; `person` is the (name, address) kept apart, as an import keeps it."""
        pid = self._one(
            "insert into patient (health_card_no, sex, birth_year, hypertension, diabetes, village_id, team_id,"
            " registered_at, id_card_masked) values (%s, 'F', 1958, true, %s, %s, %s, %s, %s) returning id",
            (
                f"H33{len(self.patients) + 1:010d}",
                diabetes,
                self.regions[village],
                self.teams[team] if team else None,
                self.now - timedelta(days=registered_days_ago),
                "330102********123X",
            ),
        )
        self.patients[name] = pid
        if colour is not None:
            since = self.now - timedelta(days=colour_days_ago)
            self.conn.execute(
                "insert into assessment_current (patient_id, colour, reasons, priority, evidence, assessed_at,"
                " colour_since, rules_edition) values (%s, %s, %s, %s, '{}', %s, %s, '2020')",
                (pid, colour, REASONS[colour], PRIORITY[colour], self.now, since),
            )
        if phone:
            self.conn.execute("insert into patient_contact (patient_id, phone) values (%s, %s)", (pid, phone))
        if person:
            self.conn.execute(
                "insert into patient_person (patient_id, name, address) values (%s, %s, %s)", (pid, *person)
            )
        return pid

    def visit(self, name: str, *, days_ago: int, cls: str = "controlled", next_due_in: int | None = None) -> None:
        done = self.today - timedelta(days=days_ago)
        self.conn.execute(
            "insert into follow_up (patient_id, done_on, class, next_due, recorded_by, recorded_at)"
            " values (%s, %s, %s, %s, 'doc', %s)",
            (
                self.patients[name],
                done,
                cls,
                done + timedelta(days=next_due_in) if next_due_in is not None else None,
                self.now - timedelta(days=days_ago),
            ),
        )

    def visit_through_form(self, db_url: str, name: str, *, by: str = "team.zhao") -> dict[str, Any]:
        """A controlled hypertension visit today (clinic, 136/84) recorded by `by` through the screens' visit form
        (validated, saved, re-assessed), on a connection of its own; what the form's service answers."""
        raw = {"kind": "hypertension", "done_on": self.today.isoformat(), "way": "clinic", "sbp1": "136", "dbp1": "84"}
        visit, errors = validate({**raw, "adherence": "regular", "class": "controlled"}, today=self.today, lang="zh")
        assert errors == {} and visit is not None
        with psycopg.connect(db_url) as conn:
            return visit_form.save(
                conn,
                principal=self.users[by],
                patient_id=self.patients[name],
                visit=visit,
                settings=dashboard_settings(db_url),
                now=self.now,
            )

    def bp(self, name: str | None, device: str, *, hours_ago: float, sbp: int, dbp: int, ref: str | None = None) -> int:
        self.seq += 1
        at = self.now - timedelta(hours=hours_ago)
        self.conn.execute(
            "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
            " patient_scheme, patient_ref, systolic, diastolic, pulse)"
            " select %s, %s, %s, %s, clinic_id, 'bp', %s, %s, %s, %s, %s, 72 from device where id = %s",
            (
                self.devices[device],
                self.seq,
                at,
                at,
                self.patients[name] if name else None,
                "health_card" if ref else None,
                ref,
                sbp,
                dbp,
                self.devices[device],
            ),
        )
        if name is None:  # kept waiting for a patient, as ingest keeps a reading whose reference matched nobody
            self.conn.execute(
                "insert into reading_unattributed (device_id, seq, measured_at, received_at, clinic_id, kind,"
                " ref_scheme, ref_key, ref_masked, reason)"
                " select id, %s, %s, %s, clinic_id, 'bp', %s, %s, %s, %s from device where id = %s",
                (
                    self.seq,
                    at,
                    at,
                    "health_card" if ref else None,
                    ref,
                    mask_card(ref) if ref else None,
                    "no_match" if ref else "no_reference",
                    self.devices[device],
                ),
            )
        return self.seq

    def glucose(self, name: str, device: str, *, hours_ago: float, mmol: float, context: str = "fasting") -> int:
        self.seq += 1
        at = self.now - timedelta(hours=hours_ago)
        self.conn.execute(
            "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id,"
            " glucose_mmol, glucose_context) select %s, %s, %s, %s, clinic_id, 'glucose', %s, %s, %s"
            " from device where id = %s",
            (self.devices[device], self.seq, at, at, self.patients[name], mmol, context, self.devices[device]),
        )
        return self.seq

    def alert(self, name: str, *, township: str, status: str = "open") -> int:
        return self._one(
            "insert into alert (patient_id, kind, severity, status, reasons, evidence, township_id, opened_at)"
            " values (%s, 'turned_red', 'critical', %s, '{bp_critical}', '{}', %s, %s) returning id",
            (self.patients[name], status, self.regions[township], self.now - timedelta(hours=2)),
        )

    def user(self, username: str, role: Role, *, township: str | None = None, team: str | None = None) -> Principal:
        """An account made the way `cdm users add` makes it (password: accounts.PASSWORD), and its principal."""
        created = make_account(self.conn, username, role, township=township, team=team, county="tc")
        township_id = self.regions[township] if township else None
        team_id = self.teams[team] if team else None
        principal = Principal(created.user_id, username, role, self.regions["tc"], township_id, team_id)
        self.users[username] = principal
        return principal


def work_county(conn: psycopg.Connection, *, now: datetime | None = None) -> WorkCounty:
    """测试县: 城关镇 (teams A and B, 东村) and 河口乡 (team C, 南村), six patients, meters, one user per role.

    A-red: red 20 days, registered 400 days ago, never visited: 310 days overdue; an open alert; a phone
    A-yellow: yellow since 30 days, visited 10 days ago (controlled): due in 80 days
    A-green: green, visited 100 days ago with the next visit 90 days on: 10 days overdue
    B-yellow: yellow since 3 days (team B, same township): due in 11 days
    C-red: red since yesterday (河口乡, team C), never visited: 310 days overdue; an open alert
    T-green: green at 河口乡 with no team, registered 30 days ago: due in 60 days
    """
    c = WorkCounty(conn, now=now or datetime.now(UTC).replace(microsecond=0))
    c.region("tc", "测试县", "county")
    c.region("t01", "城关镇", "township", "tc")
    c.region("t02", "河口乡", "township", "tc")
    c.region("v01a", "东村", "village", "t01")
    c.region("v02a", "南村", "village", "t02")
    c.team("A", "城关一队", "t01")
    c.team("B", "城关二队", "t01")
    c.team("C", "河口一队", "t02")
    c.device("bp-01", "bp", "v01a")
    c.device("glu-01", "glucose", "v01a")
    c.device("bp-02", "bp", "v02a")
    c.patient("A-red", village="v01a", team="A", colour="red", phone="13812345678", person=("张秀英", "东村3组12号"))
    c.patient("A-yellow", village="v01a", team="A", colour="yellow", colour_days_ago=30)
    c.visit("A-yellow", days_ago=10, next_due_in=90)
    c.patient(
        "A-green", village="v01a", team="A", colour="green", colour_days_ago=200, diabetes=True, person=("李建国", None)
    )
    c.visit("A-green", days_ago=100, next_due_in=90)
    c.patient("B-yellow", village="v01a", team="B", colour="yellow", colour_days_ago=3)
    c.visit("B-yellow", days_ago=40, next_due_in=90)
    c.patient("C-red", village="v02a", team="C", colour="red", colour_days_ago=1)
    c.patient("T-green", village="t02", team=None, colour="green", registered_days_ago=30)
    c.bp("A-red", "bp-01", hours_ago=30, sbp=150, dbp=92)
    c.bp("A-red", "bp-01", hours_ago=3, sbp=186, dbp=112)
    c.glucose("A-green", "glu-01", hours_ago=5, mmol=6.1)
    c.bp("C-red", "bp-02", hours_ago=2, sbp=182, dbp=100)
    c.alert("A-red", township="t01")
    c.alert("C-red", township="t02")
    c.user("county.li", Role.COUNTY)
    c.user("town.wang", Role.TOWNSHIP, township="t01")
    c.user("team.zhao", Role.TEAM, township="t01", team="A")
    c.user("team.qian", Role.TEAM, township="t02", team="C")
    return c
