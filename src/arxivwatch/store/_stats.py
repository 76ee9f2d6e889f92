"""Per-topic digest statistics over a window (`arxivwatch stats`), computed from candidate rows."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable
from dataclasses import dataclass

from arxivwatch.store._rows import from_iso


@dataclass(frozen=True, slots=True)
class DigestStats:
    """How one topic's digest fared: offered, decided, precision, time to decide."""

    topic: str
    posted: int            # candidates offered in the digest
    approved: int
    rejected: int
    pending: int           # offered, not yet decided
    precision: float | None          # approved / decided; None before any decision
    median_hours_to_decision: float | None

    @property
    def decided(self) -> int:
        return self.approved + self.rejected


# (topic, status, offered at (ISO), decided at (ISO) or None)
StatsRow = tuple[str, str, str, str | None]


def topic_stats(rows: Iterable[StatsRow]) -> list[DigestStats]:
    """Aggregate candidate rows into one DigestStats per topic, sorted by topic name."""
    by_topic: dict[str, list[StatsRow]] = {}
    for row in rows:
        by_topic.setdefault(row[0], []).append(row)
    return [_one(topic, by_topic[topic]) for topic in sorted(by_topic)]


def _one(topic: str, rows: list[StatsRow]) -> DigestStats:
    approved = sum(r[1] == "approved" for r in rows)
    rejected = sum(r[1] == "rejected" for r in rows)
    hours = [h for r in rows if (h := _hours(r[2], r[3])) is not None]
    decided = approved + rejected
    return DigestStats(
        topic, len(rows), approved, rejected, len(rows) - decided,
        approved / decided if decided else None,
        statistics.median(hours) if hours else None)


def _hours(offered: str, decided: str | None) -> float | None:
    start, end = from_iso(offered), from_iso(decided)
    if start is None or end is None:
        return None
    return max((end - start) / dt.timedelta(hours=1), 0.0)
