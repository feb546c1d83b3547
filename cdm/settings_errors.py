"""Why settings cannot be used, said to the person starting a process: one line per CDM_ variable, in
CDM_LANGUAGE as the environment gives it (cdm.settings.load_settings raises what `explained` makes)."""

from __future__ import annotations

import os
import re

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from cdm.i18n import LANGUAGES, Refusal, t


class SettingsError(Exception):
    """Settings that cannot be used, explained one line per variable."""


# pydantic's own checks that have a text of ours (cdm/messages/settings.toml); any other keeps pydantic's words
_WORDED = {"missing", "int_parsing", "float_parsing", "bool_parsing", "time_parsing", "literal_error",
           "greater_than_equal", "greater_than", "less_than_equal", "less_than"}  # fmt: skip


def _problem(err: ErrorDetails, lang: str) -> str:
    """One variable's problem in `lang`: our refusal as it was raised, else pydantic's check in our words."""
    cause = (err.get("ctx") or {}).get("error")
    if isinstance(cause, Refusal):
        return cause.text(lang)
    if err["type"] in _WORDED:
        values = {k: str(v) for k, v in (err.get("ctx") or {}).items()}
        if "expected" in values:  # pydantic's "'2017', '2020' or '2025'", listed the reader's way
            values["expected"] = ("、" if lang == "zh" else ", ").join(re.findall(r"'([^']*)'", values["expected"]))
        return t(f"settings.{err['type']}", lang, **values)
    return t("settings.value", lang, detail=err["msg"].removeprefix("Value error, "))


def _language(overrides: dict[str, object]) -> str:
    """The language to refuse in: CDM_LANGUAGE as given (read before the settings are, as they failed), else zh."""
    given = str(overrides.get("language") or os.environ.get("CDM_LANGUAGE") or "").strip().lower()
    return given if given in LANGUAGES else "zh"


def explained(exc: ValidationError, overrides: dict[str, object]) -> SettingsError:
    """Every variable pydantic refused, each with what to change, under one heading, in the language to refuse in."""
    lang = _language(overrides)
    lines = []
    for err in exc.errors():
        problem = _problem(err, lang)
        field = ".".join(str(p) for p in err["loc"])
        lines.append(f"CDM_{field.upper()}: {problem}" if field else problem)
    return SettingsError("\n  ".join([t("settings.invalid", lang), *lines]))
