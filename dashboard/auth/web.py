"""The log-in layer on the dashboard's Flask server: the log-in page, log-out, and the principal of every request on
`flask.g`, from a session the store holds (dashboard.auth.sessions); nobody reaches a screen or a callback without
signing in."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

import flask
import psycopg
from markupsafe import Markup
from psycopg_pool import ConnectionPool

from cdm.i18n import t
from cdm.settings import Settings
from dashboard.access import Principal, Role
from dashboard.auth import service
from dashboard.auth.policy import LockoutPolicy, Outcome, ThrottlePolicy
from dashboard.auth.sessions import service as sessions
from dashboard.language import HTML_LANG, LANGUAGES, remember, request_language

log = logging.getLogger(__name__)

LOGIN_PATH = "/login"
LOGOUT_PATH = "/logout"  # POST only, with the session's form token
LOGOUT_EVERYWHERE_PATH = "/logout/everywhere"
LANGUAGE_PATH = "/login/language"  # the switch 中文 / English (POST; dashboard.auth.language_switch)
# Reachable signed out: the log-in page itself and the stylesheet it uses.
PUBLIC_PREFIXES = (LOGIN_PATH, "/assets/", "/favicon.ico", "/_favicon.ico")
SESSION_COOKIE = "cdm_session"
CSRF_KEY = "login_csrf"
FORM_CSRF_KEY = "csrf"  # the signed-in session's token for its own forms (log-out)
SESSION_TOKEN_KEY = "sid"  # the cookie carries only this random token; the store knows the rest
HOME_BY_ROLE = {Role.COUNTY: "/", Role.ADMIN: "/", Role.TOWNSHIP: "/township", Role.TEAM: "/followups"}
# What a person is told for each outcome: a wrong name, a wrong password and a disabled account read the same.
MESSAGE_BY_OUTCOME = {
    Outcome.UNKNOWN_USER: "login.error.credentials",
    Outcome.BAD_PASSWORD: "login.error.credentials",
    Outcome.DISABLED: "login.error.credentials",
    Outcome.LOCKED: "login.error.locked",
    Outcome.BAD_TOTP: "login.error.totp",
    Outcome.TOTP_REQUIRED: "login.error.totp_missing",
    Outcome.THROTTLED: "login.error.throttled",
}

# The switch 中文 / English of the pages served without Dash (log-in, first password), posting to LANGUAGE_PATH with
# the page's own form token (`language_switch`).
_LANGUAGE_SWITCH = """<form method="post" action="{{ language_action }}" class="lang-switch" id="login-language"
 aria-label="{{ t_language }}"><input type="hidden" name="csrf" value="{{ switch_csrf }}">
<input type="hidden" name="next" value="{{ switch_next }}">{% for code, name, html_lang in languages %}
<button type="submit" name="lang" value="{{ code }}" id="lang-{{ code }}" lang="{{ html_lang }}"
 class="lang-choice{{ ' lang-current' if code == lang else '' }}"
 aria-pressed="{{ 'true' if code == lang else 'false' }}">{{ name }}</button>{% endfor %}</form>"""

# The top of the pages served without Dash, down to their heading.
PAGE_TOP = """<!doctype html>
<html lang="{{ 'zh-CN' if lang == 'zh' else 'en' }}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title><link rel="stylesheet" href="/assets/screen.css"></head>
<body class="login-body"><main class="login-card">
{{ language_switch }}
<h1>{{ title }}</h1>"""

_PAGE = (
    PAGE_TOP
    + """<p class="login-county">{{ county }}</p>
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
)


def safe_next(target: str | None) -> str | None:
    """A path on this site to go back to after signing in; anything that could lead off-site is dropped.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so `/%09/evil.example` or
    `/\\evil.example` would become `//evil.example`: only a plain path (no scheme, no host, no control character,
    no backslash, not starting with two slashes) is kept.
    """
    if not target or not all(_plain_path(form) for form in (target, unquote(target))):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return target


def _plain_path(target: str) -> bool:
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return False
    return not any(ord(c) < 0x21 or ord(c) == 0x7F or c.isspace() for c in target)


