"""The national follow-up forms (pure): 高血压 / 2型糖尿病患者随访服务记录表 (国家基本公共卫生服务规范 第三版).

One checker for every way a visit arrives (the screen, `cdm followups record` from flags or a JSON file): it takes
the fields as typed (text, or lists for the multiple choices) and returns the checked visit, or an error for each
bad field that names the field in the catalogue's words. Field names are the same everywhere: screen ids, JSON keys
and command-line flags.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from alerts.followups.logic import default_next_due
from cdm.domain import FollowUpClass
from cdm.i18n import t

KINDS = ("hypertension", "diabetes")
WAYS = ("clinic", "home", "phone")  # 门诊 / 家庭 / 电话
SYMPTOMS = {
    "hypertension": (
        "none", "headache_dizziness", "nausea_vomiting", "tinnitus_blurred", "breathless", "palpitations",
        "nosebleed", "numb_limbs", "leg_oedema",
    ),
    "diabetes": (
        "none", "polydipsia", "polyphagia", "polyuria", "blurred_vision", "infection", "numb_hands_feet",
        "leg_oedema", "weight_loss",
    ),
}  # fmt: skip
CHOICES = {
    "way": WAYS,
    "salt": ("light", "moderate", "heavy"),  # 轻 / 中 / 重
    "psych": ("good", "fair", "poor"),  # 心理调整: 良好 / 一般 / 差
    "compliance": ("good", "fair", "poor"),  # 遵医行为
    "adherence": ("regular", "intermittent", "none"),  # 服药依从性: 规律 / 间断 / 不服药
    "dorsalis_pedis": ("normal", "weak", "absent"),  # 足背动脉搏动 (diabetes): 触及正常 / 减弱 / 消失
}
REQUIRED_CHOICES = ("way", "adherence")
CLASSES = tuple(c.value for c in FollowUpClass)
# field: (low, high, unit, whole number). BP, heart rate and glucose as a meter's plausibility (clinical reference §6).
NUMBERS: dict[str, tuple[float, float, str, bool]] = {
    "sbp1": (50, 300, "mmHg", True),
    "dbp1": (30, 200, "mmHg", True),
    "sbp2": (50, 300, "mmHg", True),
    "dbp2": (30, 200, "mmHg", True),
    "heart_rate": (25, 250, "次/分", True),
    "weight_kg": (10, 300, "kg", False),
    "target_weight_kg": (10, 300, "kg", False),
    "height_cm": (40, 250, "cm", False),
    "cigarettes_per_day": (0, 100, "支", True),
    "alcohol_liang_per_day": (0, 50, "两", False),
    "exercise_times_per_week": (0, 21, "次", True),
    "exercise_minutes": (0, 600, "分钟", True),
    "fasting_glucose": (1.1, 33.3, "mmol/L", False),
    "hba1c": (3.0, 20.0, "%", False),
}
TEXTS = {  # field: longest text kept
    "symptoms_other": 100,
    "other_tests": 200,
    "adverse_reaction": 100,
    "insulin_kind": 50,
    "insulin_dose": 50,
    "referral_reason": 100,
    "referral_institution": 100,
    "referral_department": 50,
    "next_step": 200,
}
MEDICATIONS_MAX = 6
MEDICATION_TEXT_MAX = 50
OLDEST_VISIT = timedelta(days=366)  # a visit typed more than a year back is almost surely a typing error
DATES = ("done_on", "hba1c_on", "next_due")


@dataclass(frozen=True, slots=True)
class Medication:
    name: str
    dose: str
    frequency: str


@dataclass(frozen=True, slots=True)
class VisitForm:
    """A checked visit: what rules and reports read as attributes, the whole form in `as_json()`."""

    kind: str
    done_on: date
    way: str
    follow_up_class: FollowUpClass
    adherence: str
    next_due: date
    bp: tuple[tuple[int, int], ...] = ()  # one or two measurements at the visit
    heart_rate: int | None = None
    weight_kg: float | None = None
    height_cm: float | None = None
    fasting_glucose: float | None = None
    hba1c: float | None = None
    next_step: str | None = None
    details: dict[str, Any] = field(default_factory=dict)  # the rest of the form, as checked

    @property
    def sbp_mean(self) -> int | None:
        return round(sum(s for s, _ in self.bp) / len(self.bp)) if self.bp else None

    @property
    def dbp_mean(self) -> int | None:
        return round(sum(d for _, d in self.bp) / len(self.bp)) if self.bp else None

    @property
    def bmi(self) -> float | None:
        """Body-mass index from the visit's weight and height, one decimal."""
        if self.weight_kg is None or not self.height_cm:
            return None
        return round(self.weight_kg / (self.height_cm / 100) ** 2, 1)

    def as_json(self) -> dict[str, Any]:
        """The whole form as kept in follow_up.form (and printed in the national layout)."""
        return {
            **self.details,
            "kind": self.kind,
            "way": self.way,
            "bp": [list(m) for m in self.bp],
            "sbp_mean": self.sbp_mean,
            "dbp_mean": self.dbp_mean,
            "heart_rate": self.heart_rate,
            "weight_kg": self.weight_kg,
            "height_cm": self.height_cm,
            "bmi": self.bmi,
            "fasting_glucose": self.fasting_glucose,
            "hba1c": self.hba1c,
            "adherence": self.adherence,
            "class": self.follow_up_class.value,
            "next_due": self.next_due.isoformat(),
            "next_step": self.next_step,
        }


