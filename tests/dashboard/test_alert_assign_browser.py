"""Assigning an alert to a named doctor in headless Chromium (issue 15): a township nurse and the county centre, each
on a 1920x1080 screen and on a 390x844 phone, pick a person of the alert's township; the name shows in the
township's list and the county's console at once and after refreshes; the step is stored and audited. Screenshots
in test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from dashboard.access import Role

from .accounts import make_account
from .browser import BIG_SCREEN, needs_chromium, screenshot, signed_in
from .county_builder import STILL_OPEN, BusyScene, busiest_township, busy_county
from .server import dashboard_settings, running_dashboard

pytestmark = [pytest.mark.integration, needs_chromium]
PHONE = {"width": 390, "height": 844}
SIZES = {"big": BIG_SCREEN, "phone": PHONE}  # a wall-sized screen and a phone


@pytest.fixture
def scene(db_url: str, conn: psycopg.Connection) -> Iterator[BusyScene]:
    busy_county(conn)
    code, name = busiest_township(conn, statuses=STILL_OPEN)  # the most unclosed alerts: town.li's, doc.chen's
    make_account(conn, "county.wang", Role.COUNTY, county="demo", display_name="王主任")
    make_account(conn, "town.li", Role.TOWNSHIP, township=code, display_name="李护士")
    make_account(conn, "doc.chen", Role.TOWNSHIP, township=code, display_name="陈医生")
    other = "t01" if code != "t01" else "t02"
    make_account(conn, "town.far", Role.TOWNSHIP, township=other, display_name="外乡医生")  # never offered
    settings = dashboard_settings(db_url, county_name="示范县", dashboard_refresh_s=2)
    with running_dashboard(settings) as dashboard:
        yield BusyScene(dashboard, conn, code, name)


def _pick(page: Page, row: Locator, label: str) -> None:
    """Choose `label` in the row's assign list (a Dash dropdown)."""
    row.locator(".wl-pick").click()
    page.get_by_role("option", name=label).click()


