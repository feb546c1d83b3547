"""The log-in layer on the dashboard's Flask server (flask-login): the log-in page, log-out, and the principal of
every request on `flask.g`; nobody reaches a screen or a callback without signing in."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import flask
import flask_login
import psycopg
from psycopg_pool import ConnectionPool

from cdm.i18n import t
from cdm.settings import Settings
from dashboard.access import Principal, Role
from dashboard.auth import repo, service
from dashboard.auth.policy import LockoutPolicy, Outcome

log = logging.getLogger(__name__)

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"
# Reachable signed out: the log-in page itself and the stylesheet it uses.
PUBLIC_PREFIXES = (LOGIN_PATH, "/assets/", "/favicon.ico", "/_favicon.ico")
SESSION_COOKIE = "cdm_session"
CSRF_KEY = "login_csrf"
PRINCIPAL_KEY = "principal"
HOME_BY_ROLE = {Role.COUNTY: "/", Role.ADMIN: "/", Role.TOWNSHIP: "/township", Role.TEAM: "/followups"}
# What a person is told for each outcome: a wrong name, a wrong password and a disabled account read the same.
MESSAGE_BY_OUTCOME = {
    Outcome.UNKNOWN_USER: "login.error.credentials",
    Outcome.BAD_PASSWORD: "login.error.credentials",
    Outcome.DISABLED: "login.error.credentials",
    Outcome.LOCKED: "login.error.locked",
    Outcome.BAD_TOTP: "login.error.totp",
    Outcome.TOTP_REQUIRED: "login.error.totp_missing",
}

_PAGE = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><link rel="stylesheet" href="/assets/screen.css"></head>
<body class="login-body"><main class="login-card">
<h1>{{ title }}</h1><p class="login-county">{{ county }}</p>
{% if error %}<p class="login-error" role="alert" id="login-error">{{ error }}</p>{% endif %}
<form method="post" action="{{ action }}" autocomplete="on">
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="next" value="{{ next }}">
<label>{{ t_username }}<input name="username" id="username" autocomplete="username" required autofocus
 value="{{ username }}"></label>
<label>{{ t_password }}<input name="password" id="password" type="password" autocomplete="current-password"
 required></label>
<label>{{ t_totp }}<input name="totp" id="totp" inputmode="numeric" autocomplete="one-time-code"
 placeholder="{{ t_totp_hint }}"></label>
<button type="submit" id="login-submit">{{ t_submit }}</button>
</form><p class="login-note">{{ t_note }}</p></main></body></html>"""


class SignedIn(flask_login.UserMixin):
    """flask-login's user: the principal of a signed-in session."""

    def __init__(self, principal: Principal) -> None:
        self.principal = principal

    def get_id(self) -> str:
        return str(self.principal.user_id)


