"""The language of each request: the signed-in account's choice (the switch 中文 / English), else the one chosen on
the log-in page (a cookie), else the county's CDM_LANGUAGE.

Screens, callbacks and the log-in page ask `request_language()` instead of reading the setting, so two people on
one server each read their own language; text Dash builds once (page titles, grid words) is built per request.
"""

from __future__ import annotations

from collections.abc import Callable

import flask

from cdm.i18n import LANGUAGES, t
from cdm.settings import Settings
from dashboard.runtime import current

COOKIE = "cdm_language"
COOKIE_DAYS = 365  # a browser's choice before signing in; an account's own is kept in the store
HTML_LANG = {"zh": "zh-CN", "en": "en"}


def chosen(value: object) -> str | None:
    """`value` when it names a language the screens speak, else None."""
    return value if isinstance(value, str) and value in LANGUAGES else None


def request_language(settings: Settings | None = None) -> str:
    """The language of the request being served; outside a request (the command line), `settings`'s."""
    if flask.has_request_context():
        principal = getattr(flask.g, "principal", None)
        for candidate in (getattr(principal, "language", None), flask.request.cookies.get(COOKIE)):
            if (lang := chosen(candidate)) is not None:
                return lang
    return (settings or current().settings).language


def page_title(key: str) -> Callable[..., str]:
    """A Dash page's title in the language of each request (Dash asks for it per page view)."""
    return lambda **_: t(key, request_language())


def remember(response: flask.Response, lang: str, *, secure: bool) -> flask.Response:
    """Keep `lang` in the browser, for the log-in page and for an account that has not chosen."""
    response.set_cookie(
        COOKIE, lang, max_age=COOKIE_DAYS * 86400, httponly=True, samesite="Lax", secure=secure, path="/"
    )
    return response
