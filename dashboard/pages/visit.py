"""Recording a visit on the national follow-up form (高血压 / 2型糖尿病患者随访服务记录表), opened from the patient page
and from the follow-up list's cards. Only for a patient in the viewer's scope; opening it and saving are audited."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import dash
import psycopg
from dash import Input, Output, State, callback, dcc, html

from alerts.followups.form import MEDICATIONS_MAX, SYMPTOMS, validate
from cdm.i18n import t
from cdm.privacy import mask_card
from dashboard import audit
from dashboard.access import current_principal
from dashboard.followups.repo import card_in_scope
from dashboard.language import page_title, request_language
from dashboard.patient.opening import denied, open_page
from dashboard.people.repo import person
from dashboard.runtime import current
from dashboard.visit import layout as ui
from dashboard.visit import service as followup_form
from dashboard.visit.repo import form_kind

log = logging.getLogger(__name__)

dash.register_page(__name__, path_template="/visit/<patient_id>", name="visit", title=page_title("visit.title"))

SCREEN = "visit"
PATIENT_ID = "visit-patient-id"
_INPUT_FIELDS = tuple(f for f in ui.FIELDS if f != "medications")


def layout(patient_id: str | None = None, **_query: str) -> html.Div:
    """The form for one patient of the viewer's; the patient's conditions choose the form first shown."""
    opened = open_page(patient_id)
    if isinstance(opened, html.Div):
        return opened
    runtime, lang, principal, pid = opened
    with runtime.pool.connection() as conn:
        card = card_in_scope(conn, principal=principal, patient_id=pid)
        if card is None:
            audit.record_denied(conn, principal=principal, screen=SCREEN, patient_id=pid)
            return denied(lang)
        who = person(conn, principal=principal, patient_id=pid)
        kind = form_kind(conn, patient_id=pid)
        audit.record_view(conn, principal=principal, patient_id=pid, screen=SCREEN)
    name = (who.name if who else None) or ""
    today = datetime.now(runtime.settings.tz).date().isoformat()
    return html.Div(
        className="screen work-screen",
        children=[
            html.Header(
                className="screen-header", children=[html.H1(f"{t('visit.title', lang)} · {name} {mask_card(card)}")]
            ),
            dcc.Link(t("visit.back", lang), href=f"/patient/{pid}", className="back-link"),
            ui.visit_form(lang, kind=kind, today=today, patient=f"{name} · {mask_card(card)}"),
            dcc.Store(id=PATIENT_ID, data=pid),
        ],
    )


@callback(
    Output(ui.field_id("symptoms"), "options"),
    Output(ui.field_id("symptoms"), "value"),
    Output(ui.DIABETES_ONLY, "style"),
    Input(ui.field_id("kind"), "value"),
)
def switch_form(kind: str | None) -> tuple[Any, ...]:
    """The symptoms of the chosen form; the diabetes form's own fields shown only on it."""
    lang = request_language()
    kind = kind if kind in SYMPTOMS else "hypertension"
    options = [{"label": t(f"visit.choice.symptoms.{s}", lang), "value": s} for s in SYMPTOMS[kind]]
    return options, [], ({} if kind == "diabetes" else {"display": "none"})


def _medications(values: list[str | None]) -> list[dict[str, str]]:
    rows = [values[i : i + 3] for i in range(0, len(values), 3)]
    return [dict(zip(("name", "dose", "frequency"), (v or "" for v in row), strict=True)) for row in rows][
        :MEDICATIONS_MAX
    ]


@callback(
    [Output(ui.error_id(f), "children") for f in ui.FIELDS],
    Output(ui.MESSAGE, "children"),
    Output(ui.MESSAGE, "className"),
    Output(ui.SUBMIT, "disabled"),
    Input(ui.SUBMIT, "n_clicks"),
    State(PATIENT_ID, "data"),
    [State(ui.field_id(f), "value") for f in _INPUT_FIELDS],
    [State(ui.medication_id(i, p), "value") for i in range(ui.MEDICATION_ROWS) for p in ("name", "dose", "frequency")],
    prevent_initial_call=True,
)
def submit(_n: int, patient_id: int, *values: Any) -> tuple[Any, ...]:
    """Check the form, naming every bad field (what was typed stays); save a good visit once."""
    runtime = current()
    settings = runtime.settings
    lang = request_language(settings)
    now = datetime.now(UTC)
    raw: dict[str, object] = dict(zip(_INPUT_FIELDS, values[: len(_INPUT_FIELDS)], strict=True))
    raw["medications"] = _medications(list(values[len(_INPUT_FIELDS) :]))
    visit, errors = validate(raw, today=now.astimezone(settings.tz).date(), lang=lang)
    shown = tuple(errors.get(f, "") for f in ui.FIELDS)
    if visit is None:
        return (*shown, t("visit.refused", lang, n=len(errors)), "form-message error", False)
    try:
        with runtime.pool.connection() as conn:
            result = followup_form.save(
                conn, principal=current_principal(), patient_id=int(patient_id), visit=visit, settings=settings, now=now
            )
    except PermissionError as exc:
        return (*shown, str(exc), "form-message error", False)
    except psycopg.Error as exc:
        log.warning("visit not saved: %s", type(exc).__name__)
        return (
            *shown,
            t("followups.error.not_saved", lang, reason=t("screen.db_error", lang)),
            "form-message error",
            False,
        )
    saved = t(
        "visit.saved", lang, patient=result["patient"], next_due=result["next_due"], closed=len(result["closed_alerts"])
    )
    message = [
        html.Span(saved),
        " ",
        dcc.Link(t("visit.print", lang), href=f"/visit-print/{result['follow_up_id']}", id="visit-print-link"),
        " ",
        dcc.Link(t("visit.back", lang), href=f"/patient/{patient_id}"),
    ]
    return (*shown, message, "form-message ok", True)
