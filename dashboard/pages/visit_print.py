"""A recorded visit printed in the national form's layout (国家基本公共卫生服务规范 第三版 随访服务记录表): one row per
item, the form's own words, the doctor's name. Only for a patient in the viewer's scope; every print view audited."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from cdm.i18n import t
from cdm.privacy import mask_card
from dashboard import audit
from dashboard.access import current_principal
from dashboard.language import page_title, request_language
from dashboard.people.repo import person
from dashboard.runtime import current
from dashboard.visit.repo import visit_of

dash.register_page(
    __name__, path_template="/visit-print/<follow_up_id>", name="visit-print", title=page_title("visit.print.title")
)
SCREEN = "visit_print"


def _choice(group: str, value: Any, lang: str) -> str:
    return t(f"visit.choice.{group}.{value}", lang) if value else ""


def _number(form: dict[str, Any], name: str, unit: str) -> str:
    value = form.get(name)
    return f"{value:g} {unit}" if isinstance(value, int | float) else ""


def _rows(visit: dict[str, Any], lang: str) -> list[tuple[str, str]]:
    f = visit["form"] or {}
    bp = " ; ".join(f"{s}/{d}" for s, d in f.get("bp") or [])
    mean = f" （{t('visit.bp_mean', lang, sbp=f['sbp_mean'], dbp=f['dbp_mean'])}）" if f.get("sbp_mean") else ""
    meds = "；".join(
        " ".join(v for v in (m.get("name"), m.get("dose"), m.get("frequency")) if v) for m in f.get("medications") or []
    )
    exercise = (
        f"{f.get('exercise_times_per_week') or 0:g} 次/周，{f.get('exercise_minutes') or 0:g} 分钟/次"
        if f.get("exercise_times_per_week") is not None
        else ""
    )
    referral = " · ".join(
        v for v in (f.get("referral_reason"), f.get("referral_institution"), f.get("referral_department")) if v
    )
    rows = [
        ("done_on", visit["done_on"].isoformat()),
        ("way", _choice("way", f.get("way"), lang)),
        (
            "symptoms",
            "、".join(_choice("symptoms", s, lang) for s in f.get("symptoms") or [])
            + (f"；{f['symptoms_other']}" if f.get("symptoms_other") else ""),
        ),
        ("sbp1", f"{bp} mmHg{mean}" if bp else ""),
        (
            "weight_kg",
            _number(f, "weight_kg", "kg")
            + (f" / {_number(f, 'target_weight_kg', 'kg')}" if f.get("target_weight_kg") else ""),
        ),
        ("bmi", _number(f, "bmi", "kg/m²")),
        ("heart_rate", _number(f, "heart_rate", "次/分")),
        ("cigarettes_per_day", _number(f, "cigarettes_per_day", "支")),
        ("alcohol_liang_per_day", _number(f, "alcohol_liang_per_day", "两")),
        ("exercise_times_per_week", exercise),
        ("salt", _choice("salt", f.get("salt"), lang)),
        ("psych", _choice("psych", f.get("psych"), lang)),
        ("compliance", _choice("compliance", f.get("compliance"), lang)),
        ("other_tests", f.get("other_tests") or ""),
        ("adherence", _choice("adherence", f.get("adherence"), lang)),
        ("adverse_reaction", f.get("adverse_reaction") or t("visit.print.none", lang)),
        ("class", t(f"followup.class.{visit['class']}", lang)),
        ("medications", meds),
        ("referral_reason", referral),
        ("next_due", visit["next_due"].isoformat() if visit["next_due"] else ""),
        ("next_step", visit["next_step"] or ""),
        ("doctor", visit["recorded_by"]),
    ]
    if visit["form_kind"] == "diabetes":
        rows[6:6] = [
            ("dorsalis_pedis", _choice("dorsalis_pedis", f.get("dorsalis_pedis"), lang)),
            ("fasting_glucose", _number(f, "fasting_glucose", "mmol/L")),
            ("hba1c", _number(f, "hba1c", "%") + (f"（{f['hba1c_on']}）" if f.get("hba1c_on") else "")),
        ]
        rows.insert(-4, ("insulin_kind", " ".join(v for v in (f.get("insulin_kind"), f.get("insulin_dose")) if v)))
    return [(t(f"visit.field.{k}" if k != "sbp1" else "visit.print.bp", lang), v) for k, v in rows]


def layout(follow_up_id: str | None = None, **_query: str) -> html.Div:
    """The printable record; the navigation and buttons are hidden when printed (work.css)."""
    runtime = current()
    lang = request_language()
    try:
        principal = current_principal()
        fid = int(follow_up_id or "")
    except (PermissionError, ValueError):
        return html.Div(t("screen.not_found", lang), className="denied")
    with runtime.pool.connection() as conn:
        visit = visit_of(conn, principal=principal, follow_up_id=fid)
        if visit is None:
            audit.record_denied(conn, principal=principal, screen=SCREEN, follow_up_id=fid)
            return html.Div(t("screen.not_found", lang), className="denied")
        who = person(conn, principal=principal, patient_id=visit["patient_id"])
        audit.record_view(conn, principal=principal, patient_id=visit["patient_id"], screen=SCREEN)
    kind = visit["form_kind"] or "hypertension"
    head = [
        (t("visit.print.name", lang), (who.name if who else None) or ""),
        (t("visit.print.card", lang), mask_card(visit["health_card_no"])),
    ]
    return html.Div(
        className="screen print-screen",
        children=[
            html.H1(t(f"visit.choice.kind.{kind}", lang), className="print-title"),
            html.Div(className="print-head", children=[html.Span(f"{k}：{v}") for k, v in head]),
            html.Table(
                className="national-form-print",
                children=[html.Tbody([html.Tr([html.Th(k), html.Td(v)]) for k, v in _rows(visit, lang)])],
            ),
        ],
    )
