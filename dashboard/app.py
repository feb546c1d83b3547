"""The dashboard's shell: builds the Dash app with its pages, the log-in layer and the database pool, and serves it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path

import dash
from dash import Input, Output, dcc, html
from psycopg_pool import ConnectionPool

from cdm.db import open_pool
from cdm.i18n import t
from cdm.settings import Settings
from dashboard.access import Principal, Role, current_principal
from dashboard.auth.language_switch import install_language_switch
from dashboard.auth.passwords.web import install_password_change
from dashboard.auth.web import LANGUAGE_PATH, LOGOUT_EVERYWHERE_PATH, LOGOUT_PATH, form_token, install_login
from dashboard.health import HealthMiddleware
from dashboard.language import HTML_LANG, LANGUAGES, request_language
from dashboard.runtime import Runtime, attach, runtime_of
from dashboard.web_server import install_security, make_server

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
PAGES_FOLDER = PACKAGE_DIR / "pages"
ASSETS_FOLDER = PACKAGE_DIR / "assets"
APP_NAME = "cdm-dashboard"
NAV_ID = "nav"
LANGUAGE_NEXT_ID = "nav-language-next"  # the switch's form field naming the page to come back to
# Filled in the browser on every page change, so the switch reloads the page it was pressed on (no Referer is sent).
_LANGUAGE_NEXT_JS = "function(path, search) { return (path || '/') + (search || ''); }"
# The navigation bar: (path, catalogue key, roles that see the link). The follow-up list, patient detail
# (linked from lists at /patient/<id>) and data quality are pages of their own under dashboard/pages/.
NAV_ITEMS: tuple[tuple[str, str, frozenset[Role]], ...] = (
    ("/", "nav.county", frozenset({Role.COUNTY, Role.ADMIN, Role.TOWNSHIP, Role.TEAM})),
    ("/township", "nav.township", frozenset({Role.COUNTY, Role.ADMIN, Role.TOWNSHIP, Role.TEAM})),
    ("/alerts", "nav.alerts", frozenset({Role.COUNTY, Role.ADMIN, Role.TOWNSHIP})),
    ("/followups", "nav.followups", frozenset({Role.COUNTY, Role.ADMIN, Role.TOWNSHIP, Role.TEAM})),
    ("/quality", "nav.quality", frozenset({Role.COUNTY, Role.ADMIN, Role.TOWNSHIP})),
    ("/registry", "nav.registry", frozenset({Role.ADMIN})),
    ("/admin", "nav.admin", frozenset({Role.ADMIN})),
)


def nav_bar(principal: Principal, *, lang: str) -> html.Nav:
    """Links to the screens this principal's role uses, who is signed in, and log-out."""
    links = [
        dcc.Link(t(key, lang), href=path, className="nav-link")
        for path, key, roles in NAV_ITEMS
        if principal.role in roles
    ]
    who = html.Span(f"{principal.username} · {t(f'role.{principal.role}', lang)}", className="nav-user")
    return html.Nav(
        id=NAV_ID,
        className="nav",
        children=[*links, html.Span(className="nav-gap"), _language_form(lang), who, *_sign_out_forms(lang)],
    )


def _language_form(lang: str) -> html.Form:
    """The switch 中文 / English: each language named in itself, the current one marked; a POST with the session's
    token that keeps the choice on the account."""
    buttons = [
        html.Button(
            t(f"language.{code}", code), type="submit", name="lang", value=code, id=f"nav-lang-{code}",
            lang=HTML_LANG[code],
            className="lang-choice lang-current" if code == lang else "lang-choice",
            **{"aria-pressed": "true" if code == lang else "false"},
        )
        for code in LANGUAGES
    ]  # fmt: skip
    return html.Form(
        action=LANGUAGE_PATH, method="POST", className="lang-switch nav-language", id="nav-language",
        **{"aria-label": t("language.switch", lang)},
        children=[dcc.Input(type="hidden", name="csrf", value=form_token()),
                  dcc.Input(type="hidden", name="next", value="/", id=LANGUAGE_NEXT_ID), *buttons],
    )  # fmt: skip


