"""The family doctor's screens in `cdm bench dashboard` (issue 14): the follow-up list in its working order for a
team, a township and the county (also filtered to green and to the overdue), search by name / health card / phone
tail, a patient's person and page, the visit form's reads and a visit's print view. The synthetic county gets
names, addresses and phones (made up) the first time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from assess.rules import LOOKBACK
from dashboard.access import Principal
from dashboard.followups.repo import card_in_scope, followup_rows
from dashboard.patient.repo import patient_detail
from dashboard.people.repo import person, search
from dashboard.visit.repo import visit_of

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = "秀英建国玉兰桂芳志强淑珍明华海燕国平丽娟春梅德胜"
_PEOPLE = """
insert into patient_person (patient_id, name, address)
select id, substr(%(s)s, (id %% 20)::int + 1, 1) || substr(%(g)s, ((id / 20) %% 24)::int + 1, 1)
           || substr(%(g)s, ((id / 480) %% 24)::int + 1, 1),
       '第' || (id %% 9 + 1) || '组' || (id %% 97 + 1) || '号'
from patient on conflict do nothing
"""
_PHONES = """
insert into patient_contact (patient_id, phone)
select id, '139' || lpad((id * 7919 % 100000000)::text, 8, '0') from patient on conflict do nothing
"""


def add_people(conn: psycopg.Connection) -> None:
    """Names, addresses and phones for every patient, once (made up from the patient's id)."""
    if conn.execute("select exists (select 1 from patient_person)").fetchone() == (True,):
        return
    conn.execute(_PEOPLE, {"s": SURNAMES, "g": GIVEN})
    conn.execute(_PHONES)  # no parameters: its % is SQL's own
    conn.commit()


def screens(pool: Any, principals: dict[str, Principal]) -> dict[str, Callable[[], object]]:
    """The timed calls, each as its page's callback makes it."""
    county, township, team = principals["county"], principals["township"], principals["team"]
    with pool.connection() as conn:
        mine = conn.execute("select id from patient where team_id = %s order by id limit 1", (team.team_id,)).fetchone()
        viewer = team if mine else county  # a small county's first team may have nobody yet
        mine = mine or conn.execute("select id from patient order by id limit 1").fetchone()
        visit = conn.execute(  # one of the viewer's own visits (any, when the viewer is the county)
            "select f.id from follow_up f join patient p on p.id = f.patient_id"
            " where p.team_id = %s or %s order by f.id limit 1",
            (team.team_id, viewer is county),
        ).fetchone()
        phone = conn.execute("select right(phone, 4) from patient_contact where patient_id = %s", mine).fetchone()
        card = conn.execute("select health_card_no from patient where id = %s", mine).fetchone()
    pid = int(mine[0])

    def with_conn(work: Callable[[psycopg.Connection], object]) -> Callable[[], object]:
        def call() -> object:
            with pool.connection() as conn:
                return work(conn)

        return call

    def patient_page(c: psycopg.Connection) -> object:
        now = datetime.now(UTC)
        return patient_detail(c, principal=viewer, patient_id=pid, since=now - LOOKBACK, now=now), person(
            c, principal=viewer, patient_id=pid
        )

    def visit_form(c: psycopg.Connection) -> object:  # what /visit/<id> reads before it draws the form
        card_in_scope(c, principal=viewer, patient_id=pid)
        person(c, principal=viewer, patient_id=pid)
        return c.execute("select hypertension from patient where id = %s", (pid,)).fetchone()

    def visit_print(c: psycopg.Connection) -> object:  # /visit-print/<id>: the visit, then who it was for
        found = visit_of(c, principal=viewer, follow_up_id=int(visit[0]))  # type: ignore[index]
        return found, person(c, principal=viewer, patient_id=found["patient_id"]) if found else None

    out: dict[str, Callable[[], object]] = {
        "followups_township": with_conn(lambda c: followup_rows(c, principal=township)),
        "followups_county": with_conn(lambda c: followup_rows(c, principal=county)),
        # the filter that tie-broke 143,000 green patients on a computed due date (366 ms before 0098)
        "followups_county_green": with_conn(lambda c: followup_rows(c, principal=county, colours=("green",))),
        "followups_county_overdue": with_conn(lambda c: followup_rows(c, principal=county, overdue_only=True)),
        "search_name_team": with_conn(lambda c: search(c, principal=team, text="张")),
        "search_name_county": with_conn(lambda c: search(c, principal=county, text="王秀")),
        "search_card_county": with_conn(lambda c: search(c, principal=county, text=card[0] if card else "none")),
        "search_phone_township": with_conn(lambda c: search(c, principal=township, text=phone[0] if phone else "0000")),
        "person": with_conn(lambda c: person(c, principal=viewer, patient_id=pid)),
        "patient_page": with_conn(patient_page),
        "visit_form": with_conn(visit_form),
    }
    if visit:
        out["visit_print"] = with_conn(visit_print)
    return out
