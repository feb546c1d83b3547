"""All SQL of finding and naming people on the screens: search by name, health card or the last four digits of the
phone, within the viewer's scope; one patient's name, phone and address as the viewer may see them. The county sees
masked identities (a search masks them in SQL, so full names never leave the database for it) unless it
reveals one with a reason, which dashboard.pages audit."""

from __future__ import annotations

import re
from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row

from cdm.privacy import mask_card, mask_name
from dashboard.access import Principal, scope_filter
from dashboard.followups.repo import TEAM_OF_PATIENT, TOWNSHIP_OF_PATIENT

SEARCH_LIMIT = 20  # people a search shows: a name prefix in a county can match thousands; type more to narrow
_FOUR_DIGITS = re.compile(r"^\d{4}$")
_MASKED = "left({c}, 1) || repeat('*', greatest(char_length({c}) - 1, 1))"

# Each way of finding someone uses its own index (migration 0085: name prefix, phone tail; the card is unique),
# then the scope and the page's columns apply to the few hits.
_SEARCH = """
with hit as (
    select patient_id from patient_person where name like %(prefix)s
    union
    select id from patient where health_card_no = %(text)s or record_no = %(text)s
    union
    select patient_id from patient_contact where %(digits)s and right(phone, 4) = %(text)s
)
select p.id, p.health_card_no, {name} as name, {phone} as phone, a.colour, tw.name as township,
       case v.level when 'village' then v.name end as village
from hit
join patient p on p.id = hit.patient_id
join region v on v.id = p.village_id
join region tw on tw.id = {township}
left join patient_person pp on pp.patient_id = p.id
left join patient_contact pc on pc.patient_id = p.id
left join assessment_current a on a.patient_id = p.id
where ({scope})
order by pp.name nulls last, p.id
limit %(limit)s
"""
_PERSON = """
select pp.name, pp.address, pc.phone
from patient p
join region v on v.id = p.village_id
left join patient_person pp on pp.patient_id = p.id
left join patient_contact pc on pc.patient_id = p.id
where p.id = %(patient_id)s and ({scope})
"""


@dataclass(frozen=True, slots=True)
class Found:
    """One person a search found, as the viewer may see them."""

    patient_id: int
    card: str  # masked
    name: str | None
    phone: str | None  # the team's own patients only
    colour: str | None
    township: str
    village: str | None


@dataclass(frozen=True, slots=True)
class Person:
    """Who a patient is: name, address and phone, each None when not on file."""

    name: str | None
    address: str | None
    phone: str | None


def searchable(text: str) -> bool:
    """Whether a search text is worth a query: a character of a name, a card number, or four digits."""
    text = text.strip()
    return bool(text) and (not text.isdigit() or len(text) >= 4)


def search(conn: psycopg.Connection, *, principal: Principal, text: str, limit: int = SEARCH_LIMIT) -> list[Found]:
    """People in `principal`'s scope whose name starts with `text`, whose health card (or record number) is `text`,
    or whose phone ends in `text` (four digits)."""
    text = text.strip()
    if not searchable(text):
        return []
    scope, params = scope_filter(principal, township_col=TOWNSHIP_OF_PATIENT, team_col=TEAM_OF_PATIENT)
    query = _SEARCH.format(
        name="pp.name" if principal.sees_names else _MASKED.format(c="pp.name"),
        phone="pc.phone" if principal.sees_identity else "null::text",
        township=TOWNSHIP_OF_PATIENT,
        scope=scope,
    )
    prefix = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    bound = {**params, "prefix": prefix, "text": text, "digits": bool(_FOUR_DIGITS.match(text)), "limit": limit}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(query, bound).fetchall()  # the format fills code, never input
    return [
        Found(r["id"], mask_card(r["health_card_no"]), r["name"], r["phone"], r["colour"], r["township"], r["village"])
        for r in rows
    ]


def person(conn: psycopg.Connection, *, principal: Principal, patient_id: int, reveal: bool = False) -> Person | None:
    """The patient's name, address and phone as `principal` may see them; None when out of scope.

    The team sees all three; the township the name; the county a masked name, or (with `reveal`, which the caller
    audits with its reason) the name and address — never the phone, which only the calling team needs.
    """
    scope, params = scope_filter(principal, township_col=TOWNSHIP_OF_PATIENT, team_col=TEAM_OF_PATIENT)
    row = conn.execute(_PERSON.format(scope=scope), {**params, "patient_id": patient_id}).fetchone()
    if row is None:
        return None
    name, address, phone = row
    if principal.sees_identity:
        return Person(name, address, phone)
    if principal.sees_names or reveal:
        return Person(name, address if reveal else None, None)
    return Person(mask_name(name) if name else None, None, None)
