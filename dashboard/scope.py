"""The scope conditions every screen query is built with, from dashboard.access.scope_filter.

Two kinds of row: a *patient's* (scoped to the township, or for a team to its own patients) and a *place's*
(townships and meters, which a team sees for its whole township: meters are shared, and carry no patient data).
"""

from __future__ import annotations

from dataclasses import replace

from dashboard.access import Principal, Role, scope_filter

# A patient's township: the parent of their village clinic, or the township itself when registered at its centre.
TOWNSHIP_OF_REGION = "case {r}.level when 'township' then {r}.id else {r}.parent_id end"


def patient_scope(principal: Principal, *, township_col: str, team_col: str) -> tuple[str, dict[str, object]]:
    """The condition on rows about one patient, with the county bound too."""
    sql, params = scope_filter(principal, township_col=township_col, team_col=team_col)
    return sql, {**params, "scope_county": principal.county_id}


def place_scope(principal: Principal, *, township_col: str) -> tuple[str, dict[str, object]]:
    """The condition on rows about a township or a meter: a team sees its township's."""
    seen_as = replace(principal, role=Role.TOWNSHIP) if principal.role is Role.TEAM else principal
    sql, params = scope_filter(seen_as, township_col=township_col)
    return sql, {**params, "scope_county": principal.county_id}
