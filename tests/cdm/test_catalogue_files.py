"""The catalogue is data (cdm/messages/*.toml): a broken part stops the import, naming the file and the key, rather
than showing a reader a key or an empty text."""

from __future__ import annotations

from pathlib import Path

import pytest

from cdm.i18n import CATALOGUE, LANGUAGES, _load


def _part(folder: Path, name: str, text: str) -> None:
    (folder / name).write_text(text, encoding="utf-8")


def test_the_parts_form_one_catalogue_in_both_languages(tmp_path: Path) -> None:
    _part(tmp_path, "a.toml", '["x.one"]\nzh = "一"\nen = "One"\n')
    _part(tmp_path, "b.toml", '# a comment\n["x.two"]\nzh = "二 {n}"\nen = "Two {n}"\n')
    _part(tmp_path, "notes.md", "not a part")
    assert _load(tmp_path) == {"x.one": {"zh": "一", "en": "One"}, "x.two": {"zh": "二 {n}", "en": "Two {n}"}}


def test_a_key_in_two_parts_is_refused_with_both_named(tmp_path: Path) -> None:
    _part(tmp_path, "a.toml", '["x.one"]\nzh = "一"\nen = "One"\n')
    _part(tmp_path, "b.toml", '["x.one"]\nzh = "壹"\nen = "One"\n')
    with pytest.raises(RuntimeError, match=r"'x\.one' of b\.toml is already in the catalogue"):
        _load(tmp_path)


@pytest.mark.parametrize(
    "entry",
    ['zh = "一"\n', 'zh = "一"\nen = "One"\nfr = "Un"\n', 'zh = "一"\nen = 1\n'],
    ids=["english-missing", "a-third-language", "not-a-text"],
)
def test_an_entry_without_a_text_in_each_language_is_refused(tmp_path: Path, entry: str) -> None:
    _part(tmp_path, "a.toml", f'["x.one"]\n{entry}')
    with pytest.raises(RuntimeError, match=r"'x\.one' of a\.toml needs a text in each of"):
        _load(tmp_path)


def test_the_shipped_catalogue_is_read_from_its_parts() -> None:
    parts = sorted(p.stem for p in (Path(__file__).parents[2] / "cdm" / "messages").glob("*.toml"))
    assert {"core", "screens", "refusals", "registry"} <= set(parts)
    assert len(CATALOGUE) > 900
    assert all(set(texts) == set(LANGUAGES) for texts in CATALOGUE.values())
    assert CATALOGUE["colour.red"] == {"zh": "红", "en": "Red"}