def label(name: str, lang: str) -> str:
    """A field's name on the paper form."""
    return t(f"visit.field.{name}", lang)


def _text(raw: object) -> str:
    return "" if raw is None else str(raw).strip()


class _Checker:
    def __init__(self, raw: Mapping[str, object], lang: str) -> None:
        self.raw, self.lang = raw, lang
        self.errors: dict[str, str] = {}

    def fail(self, name: str, key: str, **values: object) -> None:
        self.errors.setdefault(name, t(f"visit.error.{key}", self.lang, field=label(name, self.lang), **values))

    def number(self, name: str) -> float | None:
        text = _text(self.raw.get(name)).replace("，", ".").replace(",", ".")
        if not text:
            return None
        low, high, unit, whole = NUMBERS[name]
        try:
            value = float(text)
        except ValueError:
            self.fail(name, "number")
            return None
        if whole and not value.is_integer():
            self.fail(name, "integer")
            return None
        if not low <= value <= high:
            self.fail(name, "range", low=f"{low:g}", high=f"{high:g}", unit=unit)
            return None
        return value

    def whole(self, name: str) -> int | None:
        value = self.number(name)
        return int(value) if value is not None else None

    def day(self, name: str) -> date | None:
        text = _text(self.raw.get(name))
        if not text:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail(name, "date")
            return None

    def choice(self, name: str, options: tuple[str, ...], *, required: bool) -> str | None:
        value = _text(self.raw.get(name))
        if not value:
            if required:
                self.fail(name, "choice")
            return None
        if value not in options:
            self.fail(name, "choice")
            return None
        return value

    def text(self, name: str) -> str | None:
        value = _text(self.raw.get(name))
        if len(value) > TEXTS[name]:
            self.fail(name, "too_long", n=TEXTS[name])
        return value or None


def _bp(c: _Checker) -> tuple[tuple[int, int], ...]:
    out = []
    for n in ("1", "2"):
        sbp, dbp = c.whole("sbp" + n), c.whole("dbp" + n)
        typed = [_text(c.raw.get(f)) for f in ("sbp" + n, "dbp" + n)]
        if all(typed) and sbp is not None and dbp is not None:
            if sbp <= dbp:
                c.fail("sbp" + n, "sbp_dbp")
            else:
                out.append((sbp, dbp))
        elif any(typed) and not all(typed):
            c.fail("sbp" + n if not typed[0] else "dbp" + n, "bp_pair")
    return tuple(out)


