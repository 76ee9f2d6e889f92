"""The one `Topic` (models.py), built from a query string, for tests that need a few topics."""

from __future__ import annotations

from collections.abc import Sequence

from arxivwatch.models import Topic
from arxivwatch.query import parse


def make_topic(name: str, section: str, query: str, *, categories: Sequence[str] = (),
               min_score: float | None = None, kind: str = "method", about: str | None = None,
               against: str | None = None) -> Topic:
    """A topic as `config.load` would give it (query, `about` and `against` parsed)."""
    return Topic(name, section, parse(query), query, tuple(categories), min_score, kind=kind,
                 about=parse(about) if about else None,
                 against=parse(against) if against else None)