def _new_alert(scene: BusyScene) -> int:
    """Open an alert for a patient of the scene's township who has none open (as the rules would)."""
    row = scene.conn.execute(
        "insert into alert (patient_id, kind, severity, status, reasons, evidence, township_id)"
        " select p.id, 'turned_red', 'critical', 'open', '{bp_critical}', '{m1:1}', t.id"
        " from patient p join region v on v.id = p.village_id join region t on t.id = v.parent_id"
        " where t.code = %s and not exists (select from alert a where a.patient_id = p.id and a.status <> 'closed')"
        " order by p.id limit 1 returning id",
        (scene.township_code,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def _first_unassigned(page: Page) -> tuple[int, Locator]:
    page.wait_for_selector("table.worklist tr.alert-row td.assignee")
    row = page.locator("table.worklist tr.alert-row", has=page.locator("td.assignee", has_text="未指派")).first
    alert_id = int(str(row.get_attribute("id")).removeprefix("alert-row-"))
    return alert_id, page.locator(f"#alert-row-{alert_id}")


@pytest.mark.parametrize("size", sorted(SIZES))
def test_a_township_nurse_assigns_an_alert(scene: BusyScene, browser: Browser, size: str) -> None:
    with signed_in(browser, scene.dashboard.url, "town.li", viewport=SIZES[size]) as page:
        alert_id, row = _first_unassigned(page)
        expect(page.locator("table.worklist thead")).to_contain_text("负责医生")
        row.locator(".wl-pick").click()
        offered = page.get_by_role("option").all_inner_texts()
        assert sorted(offered) == ["李护士（town.li）", "陈医生（doc.chen）"], offered  # the township's own people
        page.keyboard.press("Escape")
        _pick(page, row, "陈医生（doc.chen）")
        row.locator(".wl-action").click()
        page.get_by_role("option", name="上门随访").click()
        new_alert = _new_alert(scene)  # the list is redrawn to hold it: what was picked in the row stays
        expect(page.locator(f"#alert-row-{new_alert}")).to_have_count(1, timeout=15_000)
        expect(row.locator(".wl-pick")).to_contain_text("陈医生（doc.chen）")
        expect(row.locator(".wl-action")).to_contain_text("上门随访")
        row.locator(".btn-assign").click()
        expect(row.locator(".wl-assign-msg")).to_have_text("已指派给 陈医生")
        expect(row.locator("td.assignee")).to_have_text("陈医生")
        clock = page.locator("#township-updated-at")
        before = clock.inner_text()
        expect(clock).not_to_have_text(before, timeout=15_000)  # a refresh later, still named
        expect(row.locator("td.assignee")).to_have_text("陈医生")
        assert page.evaluate("document.documentElement.scrollWidth") <= SIZES[size]["width"]
        screenshot(page, f"township-assigned-nurse-{size}.png", tall=True)
    kept = scene.conn.execute(
        "select u.username, a.assigned_by, a.status from alert a join app_user u on u.id = a.assigned_to"
        " where a.id = %s",
        (alert_id,),
    ).fetchone()
    assert kept is not None and kept[:2] == ("doc.chen", "town.li")
    audit = scene.conn.execute(
        "select username, screen, detail->>'alert_id', detail->>'assignee' from audit_event"
        " where action = 'alert_assign'"
    ).fetchall()
    assert audit == [("town.li", "township", str(alert_id), "doc.chen")]


@pytest.mark.parametrize("size", sorted(SIZES))
def test_the_county_assigns_an_alert_and_sees_it_on_its_console(scene: BusyScene, browser: Browser, size: str) -> None:
    viewport = SIZES[size]
    with signed_in(browser, scene.dashboard.url, "county.wang", viewport=viewport) as page:
        page.goto("/township")
        first = page.locator(".township-chooser").inner_text().strip()
        assert first and first != scene.township_name, first
        expect(page.locator(".screen-header h1")).to_contain_text(first)  # the township shown from the start
        page.locator(".township-chooser").click()
        page.get_by_role("option", name=scene.township_name).click()
        expect(page.locator(".screen-header h1")).to_contain_text(scene.township_name)  # the township shown
        expect(page.locator(".screen-header h1")).not_to_contain_text("示范县")
        alert_id, row = _first_unassigned(page)
        row.scroll_into_view_if_needed()
        card = row.bounding_box()
        assert card is not None and card["x"] + card["width"] <= viewport["width"], card
        for control in (".wl-pick", ".btn-assign", ".btn-ack", ".wl-outcome", ".btn-close"):
            expect(row.locator(control)).to_be_in_viewport()
            box = row.locator(control).bounding_box()  # on the card, not hanging over its edge
            assert box is not None and box["x"] >= card["x"], (control, box, card)
            assert box["x"] + box["width"] <= card["x"] + card["width"], (control, box, card)
        row.locator(".btn-assign").click()  # nobody picked yet: said, and nothing done
        expect(row.locator(".wl-assign-msg")).to_have_text("未执行：请先选择要指派的医生")
        _pick(page, row, "李护士（town.li）")
        row.locator(".btn-assign").click()
        expect(row.locator(".wl-assign-msg")).to_have_text("已指派给 李护士")
        expect(row.locator("td.assignee")).to_have_text("李护士")
        screenshot(page, f"township-assigned-county-{size}.png")
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]  # nothing off to the side
        page.goto("/alerts")
        page.wait_for_selector("table.console")
        named = page.locator("table.console tr.alert-row", has=page.locator("td.assignee", has_text="李护士"))
        expect(named).to_have_count(1)
        named.scroll_into_view_if_needed()
        expect(named.locator("td.assignee")).to_be_in_viewport(ratio=1)  # a card: no scrolling sideways to find it
        assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        expect(page.locator("table.console thead")).to_contain_text("负责医生")
        screenshot(page, f"alerts-assigned-{size}.png", tall=True)
    row_ = scene.conn.execute(
        "select u.username, a.assigned_by from alert a join app_user u on u.id = a.assigned_to where a.id = %s",
        (alert_id,),
    ).fetchone()
    assert row_ == ("town.li", "county.wang")
