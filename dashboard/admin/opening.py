"""How a screen for administrators opens: the viewer signed in as an administrator, else a page saying why not in
the viewer's language. The screens' actions check again (dashboard.admin.service.require_admin) on every call."""

from __future__ import annotations

from dash import html

from cdm.i18n import t
from dashboard.access import current_principal
from dashboard.admin.service import require_admin


def refusal(lang: str, key: str, status_id: str) -> html.Div | None:
    """None when the viewer is an administrator; else the page instead of the screen, its heading the catalogue's
    `key` under the screen's status id (where its actions' messages would be)."""
    try:
        require_admin(current_principal())
    except PermissionError:
        return html.Div(className="screen", children=[html.H1(t(key, lang), id=status_id)])
    return None
