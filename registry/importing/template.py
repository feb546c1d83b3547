"""`cdm registry template`: the template files a county fills in (Chinese headers, one sample row each, as CSV
that Excel opens) and a README naming every column, its format, what is required and what each refusal means.
The sample rows import cleanly together."""

from __future__ import annotations

import csv
import re
from pathlib import Path

from cdm.i18n import CATALOGUE, t
from cdm.identity import check_character
from registry.importing.columns import COLUMNS, KINDS

_SAMPLE_ID = "33010219600315123"
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")  # the values a reason names, shown as … in the README
SAMPLES: dict[str, dict[str, str]] = {
    "townships": {"code": "330102001", "name": "城关镇"},
    "villages": {"code": "330102001001", "name": "东村卫生室", "township": "330102001"},
    "teams": {"code": "T330102001-01", "name": "城关镇家庭医生一队", "township": "330102001"},
    "patients": {
        "record_no": "33010200100100001",
        "name": "张三",
        "sex": "男",
        "birth_date": "1960-03-15",
        "id_number": _SAMPLE_ID + check_character(_SAMPLE_ID),
        "phone": "13812345678",
        "address": "城关镇东村3组12号",
        "village": "330102001001",
        "team": "T330102001-01",
        "diseases": "高血压、2型糖尿病",
        "managed_since": "2021-06-01",
        "card": "H330102000001",
        "on_bp_treatment": "是",
        "total_cholesterol": "5.2",
        "hdl": "1.3",
        "waist": "88",
        "height": "168",
        "weight": "70",
        "smoker": "否",
        "family_history": "否",
        "residence": "农村",
    },
    "meters": {"kind": "血压计", "serial": "SN2024000001", "imei": "490154203237518", "clinic": "330102001001"},
    "accounts": {
        "username": "doc.zhang",
        "name": "张医生",
        "role": "团队",
        "scope": "T330102001-01",
        "phone": "13900001111",
    },
}


def write_template(directory: Path, *, lang: str = "zh") -> list[Path]:
    """Write one CSV per file kind and README.md into `directory`; the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in KINDS:
        path = directory / f"{kind}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            out = csv.writer(f)
            out.writerow([c.name for c in COLUMNS[kind]])
            out.writerow([SAMPLES[kind].get(c.field, "") for c in COLUMNS[kind]])
        written.append(path)
    readme = directory / "README.md"
    readme.write_text(readme_text(lang), encoding="utf-8")
    return [*written, readme]


def readme_text(lang: str) -> str:
    """The README: files, columns (required or not, format), encodings, and every refusal reason."""
    lines = [f"# {t('registry.template.readme_title', lang)}", "", t("registry.template.intro", lang), ""]
    for kind in KINDS:
        lines += [f"## {kind}.csv / {kind}.xlsx — {t(f'registry.template.kind.{kind}', lang)}", ""]
        lines += [
            f"| {t('registry.template.col.column', lang)} | {t('registry.template.col.required', lang)} |"
            f" {t('registry.template.col.format', lang)} |",
            "|---|---|---|",
        ]
        for c in COLUMNS[kind]:
            need = t("registry.template.required" if c.required else "registry.template.optional", lang)
            lines.append(f"| {c.name} | {need} | {t(f'registry.format.{kind}.{c.field}', lang)} |")
        lines.append("")
    lines += [f"## {t('registry.template.reasons', lang)}", ""]
    reasons = sorted(k for k in CATALOGUE if k.startswith("registry.reason.") and ".level." not in k)
    lines += [f"- {_PLACEHOLDER.sub('…', CATALOGUE[k].get(lang) or CATALOGUE[k]['zh'])}" for k in reasons]
    return "\n".join(lines) + "\n"
