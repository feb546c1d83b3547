"""The administration screen: accounts (add, disable, enable, reset password, role and scope, sign out everywhere),
meters (provision with credentials shown once, move to another village clinic, revoke) and notification contacts.
Administrators only; every action goes through dashboard.admin.service, which audits it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

import dash
import dash_ag_grid as dag
import psycopg
from dash import Input, Output, State, callback, ctx, dcc, html, no_update

from alerts.workflow.logic import CHANNELS, CONTACT_ROLES
from cdm.i18n import LANGUAGES, Refusal, t
from cdm.privacy import mask_phone
from dashboard.access import Principal, Role, current_principal
from dashboard.admin import actions, repo
from dashboard.admin import service as admin
from dashboard.admin.opening import refusal
from dashboard.grids import work_grid
from dashboard.language import page_title, request_language
from dashboard.runtime import current

log = logging.getLogger(__name__)

dash.register_page(__name__, path="/admin", name="admin", title=page_title("admin.title"))

STATUS = "admin-status"
ACCOUNTS, METERS, CONTACTS = "admin-accounts", "admin-meters", "admin-contacts"
# Form fields of each section, by id; buttons by id with the action they run.
ACCOUNT_FIELDS = ("admin-username", "admin-display-name", "admin-role", "admin-scope", "admin-password",
                  "admin-phone", "admin-language")  # fmt: skip
ACCOUNT_BUTTONS = ("admin-add", "admin-disable", "admin-enable", "admin-reset", "admin-set-role", "admin-set-phone",
                   "admin-set-language", "admin-sign-out")  # fmt: skip
METER_FIELDS = ("admin-kind", "admin-clinic", "admin-serial", "admin-imei", "admin-meter")
METER_BUTTONS = ("admin-provision", "admin-move", "admin-revoke")
CONTACT_FIELDS = ("admin-contact-role", "admin-channel", "admin-address", "admin-owner", "admin-contact-id")
CONTACT_BUTTONS = ("admin-add-contact", "admin-deactivate-contact")
MESSAGE = {ACCOUNTS: "admin-accounts-message", METERS: "admin-meters-message", CONTACTS: "admin-contacts-message"}
GRID_COLUMNS = {
    ACCOUNTS: ("username", "display_name", "role", "scope", "phone", "language", "state", "last_login"),
    METERS: ("uid", "kind", "clinic", "provisioned", "state"),
    CONTACTS: ("id", "for", "channel", "address"),
}


def _admin() -> Principal:
    return admin.require_admin(current_principal())


def _grid(grid_id: str, lang: str) -> dag.AgGrid:
    cols = [{"field": c, "headerName": t(f"admin.col.{c}", lang) if c != "id" else "#", "flex": 1, "minWidth": 80}
            for c in GRID_COLUMNS[grid_id]]  # fmt: skip
    return work_grid(grid_id, cols, lang, style={"width": "100%", "height": "260px"})


def _field(field_id: str, label: str, control: Any) -> html.Div:
    return html.Div(className="form-field", children=[html.Label(label, htmlFor=field_id), control])


def _input(field_id: str, key: str, lang: str, *, kind: str = "text") -> html.Div:
    return _field(field_id, t(key, lang), dcc.Input(id=field_id, type=kind, value="", autoComplete="off"))


def _choice(field_id: str, key: str, lang: str, options: list[tuple[str, str]]) -> html.Div:
    choices = [{"label": label, "value": value} for value, label in options]
    return _field(field_id, t(key, lang), dcc.Dropdown(id=field_id, options=choices, value=options[0][0],
                                                       clearable=False))  # fmt: skip


def _buttons(ids: tuple[str, ...], keys: tuple[str, ...], lang: str) -> html.Div:
    return html.Div(className="admin-buttons", children=[
        html.Button(t(key, lang), id=i, n_clicks=0, className="primary" if n == 0 else "") for n, (i, key) in
        enumerate(zip(ids, keys, strict=True))
    ])  # fmt: skip


def _section(grid_id: str, title: str, fields: list[html.Div], buttons: html.Div) -> html.Section:
    return html.Section(className="panel", children=[
        html.H2(title), _grid(grid_id, request_language()),
        html.Div(className="visit-form", children=fields), buttons,
        html.Div(id=MESSAGE[grid_id], className="form-message", role="status"),
    ])  # fmt: skip


def layout(**_query: str) -> html.Div:
    """Three sections, each a list and the actions on it; refused to anyone but an administrator."""
    lang = request_language()
    if refused := refusal(lang, "admin.forbidden", STATUS):
        return refused
    roles = [(str(r), t(f"admin.role.{r}", lang)) for r in (Role.TOWNSHIP, Role.TEAM, Role.COUNTY, Role.ADMIN)]
    accounts = [
        _input("admin-username", "admin.field.username", lang),
        _input("admin-display-name", "admin.field.display_name", lang),
        _choice("admin-role", "admin.field.role", lang, roles),
        _input("admin-scope", "admin.field.scope", lang),
        _input("admin-password", "admin.field.password", lang, kind="password"),
        _input("admin-phone", "admin.field.phone", lang, kind="tel"),
        _choice("admin-language", "admin.field.language", lang,
                [(code, t(f"admin.language.{code or 'county'}", lang)) for code in ("", *LANGUAGES)]),
    ]  # fmt: skip
    meters = [
        _choice("admin-kind", "admin.field.kind", lang, [("bp", t("quality.kind.bp", lang)),
                                                         ("glucose", t("quality.kind.glucose", lang))]),
        _input("admin-clinic", "admin.field.clinic", lang),
        _input("admin-serial", "admin.field.serial", lang),
        _input("admin-imei", "admin.field.imei", lang),
        _input("admin-meter", "admin.field.meter", lang),
    ]  # fmt: skip
    contacts = [
        _choice("admin-contact-role", "admin.field.contact_role", lang,
                [(r, t(f"admin.contact_role.{r}", lang)) for r in CONTACT_ROLES]),
        _choice("admin-channel", "admin.field.channel", lang, [(c, c) for c in CHANNELS]),
        _input("admin-address", "admin.field.address", lang),
        _input("admin-owner", "admin.field.region", lang),
        _input("admin-contact-id", "admin.field.contact", lang),
    ]  # fmt: skip
    account_keys = ("admin.do.add", "admin.do.disable", "admin.do.enable", "admin.do.reset", "admin.do.role",
                    "admin.do.phone", "admin.do.language", "admin.do.sign_out")  # fmt: skip
    return html.Div(
        className="screen work-screen",
        children=[
            html.Header(className="screen-header", children=[html.H1(t("admin.title", lang))]),
            html.Div(id=STATUS, className="stale-banner", role="alert"),
            _section(ACCOUNTS, t("admin.accounts", lang), accounts, _buttons(ACCOUNT_BUTTONS, account_keys, lang)),
            _section(METERS, t("admin.meters", lang), meters, _buttons(
                METER_BUTTONS, ("admin.do.provision", "admin.do.move", "admin.do.revoke"), lang)),
            _section(CONTACTS, t("admin.contacts", lang), contacts, _buttons(
                CONTACT_BUTTONS, ("admin.do.add_contact", "admin.do.deactivate_contact"), lang)),
        ],
    )  # fmt: skip


def _when(at: datetime | None) -> str:
    return at.astimezone(current().settings.tz).strftime("%Y-%m-%d %H:%M") if at else ""


def _rows(conn: psycopg.Connection, grid_id: str, lang: str) -> list[dict[str, Any]]:
    """A section's list in the catalogue's words (no secrets: the store keeps none in clear)."""
    if grid_id == ACCOUNTS:
        return [_account_row(a, lang) for a in repo.accounts(conn)]
    if grid_id == METERS:
        return [_meter_row(m, lang) for m in repo.meters(conn)]
    return [
        {
            "id": c["id"],
            "for": f"{c['owner']} · {t('admin.contact_role.' + c['role'], lang)}",
            "channel": c["channel"],
            "address": c["address"],
        }
        for c in repo.contacts(conn)
    ]


def _account_row(a: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "username": a["username"],
        "display_name": a["display_name"],
        "role": t(f"admin.role.{a['role']}", lang),
        "scope": a["scope"],
        "phone": mask_phone(a["phone"]) if a["phone"] else "",  # whether there is one, not the number
        "language": t(f"admin.language.{a['language'] or 'county'}", lang),
        "state": t("admin.state.disabled" if a["disabled"] else "admin.state.active", lang),
        "last_login": _when(a["last_login_at"]),
    }


def _meter_row(m: dict[str, Any], lang: str) -> dict[str, Any]:
    return {
        "uid": m["uid"],
        "kind": t(f"quality.kind.{m['kind']}", lang),
        "clinic": f"{m['clinic']} ({m['clinic_code']})",
        "provisioned": t("admin.yes" if m["provisioned"] else "admin.no", lang),
        "state": t("admin.state.revoked" if m["revoked"] else "admin.state.active", lang),
    }


def _run(grid_id: str, work: actions.Work) -> tuple[Any, ...]:
    """Run one action (or only list, when `work` is None-like); (message, its class, the section's rows)."""
    runtime = current()
    lang = request_language()
    try:
        principal = _admin()
        with runtime.pool.connection() as conn:
            message = work(conn, principal, lang)
            rows = _rows(conn, grid_id, lang)
    except PermissionError:
        return t("admin.forbidden", lang), "form-message error", no_update
    except Refusal as refused:  # the screen's own (admin.Refused) and the accounts' and registry's refusals
        return refused.text(lang), "form-message error", no_update
    except psycopg.Error as exc:
        log.warning("administration action not done: %s", type(exc).__name__)
        return t("screen.db_error", lang), "form-message error", no_update
    return message, "form-message ok" if message else "form-message", rows


def _section_callback(
    grid_id: str,
    buttons: tuple[str, ...],
    fields: tuple[str, ...],
    action: Callable[[str | None, dict[str, str]], actions.Work],
    *,
    cleared: str | None = None,
) -> None:
    """Register a section's callback: the button pressed runs its action on the fields' values (on opening, only
    the list is read); `cleared`, a field emptied after every action (a password typed is never left on screen)."""
    outputs = [Output(MESSAGE[grid_id], "children"), Output(MESSAGE[grid_id], "className"), Output(grid_id, "rowData")]
    if cleared:
        outputs.append(Output(cleared, "value"))

    @callback(*outputs, *[Input(b, "n_clicks") for b in buttons], *[State(f, "value") for f in fields])
    def run(*args: Any) -> tuple[Any, ...]:
        values = dict(zip(fields, (a or "" for a in args[len(buttons) :]), strict=True))
        result = _run(grid_id, action(ctx.triggered_id, values))
        return (*result, "") if cleared else result


_section_callback(ACCOUNTS, ACCOUNT_BUTTONS, ACCOUNT_FIELDS, actions.account, cleared="admin-password")
_section_callback(METERS, METER_BUTTONS, METER_FIELDS, actions.meter)
_section_callback(CONTACTS, CONTACT_BUTTONS, CONTACT_FIELDS, actions.contact)
