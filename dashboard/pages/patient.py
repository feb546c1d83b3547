"""Patient detail: BP and glucose trends with target bands and the readings that changed the colour, the colour
history with reasons, China-PAR and the risk model's probability, alerts and visits. Shown only for a patient in
the viewer's scope; every view (and every refused one) is audited."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from statistics import fmean
from typing import Any

import dash
import psycopg
from dash import Input, Output, State, callback, dcc, html, no_update

from assess import chinapar
from assess.reasons import joined
from assess.rules import LOOKBACK, bp_target
from cdm.i18n import t
from cdm.privacy import redact
from cdm.settings import Settings
from cdm.thresholds import for_edition
from dashboard import audit
from dashboard.access import Principal, current_principal
from dashboard.language import page_title, request_language
from dashboard.patient import figures as patient_figures
from dashboard.patient.opening import denied, open_page
from dashboard.patient.repo import PatientDetail, age_on, colour_changing_evidence, patient_detail, profile_of
from dashboard.patient.risk_factors import main_factors
from dashboard.people.repo import Person, person
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(__name__, path_template="/patient/<patient_id>", name="patient", title=page_title("patient.title"))

SCREEN = "patient"
NAME = "patient-name"
RECORD = "patient-record-visit"
REVEAL = "patient-reveal"
REVEAL_REASON = "patient-reveal-reason"
REVEALED = "patient-revealed"
PATIENT_ID = "patient-id"
REASON_MIN = 4  # characters: a stated purpose (PIPL), not a click-through
BP_CHART = "patient-bp-chart"
GLUCOSE_CHART = "patient-glucose-chart"
TIME_FORMAT = "%Y-%m-%d %H:%M"
CHART_CONFIG: Any = {"displayModeBar": False, "responsive": True}


def layout(patient_id: str | None = None, **_query: str) -> html.Div:
    """The whole record, read once when the page opens (a record changes slowly; reloading shows what is new)."""
    opened = open_page(patient_id)
    if isinstance(opened, html.Div):
        return opened
    runtime, lang, principal, pid = opened
    now = datetime.now(UTC)
    try:
        with runtime.pool.connection() as conn:
            detail = patient_detail(conn, principal=principal, patient_id=pid, since=now - LOOKBACK, now=now)
            if detail is None:
                audit.record_denied(conn, principal=principal, screen=SCREEN, patient_id=pid)
                return denied(lang)
            who = person(conn, principal=principal, patient_id=pid)
            audit.record_view(conn, principal=principal, patient_id=pid, screen=SCREEN)
    except psycopg.Error as exc:
        log.warning("patient detail not read: %s", type(exc).__name__)
        return denied(lang, "screen.db_error")
    return _page(detail, principal=principal, settings=runtime.settings, now=now, who=who)


def _when(at: datetime | None, settings: Settings) -> str:
    return at.astimezone(settings.tz).strftime(TIME_FORMAT) if at else ""


def _reasons(codes: list[str] | tuple[str, ...] | None, facts: dict[str, Any] | None, settings: Settings) -> str:
    return joined(codes, facts, lang=request_language(settings), tz=settings.tz)


def _badge(colour: str | None, lang: str) -> html.Span:
    if colour is None:
        return html.Span(t("patient.not_assessed", lang), className="badge badge-none")
    return html.Span(t(f"colour.{colour}", lang), className=f"badge badge-{colour}")


def _table(headers: list[str], rows: list[list[Any]], lang: str) -> html.Table:
    body = [html.Tr([html.Td(cell) for cell in row]) for row in rows] or [
        html.Tr(className="empty", children=[html.Td(t("screen.none", lang), colSpan=len(headers))])
    ]
    return html.Table(className="grid", children=[html.Thead(html.Tr([html.Th(h) for h in headers])), html.Tbody(body)])


def _who(detail: PatientDetail, principal: Principal, who: Person | None, lang: str) -> list[Any]:
    """Name, a tel: link and the address for the team; the name for the township; for the county the masked name
    and a reveal that asks for a reason (audited)."""
    pid = detail.header["id"]
    items: list[Any] = [html.Span((who.name if who else None) or "", id=NAME, className="patient-name")]
    if who and who.phone:
        items.append(html.A(f"{t('work.call', lang)} {who.phone}", href=f"tel:{who.phone}", className="button call"))
    if who and who.address:
        items.append(html.Span(who.address, className="address"))
    items.append(dcc.Link(t("work.record_visit", lang), href=f"/visit/{pid}", className="button primary", id=RECORD))
    children: list[Any] = [html.Div(className="patient-actions", children=items)]
    if not principal.sees_names:
        children.append(
            html.Div(
                className="reveal-row",
                children=[
                    html.Span(t("work.masked_note", lang)),
                    dcc.Input(id=REVEAL_REASON, type="text", placeholder=t("work.reveal.reason", lang), maxLength=100),
                    html.Button(t("work.reveal.button", lang), id=REVEAL, n_clicks=0),
                    html.Div(id=REVEALED, role="status"),
                    dcc.Store(id=PATIENT_ID, data=pid),
                ],
            )
        )
    return children


def _summary(detail: PatientDetail, principal: Principal, settings: Settings, now: datetime) -> html.Section:
    lang, h = request_language(settings), detail.header
    place = f"{h['township']} {h['village'] or t('dashboard.no_village', lang)}"
    conditions = [t(f"patient.condition.{c}", lang) for c in ("hypertension", "diabetes") if h[c]]
    items: list[Any] = [
        _badge(h["colour"], lang),
        html.Span(joined(h["reasons"], h["reason_facts"], lang=lang, tz=settings.tz), className="reasons"),
    ]
    if h["colour_since"]:
        items.append(html.Span(t("patient.colour_since", lang, since=_when(h["colour_since"], settings))))
    facts = [
        t("screen.sex." + h["sex"], lang),
        t("screen.age", lang, age=age_on(detail, now.astimezone(settings.tz).date())),
        place,
        h["team"] or "",
        t("patient.conditions", lang, conditions="、".join(conditions)),
    ]
    if principal.sees_identity:
        facts += [h["phone"] or "", h["id_card_masked"] or ""]
    return html.Section(
        className="panel",
        children=[
            html.Div(className="patient-summary", children=items),
            html.Div(className="patient-summary", children=[html.Span(f) for f in facts if f]),
        ],
    )


def _ascvd_note(detail: PatientDetail, settings: Settings) -> str:
    """Why China-PAR has no figure, as `cdm assess --file` says it: established ASCVD, the age, or the missing fields
    by their Chinese names (assess.chinapar)."""
    now = datetime.now(UTC)
    bp = [r for r in detail.readings if r["kind"] == "bp" and r["systolic"] is not None]
    recent = [r["systolic"] for r in bp if r["measured_at"] >= now - timedelta(days=settings.assessment_window_days)]
    systolic = fmean(recent) if recent else (float(bp[-1]["systolic"]) if bp else None)
    risk = chinapar.ten_year_risk(profile=profile_of(detail), systolic=systolic, on=now.astimezone(settings.tz).date())
    lang = request_language(settings)
    return chinapar.unavailable_note(risk, lang) or t("patient.risk.ascvd_missing", lang)


def _risk(detail: PatientDetail, settings: Settings) -> html.Section:
    lang, h = request_language(settings), detail.header
    percent = h["scored_ascvd"] if h["scored_at"] else h["ascvd_10y_percent"]
    category = h["scored_category"] if h["scored_at"] else h["ascvd_category"]
    lines: list[Any] = []
    if percent is not None and category:
        lines.append(t("patient.risk.ascvd", lang, percent=f"{percent:.1f}%", category=t(f"ascvd.{category}", lang)))
    else:
        lines.append(_ascvd_note(detail, settings))
    probability = h["scored_probability"] if h["scored_at"] else h["risk_probability"]
    version = h["scored_model"] if h["scored_at"] else h["model_version"]
    if probability is not None and version:
        scored = _when(h["scored_at"] or h["assessed_at"], settings)
        lines.append(t("patient.risk.model", lang, percent=f"{probability:.0%}", version=version, scored=scored))
    else:
        lines.append(t("patient.risk.no_model", lang))
    children: list[Any] = [html.H2(t("patient.risk.title", lang))]
    children += [html.Div(line, className="risk-line") for line in lines]
    if probability is not None and version:
        factors = main_factors(detail, settings=settings)
        children.append(html.Div(t("patient.risk.factors", lang), className="risk-line", style={"fontWeight": 700}))
        if factors is None:
            children.append(html.Div(t("patient.risk.factors_none", lang)))
        else:
            children.append(html.Ol(className="factor-list", children=[html.Li(f) for f in factors]))
    return html.Section(className="panel risk-panel", children=children)


def _history(detail: PatientDetail, settings: Settings) -> html.Section:
    lang = request_language(settings)
    rows = []
    for r in detail.history:
        after = t(f"colour.{r['colour']}", lang)
        change = (
            t("patient.history.change", lang, before=t(f"colour.{r['previous_colour']}", lang), after=after)
            if r["previous_colour"]
            else t("patient.history.first", lang, after=after)
        )
        rows.append(
            [_when(r["assessed_at"], settings), change, _reasons(r["reasons"], r.get("reason_facts"), settings)]
        )
    headers = [t(f"patient.col.{c}", lang) for c in ("time", "colour", "reasons")]
    return html.Section(
        className="panel", children=[html.H2(t("patient.history.title", lang)), _table(headers, rows, lang)]
    )


def _alerts_and_visits(detail: PatientDetail, settings: Settings) -> list[html.Section]:
    lang = request_language(settings)
    alerts = [
        [
            _when(a["opened_at"], settings),
            t(f"dashboard.severity.{a['severity']}", lang),
            t(f"alert.status.{a['status']}", lang),
            _reasons(a["reasons"], a.get("reason_facts"), settings),
            a["outcome"] or "",
        ]
        for a in detail.alerts
    ]
    visits = [
        [
            f["done_on"].isoformat(),
            t(f"followup.class.{f['class']}", lang),
            f["next_step"] or "",
            f["next_due"].isoformat() if f["next_due"] else "",
            f["recorded_by"],
        ]
        for f in detail.follow_ups
    ]
    alert_cols = [t(f"patient.col.{c}", lang) for c in ("time", "severity", "status", "reasons", "outcome")]
    visit_cols = [t(f"patient.col.{c}", lang) for c in ("done_on", "class", "next_step", "next_due", "by")]
    return [
        html.Section(
            className="panel", children=[html.H2(t("patient.alerts.title", lang)), _table(alert_cols, alerts, lang)]
        ),
        html.Section(
            className="panel", children=[html.H2(t("patient.followups.title", lang)), _table(visit_cols, visits, lang)]
        ),
    ]


def _page(
    detail: PatientDetail, *, principal: Principal, settings: Settings, now: datetime, who: Person | None
) -> html.Div:
    lang, tz, h = request_language(settings), settings.tz, detail.header
    thresholds = for_edition(h["rules_edition"] or settings.guideline_edition)
    profile = profile_of(detail)
    view = patient_figures.ChartView(
        thresholds, colour_changing_evidence(detail.history), LOOKBACK // timedelta(days=1), lang, tz
    )
    bp = patient_figures.bp_figure(detail.readings, target=bp_target(profile, thresholds, on=now), view=view)
    glucose = patient_figures.glucose_figure(detail.readings, view=view)
    return html.Div(
        className="screen work-screen",
        children=[
            html.Header(className="screen-header", children=[html.H1(f"{t('patient.title', lang)} · {h['card']}")]),
            html.Section(className="panel", children=_who(detail, principal, who, lang)),
            _summary(detail, principal, settings, now),
            html.Div(
                className="two-col",
                children=[
                    html.Section(className="panel", children=[dcc.Graph(id=BP_CHART, figure=bp, config=CHART_CONFIG)]),
                    html.Section(
                        className="panel", children=[dcc.Graph(id=GLUCOSE_CHART, figure=glucose, config=CHART_CONFIG)]
                    ),
                ],
            ),
            html.Div(className="two-col", children=[_risk(detail, settings), _history(detail, settings)]),
            html.Div(className="two-col", children=_alerts_and_visits(detail, settings)),
        ],
    )


@callback(
    Output(NAME, "children"),
    Output(REVEALED, "children"),
    Input(REVEAL, "n_clicks"),
    State(REVEAL_REASON, "value"),
    State(PATIENT_ID, "data"),
    prevent_initial_call=True,
)
def reveal(_n: int, reason: str | None, patient_id: int) -> tuple[Any, Any]:
    """The county shows one patient's name and address for a stated reason, kept in the audit trail (numbers in
    the reason masked)."""
    runtime = current()
    lang = request_language()
    principal = current_principal()
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        return no_update, html.Span(t("work.reveal.too_short", lang), className="field-error")
    with runtime.pool.connection() as conn:
        who = person(conn, principal=principal, patient_id=int(patient_id), reveal=True)
        if who is None:
            return no_update, t("screen.forbidden", lang)
        audit.record(
            conn,
            principal=principal,
            action="reveal_identity",
            patient_id=int(patient_id),
            screen=SCREEN,
            detail={"reason": redact(reason)},
        )
    shown = " · ".join(v for v in (who.name, who.address) if v)
    return shown, t("work.reveal.done", lang)
