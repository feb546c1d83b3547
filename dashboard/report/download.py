"""The monthly report's download on the county screen: pick a month, get the same workbook `cdm report monthly`
writes, for what the signed-in person may see; audited as an export."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import psycopg
from dash import Input, Output, State, dcc, html, no_update

from cdm.i18n import t
from dashboard.access import current_principal
from dashboard.language import request_language
from dashboard.report.logic import MonthError, recent_months
from dashboard.report.service import monthly_workbook
from dashboard.runtime import current

log = logging.getLogger(__name__)

MONTH = "report-month"
BUTTON = "report-download"
DOWNLOAD = "report-file"
MESSAGE = "report-message"


def panel(*, lang: str) -> html.Section:
    """The month picker and the download button."""
    settings = current().settings
    months = recent_months(datetime.now(UTC), tz=settings.tz)
    return html.Section(
        className="panel report-download",
        children=[
            html.H2(t("report.download.title", lang)),
            html.Div(
                className="panel-body visit-form",
                children=[
                    html.Label(t("report.download.month", lang), htmlFor=MONTH),
                    # a native month picker: no lazily loaded component that re-renders the panel under a click
                    dcc.Input(id=MONTH, type="month", value=months[0], max=months[0], debounce=True),
                    html.Button(t("report.download.button", lang), id=BUTTON, n_clicks=0, className="primary"),
                    html.Div(id=MESSAGE, className="form-message", role="status"),
                    dcc.Download(id=DOWNLOAD),
                ],
            ),
        ],
    )


# The callback is declared by the page that shows the panel (dashboard/pages/county.py): Dash re-reads page modules
# for every app it builds, so a callback registered here, once per process, would be missing from a second app.
OUTPUTS = (Output(DOWNLOAD, "data"), Output(MESSAGE, "children"))
INPUTS = (Input(BUTTON, "n_clicks"), State(MONTH, "value"))


def download(_n: int, month: str | None) -> tuple[Any, str]:
    """The workbook of the month picked, scoped to the signed-in person."""
    runtime = current()
    settings = runtime.settings
    lang = request_language(settings)
    try:
        with runtime.pool.connection() as conn, conn.transaction():
            data, period = monthly_workbook(
                conn,
                principal=current_principal(),
                month=month or "",
                settings=settings,
                now=datetime.now(UTC),
                screen="county",
            )
    except MonthError as exc:
        return no_update, exc.text(lang)
    except psycopg.Error as exc:
        log.warning("monthly report not made: %s", type(exc).__name__)
        return no_update, t("screen.db_error", lang)
    return dcc.send_bytes(data, t("report.download.file", lang, month=period.month)), ""
