"""The case file of `cdm assess --file` (issue 4 item 6): its schema, and refusals that name the field.

Strict: no type coercion ("120" is not a number, 1 is not true) and no unknown fields, so a typing mistake in a
clinician's case is reported rather than silently assessed as something else.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError, model_validator

from cdm.thresholds import PLAUSIBLE

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)
_READING_KINDS = frozenset({"bp", "glucose"})
ERRORS_SHOWN = 5  # enough to fix a file in one go, short enough to stay one readable line

Diagnosis = Literal["hypertension", "type2_diabetes"]
FollowUpClassName = Literal["controlled", "uncontrolled", "adverse_reaction", "complication"]


class CaseError(Exception):
    """A case file that cannot be assessed; the message is one line naming the field."""


class HealthRecordIn(BaseModel):
    """Health-record fields; any may be absent. Bounds are generous: they catch unit slips, not rare patients."""

    model_config = _STRICT
    total_cholesterol_mmol: float | None = Field(default=None, gt=0.5, lt=30)  # mmol/L, not mg/dL
    hdl_mmol: float | None = Field(default=None, gt=0.1, lt=10)  # mmol/L, not mg/dL
    waist_cm: float | None = Field(default=None, ge=30, le=250)
    smoker: bool | None = None
    family_history_ascvd: bool | None = None
    urban: bool | None = None
    north: bool | None = None
    hba1c_percent: float | None = Field(default=None, ge=3, le=20)  # percent (NGSP), not mmol/mol


class PatientIn(BaseModel):
    model_config = _STRICT
    sex: Literal["M", "F"]
    birth_date: dt.date
    diagnoses: list[Diagnosis] = Field(min_length=1)
    complications: list[str] = Field(default_factory=list)
    on_bp_treatment: bool | None = None
    health_record: HealthRecordIn | None = None
    # What a clinician may write to tell patients apart (not assessed).
    id: str | int | None = None
    name: str | None = None
    note: str | None = None


class BpIn(BaseModel):
    model_config = _STRICT
    kind: Literal["bp"]
    measured_at: AwareDatetime
    systolic: int = Field(ge=PLAUSIBLE.systolic[0], le=PLAUSIBLE.systolic[1])
    diastolic: int = Field(ge=PLAUSIBLE.diastolic[0], le=PLAUSIBLE.diastolic[1])
    pulse: int | None = Field(default=None, ge=PLAUSIBLE.pulse[0], le=PLAUSIBLE.pulse[1])

    @model_validator(mode="after")
    def _systolic_above_diastolic(self) -> BpIn:
        if self.systolic <= self.diastolic:
            raise ValueError(f"systolic {self.systolic} <= diastolic {self.diastolic}")
        return self


class GlucoseIn(BaseModel):
    model_config = _STRICT
    kind: Literal["glucose"]
    measured_at: AwareDatetime
    mmol_l: float = Field(ge=PLAUSIBLE.glucose_mmol[0], le=PLAUSIBLE.glucose_mmol[1])
    context: Literal["fasting", "non_fasting"]


class FollowUpIn(BaseModel):
    model_config = _STRICT
    done_on: dt.date = Field(alias="date")
    follow_up_class: FollowUpClassName = Field(alias="class")
    # The next visit's date when the doctor stated one; else it is due by the class (assess.schedule).
    next_due: dt.date | None = None
    note: str | None = None


class Case(BaseModel):
    """One patient as a clinician describes it: who, what was measured, what doctors concluded, and when."""

    model_config = _STRICT
    as_of: AwareDatetime
    patient: PatientIn
    # The edition the case was written for; when given it decides over CDM_GUIDELINE_EDITION (assess.cli).
    guideline_edition: Literal["2017", "2020", "2025"] | None = None
    readings: list[Annotated[BpIn | GlucoseIn, Field(discriminator="kind")]] = Field(default_factory=list)
    follow_ups: list[FollowUpIn] = Field(default_factory=list)
    # What a clinician writes about the case (not assessed): names, notes, the expected answer.
    id: str | int | None = None
    name: str | None = None
    title: str | None = None
    description: str | None = None
    note: str | None = None
    notes: Any = None
    comment: str | None = None
    source: str | None = None
    expected: Any = None


def parse_case(text: str | bytes, *, source: str = "case", lang: str = "en") -> Case:
    """The case in `text` (JSON), or CaseError naming every wrong field (`source` names the whole, e.g. bad JSON);
    the messages in `lang` ("zh": Chinese, for the clinician running `cdm assess --file`)."""
    try:
        case = Case.model_validate_json(text)
    except ValidationError as exc:
        raise CaseError(format_errors(exc, source=source, lang=lang)) from None
    late = _after_as_of(case, lang)
    if late:
        raise CaseError(_SEP[lang].join(late[:ERRORS_SHOWN]))
    return case


def load_case(path: str | Path, *, lang: str = "en") -> Case:
    """The case in the file at `path`, or CaseError saying what is wrong with it."""
    return parse_case(read_case_file(path, lang=lang), source=str(path), lang=lang)


def read_case_file(path: str | Path, *, lang: str = "en") -> bytes:
    """The bytes of a case file, or CaseError naming the file."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise CaseError(
            f"{path}：无法读取文件（{why}）" if lang == "zh" else f"{path}: cannot read the file ({why})"
        ) from None


