"""How a page about one patient opens: the viewer signed in, the patient's id a number, else a page saying why not
in the viewer's language. Whether the patient is in the viewer's scope is the page's own query (and audited)."""

from __future__ import annotations

from typing import NamedTuple

from dash import html

from cdm.i18n import t
from dashboard.access import Principal, current_principal
from dashboard.language import request_language
from dashboard.runtime import Runtime, current

DENIED = "patient-denied"


def denied(lang: str, key: str = "screen.forbidden") -> html.Div:
    """The page instead of a record: why it cannot be shown (a catalogue key)."""
    return html.Div(className="screen work-screen", children=[html.Div(t(key, lang), id=DENIED, className="denied")])


class Opened(NamedTuple):
    """A page about one patient, opened: the service's runtime, the viewer's language, the viewer and the patient."""

    runtime: Runtime
    lang: str
    principal: Principal
    patient_id: int


def open_page(patient_id: str | None) -> Opened | html.Div:
    """The page addressed by patient id, opened; or the page saying why it cannot open."""
    runtime = current()
    lang = request_language(runtime.settings)
    try:
        principal = current_principal()
    except PermissionError:
        return denied(lang, "screen.not_signed_in")
    try:
        return Opened(runtime, lang, principal, int(patient_id or ""))
    except ValueError:
        return denied(lang, "screen.not_found")
