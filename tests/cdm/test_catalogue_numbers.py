"""Every clinical number a message shows comes from cdm.thresholds: the catalogue's texts take them as parameters,
so a changed threshold (or guideline edition) changes every sentence that states it, and no text contradicts it."""

from __future__ import annotations

import re

from cdm.i18n import CATALOGUE, t
from cdm.thresholds import (
    PROGRAMME_BP_CONTROLLED_BELOW,
    PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL,
    PROGRAMME_VISITS_PER_YEAR,
    ROUTINE_FOLLOW_UP_DAYS,
    SHORT_FOLLOW_UP_DAYS,
)

# A number typed into a text where a clinical figure goes: a BP pair, a glucose or BP value with its unit, a
# comparison (≥180, <7.0), or one of the follow-up and programme periods in days.
TYPED = re.compile(
    r"(?<![\d{])\d{2,3}/\d{2,3}(?![\d}])"
    r"|\d+(\.\d+)? ?(mmol|mmHg)"
    r"|[≥≤<>] ?\d"
    r"|(?<![\d.])(14|90|365) ?(天|days?|-day)"
)
# Numbers that are names, not thresholds.
NAMED = {
    "factor.bp_14d": "the risk model's feature windows (assess.risk.features: sbp_mean_14d …)",
    "factor.bp_90d": "the risk model's feature windows",
    "factor.fasting": "the risk model's feature windows",
    "factor.nonfasting": "the risk model's feature windows",
    "mix.title": "the period the county's colour-mix chart draws",
    "indicator.none_short.year": "'< 1 year', a period in words",
}


def test_no_clinical_number_is_typed_into_a_message() -> None:
    typed = {
        f"{key} ({lang}): {found.group(0)!r}"
        for key, texts in CATALOGUE.items()
        if key not in NAMED
        for lang, text in texts.items()
        if (found := TYPED.search(re.sub(r"\{[^}]*\}", "", text)))
    }
    assert not typed, f"take these from cdm.thresholds as parameters: {sorted(typed)}"


def test_the_numbers_in_messages_follow_the_thresholds() -> None:
    bp = PROGRAMME_BP_CONTROLLED_BELOW
    assert f"< {bp.systolic}/{bp.diastolic} mmHg" in t("indicator.def.bp_control", "zh")
    assert f"< {PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL} mmol/L" in t("indicator.def.glucose_control", "zh")
    assert f"at least {PROGRAMME_VISITS_PER_YEAR} distinct days" in t("indicator.def.standard_management", "en")
    hint = t("visit.next_due_hint", "zh")
    assert f"控制满意{ROUTINE_FOLLOW_UP_DAYS}天" in hint and f"其他{SHORT_FOLLOW_UP_DAYS}天" in hint
    # A county that set other figures would read them in the same sentence.
    assert "< 135/85 mmHg" in t("indicator.def.bp_control", "zh", programme_sbp=135, programme_dbp=85)
    assert "控制满意60天" in t("visit.next_due_hint", "zh", routine_follow_up_days=60)
