"""The administration screen's registry import: upload the county's files, see the dry run's result as tables,
confirm; then take the report and, once, the new meters' and accounts' credentials. Administrators only; every
dry run, import and hand-over of credentials is audited."""

from __future__ import annotations

import logging
from typing import Any

import dash
import dash_ag_grid as dag
import psycopg
from dash import Input, Output, State, callback, dcc, html, no_update

from cdm.i18n import t
from dashboard import audit
from dashboard.access import Principal, current_principal
from dashboard.admin.opening import refusal
from dashboard.admin.service import require_admin
from dashboard.grids import work_grid
from dashboard.language import page_title, request_language
from dashboard.runtime import current
from registry.importing import uploads
from registry.importing.service import Actor

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/registry", name="registry", title=page_title("registry.screen.title"))

UPLOAD = "registry-upload"
TOKEN = "registry-token"
STATUS = "registry-status"
SUMMARY = "registry-summary"
PROBLEMS = "registry-problems"
CONFIRM = "registry-confirm"
RESULT = "registry-result"
REPORT = "registry-report"
REPORT_FILE = "registry-report-file"
SECRETS = "registry-secrets"
SECRETS_FILE = "registry-secrets-file"
SUMMARY_COLUMNS = ("file", "rows", "added", "updated", "unchanged", "refused")
# Row, column and reason first: on a phone they are what fits; the file name follows.
PROBLEM_COLUMNS = (("row", 64), ("column", 110), ("reason", 320), ("file", 130))


def _admin() -> Principal:
    return require_admin(current_principal())


def _grid(grid_id: str, columns: list[dict[str, Any]], lang: str) -> dag.AgGrid:
    return work_grid(
        grid_id,
        columns,
        lang,
        default_column={"sortable": True, "resizable": True, "wrapText": True, "autoHeight": True},
        options={"domLayout": "autoHeight"},
        style={"width": "100%"},
    )


UPLOAD_STYLE = {"border": "2px dashed #8a99a8", "borderRadius": "8px", "padding": "24px", "textAlign": "center",
                "cursor": "pointer"}  # fmt: skip


def _tables_panels(lang: str) -> list[html.Section]:
    """The dry run's summary (one row a file) and its problems (the report's lines)."""
    summary_cols = [
        {"field": c, "headerName": t(f"registry.screen.col.{c}", lang), "flex": 1, "minWidth": 64}
        for c in SUMMARY_COLUMNS
    ]
    summary_cols[0] |= {"flex": 3, "minWidth": 150}
    # On a phone the grid scrolls sideways rather than wrapping a reason one character a line.
    problem_cols = [
        {"field": c, "headerName": t(f"registry.screen.col.{c}", lang), "width": w, "minWidth": w}
        for c, w in PROBLEM_COLUMNS
    ]
    problem_cols[2]["flex"] = 1
    return [
        html.Section(className="panel", children=[html.H2(t("registry.screen.summary", lang)),
                                                  _grid(SUMMARY, summary_cols, lang)]),
        html.Section(className="panel", children=[html.H2(t("registry.screen.problems", lang)),
                                                  _grid(PROBLEMS, problem_cols, lang)]),
    ]  # fmt: skip


def _actions(lang: str) -> html.Div:
    """Confirm, the report, the credentials: each enabled once it has something to act on."""
    return html.Div(
        className="visit-form",
        children=[
            html.Button(t("registry.screen.confirm", lang), id=CONFIRM, n_clicks=0, className="primary", disabled=True),
            html.Button(t("registry.screen.report", lang), id=REPORT, n_clicks=0, disabled=True),
            html.Button(t("registry.screen.secrets", lang), id=SECRETS, n_clicks=0, disabled=True),
        ],
    )


def layout(**_query: str) -> html.Div:
    """Upload, dry-run tables, confirm; refused to anyone but an administrator."""
    lang = request_language()
    if refused := refusal(lang, "registry.screen.forbidden", STATUS):
        return refused
    upload = dcc.Upload(id=UPLOAD, multiple=True, className="registry-upload", style=UPLOAD_STYLE,
                        children=html.Div(t("registry.screen.drop", lang)))  # fmt: skip
    return html.Div(
        className="screen work-screen",
        children=[
            html.Header(className="screen-header", children=[html.H1(t("registry.screen.title", lang))]),
            html.P(t("registry.screen.intro", lang), className="login-note"),
            upload,
            html.Div(id=STATUS, className="form-message", role="status"),
            *_tables_panels(lang),
            _actions(lang),
            html.Div(id=RESULT, className="form-message", role="status"),
            dcc.Store(id=TOKEN),
            dcc.Download(id=REPORT_FILE),
            dcc.Download(id=SECRETS_FILE),
        ],
    )