def _sign_out_forms(lang: str) -> list[html.Form]:
    """Log-out and sign-out-everywhere: POST forms carrying the session's token (a link could be triggered by any
    page the person visits)."""
    token = form_token()
    forms = []
    for path, key, ident in (
        (LOGOUT_PATH, "nav.logout", "nav-logout"),
        (LOGOUT_EVERYWHERE_PATH, "nav.logout_everywhere", "nav-logout-everywhere"),
    ):
        forms.append(
            html.Form(
                action=path, method="POST", className="nav-logout-form",
                children=[dcc.Input(type="hidden", name="csrf", value=token),
                          html.Button(t(key, lang), type="submit", className="nav-logout", id=ident)],
            )
        )  # fmt: skip
    return forms


def shell() -> html.Div:
    """The layout of every request: the navigation bar of the signed-in person above the current page."""
    try:
        principal = current_principal()
    except (PermissionError, RuntimeError):  # Dash validates the layout once outside any signed-in request
        return html.Div([dash.page_container])
    return html.Div([nav_bar(principal, lang=request_language()), dash.page_container])


def create_app(settings: Settings, *, pool: ConnectionPool | None = None) -> dash.Dash:
    """A Dash app with every page under dashboard/pages, behind log-in, reading the store through a pool."""
    if pool is None:
        if settings.database_url is None:
            raise ValueError("the dashboard needs a database: set CDM_DATABASE_URL")
        pool = open_pool(settings.database_url, app=APP_NAME)
    app = dash.Dash(
        __name__,
        use_pages=True,
        pages_folder=str(PAGES_FOLDER),
        assets_folder=str(ASSETS_FOLDER),
        title=t("dashboard.title", settings.language),
        update_title="",  # a live screen refreshing every few seconds must not flash "Updating..." in its tab
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
        suppress_callback_exceptions=True,
    )
    app.layout = shell
    app.interpolate_index = _in_request_language(app.interpolate_index)  # type: ignore[method-assign]
    app.clientside_callback(
        _LANGUAGE_NEXT_JS,
        Output(LANGUAGE_NEXT_ID, "value"),
        Input("_pages_location", "pathname"),  # dash.page_container's location
        Input("_pages_location", "search"),
    )
    attach(app.server, Runtime(settings=settings, pool=pool))
    install_security(app.server, settings=settings, script_hashes=lambda: list(app.csp_hashes()))
    install_login(app.server, settings=settings, pool=pool)
    install_language_switch(app.server, settings=settings, pool=pool)
    install_password_change(app.server, settings=settings, pool=pool)
    app.server.wsgi_app = HealthMiddleware(app.server.wsgi_app, pool)  # type: ignore[method-assign]
    return app


def _in_request_language(interpolate: Callable[..., str]) -> Callable[..., str]:
    """Dash's page before its scripts run, titled and marked (`<html lang>`) in the request's language rather
    than in the language the app was built with."""

    def interpolate_index(**parts: str) -> str:
        lang = request_language()
        page = interpolate(**{**parts, "title": t("dashboard.title", lang)})
        return page.replace("<html>", f'<html lang="{HTML_LANG[lang]}">', 1)

    return interpolate_index


def serve(settings: Settings, *, stop: threading.Event | None = None) -> None:
    """Serve the dashboard through waitress on settings.dashboard_host:dashboard_port until `stop` is set (or the
    process is interrupted)."""
    app = create_app(settings)
    server = make_server(
        app.server,
        host=settings.dashboard_host,
        port=settings.dashboard_port,
        proxy_hops=settings.dashboard_proxy_hops,
    )
    if stop is not None:

        def close_on_stop() -> None:
            stop.wait()
            server.close()

        threading.Thread(target=close_on_stop, name="dashboard-stop", daemon=True).start()
    log.info("dashboard on http://%s:%s/ (waitress)", settings.dashboard_host, server.port)
    try:
        server.run()
    finally:
        runtime_of(app.server).pool.close()
