"""How the screens are served: security headers on every response, the client address behind a trusted proxy, and
a production WSGI server (waitress) with no version banner — never Flask's development server.

Headers (checked by tests/dashboard/test_security_headers.py and, for the CSP, by every browser test):
  Content-Security-Policy   scripts only from this site plus Dash's one inline script (by its hash); styles from
                            this site and inline (Dash, Plotly and AG Grid set style attributes); images and fonts
                            from this site, data: and blob: (Plotly's downloads); nothing framed, no plugins, forms
                            posting only here; `frame-ancestors 'none'` and X-Frame-Options DENY against framing
  X-Content-Type-Options    nosniff
  Referrer-Policy           no-referrer (a patient's id is in /patient/<id>)
  Cache-Control             no-store on everything but the static assets: pages, callbacks and exports hold
                            patients' data that must not stay in a shared browser's cache
  Strict-Transport-Security when the request came over https (directly, or as a trusted proxy says)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import flask
from waitress.server import create_server
from werkzeug.middleware.proxy_fix import ProxyFix

from cdm.settings import Settings

log = logging.getLogger(__name__)

STATIC_PREFIXES = ("/assets/", "/_dash-component-suites/", "/favicon.ico", "/_favicon.ico")
HSTS = "max-age=31536000; includeSubDomains"
THREADS = 8  # requests served at once; each holds at most one pooled connection


def content_security_policy(script_hashes: list[str]) -> str:
    """The policy, allowing Dash's inline scripts by their hashes (dash.Dash.csp_hashes)."""
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def install_security(server: flask.Flask, *, settings: Settings, script_hashes: Callable[[], list[str]]) -> None:
    """Security headers on every response of `server`; the client address and scheme from trusted proxies only.

    `script_hashes` is asked once, after the first request: Dash registers the inline scripts of its pages'
    clientside callbacks while it sets itself up at that request.
    """
    if settings.dashboard_proxy_hops:
        hops = settings.dashboard_proxy_hops
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    policy: list[str] = []

    def headers(response: flask.Response) -> flask.Response:
        if not policy:
            policy.append(content_security_policy(script_hashes()))
        response.headers["Content-Security-Policy"] = policy[0]
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if not flask.request.path.startswith(STATIC_PREFIXES):
            response.headers["Cache-Control"] = "no-store"
            response.headers["Pragma"] = "no-cache"
        if flask.request.is_secure:
            response.headers["Strict-Transport-Security"] = HSTS
        response.headers.pop("Server", None)
        return response

    server.after_request(headers)


class Served:
    """A waitress server that `close()` stops from another thread (waitress's loop then ends with an error about
    its closed socket, which is expected and not reported)."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.port = int(server.effective_port)
        self._closing = threading.Event()

    def run(self) -> None:
        """Serve until `close()`."""
        try:
            self.server.run()
        except (OSError, ValueError):
            if not self._closing.is_set():
                raise

    def close(self) -> None:
        """Stop serving."""
        self._closing.set()
        self.server.close()


def make_server(app: Any, *, host: str, port: int, proxy_hops: int = 0) -> Served:
    """A waitress server for a WSGI app on host:port (port 0: any free one, see `.port`); `.run()` serves until
    `.close()`.

    With no trusted proxy, X-Forwarded-* headers are dropped before the app sees them; with one, they are left for
    ProxyFix (install_security), which trusts exactly `proxy_hops` of them.
    """
    server = create_server(
        app,
        host=host,
        port=port,
        threads=THREADS,
        ident=None,  # no Server header at all: no name or version announced
        clear_untrusted_proxy_headers=proxy_hops == 0,
    )
    return Served(server)
