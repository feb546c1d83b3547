"""A tiny run of `cdm bench dashboard`: the county is generated and every screen timed; the JSON has its fields."""

from __future__ import annotations

import pytest

from bench.dashboard import run

from .server import dashboard_settings

pytestmark = pytest.mark.integration


def test_the_dashboard_benchmark_reports_every_screen(admin_db_url: str) -> None:
    # The benchmark makes a database of its own: an operator's (administrator's) connection, not the services'.
    figures = run(settings=dashboard_settings(admin_db_url), patients=600, readings_per_patient=4, iterations=2)
    assert figures["benchmark"] == "dashboard"
    assert figures["patients"] == 600
    assert 0 < figures["readings"] <= 600 * 4
    screens = ("county", "county_mix", "township", "township_worklist", "team_county_screen", "alert_console")
    screens += ("followups_township", "followups_county", "search_name_team", "search_name_county")
    screens += ("search_phone_township", "person", "patient_page")
    screens += ("quality", "quality_township")
    screens += ("township_closed", "township_mix", "admin", "followups_county_green", "followups_county_overdue")
    screens += ("search_card_county", "visit_form", "visit_print")
    for screen in screens:
        assert figures[f"{screen}_p50_ms"] > 0 and figures[f"{screen}_p95_ms"] >= figures[f"{screen}_p50_ms"]
    assert figures["summary_refresh_s"] >= 0 and figures["summary_first_refresh_s"] >= 0 and figures["build_s"] > 0
    assert figures["followups"] == "timed" and figures["followups_p95_ms"] > 0
