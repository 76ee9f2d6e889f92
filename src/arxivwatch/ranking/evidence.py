"""Query evidence: how strongly the topic's own terms speak for a paper.

A term in the title says more than the same term in the abstract, a phrase more than a word, and
several distinct terms more than one: each distinct term counts once, at its best field. A term
whose words the curator's catalog section never uses (a broad recall term such as `adapter` in a
LoRA topic) counts for less than the section's own vocabulary, when vocabularies are given.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping

from arxivwatch import textnorm
from arxivwatch.models import Hit, Topic
from arxivwatch.ranking.base import DocLike, Scored
from arxivwatch.ranking.similarity import GENERIC, topic_key

FIELD_WEIGHTS: Mapping[str, float] = {"ti": 1.0, "abs": 0.4, "co": 0.2, "au": 0.4, "cat": 0.1}
PHRASE_BONUS = 1.5      # a phrase is more specific than any one of its words
SATURATION = 1.5        # total weight at which the score reaches 1 - 1/e
OFF_CATALOG = 0.5       # weight factor of a term the section's catalog entries never use
_FIELD_NAMES = {
    "ti": "title", "abs": "abstract", "co": "comments", "au": "author", "cat": "category"}


@functools.lru_cache(maxsize=4096)
def term_key(term: str) -> tuple[str, ...]:
    """A hit term's stemmed words, quotes and wildcard dropped: `"Low-Rank"` -> (low, rank)."""
    return tuple(textnorm.stem(t) for t in textnorm.tokens(term))


def content_words(key: tuple[str, ...]) -> list[str]:
    """The words of a term key that similarity keeps (no stopwords, no generic words)."""
    return [w for w in key if w not in textnorm.STOPWORDS and w not in GENERIC]


class QueryEvidence:
    """Scores the distinct query terms that hit, weighted by field and by phrase length."""

    def __init__(
        self, field_weights: Mapping[str, float] = FIELD_WEIGHTS, *,
        phrase_bonus: float = PHRASE_BONUS, saturation: float = SATURATION,
        vocabularies: Mapping[tuple[str, ...], frozenset[str]] | None = None,
        off_catalog: float = OFF_CATALOG,
    ) -> None:
        self.field_weights = dict(field_weights)
        self.phrase_bonus = phrase_bonus
        self.saturation = saturation
        self.vocabularies = vocabularies or {}
        self.off_catalog = off_catalog

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """1 - exp(-sum of each distinct term's best weight / saturation)."""
        best = self._best(topic, hits)
        return Scored(self._saturated(best), self._reasons(best))

    def value(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> float:
        """`score` without its reasons."""
        return self._saturated(self._best(topic, hits))

    def _saturated(self, best: Mapping[tuple[str, ...], tuple[float, Hit]]) -> float:
        total = sum(w for w, _ in best.values())
        return 1.0 - math.exp(-total / self.saturation)

    def _best(self, topic: Topic, hits: tuple[Hit, ...],
              ) -> dict[tuple[str, ...], tuple[float, Hit]]:
        """Each distinct term's best weight, and the hit that gave it."""
        best: dict[tuple[str, ...], tuple[float, Hit]] = {}
        vocabulary = self.vocabularies.get(topic_key(topic.section))
        for hit in hits:
            key = term_key(hit.term) or (hit.term,)
            weight = self._weight(hit, key)
            if vocabulary is not None and not vocabulary.issuperset(content_words(key)):
                weight *= self.off_catalog
            if key not in best or weight > best[key][0]:
                best[key] = (weight, hit)
        return best

    def _weight(self, hit: Hit, key: tuple[str, ...]) -> float:
        weight = self.field_weights.get(hit.field, 0.3)
        return weight * (self.phrase_bonus if len(key) > 1 else 1.0)

    @staticmethod
    def _reasons(best: Mapping[tuple[str, ...], tuple[float, Hit]]) -> tuple[str, ...]:
        by_field: dict[str, list[str]] = {}
        for _, hit in sorted(best.values(), key=lambda wh: (-wh[0], wh[1].term)):
            by_field.setdefault(hit.field, []).append(hit.term)
        return tuple(f"{_FIELD_NAMES.get(f, f)}: {', '.join(terms)}"
                     for f, terms in by_field.items())
