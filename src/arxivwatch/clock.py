"""The wall clock, read here and nowhere else: everything that needs the time takes a `Clock`
(tests pass a fixed one) and the entry points hand it `utcnow`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

Clock = Callable[[], dt.datetime]


def utcnow() -> dt.datetime:
    """The wall clock, tz-aware UTC."""
    return dt.datetime.now(dt.UTC)
