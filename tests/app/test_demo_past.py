"""The demo county's past (app.demo_past), written into a real store: dates, colours, visits, alerts, meters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app import repo
from app.demo_past import PAST_ALERTS, write_past
from cdm import db
from cdm.settings import Settings
from dashboard.access import Principal, Role
from dashboard.indicators.repo import indicators, refresh_activity
from device_sim.county import generate_county
from device_sim.repo import register_county

pytestmark = pytest.mark.integration


def test_a_county_opens_with_months_of_history(settings: Settings, county_code: str) -> None:
    county = generate_county(code=county_code, name="测试县", townships=2, clinics=6, patients=240)
    now = datetime.now(UTC)
    with db.connect(settings.database_url or "") as conn:
        register_county(conn, county)
        past = write_past(conn, county, settings=settings, now=now)
        assert past.readings > 0 and past.follow_ups > 0 and past.alerts_closed == PAST_ALERTS

        registered = [r[0] for r in conn.execute("select registered_at from patient")]
        assert min(registered) < now - timedelta(days=365 * 2), "some patients entered the programme years ago"
        assert any(now - timedelta(days=90) < r for r in registered), "and some within the last 90 days"

        assert repo.colour_history_days(conn) >= 28
        oldest = conn.execute("select min(measured_at) from reading").fetchone()
        assert oldest is not None and oldest[0] < now - timedelta(days=80)

        closed = conn.execute(
            "select a.outcome, array_agg(e.event order by e.at) from alert a join alert_event e on e.alert_id = a.id"
            " where a.status = 'closed' group by a.id, a.outcome"
        ).fetchall()
        assert len(closed) == PAST_ALERTS
        assert all(outcome and events == ["opened", "acknowledged", "actioned", "closed"] for outcome, events in closed)

        states = dict(conn.execute("select status, count(*) from device group by status").fetchall())
        assert states.get("unknown", 0) >= 4 and states["online"] > 0
        spare = conn.execute(
            "select count(*) from device where uid like %s and status = 'unknown'", (f"{county_code}-spare-%",)
        )
        assert spare.fetchone() == (4,)

        refresh_activity(conn, now=now, lookback_days=90)
        county_id = repo.first_county_id(conn)
        total = indicators(conn, principal=Principal(0, "t", Role.COUNTY, county_id), now=now).total
        for name in ("bp_control", "glucose_control", "standard_management"):
            assert total[name].denominator > 0 and 0 < total[name].rate < 1, (name, total[name])  # type: ignore[operator]
