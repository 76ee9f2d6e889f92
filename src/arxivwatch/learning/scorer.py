"""The learned part of the ranking: a `ranking.Scorer` over the per-section models.

Blended into the default ranking with `base.with_part(LearnedScorer(models, fallback=base), w)`.
With a fallback, the learned part is the fallback's score moved by the model's confidence,
`base + shift(p)`, so the blend is `base + w / (1 + w) * shift(p)`, where `shift` is `p - 0.5`
with a dead zone around 0.5: an unsure model changes nothing, and a topic's `min_score`, chosen
for the query-only ranking, keeps its meaning. (Measured on the sample: without the dead zone a
model trained on a few approvals pushed labelled LoRA papers at p = 0.3 under `min_score`.)
(A plain probability would pull every score towards the model's own scale: measured on the
sample, that cut half the labelled LoRA papers under `min_score` although it ranked them better.)
A topic whose section has no model (too few examples) gets a neutral contribution, and the reason
says so: exactly the fallback's score (the blend is then the query-only score), or 0.5 without a
fallback, which leaves the order of that topic's papers to the other parts.
"""

from __future__ import annotations

from collections.abc import Callable

from arxivwatch.learning.model import Models
from arxivwatch.models import Hit, Topic
from arxivwatch.ranking import DocLike, Scored, Scorer, section_key

NEUTRAL = 0.5
DEAD_ZONE = 0.15    # |p - 0.5| below this moves nothing: a young model's doubts are noise
WEIGHT = 2.0        # blend weight beside the default ranking's parts; measured: 1, 2
TOP_WORDS = 3


class LearnedScorer:
    """Scores a paper by its section model's probability; reasons name the words behind it."""

    def __init__(self, models: Models | Callable[[], Models], *, fallback: Scorer | None = None,
                 top_words: int = TOP_WORDS, dead_zone: float = DEAD_ZONE) -> None:
        # A callable lets a long-lived scorer follow a ModelCache as it retrains.
        self._models = models if callable(models) else (lambda: models)
        self.fallback, self.top_words, self.dead_zone = fallback, top_words, dead_zone

    @property
    def models(self) -> Models:
        """The models in use now."""
        return self._models()

    def shift(self, p: float) -> float:
        """How far a probability moves the fallback score: p - 0.5 outside the dead zone."""
        away = abs(p - NEUTRAL) - self.dead_zone
        return 0.0 if away <= 0 else (away if p > NEUTRAL else -away)

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """The model's view of the paper for the topic's section (see the module doc)."""
        models = self._models()
        key = section_key(topic.section)
        model = models.sections.get(key)
        if model is None:
            why = models.skipped.get(key, "no model yet")
            neutral = NEUTRAL if self.fallback is None else self.fallback.score(
                doc, topic, hits).score
            return Scored(neutral, (f"learned: none for this section ({why})",))
        row = models.vector(doc.paper)
        p = model.probability(row)
        value = p if self.fallback is None else min(1.0, max(
            0.0, self.fallback.score(doc, topic, hits).score + self.shift(p)))
        words = model.pushes(row, models.names, self.top_words)
        pushed = " ".join(f"+{w.replace(' ', '-')}" for w in words)
        return Scored(value, (f"learned {p:.2f}: {pushed}" if pushed else f"learned {p:.2f}",))
