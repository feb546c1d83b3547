"""Reading a county's files as streams of rows: `.csv` in UTF-8 (with or without BOM), GB18030 or UTF-16, as a
Chinese Excel saves them, and `.xlsx`. Rows are read one at a time, never the whole file, so a file of any size
fits in memory; each row comes with its spreadsheet row number (the header is row 1)."""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from registry.importing.columns import COLUMNS, KINDS, header_map, kind_of, normalise_header

EXTENSIONS = (".csv", ".xlsx")
SNIFF_BYTES = 256 * 1024  # enough to hold the header row and a few thousand rows of Chinese text
HEADER_SEARCH_ROWS = 10  # a clerk's export may carry a title row or two above the header
BAD_CHARACTER = "\ufffd"


@dataclass(frozen=True, slots=True)
class Source:
    """A file of the directory and the kind it holds."""

    kind: str
    path: Path


@dataclass
class Table:
    """An open file: its header (field -> template header), the required columns it lacks, and its rows."""

    source: Source
    headers: dict[str, str]
    missing: list[str]
    unknown: list[str]
    rows: Iterator[tuple[int, dict[str, object]]] = field(repr=False)


def discover(directory: Path) -> tuple[dict[str, Source], dict[str, list[str]]]:
    """The files of `directory` by kind; and kinds found more than once (file names), which are not imported."""
    found: dict[str, list[Path]] = {}
    for path in sorted(directory.iterdir()):
        if path.is_file() and path.suffix.lower() in EXTENSIONS and not path.name.startswith(("~$", ".")):
            kind = kind_of(path.stem)
            if kind:
                found.setdefault(kind, []).append(path)
    chosen = {kind: Source(kind, paths[0]) for kind, paths in found.items() if len(paths) == 1}
    doubles = {kind: [p.name for p in paths] for kind, paths in found.items() if len(paths) > 1}
    return {k: chosen[k] for k in KINDS if k in chosen}, doubles


def csv_encoding(path: Path) -> str:
    """The encoding a CSV file was saved in: a BOM decides; otherwise UTF-8 if its start decodes, else GB18030."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)  # a character cut at the end is fine
    except UnicodeDecodeError:
        return "gb18030"
    return "utf-8"


@contextmanager
def open_table(source: Source) -> Iterator[Table]:
    """The file's header and a lazy iterator over its non-empty data rows."""
    if source.path.suffix.lower() == ".xlsx":
        with _xlsx_rows(source.path) as raw:
            yield _table(source, raw)
    else:
        with source.path.open(encoding=csv_encoding(source.path), errors="replace", newline="") as f:
            rows: Iterator[list[object]] = iter(csv.reader(f))  # type: ignore[arg-type]  # lists of str
            yield _table(source, enumerate(rows, start=1))


@contextmanager
def _xlsx_rows(path: Path) -> Iterator[Iterator[tuple[int, list[object]]]]:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        yield ((i, list(values)) for i, values in enumerate(sheet.iter_rows(values_only=True), start=1))
    finally:
        book.close()


def _blank(values: list[object]) -> bool:
    return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)


def _table(source: Source, raw: Iterator[tuple[int, list[object]]]) -> Table:
    known = header_map(source.kind)
    header: list[object] = []
    for number, values in raw:
        if _blank(values):
            continue
        matched = sum(normalise_header(v) in known for v in values)
        if matched >= 2 or number >= HEADER_SEARCH_ROWS:
            header = values
            break
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for index, value in enumerate(header):
        column = known.get(normalise_header(value))
        if column is not None:
            positions.setdefault(column.field, index)
        elif str(value or "").strip():
            unknown.append(str(value).strip())
    headers = {c.field: c.name for c in COLUMNS[source.kind]}
    missing = [c.name for c in COLUMNS[source.kind] if c.required and c.field not in positions]
    return Table(source, headers, missing, unknown, _rows(raw, positions))


def _rows(
    raw: Iterator[tuple[int, list[object]]], positions: dict[str, int]
) -> Iterator[tuple[int, dict[str, object]]]:
    for number, values in raw:
        if _blank(values):
            continue
        width = len(values)
        yield number, {name: values[i] if i < width else None for name, i in positions.items()}


def has_bad_characters(row: dict[str, object]) -> bool:
    """Whether a cell holds bytes that were not text in the file's encoding."""
    return any(isinstance(v, str) and BAD_CHARACTER in v for v in row.values())
