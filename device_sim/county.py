"""A simulated county: townships, village clinics, family-doctor teams, meters and patients, from one seed.

Pure and deterministic: the same arguments (and seed) always give the same county, so a demo, a test and a
benchmark can all talk about "patient H…0042" and mean the same person.
"""

from __future__ import annotations

import random
import re
import zlib
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from typing import Literal

MeterKind = Literal["bp", "glucose"]

_COUNTY_CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")

# Shares of the managed population (NBPHS practice: hypertension dominates, about one in three has diabetes).
# HTN only 0.65 + both 0.10 = 0.75 hypertension; DM only 0.25 + both 0.10 = 0.35 diabetes; nobody has neither.
_HTN_ONLY, _BOTH = 0.65, 0.10
# Managed patients are 35+; most are 55-75 years old.
_AGE_MIN, _AGE_MAX, _AGE_MEAN, _AGE_SD = 35, 90, 65.0, 10.0
# An unstable patient's sitting turns critical this often, so a few hundred sittings make a handful of alerts.
_CRITICAL_CHANCE = (0.15, 0.35)

_TOWN_PREFIXES = "东西南北大小上石龙青白黄马新高金桃柳杨双三"
_TOWN_ROOTS = "河山坪岭桥湾溪田塘坝口庄"
_SURNAMES = "李王张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧"
_VILLAGE_SUFFIXES = "家庄湾坪沟岭屯寨营塘桥坡店岗垭院"
_VILLAGE_PREFIXES = "上下东西前后"


@dataclass(frozen=True)
class Township:
    code: str
    name: str


@dataclass(frozen=True)
class Clinic:
    code: str
    name: str
    township_code: str


@dataclass(frozen=True)
class Team:
    code: str
    name: str
    township_code: str


@dataclass(frozen=True)
class Meter:
    uid: str
    kind: MeterKind
    clinic_code: str


@dataclass(frozen=True)
class SimPatient:
    health_card_no: str
    qr_code: str
    sex: Literal["M", "F"]
    birth_year: int
    hypertension: bool
    diabetes: bool
    village_code: str
    team_code: str
    systolic: float  # latent usual level, mmHg
    diastolic: float
    pulse: float
    fasting_glucose: float  # latent usual level, mmol/L
    non_fasting_glucose: float
    bp_noise_sd: float  # reading-to-reading variation, mmHg
    glucose_noise_sd: float  # mmol/L
    visits_per_week: float  # how often this patient comes to the clinic's meters
    unstable: bool
    critical_chance: float  # share of an unstable patient's sittings that are critical; 0 when stable


@dataclass(frozen=True)
class County:
    code: str
    name: str
    townships: tuple[Township, ...]
    clinics: tuple[Clinic, ...]
    teams: tuple[Team, ...]
    meters: tuple[Meter, ...]
    patients: tuple[SimPatient, ...]

    @cached_property
    def _meter_index(self) -> dict[tuple[str, str], Meter]:
        return {(m.clinic_code, m.kind): m for m in self.meters}

    def meter_for(self, clinic_code: str, kind: MeterKind) -> Meter:
        """The meter of this kind in a village clinic."""
        return self._meter_index[(clinic_code, kind)]

    def patient(self, health_card_no: str) -> SimPatient:
        """A patient by health-card number."""
        return next(p for p in self.patients if p.health_card_no == health_card_no)


def generate_county(
    *,
    code: str,
    name: str,
    townships: int = 12,
    clinics: int = 336,
    patients: int = 3000,
    seed: int = 1,
    unstable_share: float = 0.02,
    as_of_year: int | None = None,
) -> County:
    """Generate a whole county deterministically from `seed` (ages are counted to `as_of_year`, default this year)."""
    _check_sizes(code=code, townships=townships, clinics=clinics, patients=patients, unstable_share=unstable_share)
    rng = random.Random(f"{code}:{seed}")
    towns = _townships(code, townships, rng)
    clinic_list = _clinics(code, towns, clinics, rng)
    teams = tuple(
        Team(code=f"{code}-team{i * 2 + k + 1:02d}", name=f"{t.name}家庭医生团队{k + 1}", township_code=t.code)
        for i, t in enumerate(towns)
        for k in range(2)
    )
    meters = _meters(code, clinic_list)
    year = as_of_year if as_of_year is not None else date.today().year
    teams_of = {t.code: [team.code for team in teams if team.township_code == t.code] for t in towns}
    people = tuple(
        _patient(
            index=i,
            area=_area_code(code),
            clinic=rng.choice(clinic_list),
            teams_of=teams_of,
            rng=rng,
            year=year,
            unstable_share=unstable_share,
        )
        for i in range(1, patients + 1)
    )
    return County(
        code=code, name=name, townships=towns, clinics=clinic_list, teams=teams, meters=meters, patients=people
    )


