"""The switch 中文 / English: a POST from the navigation bar of every screen (signed in: kept on the account,
audited) or from the log-in page (signed out: kept in the browser). Either way the browser keeps the choice too, so
the log-in page after signing out speaks it, and goes back to the page the switch was pressed on."""

from __future__ import annotations

import hmac
from typing import Any

import flask
from psycopg_pool import ConnectionPool

from cdm.i18n import t
from cdm.settings import Settings
from dashboard.auth import preferences
from dashboard.auth.web import CSRF_KEY, FORM_CSRF_KEY, HOME_BY_ROLE, LANGUAGE_PATH, safe_next
from dashboard.language import chosen, remember, request_language


def install_language_switch(server: flask.Flask, *, settings: Settings, pool: ConnectionPool) -> None:
    """Serve the switch's POST at LANGUAGE_PATH (under /login, so reachable before signing in)."""
    switch = LanguageSwitch(settings=settings, pool=pool)
    server.add_url_rule(LANGUAGE_PATH, "cdm_language", switch.view, methods=["POST"])


class LanguageSwitch:
    """The view of the switch, for one dashboard."""

    def __init__(self, *, settings: Settings, pool: ConnectionPool) -> None:
        self.pool = pool
        self.secure = settings.env == "production"

    def view(self) -> Any:
        """Check the form's token, keep the language (on the account when signed in), back to where it was."""
        form = flask.request.form
        principal = getattr(flask.g, "principal", None)
        # Signed in: the session's own form token (as log-out's); signed out: the log-in page's, used once.
        expected = flask.session.get(FORM_CSRF_KEY) if principal else flask.session.pop(CSRF_KEY, None)
        if not isinstance(expected, str) or not hmac.compare_digest(expected, form.get("csrf", "")):
            return self._refuse("login.error.expired")
        lang = chosen(form.get("lang"))
        if lang is None:
            return self._refuse("language.unknown")
        next_path = safe_next(form.get("next"))
        if principal is None:
            target = flask.url_for("cdm_login", next=next_path) if next_path else flask.url_for("cdm_login")
        else:
            with self.pool.connection() as conn:
                preferences.save_language(
                    conn, principal=principal, language=lang, client_addr=flask.request.remote_addr
                )
            target = next_path or HOME_BY_ROLE[principal.role]
        return remember(flask.redirect(target), lang, secure=self.secure)

    def _refuse(self, key: str) -> flask.Response:
        return flask.Response(t(key, request_language()), status=400, mimetype="text/plain")