def _tables(outcome: Any, lang: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    return uploads.summary_rows(outcome, lang=lang), uploads.problem_rows(outcome)


@callback(
    Output(TOKEN, "data"),
    Output(SUMMARY, "rowData"),
    Output(PROBLEMS, "rowData"),
    Output(STATUS, "children"),
    Output(CONFIRM, "disabled"),
    Output(REPORT, "disabled"),
    Input(UPLOAD, "contents"),
    State(UPLOAD, "filename"),
    prevent_initial_call=True,
)
def dry_run(contents: list[str] | None, names: list[str] | None) -> tuple[Any, ...]:
    """Save the files and check them without changing anything; the result as tables."""
    runtime = current()
    settings, lang = runtime.settings, request_language()
    try:
        principal = _admin()
        upload = uploads.save(settings, list(zip(names or [], contents or [], strict=True)))
        with runtime.pool.connection() as conn:  # autocommit: the import runs in a transaction of its own
            outcome = uploads.run(conn, settings=settings, upload=upload, actor=_actor(principal), dry_run=True)
    except PermissionError:
        return no_update, [], [], t("registry.screen.forbidden", lang), True, True
    except uploads.UploadError as exc:
        return no_update, [], [], t(exc.key, lang, **exc.values), True, True
    except psycopg.Error as exc:
        log.warning("registry dry run failed: %s", type(exc).__name__)
        return no_update, [], [], t("screen.db_error", lang), True, True
    summary, problems = _tables(outcome, lang)
    return upload.token, summary, problems, t("registry.screen.checked", lang, lines=len(outcome.lines)), False, False


def _actor(principal: Principal) -> Actor:
    return Actor(name=principal.username, source="screen", user_id=principal.user_id, role=str(principal.role))


@callback(
    Output(SUMMARY, "rowData", allow_duplicate=True),
    Output(PROBLEMS, "rowData", allow_duplicate=True),
    Output(RESULT, "children"),
    Output(CONFIRM, "disabled", allow_duplicate=True),
    Output(SECRETS, "disabled"),
    Input(CONFIRM, "n_clicks"),
    State(TOKEN, "data"),
    prevent_initial_call=True,
)
def confirm(_n: int, token: str | None) -> tuple[Any, ...]:
    """Import the files the dry run checked."""
    runtime = current()
    settings, lang = runtime.settings, request_language()
    try:
        principal = _admin()
        upload = uploads.batch(settings, token or "")
        with runtime.pool.connection() as conn:
            outcome = uploads.run(conn, settings=settings, upload=upload, actor=_actor(principal), dry_run=False)
    except PermissionError:
        return no_update, no_update, t("registry.screen.forbidden", lang), True, True
    except uploads.UploadError as exc:
        return no_update, no_update, t(exc.key, lang, **exc.values), True, True
    except psycopg.Error as exc:
        log.warning("registry import failed: %s", type(exc).__name__)
        return no_update, no_update, t("screen.db_error", lang), False, True
    summary, problems = _tables(outcome, lang)
    done = t("registry.screen.done", lang, attributed=outcome.readings_attributed)
    return summary, problems, done, True, outcome.credentials is None


@callback(Output(REPORT_FILE, "data"), Input(REPORT, "n_clicks"), State(TOKEN, "data"), prevent_initial_call=True)
def report(_n: int, token: str | None) -> Any:
    """The latest report of this upload, as the CSV the command line writes."""
    try:
        _admin()
        found = uploads.report_file(uploads.batch(current().settings, token or ""))
    except (PermissionError, uploads.UploadError):
        return no_update
    return dcc.send_bytes(found[1], found[0]) if found else no_update


@callback(
    Output(SECRETS_FILE, "data"),
    Output(SECRETS, "disabled", allow_duplicate=True),
    Input(SECRETS, "n_clicks"),
    State(TOKEN, "data"),
    prevent_initial_call=True,
)
def credentials(_n: int, token: str | None) -> tuple[Any, bool]:
    """The new credentials, once: the file is removed as it is handed over (audited)."""
    runtime = current()
    try:
        principal = _admin()
        found = uploads.take_credentials(uploads.batch(runtime.settings, token or ""))
    except (PermissionError, uploads.UploadError):
        return no_update, True
    if found is None:
        return no_update, True
    with runtime.pool.connection() as conn:
        audit.record(
            conn, principal=principal, action="registry_credentials", screen="registry", detail={"file": found[0]}
        )
    return dcc.send_bytes(found[1], found[0]), True