def _check_sizes(*, code: str, townships: int, clinics: int, patients: int, unstable_share: float) -> None:
    if not _COUNTY_CODE.match(code):
        raise ValueError("county code must be 1-32 of [a-z0-9_-], starting with a letter or digit")
    if townships < 1 or townships > len(_TOWN_PREFIXES) * len(_TOWN_ROOTS) + 1:
        raise ValueError(f"townships must be 1..{len(_TOWN_PREFIXES) * len(_TOWN_ROOTS) + 1}")
    if clinics < townships or clinics > len(_village_names_pool()):
        raise ValueError(f"clinics must be between townships ({townships}) and {len(_village_names_pool())}")
    if patients < 0 or not 0.0 <= unstable_share <= 1.0:
        raise ValueError("patients must be >= 0 and unstable_share within 0..1")


def _area_code(code: str) -> str:
    """Six digits derived from the county code, so two counties' health-card numbers do not collide."""
    return f"{zlib.crc32(code.encode()) % 1_000_000:06d}"


def _townships(code: str, count: int, rng: random.Random) -> tuple[Township, ...]:
    stems = [p + r for p in _TOWN_PREFIXES for r in _TOWN_ROOTS]
    names = ["城关镇"] + [s + rng.choice("镇乡") for s in rng.sample(stems, count - 1)]
    return tuple(Township(code=f"{code}-t{i + 1:02d}", name=n) for i, n in enumerate(names))


def _village_names_pool() -> list[str]:
    two = [s + x for s in _SURNAMES for x in _VILLAGE_SUFFIXES]
    return two + [p + n for p in _VILLAGE_PREFIXES for n in two]


def _clinics(code: str, towns: tuple[Township, ...], count: int, rng: random.Random) -> tuple[Clinic, ...]:
    pool = _village_names_pool()
    two_char = len(_SURNAMES) * len(_VILLAGE_SUFFIXES)
    names = rng.sample(pool[:two_char] if count <= two_char else pool, count)
    # Contiguous blocks: township sizes differ by at most one clinic.
    return tuple(
        Clinic(code=f"{code}-v{i + 1:04d}", name=f"{n}村卫生室", township_code=towns[i * len(towns) // count].code)
        for i, n in enumerate(names)
    )


def _meters(code: str, clinics: tuple[Clinic, ...]) -> tuple[Meter, ...]:
    out: list[Meter] = []
    for i, c in enumerate(clinics, start=1):
        out.append(Meter(uid=f"BP-{code}-{i:04d}", kind="bp", clinic_code=c.code))
        out.append(Meter(uid=f"GLU-{code}-{i:04d}", kind="glucose", clinic_code=c.code))
    return tuple(out)


def _patient(
    *,
    index: int,
    area: str,
    clinic: Clinic,
    teams_of: dict[str, list[str]],
    rng: random.Random,
    year: int,
    unstable_share: float,
) -> SimPatient:
    roll = rng.random()
    htn, dm = (True, False) if roll < _HTN_ONLY else (True, True) if roll < _HTN_ONLY + _BOTH else (False, True)
    age = round(min(_AGE_MAX, max(_AGE_MIN, rng.gauss(_AGE_MEAN, _AGE_SD))))
    sbp, dbp = _latent_bp(htn=htn, age=age, rng=rng)
    fasting, non_fasting = _latent_glucose(dm=dm, rng=rng)
    unstable = rng.random() < unstable_share
    return SimPatient(
        health_card_no=f"H{area}{index:07d}",
        qr_code=f"Q{area}{index:07d}{rng.getrandbits(16):04X}",
        sex=rng.choice(("M", "F")),
        birth_year=year - age,
        hypertension=htn,
        diabetes=dm,
        village_code=clinic.code,
        team_code=rng.choice(teams_of[clinic.township_code]),
        systolic=sbp,
        diastolic=dbp,
        pulse=round(min(100.0, max(52.0, rng.gauss(74, 8))), 1),
        fasting_glucose=fasting,
        non_fasting_glucose=non_fasting,
        bp_noise_sd=round(rng.uniform(3.0, 8.0), 1),
        glucose_noise_sd=round(rng.uniform(0.2, 0.6), 2),
        visits_per_week=round(min(3.0, 0.2 + rng.expovariate(1 / 0.8)), 2),
        unstable=unstable,
        critical_chance=round(rng.uniform(*_CRITICAL_CHANCE), 2) if unstable else 0.0,
    )


def _latent_bp(*, htn: bool, age: int, rng: random.Random) -> tuple[float, float]:
    sbp = rng.gauss(146, 13) if htn else rng.gauss(126, 9)
    sbp = min(170.0, max(105.0, sbp + (age - 65) * 0.3))
    # Diastolic pressure falls with age as arteries stiffen, so older patients have wider pulse pressure.
    dbp = min(104.0, sbp - 30, max(60.0, 0.45 * sbp + rng.gauss(28, 5) - (age - 65) * 0.25))
    return round(sbp, 1), round(dbp, 1)


def _latent_glucose(*, dm: bool, rng: random.Random) -> tuple[float, float]:
    if dm:
        fasting = min(13.0, max(5.5, rng.gauss(7.8, 1.5)))
        return round(fasting, 1), round(min(15.5, fasting + max(1.0, rng.gauss(3.5, 1.2))), 1)
    fasting = min(6.1, max(4.5, rng.gauss(5.3, 0.4)))
    return round(fasting, 1), round(fasting + max(0.5, rng.gauss(2.0, 0.6)), 1)
