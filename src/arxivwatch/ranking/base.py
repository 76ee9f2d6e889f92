"""The scorer protocol, the value it returns, and the blend that combines scorers.

A scorer looks at one matched paper for one topic and says how well it fits, in [0, 1], with
human-readable reasons. Scorers are plain objects so a learned model (issue 7) can join the
blend without touching the selection code.
"""

from __future__ import annotations

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
