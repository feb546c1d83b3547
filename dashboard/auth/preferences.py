"""What a signed-in person sets for themselves: the language of their screens (the switch 中文 / English), kept on
the account so that it follows them to any browser, and audited like every change to an account."""

from __future__ import annotations

import psycopg

from dashboard import audit
from dashboard.access import Principal
from dashboard.auth import repo
from dashboard.language import LANGUAGES


def save_language(conn: psycopg.Connection, *, principal: Principal, language: str, client_addr: str | None) -> None:
    """Keep `language` (zh / en) as the signed-in person's language of the screens, audited."""
    if language not in LANGUAGES:
        raise ValueError(f"the screens speak {LANGUAGES}, not {language!r}")
    with conn.transaction():
        repo.set_language(conn, principal.user_id, language)
        audit.record(
            conn,
            principal=principal,
            action="language_changed",
            screen="language",
            detail={"language": language, "was": principal.language},
            client_addr=client_addr,
        )


def account_language(conn: psycopg.Connection, username: str) -> str | None:
    """The language an account chose (None: it has not, and reads the county's)."""
    account = repo.account_by_username(conn, username.strip().lower())
    return account.principal.language if account else None
