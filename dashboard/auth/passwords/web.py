"""The first sign-in of an account made with a first password (a registry import): nothing but the page to set
one's own password until it is done. The flag is read from the store once per session; the change is audited."""

from __future__ import annotations

import hmac
import secrets
from typing import Any

import flask
from psycopg_pool import ConnectionPool

from cdm.i18n import t
from cdm.settings import Settings
from dashboard import audit
from dashboard.auth import credentials, policy
from dashboard.auth.passwords import repo as password_repo
from dashboard.auth.web import HOME_BY_ROLE, PAGE_TOP, form_token, language_switch
from dashboard.language import request_language

PASSWORD_PATH = "/password"
SESSION_KEY = "password_change_required"
CSRF_KEY = "password_csrf"
# Reachable while the change is due: the page itself, log-out, and what the page loads.
OPEN_PREFIXES = (PASSWORD_PATH, "/logout", "/login", "/assets/", "/favicon.ico", "/_favicon.ico")

_PAGE = (
    PAGE_TOP
    + """<p class="login-county">{{ note }}</p>
{% if error %}<p class="login-error" role="alert" id="password-error">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}">
<input type="hidden" name="csrf" value="{{ csrf }}">
<label>{{ t_current }}<input name="current" id="current-password" type="password" autocomplete="current-password"
 required autofocus></label>
<label>{{ t_new }}<input name="new" id="new-password" type="password" autocomplete="new-password" required></label>
<label>{{ t_again }}<input name="again" id="again-password" type="password" autocomplete="new-password" required>
</label>
<button type="submit" id="password-submit">{{ t_submit }}</button>
</form></main></body></html>"""
)


def install_password_change(server: flask.Flask, *, settings: Settings, pool: ConnectionPool) -> None:
    """Hold an account whose first password must be changed on the change page until it is changed."""
    layer = PasswordChange(settings=settings, pool=pool)
    server.before_request(layer.require_change)
    server.add_url_rule(PASSWORD_PATH, "cdm_password", layer.view, methods=["GET", "POST"])


class PasswordChange:
    """The hook and the view of the first-password change."""

    def __init__(self, *, settings: Settings, pool: ConnectionPool) -> None:
        self.settings = settings
        self.pool = pool

    @property
    def lang(self) -> str:
        """The language of the request being served (dashboard.language)."""
        return request_language(self.settings)

    def require_change(self) -> Any:
        """Before every request of a signed-in account: on to the change page while its change is due."""
        principal = getattr(flask.g, "principal", None)  # set by the log-in layer, which runs first
        if principal is None or flask.request.path.startswith(OPEN_PREFIXES):
            return None
        due = flask.session.get(SESSION_KEY)
        if due is None:
            with self.pool.connection() as conn:
                due = password_repo.change_required(conn, principal.user_id)
            flask.session[SESSION_KEY] = due
        if not due:
            return None
        if flask.request.path.startswith("/_dash"):
            return flask.jsonify({"error": t("password.change.required", self.lang)}), 403
        return flask.redirect(PASSWORD_PATH)

    def render(self, *, error: str = "", status: int = 200) -> Any:
        token = secrets.token_urlsafe(32)
        flask.session[CSRF_KEY] = token
        words = {f"t_{k}": t(f"password.change.{k}", self.lang) for k in ("current", "new", "again", "submit")}
        page = flask.render_template_string(
            _PAGE,
            lang=self.lang,
            title=t("password.change.title", self.lang),
            note=t("password.change.note", self.lang, length=self.settings.password_min_length),
            error=error,
            action=PASSWORD_PATH,
            csrf=token,
            language_switch=language_switch(self.lang, csrf=form_token(), next_path=PASSWORD_PATH),
            **words,
        )
        return flask.Response(page, status=status, headers={"Cache-Control": "no-store"})

    def view(self) -> Any:
        """GET: the form; POST: check the current password and the new one, store its hash, audit, go home."""
        principal = getattr(flask.g, "principal", None)
        if principal is None:
            return flask.redirect("/login")
        if flask.request.method == "GET":
            return self.render()
        form = flask.request.form
        expected = flask.session.pop(CSRF_KEY, None)
        if not expected or not hmac.compare_digest(expected, form.get("csrf", "")):
            return self.render(error=t("login.error.expired", self.lang), status=400)
        new, again = form.get("new", ""), form.get("again", "")
        with self.pool.connection() as conn, conn.transaction():
            stored = password_repo.password_hash(conn, principal.user_id)
            if not credentials.verify_password(stored, form.get("current", "")):
                return self.render(error=t("password.change.wrong_current", self.lang), status=400)
            problems = policy.password_problems(
                new, username=principal.username, min_length=self.settings.password_min_length
            )
            if new != again:
                problems.insert(0, "change.mismatch")
            if new == form.get("current", ""):
                problems.insert(0, "change.same")
            if problems:
                error = "；".join(t(f"password.{p}", self.lang) for p in problems)
                return self.render(error=error, status=400)
            password_repo.set_password(conn, principal.user_id, credentials.hash_password(new))
            audit.record(
                conn,
                principal=principal,
                action="password_changed",
                screen="password",
                client_addr=flask.request.remote_addr,
            )
        flask.session[SESSION_KEY] = False
        return flask.redirect(HOME_BY_ROLE[principal.role])