def install_login(server: flask.Flask, *, settings: Settings, pool: ConnectionPool) -> None:
    """Require signing in on every route of `server` except the log-in page; put the Principal on flask.g."""
    server.secret_key = settings.dashboard_secret_key.get_secret_value()
    server.config.update(
        SESSION_COOKIE_NAME=SESSION_COOKIE,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.env == "production",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.dashboard_session_hours),
        SESSION_REFRESH_EACH_REQUEST=False,  # the cookie's lifetime is fixed at sign-in, like the session's
    )
    layer = LoginLayer(settings=settings, pool=pool)
    server.before_request(layer.require_login)
    server.add_url_rule(LOGIN_PATH, "cdm_login", layer.login_view, methods=["GET", "POST"])
    server.add_url_rule(LOGOUT_PATH, "cdm_logout", layer.logout_view, methods=["POST"])
    server.add_url_rule(LOGOUT_EVERYWHERE_PATH, "cdm_logout_everywhere", layer.logout_everywhere_view, methods=["POST"])


def language_switch(lang: str, *, csrf: str, next_path: str) -> Markup:
    """The switch for a page in `lang` whose form token is `csrf`, coming back to `next_path`."""
    languages = [(code, t(f"language.{code}", code), HTML_LANG[code]) for code in LANGUAGES]
    switch = flask.render_template_string(
        _LANGUAGE_SWITCH,
        lang=lang,
        language_action=LANGUAGE_PATH,
        languages=languages,
        t_language=t("language.switch", lang),
        switch_csrf=csrf,
        switch_next=next_path,
    )
    return Markup(switch)  # rendered (and escaped) by Jinja just above


