"""Pure reminder rules: which reminders a patient is due, when each may go out, and which are skipped and why.

No I/O: the facts come in, decisions go out. The same placement rules run when a reminder is planned and again
when it is sent, because the plan may be hours old by then (a reading arrived, the patient opted out, the cap
filled up, the clock moved into the quiet hours).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo

from cdm.i18n import t
from cdm.settings import Settings

# A dose reminder sent later than this after the dose time could make a patient take a dose twice.
MEDICATION_LATE = timedelta(hours=1)


class Kind(StrEnum):
    MEASURE = "measure"
    FOLLOW_UP = "follow_up"
    MEDICATION = "medication"


@dataclass(frozen=True)
class Policy:
    """The settings the rules read, in one small value (so the rules never see secrets or URLs)."""

    tz: ZoneInfo
    quiet_start: time
    quiet_end: time
    daily_cap: int
    measure_after_days: int
    lang: str = "zh"
    sign: str = "县慢病中心"

    @classmethod
    def from_settings(cls, settings: Settings) -> Policy:
        """The policy of one deployment."""
        return cls(
            tz=settings.tz,
            quiet_start=settings.reminder_quiet_start,
            quiet_end=settings.reminder_quiet_end,
            daily_cap=settings.reminder_daily_cap,
            measure_after_days=settings.reminder_measure_after_days,
            lang=settings.language,
            sign=settings.sms_sign_name,
        )


@dataclass(frozen=True)
class PatientFacts:
    """What the rules need to know about one patient."""

    patient_id: int
    needs: frozenset[str]  # reading kinds the patient's conditions call for: 'bp', 'glucose'
    last_reading: Mapping[str, datetime]  # kind -> latest measured_at; absent: never measured
    registered_at: datetime  # a patient who never measured is counted from registration
    next_follow_up: date | None = None  # next_due of the latest follow-up
    medication_times: tuple[time, ...] = ()
    opted_out: bool = False
    sent_today: int = 0  # reminders sent on the local day of `now`


@dataclass(frozen=True)
class Decision:
    """One reminder to record: pending at `planned_for`, or skipped with a reason."""

    patient_id: int
    kind: Kind
    due_key: str
    planned_for: datetime
    params: dict[str, str] = field(default_factory=dict)
    skip_reason: str | None = None


@dataclass(frozen=True)
class Verdict:
    """What to do with a claimed reminder now."""

    action: Literal["send", "defer", "skip"]
    until: datetime | None = None
    reason: str | None = None


def in_quiet_hours(moment: datetime, policy: Policy) -> bool:
    """True when `moment` falls in the quiet hours (a window such as 21:00–08:00 crosses midnight)."""
    local = moment.astimezone(policy.tz).time()
    start, end = policy.quiet_start, policy.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(moment: datetime, policy: Policy) -> datetime:
    """The first end of the quiet hours after `moment` (today's in the early morning, else tomorrow's)."""
    local = moment.astimezone(policy.tz)
    end = datetime.combine(local.date(), policy.quiet_end, tzinfo=policy.tz)
    if end <= local:
        end = datetime.combine(local.date() + timedelta(days=1), policy.quiet_end, tzinfo=policy.tz)
    return end.astimezone(UTC)


def local_day(now: datetime, policy: Policy) -> tuple[datetime, datetime]:
    """[start, end) of the local calendar day holding `now`, in UTC: the day the daily cap counts."""
    day = _local_date(now, policy)
    start = datetime.combine(day, time(0), tzinfo=policy.tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=policy.tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def _next_morning(moment: datetime, policy: Policy) -> datetime:
    tomorrow = moment.astimezone(policy.tz).date() + timedelta(days=1)
    return datetime.combine(tomorrow, policy.quiet_end, tzinfo=policy.tz).astimezone(UTC)


def _local_date(moment: datetime, policy: Policy) -> date:
    return moment.astimezone(policy.tz).date()


def place(
    kind: Kind, *, wanted: datetime, now: datetime, sent_today: int, appointment: date | None, policy: Policy
) -> tuple[datetime, str | None]:
    """When a reminder wanted at `wanted` may go out: (time, None), or (wanted, skip reason)."""
    at = wanted
    if in_quiet_hours(at, policy):
        if kind is Kind.MEDICATION:  # a dose reminder moved to the morning would be wrong, not late
            return wanted, "quiet_hours"
        at = quiet_hours_end(at, policy)
    if sent_today >= policy.daily_cap and _local_date(at, policy) == _local_date(now, policy):
        if kind is Kind.MEDICATION:
            return wanted, "daily_cap"
        at = _next_morning(now, policy)  # measuring and appointments can wait for tomorrow's allowance
    if appointment is not None and _local_date(at, policy) > appointment:
        return wanted, "too_late"
    return at, None


def _measure(facts: PatientFacts, *, today: date, policy: Policy) -> tuple[str, dict[str, str]] | None:
    """(due_key, params) when the patient has gone `measure_after_days` without a reading they need."""
    registered = facts.registered_at.astimezone(policy.tz).date()
    gaps = {}
    for kind in sorted(facts.needs):
        last = facts.last_reading.get(kind)
        since = last.astimezone(policy.tz).date() if last else registered
        gaps[kind] = (since, (today - since).days)
    overdue = [k for k, (_, days) in gaps.items() if days >= policy.measure_after_days]
    if not overdue:
        return None
    lead = max(overdue, key=lambda k: gaps[k][1])
    since, days = gaps[lead]
    # One reminder per step of N days: a missed planning run cannot lose it, a repeat cannot double it.
    step = since + timedelta(days=policy.measure_after_days * (days // policy.measure_after_days))
    return step.isoformat(), {"days": str(days), "what": "+".join(overdue)}


def _wanted(facts: PatientFacts, *, now: datetime, policy: Policy) -> list[tuple[Kind, str, datetime, dict[str, str]]]:
    today = _local_date(now, policy)
    found: list[tuple[Kind, str, datetime, dict[str, str]]] = []
    measure = _measure(facts, today=today, policy=policy)
    if measure:
        found.append((Kind.MEASURE, measure[0], now, measure[1]))
    appointment = facts.next_follow_up
    if appointment is not None and today <= appointment <= today + timedelta(days=1):
        found.append((Kind.FOLLOW_UP, appointment.isoformat(), now, {"date": appointment.isoformat()}))
    for dose in sorted(set(facts.medication_times)):
        at = datetime.combine(today, dose, tzinfo=policy.tz).astimezone(UTC)
        if at >= now - MEDICATION_LATE:  # doses long past are not planned at all
            found.append((Kind.MEDICATION, f"{today.isoformat()}T{dose:%H:%M}", at, {"time": f"{dose:%H:%M}"}))
    return found


def plan(facts: PatientFacts, *, now: datetime, policy: Policy) -> list[Decision]:
    """Every reminder this patient is due as of `now`, each placed outside the quiet hours or skipped."""
    decisions = []
    for kind, key, wanted, params in _wanted(facts, now=now, policy=policy):
        if facts.opted_out:
            decisions.append(Decision(facts.patient_id, kind, key, wanted, params, "opted_out"))
            continue
        appointment = date.fromisoformat(key) if kind is Kind.FOLLOW_UP else None
        at, reason = place(
            kind, wanted=wanted, now=now, sent_today=facts.sent_today, appointment=appointment, policy=policy
        )
        decisions.append(Decision(facts.patient_id, kind, key, at, params, reason))
    return decisions


def _still_wanted(
    kind: Kind, due_key: str, facts: PatientFacts, *, planned_for: datetime, now: datetime, policy: Policy
) -> str | None:
    """None when the reminder still makes sense, else why not."""
    if kind is Kind.MEASURE:
        measure = _measure(facts, today=_local_date(now, policy), policy=policy)
        if measure is None:
            return "measured"
        return None if measure[0] == due_key else "superseded"
    if kind is Kind.FOLLOW_UP:
        return None if facts.next_follow_up == date.fromisoformat(due_key) else "rescheduled"
    dose = time.fromisoformat(due_key.partition("T")[2])
    if dose not in facts.medication_times:
        return "cancelled"
    return "late" if now - planned_for > MEDICATION_LATE else None


def recheck(
    kind: Kind, due_key: str, *, planned_for: datetime, facts: PatientFacts, now: datetime, policy: Policy
) -> Verdict:
    """At send time: send now, defer to a later moment, or skip with a reason."""
    if facts.opted_out:
        return Verdict("skip", reason="opted_out")
    reason = _still_wanted(kind, due_key, facts, planned_for=planned_for, now=now, policy=policy)
    if reason:
        return Verdict("skip", reason=reason)
    appointment = date.fromisoformat(due_key) if kind is Kind.FOLLOW_UP else None
    at, reason = place(kind, wanted=now, now=now, sent_today=facts.sent_today, appointment=appointment, policy=policy)
    if reason:
        return Verdict("skip", reason=reason)
    return Verdict("send") if at <= now else Verdict("defer", until=at)


def _what(codes: str, lang: str) -> str:
    return t("reminder.and", lang).join(t(f"reminder.what.{code}", lang) for code in codes.split("+"))


def template_values(kind: Kind, params: Mapping[str, str], *, now: datetime, policy: Policy) -> dict[str, str]:
    """The words filled into the message ('today'/'tomorrow' as of `now`); also the SMS template's parameters."""
    lang = policy.lang
    if kind is Kind.MEASURE:
        return {"days": params["days"], "what": _what(params["what"], lang)}
    if kind is Kind.FOLLOW_UP:
        day = date.fromisoformat(params["date"])
        when = "today" if day == _local_date(now, policy) else "tomorrow"
        shown = t("reminder.date", lang, month=day.month, day=day.day, iso=day.isoformat())
        return {"when": t(f"reminder.when.{when}", lang), "date": shown}
    return {"time": params["time"]}


def render(kind: Kind, params: Mapping[str, str], *, now: datetime, policy: Policy) -> tuple[str, str]:
    """(title, text) of the message in the policy's language, signed as the SMS gateway would sign it."""
    values = template_values(kind, params, now=now, policy=policy)
    text = t(f"reminder.{kind.value}", policy.lang, sign=policy.sign, **values)
    return t(f"reminder.title.{kind.value}", policy.lang), text
