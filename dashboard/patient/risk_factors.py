"""The risk model's main factors for one patient, for the patient detail screen.

The store keeps the model's probability, not why (assess.risk.service). The factors are worked out when the page
opens: the patient's features as the nightly scoring builds them, then, one group of features at a time, the
probability again as if that group had not been measured; the groups whose absence lowers the probability most are
the ones pushing it up. An occlusion estimate, not a causal one: the screen says "raises it by about".
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from assess.risk.features import build_features
from assess.risk.saved import LoadedModel, load_latest, predict_many
from cdm.domain import FollowUp, FollowUpClass, GlucoseContext, Reading, ReadingKind
from cdm.i18n import t
from cdm.settings import Settings
from dashboard.language import request_language
from dashboard.patient.repo import PatientDetail, profile_of

log = logging.getLogger(__name__)

TOP = 3
MIN_EFFECT = 0.01  # a group moving the probability by less than a percentage point is not a "main" factor
NAN = math.nan

Describe = Callable[[Mapping[str, float], str], str]


def _num(value: float, fmt: str = ".0f") -> str:
    return "—" if math.isnan(value) else format(value, fmt)


# (group, features, value when "not measured", how the patient's own values read)
GROUPS: tuple[tuple[str, tuple[str, ...], dict[str, float], Describe], ...] = (
    (
        "bp_14d",
        ("sbp_mean_14d", "sbp_sd_14d", "dbp_mean_14d", "dbp_sd_14d", "missing_bp_14d"),
        {"missing_bp_14d": 1.0},
        lambda f, lang: t("factor.bp_14d", lang, sbp=_num(f["sbp_mean_14d"]), dbp=_num(f["dbp_mean_14d"])),
    ),
    (
        "bp_90d",
        ("sbp_mean_90d", "sbp_sd_90d", "dbp_mean_90d", "dbp_sd_90d", "sbp_max_90d", "missing_bp_90d"),
        {"missing_bp_90d": 1.0},
        lambda f, lang: t("factor.bp_90d", lang, sbp=_num(f["sbp_mean_90d"]), top=_num(f["sbp_max_90d"])),
    ),
    (
        "bp_trend",
        ("sbp_slope_90d",),
        {},
        lambda f, lang: t("factor.bp_trend", lang, slope=_num(f["sbp_slope_90d"], "+.1f")),
    ),
    (
        "fasting",
        ("fasting_mean_14d", "fasting_mean_90d", "missing_fasting_90d"),
        {"missing_fasting_90d": 1.0},
        lambda f, lang: t("factor.fasting", lang, mean=_num(f["fasting_mean_90d"], ".1f")),
    ),
    (
        "nonfasting",
        ("nonfasting_mean_14d", "nonfasting_mean_90d", "missing_nonfasting_90d"),
        {"missing_nonfasting_90d": 1.0},
        lambda f, lang: t("factor.nonfasting", lang, mean=_num(f["nonfasting_mean_90d"], ".1f")),
    ),
    (
        "monitoring",
        ("readings_per_30d", "days_since_reading", "missing_reading"),
        {"missing_reading": 1.0},
        lambda f, lang: t(
            "factor.monitoring", lang, n=_num(f["readings_per_30d"], ".1f"), days=_num(f["days_since_reading"])
        ),
    ),
    (
        "follow_up",
        (
            "days_since_follow_up",
            "last_fu_controlled",
            "last_fu_uncontrolled",
            "last_fu_adverse_reaction",
            "last_fu_complication",
            "missing_follow_up",
        ),
        {
            "missing_follow_up": 1.0,
            "last_fu_controlled": 0.0,
            "last_fu_uncontrolled": 0.0,
            "last_fu_adverse_reaction": 0.0,
            "last_fu_complication": 0.0,
        },
        lambda f, lang: t("factor.follow_up", lang, days=_num(f["days_since_follow_up"])),
    ),
    (
        "ascvd",
        ("ascvd_10y_percent", "missing_ascvd"),
        {"missing_ascvd": 1.0},
        lambda f, lang: t("factor.ascvd", lang, percent=_num(f["ascvd_10y_percent"], ".1f")),
    ),
)


@lru_cache(maxsize=4)
def _model(directory: str, stamp: float) -> LoadedModel | None:
    """The latest model in `directory`, loaded once per version of its card (`stamp`: the card's mtime)."""
    return load_latest(Path(directory))


def latest_model(settings: Settings) -> LoadedModel | None:
    """The model the nightly scoring uses (settings.data_dir/models); None when none was trained."""
    directory = settings.data_dir / "models"
    card = directory / "model-card.json"
    try:
        stamp = card.stat().st_mtime
    except OSError:
        return None
    return _model(str(directory), stamp)


def _readings(rows: list[dict[str, Any]]) -> list[Reading]:
    return [
        Reading(
            device_uid=r["device_uid"] or "",
            seq=r["seq"],
            kind=ReadingKind(r["kind"]),
            measured_at=r["measured_at"],
            received_at=r["measured_at"],
            systolic=r["systolic"],
            diastolic=r["diastolic"],
            pulse=r["pulse"],
            glucose_mmol=r["glucose_mmol"],
            glucose_flag=r["glucose_flag"],
            glucose_context=GlucoseContext(r["glucose_context"]) if r["glucose_context"] else None,
        )
        for r in rows
    ]


def contributions(model: LoadedModel, features: Mapping[str, float]) -> list[tuple[str, float]]:
    """(group, how much the probability drops without it) for every group, largest first."""
    variants = [dict(features)]
    for _, names, unknown, _ in GROUPS:
        variants.append({**features, **{n: unknown.get(n, NAN) for n in names}})
    p = predict_many(model, variants)
    effects = [(group, float(p[0] - p[i + 1])) for i, (group, *_rest) in enumerate(GROUPS)]
    return sorted(effects, key=lambda e: -e[1])


def main_factors(detail: PatientDetail, *, settings: Settings, now: datetime | None = None) -> list[str] | None:
    """The factors raising this patient's probability most, as sentences; None when no model is available."""
    model = latest_model(settings)
    if model is None:
        return None
    h, lang = detail.header, request_language(settings)
    now = now or datetime.now(UTC)
    profile = profile_of(detail)
    visits = [
        FollowUp(f["done_on"], FollowUpClass(f["class"]), f["recorded_at"], f["next_due"]) for f in detail.follow_ups
    ]
    ascvd = h["scored_ascvd"] if h["scored_at"] else h["ascvd_10y_percent"]
    features = build_features(
        profile=profile, readings=_readings(detail.readings), follow_ups=visits, as_of=now, ascvd_percent=ascvd
    )
    described = {group: describe for group, _, _, describe in GROUPS}
    out = []
    for group, effect in contributions(model, features)[:TOP]:
        if effect < MIN_EFFECT:
            break
        out.append(t("factor.line", lang, what=described[group](features, lang), points=f"{effect * 100:.0f}"))
    return out or [t("factor.none", lang)]
