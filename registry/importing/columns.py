"""The county's files: their names, their columns (the Chinese headers of the template) and which are required. Pure.

A header is matched after normalising (full-width to half-width, spaces and brackets removed, lower case), so
`总胆固醇（mmol/L）` and `总胆固醇mmol/L` are the same column; a few common variants are accepted as aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from registry.importing.cells import halfwidth


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a file: its header in the template, the field it fills, and whether it must have a value."""

    name: str
    field: str
    required: bool = False
    aliases: tuple[str, ...] = ()


KINDS = ("townships", "villages", "teams", "patients", "meters", "accounts")

# Chinese file names a clerk may have used instead of the template's (without the extension).
FILE_ALIASES: dict[str, tuple[str, ...]] = {
    "townships": ("乡镇",),
    "villages": ("村卫生室", "村"),
    "teams": ("团队", "签约团队", "家庭医生团队"),
    "patients": ("患者", "健康档案", "档案"),
    "meters": ("设备", "血压计血糖仪"),
    "accounts": ("账号", "用户"),
}

COLUMNS: dict[str, tuple[Column, ...]] = {
    "townships": (Column("乡镇编码", "code", True), Column("乡镇名称", "name", True)),
    "villages": (
        Column("村卫生室编码", "code", True, ("村卫生室代码", "村编码")),
        Column("村卫生室名称", "name", True, ("村名称",)),
        Column("乡镇编码", "township", True),
    ),
    "teams": (
        Column("团队编码", "code", True, ("签约团队编码",)),
        Column("团队名称", "name", True, ("签约团队名称",)),
        Column("乡镇编码", "township", True),
    ),
    "patients": (
        Column("健康档案号", "record_no", True, ("档案号", "健康档案编号", "个人档案号")),
        Column("姓名", "name", True),
        Column("性别", "sex", True),
        Column("出生日期", "birth_date", True),
        Column("身份证号", "id_number", False, ("身份证号码", "身份证")),
        Column("联系电话", "phone", False, ("手机号", "电话", "手机号码", "本人电话")),
        Column("现住址", "address", False, ("住址", "家庭住址")),
        Column("村卫生室编码", "village", True),
        Column("签约团队编码", "team", True, ("团队编码",)),
        Column("管理病种", "diseases", True, ("病种",)),
        Column("纳入管理日期", "managed_since", True, ("建档日期", "管理日期")),
        Column("健康卡号", "card", False, ("居民健康卡号",)),
        Column("是否服用降压药", "on_bp_treatment", False, ("服用降压药",)),
        Column("总胆固醇mmol/L", "total_cholesterol", False, ("总胆固醇",)),
        Column("高密度脂蛋白mmol/L", "hdl", False, ("高密度脂蛋白胆固醇mmol/L", "高密度脂蛋白")),
        Column("腰围cm", "waist", False, ("腰围",)),
        Column("身高cm", "height", False, ("身高",)),
        Column("体重kg", "weight", False, ("体重",)),
        Column("吸烟", "smoker", False, ("是否吸烟",)),
        Column("心脑血管病家族史", "family_history", False, ("家族史",)),
        Column("居住地", "residence", False, ("城乡",)),
    ),
    "meters": (
        Column("设备类型", "kind", True),
        Column("序列号", "serial", True, ("设备序列号", "SN")),
        Column("IMEI", "imei", True, ("IMEI号",)),
        Column("村卫生室编码", "clinic", True),
    ),
    "accounts": (
        Column("用户名", "username", True, ("登录名", "账号")),
        Column("姓名", "name", True),
        Column("角色", "role", True),
        Column("所属编码", "scope", False, ("所属乡镇或团队编码",)),
        Column("手机号", "phone", False, ("联系电话", "手机号码")),
    ),
}

_DROP = re.compile(r"[\s()\[\]（）【】]+")


def normalise_header(text: object) -> str:
    """A header as compared: half-width, no spaces or brackets, lower case."""
    return _DROP.sub("", halfwidth(str(text or ""))).lower()


def header_map(kind: str) -> dict[str, Column]:
    """Normalised header (and aliases) -> column, for one kind of file."""
    found: dict[str, Column] = {}
    for column in COLUMNS[kind]:
        for name in (column.name, *column.aliases):
            found.setdefault(normalise_header(name), column)
    return found


def kind_of(stem: str) -> str | None:
    """Which kind of file a file name (without extension) is, by the template's name or a Chinese alias."""
    name = normalise_header(stem)
    for kind in KINDS:
        if name == kind or name in {normalise_header(a) for a in FILE_ALIASES[kind]}:
            return kind
    return None