def _symptoms(c: _Checker, kind: str) -> list[str]:
    raw = c.raw.get("symptoms") or []
    items: list[object] = list(raw.split(",")) if isinstance(raw, str) else []
    if isinstance(raw, list | tuple):
        items = list(raw)
    chosen = [str(s).strip() for s in items if str(s).strip()]
    if any(s not in SYMPTOMS[kind] for s in chosen):
        c.fail("symptoms", "choice")
    elif "none" in chosen and len(chosen) > 1:
        c.fail("symptoms", "symptoms_none")
    return chosen


def _medications(c: _Checker) -> list[dict[str, str]]:
    raw = c.raw.get("medications") or []
    rows = raw if isinstance(raw, list) else []
    out = []
    for row in rows[: MEDICATIONS_MAX + 1]:
        values = {k: _text(row.get(k)) for k in ("name", "dose", "frequency")} if isinstance(row, dict) else {}
        if not any(values.values()):
            continue
        if not values["name"]:
            c.fail("medications", "medication_name")
        elif any(len(v) > MEDICATION_TEXT_MAX for v in values.values()):
            c.fail("medications", "too_long", n=MEDICATION_TEXT_MAX)
        out.append(values)
    if len(out) > MEDICATIONS_MAX:
        c.fail("medications", "too_many", n=MEDICATIONS_MAX)
    return out


def _dates(c: _Checker, *, today: date) -> tuple[date | None, date | None, date | None]:
    done_on, hba1c_on, next_due = (c.day(name) for name in DATES)
    if done_on is None and "done_on" not in c.errors:
        c.fail("done_on", "required")
    elif done_on is not None and done_on > today:
        c.fail("done_on", "future")
    elif done_on is not None and done_on < today - OLDEST_VISIT:
        c.fail("done_on", "too_old")
    if hba1c_on is not None and hba1c_on > today:
        c.fail("hba1c_on", "future")
    if next_due is not None and next_due < today:
        c.fail("next_due", "past")
    return done_on, hba1c_on, next_due


def validate(raw: Mapping[str, object], *, today: date, lang: str) -> tuple[VisitForm | None, dict[str, str]]:
    """The checked visit, or the errors by field; a blank next date defaults by class and never lies in the past."""
    c = _Checker(raw, lang)
    kind = c.choice("kind", KINDS, required=True) or "hypertension"
    done_on, hba1c_on, next_due = _dates(c, today=today)
    choices = {name: c.choice(name, options, required=name in REQUIRED_CHOICES) for name, options in CHOICES.items()}
    cls = c.choice("class", CLASSES, required=True)
    bp = _bp(c)
    if not bp and choices["way"] in ("clinic", "home") and not ({"sbp1", "dbp1"} & c.errors.keys()):
        c.fail("sbp1", "bp_needed")
    numbers = {name: c.number(name) for name in NUMBERS if not name.startswith(("sbp", "dbp"))}
    texts = {name: c.text(name) for name in TEXTS}
    details: dict[str, Any] = {
        "symptoms": _symptoms(c, kind),
        "medications": _medications(c),
        "hba1c_on": hba1c_on.isoformat() if hba1c_on else None,
        **{k: v for k, v in choices.items() if k not in ("way", "adherence")},
        **{k: numbers[k] for k in ("target_weight_kg", "cigarettes_per_day", "alcohol_liang_per_day")},
        **{k: numbers[k] for k in ("exercise_times_per_week", "exercise_minutes")},
        **{k: v for k, v in texts.items() if k != "next_step"},
    }
    if c.errors or done_on is None or cls is None:
        return None, dict(c.errors)
    follow_up_class = FollowUpClass(cls)
    due = next_due or max(default_next_due(follow_up_class, done_on), today)
    heart_rate = numbers["heart_rate"]
    return VisitForm(
        kind=kind,
        done_on=done_on,
        way=choices["way"] or "clinic",
        follow_up_class=follow_up_class,
        adherence=choices["adherence"] or "regular",
        next_due=due,
        bp=bp,
        heart_rate=int(heart_rate) if heart_rate is not None else None,
        weight_kg=numbers["weight_kg"],
        height_cm=numbers["height_cm"],
        fasting_glucose=numbers["fasting_glucose"],
        hba1c=numbers["hba1c"],
        next_step=texts["next_step"],
        details=details,
    ), {}
