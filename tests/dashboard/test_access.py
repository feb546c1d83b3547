"""Scope of each role: the SQL condition every screen query is filtered by."""

from __future__ import annotations

import pytest

from dashboard.access import Principal, Role, scope_filter


def _p(role: Role, *, township: int | None = None, team: int | None = None) -> Principal:
    return Principal(user_id=1, username="u", role=role, county_id=1, township_id=township, team_id=team)


@pytest.mark.parametrize("role", [Role.COUNTY, Role.ADMIN])
def test_county_wide_roles_see_the_whole_county(role):
    assert scope_filter(_p(role), township_col="v.parent_id", team_col="p.team_id") == ("true", {})


def test_township_user_is_limited_to_its_township():
    sql, params = scope_filter(_p(Role.TOWNSHIP, township=7), township_col="v.parent_id", team_col="p.team_id")
    assert sql == "v.parent_id = %(scope_township)s"
    assert params == {"scope_township": 7}


def test_team_user_is_limited_to_its_team():
    sql, params = scope_filter(_p(Role.TEAM, township=7, team=3), township_col="v.parent_id", team_col="p.team_id")
    assert sql == "p.team_id = %(scope_team)s"
    assert params == {"scope_team": 3}


def test_team_user_gets_nothing_where_rows_have_no_team():
    with pytest.raises(PermissionError):
        scope_filter(_p(Role.TEAM, township=7, team=3), township_col="a.township_id")


def test_township_account_without_township_is_refused():
    with pytest.raises(PermissionError):
        scope_filter(_p(Role.TOWNSHIP), township_col="v.parent_id")


def test_identity_shown_only_to_team_and_admin():
    assert [r for r in Role if _p(r, township=1, team=1).sees_identity] == [Role.TEAM, Role.ADMIN]
