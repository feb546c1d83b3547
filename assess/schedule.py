"""When the next follow-up falls due after a visit: one rule for `cdm assess --file`, the rules and the store.

National Basic Public Health Service Specification (3rd ed., 2017): a controlled patient is seen again in 3 months;
after an uncontrolled visit, an adverse drug reaction or a complication, within 2 weeks. A visit recorded without
a next date is due by its class (the store fills the same date in, migration 0081's trigger on follow_up).
"""

from __future__ import annotations

from datetime import date, timedelta

from cdm.domain import FollowUpClass
from cdm.thresholds import ROUTINE_FOLLOW_UP_DAYS, SHORT_FOLLOW_UP_DAYS


def days_until_next(follow_up_class: FollowUpClass) -> int:
    """Days from a visit of this class to the next one."""
    return ROUTINE_FOLLOW_UP_DAYS if follow_up_class is FollowUpClass.CONTROLLED else SHORT_FOLLOW_UP_DAYS


def next_due(follow_up_class: FollowUpClass, done_on: date, stated: date | None = None) -> date:
    """The next visit's due date: the one the doctor stated, else by the class of this visit."""
    return stated or done_on + timedelta(days=days_until_next(follow_up_class))