def form_token() -> str:
    """The signed-in session's token for its forms (log-out), made once per session."""
    token = flask.session.get(FORM_CSRF_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        flask.session[FORM_CSRF_KEY] = token
    return token


class LoginLayer:
    """The views and request hooks of signing in, for one dashboard."""

    def __init__(self, *, settings: Settings, pool: ConnectionPool) -> None:
        self.settings = settings
        self.pool = pool
        self.lockout = LockoutPolicy(settings.login_max_failures, settings.login_lockout_minutes)
        self.throttle = ThrottlePolicy(
            max_failures=settings.login_throttle_failures,
            window_s=settings.login_throttle_window_s,
            base_wait_s=settings.login_throttle_wait_s,
            max_wait_s=settings.login_throttle_max_wait_s,
        )
        self.name_key = settings.dashboard_secret_key.get_secret_value().encode()
        self._recently_confirmed = sessions.RecentlyConfirmed()

    @property
    def lang(self) -> str:
        """The language of the request being served (the account's, the log-in page's switch, the county's)."""
        return request_language(self.settings)

    def _principal(self) -> Principal | None:
        token = flask.session.get(SESSION_TOKEN_KEY)
        if not isinstance(token, str):
            return None
        try:
            with self.pool.connection() as conn:
                principal = sessions.principal_of(conn, token, now=datetime.now(UTC))
        except psycopg.Error:
            # The store is down: a session it confirmed moments ago keeps its screen (which says the store is
            # unreachable and shows its last picture); a token it never confirmed gets nothing.
            return self._recently_confirmed.get(token)
        self._recently_confirmed.put(token, principal)
        return principal

    def require_login(self) -> Any:
        """Before every request: the principal of the store's session on flask.g, or the way to the log-in page.

        The session is looked up in the store on every request, so a signed-out, expired or disabled account's
        cookie opens nothing. When the store cannot be reached, only a session it confirmed within the last
        minutes goes on (sessions.RecentlyConfirmed); the cookie alone is never trusted.
        """
        path = flask.request.path
        public = path.startswith(PUBLIC_PREFIXES)
        principal = self._principal()
        if principal is not None:
            flask.g.principal = principal
            return None
        if flask.session.get(SESSION_TOKEN_KEY) is not None:
            flask.session.clear()  # ended elsewhere: the cookie goes too
        if public:
            return None
        if path.startswith("/_dash"):
            return flask.jsonify({"error": t("login.required", self.lang)}), 401
        target = safe_next(flask.request.full_path.rstrip("?")) or "/"
        return flask.redirect(flask.url_for("cdm_login", next=target))

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
            language_switch=language_switch(self.lang, csrf=token, next_path=next_path),
            **words,
        )
        return flask.Response(page, status=status, headers={"Cache-Control": "no-store"})

    def login_view(self) -> Any:
        """GET: the form; POST: check the attempt (audited), then the role's home screen or the form again."""
        request = flask.request
        if request.method == "GET":
            principal = getattr(flask.g, "principal", None)
            if principal is not None:
                return flask.redirect(HOME_BY_ROLE[principal.role])
            return self.render(next_path=safe_next(request.args.get("next")) or "")
        form = request.form
        next_path, username = safe_next(form.get("next")) or "", form.get("username", "")
        expected = flask.session.pop(CSRF_KEY, None)
        if not expected or not hmac.compare_digest(expected, form.get("csrf", "")):
            error = t("login.error.expired", self.lang)
            return self.render(error=error, username=username, next_path=next_path, status=400)
        now = datetime.now(UTC)
        with self.pool.connection() as conn:
            attempt = service.Attempt(username, form.get("password", ""), form.get("totp", ""), request.remote_addr)
            result = service.authenticate(
                conn, attempt, now=now, lockout=self.lockout, throttle=self.throttle, name_key=self.name_key
            )
            if result.principal is not None:
                token = sessions.start(
                    conn,
                    principal=result.principal,
                    now=now,
                    hours=self.settings.dashboard_session_hours,
                    client_addr=request.remote_addr,
                )
        if result.outcome is Outcome.THROTTLED:
            seconds = result.retry_after_s or 1
            page = self.render(error=t("login.error.throttled", self.lang, seconds=seconds), status=429)
            page.headers["Retry-After"] = str(seconds)
            return page
        if result.principal is None:
            key = "login.error.locked" if result.locked_now else MESSAGE_BY_OUTCOME[result.outcome]
            error = t(key, self.lang, minutes=self.settings.login_lockout_minutes)
            return self.render(error=error, username=username, next_path=next_path, status=401)
        flask.session.clear()  # a fresh session at sign-in: nothing from before carries over
        flask.session.permanent = True
        flask.session[SESSION_TOKEN_KEY] = token
        home = flask.redirect(next_path or HOME_BY_ROLE[result.principal.role])
        if result.principal.language:  # the browser's log-in page then speaks the account's language too
            remember(home, result.principal.language, secure=self.settings.env == "production")
        return home

    def _form_ok(self) -> bool:
        expected = flask.session.get(FORM_CSRF_KEY)
        given = flask.request.form.get("csrf", "")
        return isinstance(expected, str) and hmac.compare_digest(expected, given)

    def forget(self, token: str) -> None:
        """Drop a session from the recently-confirmed memory (it was ended)."""
        self._recently_confirmed.forget(token)

    def logout_view(self) -> Any:
        """POST with the session's form token: end this session in the store (audited), back to the log-in page."""
        principal = getattr(flask.g, "principal", None)
        token = flask.session.get(SESSION_TOKEN_KEY)
        if principal is None or not isinstance(token, str):
            return flask.redirect(LOGIN_PATH)
        if not self._form_ok():
            return flask.Response(t("login.error.expired", self.lang), status=400, mimetype="text/plain")
        with self.pool.connection() as conn:
            sessions.sign_out(conn, token, principal=principal, now=datetime.now(UTC), client_addr=_client())
        self.forget(token)
        flask.session.clear()
        return flask.redirect(LOGIN_PATH)

    def logout_everywhere_view(self) -> Any:
        """POST with the form token: end every session of the signed-in account — or, for an administrator, of the
        account named in the form."""
        principal = getattr(flask.g, "principal", None)
        if principal is None:
            return flask.redirect(LOGIN_PATH)
        if not self._form_ok():
            return flask.Response(t("login.error.expired", self.lang), status=400, mimetype="text/plain")
        named = flask.request.form.get("username", "").strip().lower()
        target = named if named and principal.role is Role.ADMIN else principal.username
        with self.pool.connection() as conn:
            try:
                sessions.sign_out_everywhere(
                    conn, username=target, by=principal, now=datetime.now(UTC), client_addr=_client()
                )
            except service.AccountError:
                return flask.Response(t("login.error.credentials", self.lang), status=404, mimetype="text/plain")
        if target == principal.username:
            flask.session.clear()
            return flask.redirect(LOGIN_PATH)
        return flask.Response(status=204)


def _client() -> str | None:
    return flask.request.remote_addr