def format_errors(exc: ValidationError, *, source: str = "case", lang: str = "en") -> str:
    """pydantic's errors as one line: `readings[2].systolic: Input should be a valid integer; …` (in Chinese with
    lang="zh": `readings[2].systolic：应为整数；…`)."""
    parts = []
    for err in exc.errors()[:ERRORS_SHOWN]:
        where = field_path(err["loc"]) or source
        if lang == "zh":
            parts.append(f"{where}：{_chinese(err)}")
        else:
            parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
    more = len(exc.errors()) - ERRORS_SHOWN
    if more > 0:
        parts.append(f"另有 {more} 处" if lang == "zh" else f"and {more} more")
    return _SEP[lang].join(parts)


_SEP = {"zh": "；", "en": "; "}
# pydantic's error types in Chinese; {…} from the error's context. An unknown type keeps pydantic's English.
_ZH = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的字段（病例格式不允许多余字段，请检查拼写）",
    "int_type": "应为整数（不加引号）",
    "int_from_float": "应为整数，不能带小数",
    "float_type": "应为数字（不加引号）",
    "bool_type": "应为 true 或 false",
    "string_type": "应为文字（加引号）",
    "list_type": "应为列表 [...]",
    "model_type": "应为对象 {...}",
    "dict_type": "应为对象 {...}",
    "date_type": "应为日期，格式 YYYY-MM-DD",
    "date_parsing": "日期无效，格式应为 YYYY-MM-DD（{error}）",
    "date_from_datetime_parsing": "日期无效，格式应为 YYYY-MM-DD（{error}）",
    "date_from_datetime_inexact": "应为日期 YYYY-MM-DD，不含时间",
    "datetime_type": "应为时间，如 2026-11-23T10:00:00+08:00",
    "datetime_parsing": "时间无效，应如 2026-11-23T10:00:00+08:00（{error}）",
    "datetime_from_date_parsing": "时间无效，应如 2026-11-23T10:00:00+08:00（{error}）",
    "timezone_aware": "时间须带时区，如 2026-11-23T10:00:00+08:00",
    "literal_error": "应为以下之一：{expected}",
    "union_tag_invalid": "kind 为 {tag}，应为 {expected_tags}",
    "union_tag_not_found": "缺少 kind（应为 'bp' 或 'glucose'）",
    "too_short": "至少需要 {min_length} 项",
    "greater_than": "应大于 {gt}",
    "greater_than_equal": "应不小于 {ge}",
    "less_than": "应小于 {lt}",
    "less_than_equal": "应不大于 {le}",
    "json_invalid": "不是有效的 JSON（{error}）",
    "json_type": "不是有效的 JSON",
}
_ZH_VALUE_ERRORS = (("systolic ", " <= diastolic ", "收缩压 {0} 不高于舒张压 {1}"),)


def _chinese(err: Any) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind == "value_error":
        message = str(ctx.get("error", err["msg"]))
        for head, middle, text in _ZH_VALUE_ERRORS:
            if message.startswith(head) and middle in message:
                return text.format(*message.removeprefix(head).split(middle, 1))
        return message
    template = _ZH.get(kind)
    if template is None:
        return str(err["msg"])
    try:
        return template.format(**{k: str(v).replace(" or ", " 或 ") for k, v in ctx.items()})
    except (KeyError, IndexError):
        return template.split("（", 1)[0]


def field_path(loc: tuple[int | str, ...]) -> str:
    """('readings', 2, 'bp', 'systolic') -> 'readings[2].systolic' (the union's tag is not part of the file)."""
    out = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        elif i and isinstance(loc[i - 1], int) and part in _READING_KINDS:
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _after_as_of(case: Case, lang: str = "en") -> list[str]:
    """Entries dated after `as_of`: the rules would ignore them, so the file is refused instead."""
    after = "：{0} 晚于 as_of（评估时间）" if lang == "zh" else ": {0} is after as_of"
    late = [
        f"readings[{i}].measured_at" + after.format(r.measured_at.isoformat())
        for i, r in enumerate(case.readings)
        if r.measured_at > case.as_of
    ]
    late += [
        f"follow_ups[{i}].date" + after.format(f.done_on.isoformat())
        for i, f in enumerate(case.follow_ups)
        if f.done_on > case.as_of.date()
    ]
    return late