def _safe_next(target: str | None) -> str | None:
    """A local path to go back to after signing in; anything pointing off-site is dropped."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _principal_fields(principal: Principal) -> dict[str, Any]:
    return {
        "user_id": principal.user_id,
        "username": principal.username,
        "role": str(principal.role),
        "county_id": principal.county_id,
        "township_id": principal.township_id,
        "team_id": principal.team_id,
    }


def _session_principal(user_id: int) -> Principal | None:
    fields = flask.session.get(PRINCIPAL_KEY)
    if not isinstance(fields, dict) or fields.get("user_id") != user_id:
        return None
    return Principal(**{**fields, "role": Role(fields["role"])})


def install_login(server: flask.Flask, *, settings: Settings, pool: ConnectionPool) -> None:
    """Require signing in on every route of `server` except the log-in page; put the Principal on flask.g."""
    server.secret_key = settings.dashboard_secret_key.get_secret_value()
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.dashboard_session_hours),
    )
    layer = LoginLayer(settings=settings, pool=pool)
    manager = flask_login.LoginManager()
    manager.init_app(server)
    manager.session_protection = "strong"
    manager.user_loader(layer.load_user)
    server.before_request(layer.require_login)
    server.add_url_rule(LOGIN_PATH, "cdm_login", layer.login_view, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "cdm_logout", layer.logout_view, methods=["GET", "POST"])


class LoginLayer:
    """The views and request hooks of signing in, for one dashboard."""

    def __init__(self, *, settings: Settings, pool: ConnectionPool) -> None:
        self.settings = settings
        self.pool = pool
        self.lang = settings.language
        self.lockout = LockoutPolicy(settings.login_max_failures, settings.login_lockout_minutes)

    def load_user(self, user_id: str) -> SignedIn | None:
        """flask-login's loader: the account re-read on every request, so a disabled account is out at its next
        click, not when its cookie expires."""
        try:
            with self.pool.connection() as conn:
                principal = repo.active_principal(conn, int(user_id))
        except psycopg.Error as exc:
            # The store is down: the screens say so and keep their last picture, for the session signed in
            # before (its principal was copied into the signed cookie at log-in).
            log.warning("account %s not re-read (%s); using the signed session", user_id, type(exc).__name__)
            principal = _session_principal(int(user_id))
        return SignedIn(principal) if principal else None

    def require_login(self) -> Any:
        """Before every request: the principal on flask.g, or the way to the log-in page."""
        user = flask_login.current_user
        if user.is_authenticated:
            flask.g.principal = user.principal
            return None
        path = flask.request.path
        if path.startswith(PUBLIC_PREFIXES):
            return None
        if path.startswith("/_dash"):
            return flask.jsonify({"error": t("login.required", self.lang)}), 401
        return flask.redirect(flask.url_for("cdm_login", next=flask.request.full_path.rstrip("?")))

    def render(self, *, error: str = "", username: str = "", next_path: str = "", status: int = 200) -> Any:
        """The log-in page, with a fresh form token."""
        token = secrets.token_urlsafe(32)
        flask.session[CSRF_KEY] = token
        words = {f"t_{k}": t(f"login.{k}", self.lang) for k in ("username", "password", "totp", "totp_hint")}
        words |= {f"t_{k}": t(f"login.{k}", self.lang) for k in ("submit", "note")}
        page = flask.render_template_string(
            _PAGE,
            lang=self.lang,
            title=t("login.title", self.lang),
            county=self.settings.county_name,
            error=error,
            action=LOGIN_PATH,
            csrf=token,
            next=next_path,
            username=username,
            **words,
        )
        return flask.Response(page, status=status, headers={"Cache-Control": "no-store"})

    def login_view(self) -> Any:
        """GET: the form; POST: check the attempt (audited), then the role's home screen or the form again."""
        request = flask.request
        if request.method == "GET":
            if flask_login.current_user.is_authenticated:
                return flask.redirect(HOME_BY_ROLE[flask_login.current_user.principal.role])
            return self.render(next_path=_safe_next(request.args.get("next")) or "")
        form = request.form
        next_path, username = _safe_next(form.get("next")) or "", form.get("username", "")
        expected = flask.session.pop(CSRF_KEY, None)
        if not expected or not hmac.compare_digest(expected, form.get("csrf", "")):
            error = t("login.error.expired", self.lang)
            return self.render(error=error, username=username, next_path=next_path, status=400)
        with self.pool.connection() as conn:
            result = service.authenticate(
                conn,
                username=username,
                password=form.get("password", ""),
                totp_code=form.get("totp", ""),
                now=datetime.now(UTC),
                lockout=self.lockout,
                client_addr=request.remote_addr,
            )
        if result.principal is None:
            key = "login.error.locked" if result.locked_now else MESSAGE_BY_OUTCOME[result.outcome]
            error = t(key, self.lang, minutes=self.settings.login_lockout_minutes)
            return self.render(error=error, username=username, next_path=next_path, status=401)
        flask.session.clear()  # a fresh session at sign-in: nothing from before carries over
        flask.session.permanent = True
        flask.session[PRINCIPAL_KEY] = _principal_fields(result.principal)
        flask_login.login_user(SignedIn(result.principal))
        return flask.redirect(next_path or HOME_BY_ROLE[result.principal.role])

    def logout_view(self) -> Any:
        """Audit the log-out, end the session, back to the log-in page."""
        user = flask_login.current_user
        if user.is_authenticated:
            with self.pool.connection() as conn:
                service.record_logout(conn, principal=user.principal, client_addr=flask.request.remote_addr)
        flask_login.logout_user()
        flask.session.clear()
        return flask.redirect(LOGIN_PATH)
