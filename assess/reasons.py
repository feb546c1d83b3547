"""Reasons in words, with their figures and targets: the one function every screen and message words them with.

The rules keep each reason as a code and its facts (assess.rules: Assessment.facts, stored as
assessment_current.reason_facts); this turns them into a sentence from the catalogue, e.g. "近14天均值 146/85 mmHg，
目标 <130/80（合并糖尿病）". A reason without facts (an assessment stored before they existed) reads as its plain text.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from cdm.i18n import CATALOGUE, t

CHINA = ZoneInfo("Asia/Shanghai")


def reason_text(code: str, facts: Mapping[str, Any] | None = None, *, lang: str = "zh", tz: tzinfo = CHINA) -> str:
    """One reason in words: with its figures when the facts are known."""
    if not facts:
        return t(f"reason.{code}", lang)
    values = dict(facts)
    if "since_days" in values and values["since_days"] is None:
        return t(f"reason.{code}.none", lang)
    if "at" in values:
        values["time"] = _local(values["at"], tz)
    if "why" in values:
        values["why"] = t(f"reason.why.{values['why']}", lang)
    if "mmol" in values:
        values["value"] = values["flag"] if values.get("mmol") is None else values["mmol"]
    key = f"reason.{code}.facts"
    if "sitting" in values:  # an urgent reading its sitting's mean did not confirm (复测未证实)
        values["sitting_sbp"], values["sitting_dbp"] = values["sitting"]
        key = f"reason.{code}.unconfirmed"
    if key not in CATALOGUE:
        return t(f"reason.{code}", lang)
    try:
        return t(key, lang, **values)
    except (KeyError, ValueError):  # facts of another shape (an older row): the plain text
        return t(f"reason.{code}", lang)


def reason_texts(
    codes: Iterable[str],
    facts: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    lang: str = "zh",
    tz: tzinfo = CHINA,
) -> list[str]:
    """Each reason of an assessment in words, in the order given."""
    facts = facts or {}
    return [reason_text(code, facts.get(code), lang=lang, tz=tz) for code in codes]


def joined(
    codes: Iterable[str] | None,
    facts: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    lang: str = "zh",
    tz: tzinfo = CHINA,
) -> str:
    """The reasons as one line, as the lists, the alert feed and the messages show them."""
    return "；".join(reason_texts(codes or (), facts, lang=lang, tz=tz))


def _local(at: str, tz: tzinfo) -> str:
    moment = datetime.fromisoformat(at).astimezone(tz)
    return f"{moment:%m-%d %H:%M}"
