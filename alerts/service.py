"""The one "assess and alert" step: re-assess patients, then raise, update or settle their alerts and outbox rows.

Every path that can change a patient's colour goes through `assess_and_alert` inside its own transaction: an
ingest batch, a reading matched to its patient later, a follow-up visit. The nightly rescore assesses everyone in
bulk (assess.service.rescore_all, for speed) and hands each chunk's changes to `alert_changes`, the second half of
the same step. It lives with the alert stage because what it adds to an assessment is alerts: the assessment
stage stays free of them, and reads of the store stay in the stages' repo modules.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import psycopg

from alerts import repo
from alerts.decide import RECIPIENTS, decide
from alerts.message import notification_body
from alerts.workflow.service import close, fold_repeats
from assess.rules import RuleSettings
from assess.service import SITTING_HORIZON as HORIZON
from assess.service import rescore, sitting_verdicts
from cdm.domain import Assessment, Change, Colour
from cdm.i18n import t
from cdm.settings import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AlertContext:
    """How assessments become alerts in this county: the rules, the messages' language, each centre's channel."""

    rules: RuleSettings
    lang: str = "zh"
    routes: Mapping[str, str] = field(default_factory=dict)  # centre -> channel (webhook by default)

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertContext:
        """The county's rules, language and notification routes."""
        return cls(RuleSettings.from_settings(settings), settings.language, settings.notification_routes)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one assess-and-alert step did."""

    changes: list[Change]
    alerts: list[int]  # ids of the alerts it opened
    sittings: dict[int, bool]  # alert id -> whether its sitting confirmed it, for the sittings it settled


def assess_and_alert(
    conn: psycopg.Connection,
    *,
    patient_ids: Iterable[int],
    fresh: Collection[int],
    now: datetime,
    ctx: AlertContext,
    urgent: Mapping[int, Sequence[str]] | None = None,
) -> Outcome:
    """Re-assess `patient_ids` as of `now` in the caller's transaction; alert those of `fresh` who turned red.

    `fresh` names the patients whose new data may alert (a meter's replayed buffer is history: it re-assesses but
    stays silent). `urgent` maps patients to the fresh urgent readings of this step ("meter:seq"): they are counted
    on the patient's open alert, and a patient already red without an alert (a replay turned them red) gets one.
    """
    ids = set(patient_ids)
    urgent = urgent or {}
    changes = rescore(conn, patient_ids=ids, now=now, rules=ctx.rules)
    changed = {c.patient_id for c in changes}
    alerting = [c for c in changes if c.patient_id in fresh] + _silent_reds(conn, urgent.keys() - changed)
    alert_ids = alert_changes(conn, alerting, now=now, ctx=ctx)
    fold_repeats(conn, {pid: list(keys) for pid, keys in urgent.items()}, now=now, new_alerts=alert_ids)
    settled = settle_sittings(conn, patient_ids=ids, now=now, rules=ctx.rules, ctx=ctx)
    return Outcome(changes, alert_ids, settled)


def alert_changes(
    conn: psycopg.Connection, changes: Sequence[Change], *, now: datetime, ctx: AlertContext
) -> list[int]:
    """For each patient who turned red: one alert and one notification per centre. Returns the new alert ids."""
    decided = [(c, d) for c in changes if (d := decide(previous=c.previous, current=c.assessment))]
    if not decided:
        return []
    places = repo.patient_places(conn, [c.patient_id for c, _ in decided])
    alert_ids = []
    for change, decision in decided:
        place = places[change.patient_id]
        alert_id = repo.insert_alert(conn, change=change, decision=decision, township_id=place["township_id"], now=now)
        if alert_id is None:
            continue  # an open alert of this kind already stands for the patient
        alert_ids.append(alert_id)
        reasons = list(change.assessment.reasons)
        repo.add_event(conn, alert_id=alert_id, actor="system", event="opened", at=now, detail={"reasons": reasons})
        alert = {
            "id": alert_id,
            "kind": decision.kind,
            "severity": decision.severity,
            "reasons": reasons,
            "evidence": list(change.assessment.evidence),
            "reason_facts": change.assessment.facts,
            "opened_at": now,
            "patient_id": change.patient_id,
        }
        for recipient in RECIPIENTS:
            repo.add_notification(
                conn,
                alert_id=alert_id,
                recipient=recipient,
                region_id=place["township_id"] if recipient == "township" else place["county_id"],
                channel=ctx.routes.get(recipient, "webhook"),
                body=notification_body(alert=alert, recipient=recipient, place=place, lang=ctx.lang),
            )
    if alert_ids:
        repo.wake_dispatcher(conn, alert_ids)
    return alert_ids


def settle_sittings(
    conn: psycopg.Connection,
    *,
    patient_ids: Iterable[int],
    now: datetime,
    rules: RuleSettings,
    ctx: AlertContext | None = None,
) -> dict[int, bool]:
    """Record the verdict of every pending critical-BP alert whose sitting is complete; {alert id: confirmed}.

    Pending are the alerts of `patient_ids` (their new readings may grow or close a sitting), those not looked at
    yet, and those whose sitting time alone has closed (`alert.sitting_open_until`). So every batch settles what
    time has closed, and a one-minute job covers a county whose meters have gone quiet. A reading replayed after
    its sitting was settled does not reopen the verdict; the assessment computes the verdicts, this stage keeps them.
    """
    pending = repo.pending_sittings(conn, patient_ids=sorted(set(patient_ids)), since=now - HORIZON, now=now)
    if not pending:
        return {}
    answers = sitting_verdicts(conn, pending, now=now, rules=rules)
    repo.set_sittings(conn, answers)
    unconfirmed = [alert_id for alert_id, confirmed in answers.confirmed.items() if not confirmed]
    lower_unconfirmed(conn, unconfirmed, now=now, ctx=ctx or AlertContext(rules), means=answers.means)
    if answers.confirmed:
        confirmed = sum(answers.confirmed.values())
        log.info("settled the sittings of %s alerts (%s confirmed)", len(answers.confirmed), confirmed)
    return answers.confirmed


def lower_unconfirmed(
    conn: psycopg.Connection,
    alert_ids: Sequence[int],
    *,
    now: datetime,
    ctx: AlertContext,
    means: Mapping[int, tuple[int, int]] | None = None,
) -> None:
    """复测未证实 (clinical-reference §3): the alert raised at once stays on record, lowered to 'warning'; both centres
    hear of it through the outbox in this transaction; it closes by itself unless someone already acknowledged it
    (then it stays for them to close)."""
    lowered = repo.lower_unconfirmed(conn, alert_ids, means=means)
    if not lowered:
        return
    places = repo.patient_places(conn, [a["patient_id"] for a in lowered])
    for alert in lowered:
        place = places[alert["patient_id"]]
        status = alert["status"]
        repo.add_event(
            conn, alert_id=alert["id"], actor="system", event="sitting_unconfirmed", at=now, detail={"status": status}
        )
        if status == "open":
            outcome = t("alert.sitting_unconfirmed.outcome", ctx.lang)
            close(conn, alert_id=alert["id"], actor="system", outcome=outcome, now=now)
        title = t(
            "alert.sitting_unconfirmed.title",
            ctx.lang,
            township=place["township"],
            village=place["village"],
            patient=place["card"],
        )
        for recipient in RECIPIENTS:
            body = notification_body(alert=alert, recipient=recipient, place=place, lang=ctx.lang)
            body |= {"title": title, "purpose": "sitting_unconfirmed", "sitting_confirmed": False}
            repo.add_notification(
                conn,
                alert_id=alert["id"],
                recipient=recipient,
                region_id=place["township_id"] if recipient == "township" else place["county_id"],
                channel=ctx.routes.get(recipient, "webhook"),
                body=body,
                purpose="sitting_unconfirmed",
            )
    repo.wake_dispatcher(conn, [a["id"] for a in lowered])
    # The colour follows the sitting's mean from now on (assess.summary.logic.unconfirmed), not at the next reading.
    rescore(conn, patient_ids={a["patient_id"] for a in lowered}, now=now, rules=ctx.rules)
    log.info("lowered %s alerts not confirmed by their sitting", len(lowered))


def _silent_reds(conn: psycopg.Connection, patient_ids: Iterable[int]) -> list[Change]:
    """Patients already red without an alert (stale data turned them red) who now sent a fresh urgent reading."""
    return [
        Change(pid, None, Assessment(Colour.RED, tuple(reasons), priority, tuple(evidence), facts=facts))
        for pid, (reasons, priority, evidence, facts) in repo.silent_reds(conn, patient_ids).items()
    ]
