"""The national follow-up form's components (pure): one control per field of alerts.followups.form, ids named after
the fields, radio buttons (nothing that opens off-screen), date pickers, a keypad for numbers on a phone."""

from __future__ import annotations

from dash import dcc, html
from dash.development.base_component import Component

from alerts.followups.form import CHOICES, CLASSES, KINDS, MEDICATIONS_MAX, NUMBERS, SYMPTOMS, TEXTS, label
from cdm.i18n import t

SUBMIT = "visit-submit"
MESSAGE = "visit-message"
PATIENT = "visit-patient"
DIABETES_ONLY = "visit-diabetes-only"
MEDICATION_ROWS = 3
_DIABETES_FIELDS = ("dorsalis_pedis", "fasting_glucose", "hba1c", "hba1c_on", "insulin_kind", "insulin_dose")
SECTIONS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    (None, ("kind", "done_on", "way", "symptoms", "symptoms_other")),
    ("signs", ("sbp1", "dbp1", "sbp2", "dbp2", "heart_rate", "weight_kg", "target_weight_kg", "height_cm")),
    ("lifestyle", ("cigarettes_per_day", "alcohol_liang_per_day", "exercise_times_per_week", "exercise_minutes")),
    (None, ("salt", "psych", "compliance")),
    ("tests", ("other_tests",)),
    ("medication", ("adherence", "adverse_reaction")),
    ("conclusion", ("class",)),
    ("referral", ("referral_reason", "referral_institution", "referral_department")),
    ("conclusion", ("next_due", "next_step")),
)
FIELDS = (
    *(f for _, fields in SECTIONS for f in fields),
    *_DIABETES_FIELDS,
    "medications",
)


def field_id(name: str) -> str:
    return f"visit-{name}"


def error_id(name: str) -> str:
    return f"visit-error-{name}"


def medication_id(row: int, part: str) -> str:
    return f"visit-med-{row}-{part}"


def _options(group: str, values: tuple[str, ...], lang: str) -> list[dict[str, str]]:
    return [{"label": t(f"visit.choice.{group}.{v}", lang), "value": v} for v in values]


def _control(name: str, lang: str, *, kind: str, today: str) -> Component:
    if name == "kind":
        return dcc.RadioItems(id=field_id(name), options=_options("kind", KINDS, lang), value=kind, inline=True)
    if name in ("done_on", "hba1c_on", "next_due"):
        value = today if name == "done_on" else None
        return dcc.Input(id=field_id(name), type="date", value=value, max=today if name != "next_due" else None)
    if name == "symptoms":
        return dcc.Checklist(
            id=field_id(name), options=_options("symptoms", SYMPTOMS[kind], lang), value=[], inline=True
        )
    if name in CHOICES:
        return dcc.RadioItems(id=field_id(name), options=_options(name, CHOICES[name], lang), value=None, inline=True)
    if name == "class":
        options = [{"label": t(f"followup.class.{c}", lang), "value": c} for c in CLASSES]
        return dcc.RadioItems(id=field_id(name), options=options, value=None, inline=True)
    if name in NUMBERS:
        unit = NUMBERS[name][2]
        return html.Div(
            className="with-unit",
            children=[dcc.Input(id=field_id(name), type="text", inputMode="decimal"), html.Span(unit)],
        )
    return dcc.Input(id=field_id(name), type="text", maxLength=TEXTS.get(name))


def _box(name: str, lang: str, *, kind: str, today: str) -> html.Div:
    hint = [html.Div(t("visit.next_due_hint", lang), className="hint")] if name == "next_due" else []
    return html.Div(
        className=f"form-field field-{name}",
        children=[
            html.Label(label(name, lang), htmlFor=field_id(name)),
            _control(name, lang, kind=kind, today=today),
            *hint,
            html.Div(id=error_id(name), className="field-error", role="alert"),
        ],
    )


def _medications(lang: str) -> html.Div:
    rows = [
        html.Div(
            className="med-row",
            children=[
                dcc.Input(id=medication_id(i, part), type="text", placeholder=t(f"visit.medication.{part}", lang))
                for part in ("name", "dose", "frequency")
            ],
        )
        for i in range(min(MEDICATION_ROWS, MEDICATIONS_MAX))
    ]
    return html.Div(
        className="form-field field-medications",
        children=[
            html.Label(label("medications", lang)),
            *rows,
            html.Div(id=error_id("medications"), className="field-error", role="alert"),
        ],
    )


def visit_form(lang: str, *, kind: str, today: str, patient: str) -> html.Section:
    """The whole form for one patient; `kind` picks the form first shown (the doctor may switch)."""
    sections: list[Component] = [html.Div(patient, id=PATIENT, className="selected-patient")]
    for title, names in SECTIONS:
        if title:
            sections.append(html.H3(t(f"visit.section.{title}", lang)))
        sections.append(
            html.Div(className="visit-form", children=[_box(n, lang, kind=kind, today=today) for n in names])
        )
        if names[0] == "sbp1":
            sections.append(html.Div(className="visit-form", id=DIABETES_ONLY, children=[
                _box(n, lang, kind=kind, today=today) for n in _DIABETES_FIELDS
            ]))  # fmt: skip
        if names[0] == "adherence":
            sections.append(_medications(lang))
    sections += [
        html.Button(t("visit.submit", lang), id=SUBMIT, n_clicks=0, className="primary big"),
        html.Div(id=MESSAGE, className="form-message", role="status"),
    ]
    return html.Section(className="panel national-form", children=sections)
