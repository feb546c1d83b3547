"""`cdm assess --file CASE.json [--file …]`: patients' assessments from files, without a database.

Each case is printed as one JSON line. A file may hold one case (an object) or several (a list of objects), and
`--file` may name a folder (its *.json files, in name order) or be given more than once. A malformed case gets
one line on stderr, in the settings' language (Chinese by default), naming the file, the case and the field; the
other cases are still assessed, and the exit code is then 2.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from assess.case import Case, CaseError, parse_case, read_case_file
from assess.case_assess import evaluate
from assess.rules import RuleSettings
from cdm.i18n import t
from cdm.settings import Settings
from cdm.thresholds import for_edition

EXIT_BAD_CASE = 2  # the same code as a wrong setting or a usage error: the input, not the system, is at fault


def assess_file(path: str | Path, *, settings: Settings) -> int:
    """Print the assessment of the case(s) in `path` (a file or a folder) as JSON lines; return the exit code."""
    return assess_files([path], settings=settings)


def assess_files(paths: list[str | Path], *, settings: Settings) -> int:
    """Print the assessment of every case in `paths`, one JSON line each; 0, or 2 when any case was malformed
    (reported on stderr, one line each, the others still assessed)."""
    lang, rules = settings.language, RuleSettings.from_settings(settings)
    cases = list(_cases(paths, lang))
    several = len(cases) > 1
    failed = 0
    for source, case in cases:
        if isinstance(case, CaseError):
            failed += 1
            typer.echo(t("assess.error", lang, detail=case), err=True)
            continue
        result = evaluate(case, rules=_rules_for(case, rules), lang=lang)
        typer.echo(json.dumps({"case": source, **result} if several else result, ensure_ascii=False))
    return EXIT_BAD_CASE if failed else 0


def _rules_for(case: Case, rules: RuleSettings) -> RuleSettings:
    """The county's rules, under the edition the case states when it states one."""
    if case.guideline_edition is None or case.guideline_edition == rules.thresholds.edition:
        return rules
    return replace(rules, thresholds=for_edition(case.guideline_edition))


def _cases(paths: list[str | Path], lang: str) -> Iterator[tuple[str, Case | CaseError]]:
    """(where, the case or why it cannot be read) for every case the paths hold, in order."""
    for path in paths:
        folder = Path(path)
        files = sorted(folder.glob("*.json")) if folder.is_dir() else [folder]
        if not files:
            empty = "文件夹中没有 .json 病例文件" if lang == "zh" else "no .json case files in the folder"
            yield str(path), CaseError(f"{path}: {empty}")
        for file in files:
            yield from _cases_in(file, lang)


def _cases_in(file: Path, lang: str) -> Iterator[tuple[str, Case | CaseError]]:
    try:
        raw = read_case_file(file, lang=lang)
    except CaseError as exc:
        yield str(file), exc
        return
    try:
        many = json.loads(raw)
    except ValueError:
        many = None  # not JSON: parse_case names the error
    if not isinstance(many, list):
        yield str(file), _parsed(raw, str(file), lang)
        return
    if not many:
        yield str(file), CaseError(f"{file}: " + ("病例列表为空" if lang == "zh" else "the list of cases is empty"))
    for i, item in enumerate(many):
        source = f"{file}[{i}]"
        yield source, _parsed(json.dumps(item, ensure_ascii=False), source, lang)


def _parsed(text: str | bytes, source: str, lang: str) -> Case | CaseError:
    """The case, or its error naming the file (and the case's place in a list) before the field."""
    try:
        return parse_case(text, source=source, lang=lang)
    except CaseError as exc:
        message = str(exc)
        return CaseError(
            message if message.startswith(source) else f"{source}{'：' if lang == 'zh' else ': '}{message}"
        )


def assess_command(
    ctx: typer.Context,
    file: Annotated[
        list[str],
        typer.Option("--file", help="a case (JSON: patient, readings, follow-ups), a list of cases, or a folder"),
    ],
) -> None:
    """Assess patients described in files, without a database; prints one JSON object per case."""
    raise typer.Exit(assess_files(list(file), settings=ctx.obj))
