"""The learned part of the ranking: a `ranking.Scorer` over the per-section models.

Blended into the default ranking with `Blend.with_part(LearnedScorer(models), weight)`. A topic
whose section has no model (too few examples) gets a neutral 0.5 for every paper, which leaves
the order of that topic's papers to the query and catalog scores, and the reason says so.
"""

from __future__ import annotations

from collections.abc import Callable

from arxivwatch.learning.model import Models
from arxivwatch.models import Hit
from arxivwatch.ranking import DocLike, Scored, TopicLike, section_key

NEUTRAL = 0.5
WEIGHT = 1.0        # blend weight beside the default ranking's parts (which sum to 1)
TOP_WORDS = 3


class LearnedScorer:
    """Scores a paper by its section model's probability; reasons name the words behind it."""

    def __init__(self, models: Models | Callable[[], Models], *, top_words: int = TOP_WORDS,
                 ) -> None:
        # A callable lets a long-lived scorer follow a ModelCache as it retrains.
        self._models = models if callable(models) else (lambda: models)
        self.top_words = top_words

    @property
    def models(self) -> Models:
        """The models in use now."""
        return self._models()

    def score(self, doc: DocLike, topic: TopicLike, hits: tuple[Hit, ...]) -> Scored:
        """P(the paper belongs to the topic's section), or NEUTRAL with the reason why not."""
        models = self._models()
        key = section_key(topic.section)
        model = models.sections.get(key)
        if model is None:
            why = models.skipped.get(key, "no model yet")
            return Scored(NEUTRAL, (f"learned: none for this section ({why})",))
        row = models.vector(doc.paper)
        p = model.probability(row)
        words = model.pushes(row, models.names, self.top_words)
        pushed = " ".join(f"+{w.replace(' ', '-')}" for w in words)
        return Scored(p, (f"learned {p:.2f}: {pushed}" if pushed else f"learned {p:.2f}",))
