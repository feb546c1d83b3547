"""The work screens' words (follow-up list, patient detail, data quality) come from the one catalogue, in Chinese
with English beside them; every code a screen turns into words has its text."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ingest
from cdm.domain import FollowUpClass
from cdm.i18n import CATALOGUE
from dashboard.grid_locale import ZH, locale_text

PREFIXES = ("followups.", "patient.", "quality.", "factor.", "screen.")
ALLOWED_WITHOUT_HAN = {"patient.history.change"}  # "{before} → {after}": the colour names are filled in


@pytest.mark.parametrize("key", sorted(k for k in CATALOGUE if k.startswith(PREFIXES)))
def test_every_work_screen_text_has_chinese_and_english(key: str) -> None:
    entry = CATALOGUE[key]
    assert entry["zh"].strip() and entry.get("en", "").strip()
    assert key in ALLOWED_WITHOUT_HAN or any("\u4e00" <= ch <= "\u9fff" for ch in entry["zh"])


def _refusal_codes() -> set[str]:
    """Every quarantine reason the ingest code can write (`Rejection("code", ...)` or `return "code", ...`)."""
    source = "".join(path.read_text() for path in Path(ingest.__file__).parent.glob("*.py"))
    return set(re.findall(r'Rejection\(\s*"(\w+)"', source)) | set(re.findall(r'return \(?\s*"(\w+)",', source))


def test_every_code_shown_has_its_words() -> None:
    reasons = _refusal_codes()
    assert {"invalid_json", "implausible_value", "measured_too_old"} <= reasons
    codes = [f"followup.class.{c.value}" for c in FollowUpClass] + [f"quarantine.{r}" for r in sorted(reasons)]
    codes += [f"quality.status.{s}" for s in ("online", "offline", "unknown")]
    codes += [f"quality.kind.{k}" for k in ("bp", "glucose")] + [f"screen.sex.{s}" for s in ("M", "F")]
    assert [c for c in codes if c not in CATALOGUE] == []


def test_the_grid_speaks_chinese_on_a_chinese_screen() -> None:
    assert locale_text("zh") is ZH and locale_text("en") == {}
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in v) for k, v in ZH.items() if k != "pageLastRowUnknown")
