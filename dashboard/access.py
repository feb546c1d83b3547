"""Who is looking: the signed-in person's role and scope, which every screen query is filtered by.

The log-in layer (dashboard/auth) puts a Principal on `flask.g` before each request; pages and data functions
never read the session themselves. Data functions take the principal as a keyword argument and scope their SQL
with `scope_filter`, so a township user can never be handed another township's rows by a forgotten WHERE clause.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import flask


class Role(StrEnum):
    COUNTY = "county"  # the county chronic-disease centre: the whole county
    TOWNSHIP = "township"  # a township health centre: its own villages
    TEAM = "team"  # a family-doctor team: its own patients
    ADMIN = "admin"  # accounts and meters; sees the whole county, including identity where the law allows


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in person and the part of the county their role lets them see."""

    user_id: int
    username: str
    role: Role
    county_id: int  # region id of the county
    township_id: int | None = None  # set for township users (and team users: their team's township)
    team_id: int | None = None  # set for team users
    language: str | None = None  # the account's language of the screens (zh / en); None: the county's

    @property
    def sees_names(self) -> bool:
        """Whether patients' names are shown in full: to their team and township (and admins); the county sees them
        masked, and reveals one with a stated reason (audited)."""
        return self.role in (Role.TEAM, Role.TOWNSHIP, Role.ADMIN)

    @property
    def sees_identity(self) -> bool:
        """Whether unmasked phone numbers are shown: only to the team that calls the patient, and admins."""
        return self.role in (Role.TEAM, Role.ADMIN)


def scope_filter(principal: Principal, *, township_col: str, team_col: str | None = None) -> tuple[str, dict[str, int]]:
    """A SQL condition (named parameters) limiting rows to what `principal` may see.

    `township_col` names the row's township region id and `team_col` its care team id (both as written in the
    query, e.g. "v.parent_id", "p.team_id"); the columns are code, never user input.
    """
    if principal.role in (Role.COUNTY, Role.ADMIN):
        return "true", {}
    if principal.role is Role.TOWNSHIP:
        if principal.township_id is None:
            raise PermissionError(f"township account {principal.username!r} has no township")
        return f"{township_col} = %(scope_township)s", {"scope_township": principal.township_id}
    if team_col is None or principal.team_id is None:
        raise PermissionError(f"team account {principal.username!r} cannot see this data")
    return f"{team_col} = %(scope_team)s", {"scope_team": principal.team_id}


def current_principal() -> Principal:
    """The principal of the request being served; PermissionError when nobody is signed in."""
    principal = getattr(flask.g, "principal", None)
    if not isinstance(principal, Principal):
        raise PermissionError("not signed in")
    return principal
