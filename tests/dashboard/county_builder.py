"""Hand-built counties for the dashboard tests: regions, patients, assessments, alerts and notifications in SQL."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

from .server import RunningDashboard

NOW = datetime(2025, 3, 14, 6, 30, tzinfo=UTC)  # 14:30 in Asia/Shanghai
REASONS = {"red": ["bp_critical"], "yellow": ["bp_above_target"], "green": ["at_target"]}


def card(n: int) -> str:
    """A 13-character health card number such as H330000000123."""
    return f"H33{n:010d}"


@dataclass
class County:
    """Ids of what a builder inserted, by code."""

    conn: psycopg.Connection
    regions: dict[str, int] = field(default_factory=dict)
    patients: dict[str, int] = field(default_factory=dict)
    next_card: int = 1
    now: datetime = NOW
    teams: dict[str, int] = field(default_factory=dict)  # clinic code -> care team id of its patients
    registered_at: datetime = NOW - timedelta(days=400)

    def team(self, code: str, name: str, township: str, clinics: Sequence[str]) -> int:
        """Insert a family-doctor team of `township` looking after the patients of `clinics` added later."""
        row = self.conn.execute(
            "insert into care_team (code, name, township_id) values (%s, %s, %s) returning id",
            (code, name, self.regions[township]),
        ).fetchone()
        assert row is not None
        for clinic in clinics:
            self.teams[clinic] = row[0]
        return row[0]

    def region(self, code: str, name: str, level: str, parent: str | None = None) -> int:
        """Insert a county, township or village region."""
        parent_id = self.regions[parent] if parent else None
        row = self.conn.execute(
            "insert into region (code, name, level, parent_id) values (%s, %s, %s, %s) returning id",
            (code, name, level, parent_id),
        ).fetchone()
        assert row is not None
        self.regions[code] = row[0]
        return row[0]

    def patients_at(self, clinic: str, colour: str | None, n: int = 1) -> list[str]:
        """Insert `n` hypertensive patients at a clinic, assessed `colour` (None: not assessed); their card numbers."""
        cards = []
        for _ in range(n):
            number = card(self.next_card)
            self.next_card += 1
            row = self.conn.execute(
                "insert into patient (health_card_no, sex, birth_year, hypertension, diabetes, village_id, team_id,"
                " registered_at) values (%s, 'F', 1958, true, %s, %s, %s, %s) returning id",
                (number, self.next_card % 3 == 0, self.regions[clinic], self.teams.get(clinic), self.registered_at),
            ).fetchone()
            assert row is not None
            self.patients[number] = row[0]
            if colour is not None:
                self._assess(row[0], colour)
            cards.append(number)
        return cards

    def _assess(self, patient_id: int, colour: str) -> None:
        self.conn.execute(
            "insert into assessment_current (patient_id, colour, reasons, priority, evidence, assessed_at,"
            " colour_since, rules_edition) values (%s, %s, %s, %s, %s, %s, %s, '2020')",
            (
                patient_id,
                colour,
                REASONS[colour],
                {"red": 90, "yellow": 50, "green": 10}[colour],
                ["m1:1"],
                self.now,
                self.now,
            ),
        )

    def alert(
        self,
        patient_card: str,
        *,
        township: str,
        minutes_ago: int,
        reasons: Sequence[str] = ("bp_critical",),
        severity: str = "critical",
        status: str = "open",
        notifications: Sequence[str] = ("delivered", "delivered"),
    ) -> int:
        """Insert an alert and one notification per recipient centre with the given statuses (township first)."""
        opened = self.now - timedelta(minutes=minutes_ago)
        acked = opened + timedelta(minutes=min(12, minutes_ago / 2)) if status != "open" else None
        closed = opened + timedelta(minutes=minutes_ago * 0.8) if status == "closed" else None
        row = self.conn.execute(
            "insert into alert (patient_id, kind, severity, status, reasons, evidence, township_id, opened_at,"
            " last_seen_at, acknowledged_at, acknowledged_by, closed_at, closed_by, outcome, escalated_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (
                self.patients[patient_card],
                f"turned_red_{minutes_ago}",
                severity,
                status,
                list(reasons),
                ["m1:1"],
                self.regions[township],
                opened,
                opened,
                acked,
                "town.li" if acked else None,
                closed,
                "town.li" if closed else None,
                "已电话随访，血压复测正常" if closed else None,
                opened + timedelta(minutes=30) if status == "open" and minutes_ago > 30 else None,
            ),
        ).fetchone()
        assert row is not None
        for recipient, note_status in zip(("township", "county"), notifications, strict=False):
            region = self.regions[township] if recipient == "township" else self._county_of(township)
            self.conn.execute(
                "insert into notification (alert_id, recipient, region_id, body, status, delivered_at)"
                " values (%s, %s, %s, %s, %s, %s)",
                (
                    row[0],
                    recipient,
                    region,
                    Jsonb({"alert": row[0]}),
                    note_status,
                    self.now if note_status == "delivered" else None,
                ),
            )
        return row[0]

    def _county_of(self, township: str) -> int:
        row = self.conn.execute("select parent_id from region where id = %s", (self.regions[township],)).fetchone()
        assert row is not None
        return row[0]


def small_county(conn: psycopg.Connection) -> County:
    """Four townships of 测试县 (two with no patients), a neighbouring county, and four alerts.

    城关镇 t01: managed 8 = red 3, yellow 1, green 3, not assessed 1
    河口乡 t02: managed 5 = yellow 2, green 3 (one patient registered at the township health centre itself)
    山后乡 t03: a village but no patients; 石桥乡 t04: no villages at all
    team tc-team1 (城关镇) looks after 东村 v01a: managed 7 = red 2, yellow 1, green 3, not assessed 1
    邻县 other county: 乡外镇 o01 with one red patient and an alert, outside 测试县
    """
    c = County(conn)
    c.region("tc", "测试县", "county")
    for code, name in (("t01", "城关镇"), ("t02", "河口乡"), ("t03", "山后乡"), ("t04", "石桥乡")):
        c.region(code, name, "township", "tc")
    for code, name, town in (
        ("v01a", "东村", "t01"),
        ("v01b", "西村", "t01"),
        ("v02a", "南村", "t02"),
        ("v03a", "北村", "t03"),
    ):
        c.region(code, name, "village", town)
    c.team("tc-team1", "城关家庭医生一队", "t01", ["v01a"])
    reds = c.patients_at("v01a", "red", 2) + c.patients_at("v01b", "red", 1)
    c.patients_at("v01a", "yellow", 1)
    c.patients_at("v01a", "green", 3)
    c.patients_at("v01a", None, 1)
    yellows = c.patients_at("v02a", "yellow", 2)
    c.patients_at("v02a", "green", 2)
    c.patients_at("t02", "green", 1)
    c.region("other", "邻县", "county")
    c.region("o01", "乡外镇", "township", "other")
    c.region("o01a", "外村", "village", "o01")
    outsider = c.patients_at("o01a", "red", 1)
    c.alert(reds[0], township="t01", minutes_ago=50, notifications=("pending", "delivered"))
    c.alert(reds[1], township="t01", minutes_ago=5, reasons=("bp_critical", "glucose_hypo"))
    c.alert(
        yellows[0],
        township="t02",
        minutes_ago=20,
        severity="high",
        status="acknowledged",
        reasons=("uncontrolled_2x",),
        notifications=("delivered", "failed"),
    )
    c.alert(reds[2], township="t01", minutes_ago=90, status="closed", notifications=())
    c.alert(outsider[0], township="o01", minutes_ago=1)
    return c


TOWNSHIP_NAMES = ("城关镇", "河口乡", "山后乡", "石桥乡", "白沙镇", "青龙乡", "柳林镇", "马坊乡", "东岭乡")
MORE_TOWNSHIP_NAMES = (  # with TOWNSHIP_NAMES, a big county's 25 (the wall screen must still fit one display)
    "西河镇", "南庄乡", "北坡乡", "杏花镇", "龙泉乡", "黄土岭乡", "大营镇", "小店乡", "桃园镇", "新集乡", "高家堡乡",
    "李家庄乡", "沙河镇", "松树乡", "太平镇", "双井乡",
)  # fmt: skip
RED_REASONS = (
    ("bp_critical",),
    ("glucose_high_critical",),
    ("glucose_hypo",),
    ("uncontrolled_2x", "complication"),
    ("bp_critical", "monitoring_gap"),
)


def busy_county(conn: psycopg.Connection, *, seed: int = 7, townships: Sequence[str] = TOWNSHIP_NAMES) -> County:
    """A county of nine townships (or those named) with a few hundred patients and a dozen alerts, for looking at
    the screen; the last township has no patients."""
    rng = random.Random(seed)
    c = County(conn, now=datetime.now(UTC))
    c.region("demo", "示范县", "county")
    reds: list[tuple[str, str]] = []
    for i, name in enumerate(townships):
        town = f"t{i:02d}"
        c.region(town, name, "township", "demo")
        if i == len(townships) - 1:
            continue  # a township whose patients are not registered yet
        c.region(f"{town}v", f"{name[:2]}村", "village", town)
        if i == 0:
            c.team("demo-team01", f"{name}家庭医生团队1", town, [f"{town}v"])
        red_rate = rng.choice((0.02, 0.05, 0.08, 0.15, 0.25))
        for _ in range(rng.randint(20, 60)):
            roll = rng.random()
            colour = "red" if roll < red_rate else "yellow" if roll < red_rate + 0.25 else "green"
            colour = None if rng.random() < 0.07 else colour
            number = c.patients_at(f"{town}v", colour)[0]
            if colour == "red":
                reds.append((number, town))
    statuses = ("open", "open", "acknowledged", "actioned", "closed")
    deliveries = (
        ("delivered", "delivered"),
        ("delivered", "delivered"),
        ("pending", "delivered"),
        ("failed", "delivered"),
    )
    for k, (number, town) in enumerate(rng.sample(reds, min(12, len(reds)))):
        c.alert(
            number,
            township=town,
            minutes_ago=3 + k * 17,
            reasons=rng.choice(RED_REASONS),
            status=rng.choice(statuses),
            notifications=rng.choice(deliveries),
        )
    screen_history(conn, now=c.now)
    return c


STILL_OPEN = ("open", "acknowledged", "actioned")  # an alert's statuses before it is closed


def busiest_township(conn: psycopg.Connection, *, statuses: Sequence[str] = ("open",)) -> tuple[str, str]:
    """The code and name of the township with the most alerts in `statuses` (on a tie, the first by code)."""
    row = conn.execute(
        "select t.code, t.name from alert a join region t on t.id = a.township_id where a.status = any(%s)"
        " group by t.code, t.name order by count(*) desc, t.code limit 1",
        (list(statuses),),
    ).fetchone()
    assert row is not None
    return row[0], row[1]


@dataclass(frozen=True)
class BusyScene:
    """A busy county behind a running dashboard, and the township whose accounts the test signs in with."""

    dashboard: RunningDashboard
    conn: psycopg.Connection
    township_code: str
    township_name: str


def screen_history(conn: psycopg.Connection, *, now: datetime) -> None:
    """Give a built county what the trend, meters and indicators panels show: a colour history over 90 days,
    two meters per village, BP and fasting-glucose readings and follow-ups, then refresh the summary."""
    from dashboard.summaries.service import refresh_screens

    conn.execute(
        "insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence,"
        " assessed_at, rules_edition)"
        " select a.patient_id, (array['green','yellow','red'])[1 + a.patient_id %% 3], null, '{}', 0, '{}',"
        "  %(now)s - make_interval(days => 120 - (a.patient_id %% 20)::int), '2020' from assessment_current a",
        {"now": now},
    )
    conn.execute(
        "insert into assessment_history (patient_id, colour, previous_colour, reasons, priority, evidence,"
        " assessed_at, rules_edition)"
        " select a.patient_id, a.colour, (array['green','yellow','red'])[1 + a.patient_id %% 3], a.reasons, 0, '{}',"
        "  %(now)s - make_interval(days => (a.patient_id * 7 %% 85)::int, hours => 1), '2020'"
        " from assessment_current a where a.colour <> (array['green','yellow','red'])[1 + a.patient_id %% 3]",
        {"now": now},
    )
    conn.execute(
        "insert into device (uid, kind, clinic_id, status, status_at)"
        " select 'm-' || r.code || '-' || k.kind, k.kind, r.id,"
        "  (array['online','online','online','offline','unknown'])[1 + (r.id + length(k.kind)) %% 5], %(now)s"
        " from region r cross join (values ('bp'), ('glucose')) k(kind) where r.level = 'village'",
        {"now": now},
    )
    # BP at target for green patients, above for the others; fasting glucose likewise for the diabetic ones.
    conn.execute(
        "insert into reading (device_id, seq, measured_at, received_at, clinic_id, kind, patient_id, systolic,"
        " diastolic, glucose_mmol, glucose_context)"
        " select 1, p.id * 10 + k, m, m, p.village_id, kind, p.id,"
        "  case when kind = 'bp' then case coalesce(a.colour, 'none') when 'green' then 128 else 152 end end,"
        "  case when kind = 'bp' then 82 end,"
        "  case when kind = 'glucose' then case coalesce(a.colour, 'none') when 'green' then 6.1 else 8.4 end end,"
        "  case when kind = 'glucose' then 'fasting' end"
        " from patient p left join assessment_current a on a.patient_id = p.id"
        " cross join lateral (values (1, 'bp'), (2, 'glucose')) v(k, kind)"
        " cross join lateral (select %(now)s - make_interval(days => (p.id * 13 %% 120)::int) as m) t"
        " where (kind = 'bp' or p.diabetes) and a.patient_id is not null and p.id %% 11 <> 0",
        {"now": now},
    )
    conn.execute(
        "insert into follow_up (patient_id, done_on, class, recorded_by)"
        " select p.id, (%(now)s at time zone 'Asia/Shanghai')::date - (q * 85 + p.id %% 30)::int, 'controlled', 't'"
        " from patient p cross join generate_series(0, 3) q where (p.id %% 4 <> 0 or q < 2) and p.id %% 11 <> 0",
        {"now": now},
    )
    refresh_screens(conn, now=now, lookback_days=30)
