"""The words of the language switch (中文 / English) on every screen and on the log-in page, in Chinese and English.
Part of the one catalogue, `cdm.i18n`. Each language is named in itself, so a person who cannot read the screen's
language still finds their own."""

from __future__ import annotations

LANGUAGE: dict[str, dict[str, str]] = {
    "language.switch": {"zh": "界面语言", "en": "Language"},
    "language.zh": {"zh": "中文", "en": "中文"},
    "language.en": {"zh": "English", "en": "English"},
    "language.unknown": {
        "zh": "不支持该语言：请选择中文或English",
        "en": "Not a language of these screens: choose 中文 or English",
    },
}
