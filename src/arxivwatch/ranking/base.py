"""The scorer protocol, the value it returns, and the blend that combines scorers.

A scorer looks at one matched paper for one topic and says how well it fits, in [0, 1], with
human-readable reasons. Scorers are plain objects so a learned model (issue 7) can join the
blend without touching the selection code.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple, Protocol

from arxivwatch.models import Hit, Paper, Topic


class Scored(NamedTuple):
    """A score in [0, 1] and the lines that explain it."""

    score: float
    reasons: tuple[str, ...] = ()


class DocLike(Protocol):
    """What scorers read of a prepared paper (query.Doc satisfies it)."""

    @property
    def paper(self) -> Paper: ...

    def clean(self, field: str) -> str:
        """A text field (`ti`, `abs`, `co`) lower-cased, LaTeX removed (textnorm.clean)."""
        ...


class Scorer(Protocol):
    """Scores one matched paper for one topic."""

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """How well `doc` fits `topic`, given the query terms that hit it."""
        ...


class Blend:
    """A weighted mean of scorers; reasons of the parts are kept in order."""

    def __init__(self, parts: Sequence[tuple[Scorer, float]]) -> None:
        if not parts or any(w < 0 for _, w in parts) or sum(w for _, w in parts) <= 0:
            raise ValueError("a Blend needs at least one scorer and positive weights")
        self.parts = tuple(parts)
        self._total = sum(w for _, w in parts)

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """The weighted mean score of the parts, with all their reasons."""
        total = 0.0
        reasons: list[str] = []
        for scorer, weight in self.parts:
            part = scorer.score(doc, topic, hits)
            total += weight * part.score
            reasons.extend(part.reasons)
        return Scored(round(total / self._total, 6), tuple(reasons))

    def with_part(self, scorer: Scorer, weight: float) -> Blend:
        """A new blend with one more scorer (how a learned model joins in)."""
        return Blend((*self.parts, (scorer, weight)))
