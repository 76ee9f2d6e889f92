"""arXiv's announcement calendar: feed days, gaps and submission windows."""

from __future__ import annotations

import datetime as dt

import pytest

from arxivwatch.announcements import (
    EASTERN,
    feed_day_for,
    latest_feed_day,
    missing_days,
    submission_window,
)

D = dt.date


@pytest.mark.parametrize(
    ("last", "current", "missing"),
    [
        (D(2024, 3, 4), D(2024, 3, 5), []),                                  # Mon -> Tue
        (D(2024, 3, 1), D(2024, 3, 4), []),                                  # Fri -> Mon
        (D(2024, 3, 4), D(2024, 3, 7), [D(2024, 3, 5), D(2024, 3, 6)]),      # Mon -> Thu
        (D(2024, 2, 29), D(2024, 3, 5), [D(2024, 3, 1), D(2024, 3, 4)]),     # Thu -> Tue
        (D(2024, 3, 5), D(2024, 3, 5), []),
    ],
)
def test_missing_days(last: dt.date, current: dt.date, missing: list[dt.date]) -> None:
    """Only feed days strictly between the last processed and the current day are missing."""
    assert missing_days(last, current) == missing


def _et(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=EASTERN)


@pytest.mark.parametrize(
    ("submitted", "feed_day"),
    [
        (_et(2024, 3, 4, 10), D(2024, 3, 5)),    # Mon before cut-off -> Tue feed
        (_et(2024, 3, 4, 15), D(2024, 3, 6)),    # Mon after cut-off -> Wed feed
        (_et(2024, 3, 1, 10), D(2024, 3, 4)),    # Fri before cut-off -> Mon feed
        (_et(2024, 3, 1, 15), D(2024, 3, 5)),    # Fri after cut-off -> Tue feed
        (_et(2024, 3, 2, 10), D(2024, 3, 5)),    # Saturday -> Tue feed
    ],
)
def test_feed_day_for_submission(submitted: dt.datetime, feed_day: dt.date) -> None:
    """A submission is announced in the feed after the next 14:00 Eastern cut-off."""
    assert feed_day_for(submitted) == feed_day


def test_submission_window_is_consistent_with_feed_day() -> None:
    """Every instant of a feed day's window maps back to that feed day."""
    for day in [D(2024, 3, 4), D(2024, 3, 5), D(2024, 3, 8)]:
        start, end = submission_window(day)
        assert start < end
        assert feed_day_for(start) == day
        assert feed_day_for(end - dt.timedelta(minutes=1)) == day
        assert feed_day_for(end) != day


@pytest.mark.parametrize(
    ("now", "day"),
    [
        (_et(2024, 3, 3, 21), D(2024, 3, 4)),    # Sunday after the announcement -> Monday feed
        (_et(2024, 3, 4, 10), D(2024, 3, 4)),    # Monday morning -> Monday feed
        (_et(2024, 3, 9, 12), D(2024, 3, 8)),    # Saturday -> Friday feed
        (_et(2024, 3, 8, 21), D(2024, 3, 8)),    # Friday night: no announcement
    ],
)
def test_latest_feed_day(now: dt.datetime, day: dt.date) -> None:
    """The latest announcement's feed day follows the Sunday-to-Thursday 20:00 schedule."""
    assert latest_feed_day(now) == day
