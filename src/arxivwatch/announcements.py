"""arXiv's announcement calendar, as far as it can be known without asking arXiv.

New submissions are announced Sunday to Thursday at 20:00 US Eastern; the feed that carries an
announcement is dated the next day, so feed days are Monday to Friday. A feed day D lists what was
submitted between 14:00 Eastern on the business day before the previous business day and 14:00
Eastern on the previous business day (Friday 14:00 -> Monday 14:00 for a Tuesday feed). Holidays
are not known here: a backfilled holiday simply finds nothing.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
CUTOFF = dt.time(14, 0)
ANNOUNCE = dt.time(20, 0)


def is_feed_day(day: dt.date) -> bool:
    """True for Monday to Friday: the days an announcement feed can carry."""
    return day.weekday() < 5


def previous_business_day(day: dt.date) -> dt.date:
    """The Monday-to-Friday day before `day`."""
    day -= dt.timedelta(days=1)
    while not is_feed_day(day):
        day -= dt.timedelta(days=1)
    return day


def next_feed_day(day: dt.date) -> dt.date:
    """The first feed day after `day`."""
    day += dt.timedelta(days=1)
    while not is_feed_day(day):
        day += dt.timedelta(days=1)
    return day


def missing_days(last: dt.date, current: dt.date) -> list[dt.date]:
    """Feed days strictly between the last processed one and the current one."""
    days, day = [], next_feed_day(last)
    while day < current:
        days.append(day)
        day = next_feed_day(day)
    return days


def submission_window(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The UTC submission window [start, end) announced in the feed of `day`."""
    end_day = previous_business_day(day)
    start_day = previous_business_day(end_day)
    start = dt.datetime.combine(start_day, CUTOFF, EASTERN)
    end = dt.datetime.combine(end_day, CUTOFF, EASTERN)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def feed_day_for(submitted: dt.datetime) -> dt.date:
    """The feed day on which a paper submitted at `submitted` (tz-aware) is announced."""
    local = submitted.astimezone(EASTERN)
    day = local.date()
    if not is_feed_day(day) or local.time() >= CUTOFF:
        day = next_feed_day(day) if is_feed_day(day) else _next_business(day)
    return next_feed_day(day)


def _next_business(day: dt.date) -> dt.date:
    while not is_feed_day(day):
        day += dt.timedelta(days=1)
    return day


def latest_feed_day(now: dt.datetime) -> dt.date:
    """The feed day of the most recent announcement at `now` (tz-aware)."""
    local = now.astimezone(EASTERN)
    day = local.date()
    # An announcement made on day X at 20:00 Eastern is the feed of the next feed day.
    announced_tonight = local.time() >= ANNOUNCE and day.weekday() in (6, 0, 1, 2, 3)
    if announced_tonight:
        return next_feed_day(day)
    return day if is_feed_day(day) else previous_business_day(day)
