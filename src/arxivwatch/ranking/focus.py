"""Focus: how central are the matched terms to the paper?

A paper about its subject keeps naming it: the topic's terms recur in its abstract (each term
counts up to a cap, so repeating one word ten times says no more than three) and sit in its
title. What a title names instead (an application, a study) is read by `contribution`.
"""

from __future__ import annotations

import math
import re

from arxivwatch.models import Hit, Topic
from arxivwatch.query.matcher import TextMatcher, compile_term
from arxivwatch.ranking.base import DocLike, Scored

REPEAT_SATURATION = 4.0     # abstract mentions at which focus reaches 1 - 1/e
MENTIONS_PER_TERM = 3       # repeats of one term count up to this: distinct terms say more
TITLE_MENTIONS = 3.0        # a title hit counts as this many abstract mentions


class Focus:
    """Scores how central the matched terms are to the paper."""

    def __init__(self) -> None:
        self._patterns: dict[str, re.Pattern[str] | None] = {}

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """1 - exp(-mentions / saturation)."""
        return Scored(self.value(doc, topic, hits))

    def value(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> float:
        """`score` as a number (it gives no reasons)."""
        return 1.0 - math.exp(-self._mentions(doc, topic, hits) / REPEAT_SATURATION)

    def _mentions(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> float:
        labels = {h.term for h in hits if h.field == "abs"}
        in_title = any(h.field == "ti" for h in hits)
        abstract = doc.clean("abs")
        count = 0
        for label in sorted(labels):
            pattern = self._pattern(topic, label)
            if pattern is not None:
                count += min(MENTIONS_PER_TERM, len(pattern.findall(abstract)))
        return count + (TITLE_MENTIONS if in_title else 0.0)

    def _pattern(self, topic: Topic, label: str) -> re.Pattern[str] | None:
        if label not in self._patterns:
            self._patterns[label] = _abstract_pattern(topic, label)
        return self._patterns[label]


def _abstract_pattern(topic: Topic, label: str) -> re.Pattern[str] | None:
    """The regex the query uses for the term `label`, over the abstract."""
    for term in topic.query.terms():
        if term.label == label and term.field in ("ti", "abs", "all"):
            matcher = compile_term("abs", term.text, term.prefix)
            return matcher.pattern if isinstance(matcher, TextMatcher) else None
    return None
