"""What each button of the administration screen does, once the form's values are known: the service call on
behalf of the signed-in administrator, and the message saying what was done (dashboard/pages/admin.py shows it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from cdm.i18n import t
from dashboard.access import Principal, Role
from dashboard.admin import service as admin
from dashboard.runtime import current

# An action's work: (connection, administrator, language) -> the message saying what was done ("" for nothing).
Work = Callable[[psycopg.Connection, Principal, str], str]


def _now() -> datetime:
    return datetime.now(UTC)


def account(button: str | None, values: dict[str, str]) -> Work:
    name, role, scope, password = values["admin-username"], values["admin-role"], values["admin-scope"], values[
        "admin-password"]  # fmt: skip
    minimum = current().settings.password_min_length

    def work(conn: psycopg.Connection, by: Principal, lang: str) -> str:
        if button == "admin-add":
            uri = admin.add_account(
                conn,
                by=by,
                username=name,
                display_name=values["admin-display-name"],
                role=Role(role),
                scope_code=scope,
                password=password,
                min_length=minimum,
                phone=values["admin-phone"],
            )
            done = t("admin.done.added", lang, username=name.strip().lower())
            return done + ("。" + t("admin.done.totp", lang, uri=uri) if uri else "")
        if button in ("admin-disable", "admin-enable"):
            ended = admin.set_disabled(conn, by=by, username=name, disabled=button == "admin-disable", now=_now())
            key = "admin.done.disabled" if button == "admin-disable" else "admin.done.enabled"
            return t(key, lang, username=name.strip().lower(), sessions=ended)
        if button == "admin-reset":
            ended = admin.reset_password(conn, by=by, username=name, password=password, min_length=minimum, now=_now())
            return t("admin.done.reset", lang, username=name.strip().lower(), sessions=ended)
        if button == "admin-set-role":
            ended, uri = admin.set_role(conn, by=by, username=name, role=Role(role), scope_code=scope, now=_now())
            done = t(
                "admin.done.role",
                lang,
                username=name.strip().lower(),
                role=t(f"admin.role.{role}", lang),
                sessions=ended,
            )
            return done + ("。" + t("admin.done.totp", lang, uri=uri) if uri else "")
        if button == "admin-set-phone":
            has = admin.set_phone(conn, by=by, username=name, phone=values["admin-phone"])
            return t("admin.done.phone" if has else "admin.done.phone_removed", lang, username=name.strip().lower())
        if button == "admin-set-language":
            chosen = values["admin-language"]
            admin.set_language(conn, by=by, username=name, language=chosen)
            language = t(f"admin.language.{chosen or 'county'}", lang)
            return t("admin.done.language", lang, username=name.strip().lower(), language=language)
        if button == "admin-sign-out":
            ended = admin.sign_out(conn, by=by, username=name, now=_now())
            return t("admin.done.sign_out", lang, username=name.strip().lower(), sessions=ended)
        return ""

    return work  # fmt: skip


def meter(button: str | None, values: dict[str, str]) -> Work:
    def work(conn: psycopg.Connection, by: Principal, lang: str) -> str:
        if button == "admin-provision":
            creds = admin.provision(
                conn,
                by=by,
                kind=values["admin-kind"],
                clinic_code=values["admin-clinic"],
                serial=values["admin-serial"],
                imei=values["admin-imei"],
                now=_now(),
            )
            return t("admin.done.provisioned", lang, **creds)  # shown once: nothing keeps it after this response
        if button == "admin-move":
            clinic = admin.move(conn, by=by, uid=values["admin-meter"], clinic_code=values["admin-clinic"], now=_now())
            return t("admin.done.moved", lang, uid=values["admin-meter"].strip(), clinic=clinic)
        if button == "admin-revoke":
            admin.revoke(conn, by=by, uid=values["admin-meter"], now=_now())
            return t("admin.done.revoked", lang, uid=values["admin-meter"].strip())
        return ""

    return work  # fmt: skip


def contact(button: str | None, values: dict[str, str]) -> Work:
    def work(conn: psycopg.Connection, by: Principal, lang: str) -> str:
        if button == "admin-add-contact":
            admin.add_contact(
                conn,
                by=by,
                role=values["admin-contact-role"],
                channel=values["admin-channel"],
                address=values["admin-address"],
                code=values["admin-owner"],
            )
            return t("admin.done.contact_added", lang)
        if button == "admin-deactivate-contact":
            raw = values["admin-contact-id"].strip()
            if not raw.isdigit():
                raise admin.Refused("admin.refused.unknown_contact", {"id": raw})
            admin.deactivate_contact(conn, by=by, contact_id=int(raw))
            return t("admin.done.contact_deactivated", lang, id=raw)
        return ""

    return work  # fmt: skip
