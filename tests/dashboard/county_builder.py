"""Hand-built counties for the dashboard tests: regions, patients, assessments, alerts and notifications in SQL."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import psycopg
from psycopg.types.json import Jsonb

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
                "insert into patient (health_card_no, sex, birth_year, hypertension, village_id)"
                " values (%s, 'F', 1958, true, %s) returning id",
                (number, self.regions[clinic]),
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
        row = self.conn.execute(
            "insert into alert (patient_id, kind, severity, status, reasons, evidence, township_id, opened_at)"
            " values (%s, %s, %s, %s, %s, %s, %s, %s) returning id",
            (
                self.patients[patient_card],
                f"turned_red_{minutes_ago}",
                severity,
                status,
                list(reasons),
                ["m1:1"],
                self.regions[township],
                self.now - timedelta(minutes=minutes_ago),
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
RED_REASONS = (
    ("bp_critical",),
    ("glucose_high_critical",),
    ("glucose_hypo",),
    ("uncontrolled_2x", "complication"),
    ("bp_critical", "monitoring_gap"),
)


def busy_county(conn: psycopg.Connection, *, seed: int = 7) -> County:
    """A county of nine townships with a few hundred patients and a dozen alerts, for looking at the screen."""
    rng = random.Random(seed)
    c = County(conn, now=datetime.now(UTC))
    c.region("demo", "示范县", "county")
    reds: list[tuple[str, str]] = []
    for i, name in enumerate(TOWNSHIP_NAMES):
        town = f"t{i:02d}"
        c.region(town, name, "township", "demo")
        if i == len(TOWNSHIP_NAMES) - 1:
            continue  # a township whose patients are not registered yet
        c.region(f"{town}v", f"{name[:2]}村", "village", town)
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
    return c
