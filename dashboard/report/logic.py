"""The monthly programme report (月报): which moment a month's figures are taken at, and how its sheets read. Pure.

The indicators are those of the screens (dashboard.indicators.logic), taken at the month's end — or now, for the
month still running — so the file and the screen can never disagree: at the same moment they are the same
numbers. Beside them: patients under management at that moment (在管人数) and follow-up visits recorded in the
month (随访人次).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cdm.i18n import Refusal, t
from dashboard.indicators.logic import NAMES, Indicator

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
SHEET_TITLE_MAX = 31  # Excel's limit
# The rows of every area's sheet: counts first, then the indicators in the screens' order.
COUNTS = ("managed", "managed_hypertension", "managed_diabetes", "visits")
ROWS = (
    "managed",
    "managed_hypertension",
    "managed_diabetes",
    "standard_management",
    "bp_control",
    "glucose_control",
    "visits",
    "missed_visit_3m",
    "lost_12m",
)


class MonthError(Refusal):
    """A month that cannot be reported: malformed, or not begun yet (a catalogue key, worded for each reader)."""


@dataclass(frozen=True, slots=True)
class Period:
    """A calendar month in the county's time zone, and the moment its figures are taken at."""

    month: str
    start: datetime
    end: datetime  # the first instant of the next month
    as_of: datetime  # the month's last instant, or now while the month runs


@dataclass
class Area:
    """The figures of the county or one township."""

    name: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    indicators: dict[str, Indicator] = field(default_factory=lambda: {n: Indicator(0, 0) for n in NAMES})

    def add(self, other: Area) -> None:
        """Fold another area's figures into this one."""
        for k in COUNTS:
            self.counts[k] += other.counts[k]
        for n in NAMES:
            self.indicators[n] = self.indicators[n] + other.indicators[n]


def period(month: str, *, tz: ZoneInfo, now: datetime) -> Period:
    """The period of 'YYYY-MM'; MonthError when malformed or in the future."""
    match = _MONTH.match(month.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise MonthError("report.refused.month_format")
    year, number = int(match[1]), int(match[2])
    start = datetime(year, number, 1, tzinfo=tz)
    end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)
    if start > now:
        raise MonthError("report.refused.month_future", month=month)
    return Period(
        month=f"{year:04d}-{number:02d}", start=start, end=end, as_of=min(end - timedelta(microseconds=1), now)
    )


def recent_months(now: datetime, *, tz: ZoneInfo, count: int = 12) -> list[str]:
    """The current month and the ones before it, newest first, as 'YYYY-MM'."""
    local = now.astimezone(tz)
    year, month = local.year, local.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return out


def sheet_rows(area: Area, *, lang: str) -> list[list[object]]:
    """One area's table: indicator, numerator, denominator, rate (counts have the count only)."""
    rows: list[list[object]] = [
        [t(f"report.col.{c}", lang) for c in ("indicator", "numerator", "denominator", "value")]
    ]
    for name in ROWS:
        label = t(f"report.row.{name}", lang)
        if name in COUNTS:
            rows.append([label, None, None, area.counts[name]])
        else:
            ind = area.indicators[name]
            rate = round(ind.rate, 4) if ind.rate is not None else None
            rows.append([label, ind.numerator, ind.denominator, rate])
    return rows


def definition_rows(*, lang: str) -> list[list[str]]:
    """The definitions sheet: each row's name and exact definition."""
    header = [t("report.col.indicator", lang), t("report.col.definition", lang)]
    return [header] + [[t(f"report.row.{n}", lang), t(f"report.def.{n}", lang)] for n in ROWS]


def sheet_titles(names: Sequence[str], *, reserved: Sequence[str]) -> list[str]:
    """Valid, unique Excel sheet titles for `names` (at most 31 characters, none of []:*?/\\)."""
    taken = set(reserved)
    out = []
    for name in names:
        base = _SHEET_FORBIDDEN.sub("_", name)[:SHEET_TITLE_MAX] or "_"
        title, n = base, 2
        while title in taken:
            suffix = f"({n})"
            title, n = base[: SHEET_TITLE_MAX - len(suffix)] + suffix, n + 1
        taken.add(title)
        out.append(title)
    return out


def county_total(areas: Mapping[int, Area], name: str) -> Area:
    """The county's figures: the sum of its townships'."""
    total = Area(name)
    for area in areas.values():
        total.add(area)
    return total
