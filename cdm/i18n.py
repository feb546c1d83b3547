"""The one message catalogue: every word a person reads on a screen or in a message, in Chinese and English.

Look texts up with `t(key, lang)`; the language is the CDM_LANGUAGE setting (Chinese by default), or on the screens
the one each person chose with the switch 中文 / English (`dashboard.language`). The texts are data, not code: one
TOML file a part in `cdm/messages/` (the screens, the registry, the refusals, …), each message a `["key"]` table with
its `zh` and `en` text, so a translator edits them without touching Python. The parts form the one catalogue: a key
may stand in only one, and each needs both texts (checked when this module is imported).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable

from cdm.thresholds import (
    MODEL_HORIZON_DAYS,
    PROGRAMME_BP_CONTROLLED_BELOW,
    PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL,
    PROGRAMME_RECENT_DAYS,
    PROGRAMME_VISITS_PER_YEAR,
    PROGRAMME_YEAR_DAYS,
    ROUTINE_FOLLOW_UP_DAYS,
    SHORT_FOLLOW_UP_DAYS,
    Thresholds,
)

LANGUAGES = ("zh", "en")  # the catalogue's languages; Chinese is the fallback


def _load(folder: Traversable) -> dict[str, dict[str, str]]:
    """The catalogue's parts (`cdm/messages/*.toml`, a table a key with its `zh` and `en` texts) as one mapping;
    a key in two parts, or an entry without both texts, stops the import with the file and key named."""
    merged: dict[str, dict[str, str]] = {}
    for part in sorted((f for f in folder.iterdir() if f.name.endswith(".toml")), key=lambda f: f.name):
        entries = tomllib.loads(part.read_text(encoding="utf-8"))
        for key, entry in entries.items():
            if key in merged:
                raise RuntimeError(f"message key {key!r} of {part.name} is already in the catalogue")
            if (
                not isinstance(entry, dict)
                or set(entry) != set(LANGUAGES)
                or not all(isinstance(text, str) for text in entry.values())
            ):
                raise RuntimeError(f"message {key!r} of {part.name} needs a text in each of {LANGUAGES}")
            merged[key] = entry
    return merged


# The numbers texts may name: every threshold that is the same in all editions, and the programme's definitions.
THRESHOLD_VALUES: dict[str, object] = {
    **{name: value for name, value in vars(Thresholds).items() if isinstance(value, int | float) and name[0] != "_"},
    "programme_sbp": PROGRAMME_BP_CONTROLLED_BELOW.systolic,
    "programme_dbp": PROGRAMME_BP_CONTROLLED_BELOW.diastolic,
    "programme_fasting": PROGRAMME_FASTING_CONTROLLED_BELOW_MMOL,
    "programme_days": PROGRAMME_RECENT_DAYS,
    "programme_year_days": PROGRAMME_YEAR_DAYS,
    "programme_visits": PROGRAMME_VISITS_PER_YEAR,
    "routine_follow_up_days": ROUTINE_FOLLOW_UP_DAYS,
    "short_follow_up_days": SHORT_FOLLOW_UP_DAYS,
    "model_horizon_days": MODEL_HORIZON_DAYS,
}

CATALOGUE: dict[str, dict[str, str]] = _load(files("cdm") / "messages")


def t(key: str, lang: str = "zh", **values: object) -> str:
    """The text for `key` in `lang` (falling back to Chinese, then to the key itself), with values filled in; the
    clinical numbers (`{bp_critical_systolic}`, `{programme_days}` …) come from cdm.thresholds unless given."""
    entry = CATALOGUE.get(key)
    text = key if entry is None else entry.get(lang) or entry["zh"]
    if "{" not in text:
        return text
    if values:
        return text.format_map({**THRESHOLD_VALUES, **values})
    try:
        return text.format_map(THRESHOLD_VALUES)
    except (KeyError, ValueError, IndexError):  # a text whose own values the caller did not give: as it stands
        return text


@dataclass(frozen=True, slots=True)
class Term:
    """A value of a message that is itself a catalogue word (a status, a colour): worded in the reader's language."""

    key: str

    def text(self, lang: str) -> str:
        return t(self.key, lang)


@dataclass(frozen=True, slots=True)
class Terms:
    """A value of a message made of several catalogue words, each with the same values, joined (a password's
    problems: 密码长度不足；密码过于常见)."""

    keys: tuple[str, ...]
    values: tuple[tuple[str, object], ...] = ()
    sep: str = "；"

    def text(self, lang: str) -> str:
        return self.sep.join(t(key, lang, **dict(self.values)) for key in self.keys)


class Refusal(ValueError):
    """A request refused for a reason the person can act on, as a catalogue key and its values: each reader gets it
    in their language (`text`); `str()` is the Chinese, for a log or a caller that does not know the language. A
    value may itself be a catalogue word (`Term`, `Terms`) or another refusal (the reason behind this one)."""

    def __init__(self, key: str, **values: object) -> None:
        self.key = key
        self.values = values
        super().__init__(self.text("zh"))

    def text(self, lang: str) -> str:
        worded = {k: v.text(lang) if isinstance(v, Term | Terms | Refusal) else v for k, v in self.values.items()}
        return t(self.key, lang, **worded)
