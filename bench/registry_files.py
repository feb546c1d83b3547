"""A synthetic county's registry files for `cdm bench import`: townships, village clinics, teams and one GB18030
patients CSV as a Chinese Excel saves it, written row by row (never held whole), every row valid and unique."""

from __future__ import annotations

import csv
import random
from datetime import date, timedelta
from pathlib import Path

from cdm.identity import check_character
from registry.importing.columns import COLUMNS

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰凤英淑珍春梅桂兰海燕志强"
AREA = "330102"


def write_county(directory: Path, *, patients: int, townships: int = 12, villages: int = 336, seed: int = 1) -> Path:
    """Write the four files into `directory`; return the patients file."""
    rng = random.Random(seed)
    directory.mkdir(parents=True, exist_ok=True)
    towns = [f"{AREA}{i + 1:03d}" for i in range(townships)]
    clinics = [(f"{towns[i % townships]}{i // townships + 1:03d}", towns[i % townships]) for i in range(villages)]
    _csv(directory / "townships.csv", [["乡镇编码", "乡镇名称"]] + [[c, f"第{i + 1}镇"] for i, c in enumerate(towns)])
    _csv(
        directory / "villages.csv",
        [["村卫生室编码", "村卫生室名称", "乡镇编码"]] + [[c, f"{c[-3:]}村卫生室", t] for c, t in clinics],
    )
    _csv(
        directory / "teams.csv",
        [["团队编码", "团队名称", "乡镇编码"]] + [[f"T{t}-{k}", f"{t[-3:]}镇{k}队", t] for t in towns for k in (1, 2)],
    )
    path = directory / "patients.csv"
    with path.open("w", encoding="gb18030", newline="") as f:
        out = csv.writer(f)
        out.writerow([c.name for c in COLUMNS["patients"]])
        for index in range(patients):
            out.writerow(_patient(rng, index, clinics))
    return path


def _csv(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="gb18030", newline="") as f:
        csv.writer(f).writerows(rows)


def _patient(rng: random.Random, index: int, clinics: list[tuple[str, str]]) -> list[object]:
    clinic, town = clinics[index % len(clinics)]
    # Unique ID-card numbers: a block of 1,000 patients shares a 70-day window of birth dates and each has its own
    # sequence (index % 1,000, whose parity is the sex), so no two numbers can be equal.
    born = date(1935, 1, 1) + timedelta(days=(index // 1000) * 70 + rng.randrange(70))
    seq = index % 1000
    male = seq % 2 == 1
    first17 = f"{AREA}{born:%Y%m%d}{seq:03d}"
    number = first17 + check_character(first17) if _unique_seq(index) else ""
    htn, dm = rng.random() < 0.8, rng.random() < 0.35
    diseases = "、".join(d for d, on in (("高血压", htn), ("2型糖尿病", dm or not htn)) if on)
    managed = date(2015, 1, 1) + timedelta(days=rng.randrange(3000))
    full = rng.random() < 0.3
    return [
        f"{AREA}{index:011d}",
        rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN),
        "男" if male else "女",
        born.strftime("%Y/%-m/%-d") if index % 3 else born.isoformat(),
        number,
        f"+86 1{rng.randrange(30, 99)}{index:08d}" if index % 4 else "",
        f"{clinic[-3:]}村{rng.randrange(1, 20)}组{rng.randrange(1, 99)}号",
        clinic,
        f"T{town}-{1 + index % 2}",
        diseases,
        managed.strftime("%Y%m%d"),
        f"H{index:010d}",
        ("是" if htn else "否") if full else "",
        f"{rng.uniform(3.5, 7.5):.1f}" if full else "",
        f"{rng.uniform(0.8, 2.0):.2f}" if full else "",
        rng.randrange(65, 110) if full else "",
        rng.randrange(150, 185) if full else "",
        rng.randrange(45, 95) if full else "",
        rng.choice(("是", "否")) if full else "",
        rng.choice(("是", "否")) if full else "",
        rng.choice(("城市", "农村")) if full else "",
    ]


def _unique_seq(index: int) -> bool:
    """Nine patients in ten have an ID-card number on file."""
    return index % 10 != 9
