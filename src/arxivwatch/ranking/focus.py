"""Focus: is the paper *about* its matched terms, or does it merely use them?

The word LoRA appears in far more papers that fine-tune with LoRA for an application than in
papers about LoRA. Two cheap signals separate them: a method paper keeps naming its subject
(the topic's terms recur in its abstract and sit in its title), and an application paper names
its domain in the title (medical, legal, speech, a shared task...).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from arxivwatch import textnorm
from arxivwatch.models import Hit, Topic
from arxivwatch.query.matcher import TextMatcher, compile_term
from arxivwatch.ranking.base import DocLike, Scored

# Title words that name an application domain rather than a method (stems, see textnorm.stem).
# Not the settings a system runs in (wireless, IoT, edge, mobile): for the systems sections
# those are in scope (measured: dropping "wireless" and "iot" changed one posting on the
# sample, WDMoE, an MoE serving system over wireless devices, now posted).
APPLICATION_WORDS = frozenset({
    "medical", "clinical", "biomedical", "health", "healthcare", "patient", "radiology",
    "disease", "diagnosis", "cancer", "ecg", "eeg", "medicine", "legal", "law", "financial",
    "finance", "education", "educational", "student", "agriculture", "agricultural", "chemistry",
    "chemical", "molecule", "molecular", "protein", "drug", "genomic", "speech", "asr",
    "sentiment", "hate", "sexism", "emotion", "emotional", "dialect", "arabic", "bengali",
    "chinese", "hindi", "indic", "russian", "vietnamese", "korean", "japanese", "persian",
    "urdu", "multilingual", "semeval", "sql", "chatbot", "mental", "cybersecurity", "malware",
    "vulnerability", "robot", "robotic", "driving", "satellite", "weather", "climate", "music",
    "game", "physics", "material", "e-commerce", "customer", "industrial",
    "manufacturing", "traffic", "trajectory", "forecasting", "spatio", "tabular",
    "recommendation", "recommender", "news", "tweet", "misinformation", "summarization",
})
_SHARED_TASK = re.compile(r"\bat [A-Za-z][\w-]* ?(?:20\d\d|task)|\bshared task|\bsemeval", re.I)
REPEAT_SATURATION = 4.0     # abstract mentions at which focus reaches 1 - 1/e
MENTIONS_PER_TERM = 3       # repeats of one term count up to this: distinct terms say more
TITLE_MENTIONS = 3.0        # a title hit counts as this many abstract mentions
APPLICATION_FACTOR = 0.55   # focus is multiplied by this per application cue (at most two)


class Focus:
    """Scores how central the matched terms are to the paper, minus application cues."""

    def __init__(self, application_words: Iterable[str] = APPLICATION_WORDS) -> None:
        self.application_words = frozenset(textnorm.stem(w) for w in application_words)
        self._patterns: dict[str, re.Pattern[str] | None] = {}

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """1 - exp(-mentions / saturation), damped for application cues in the title."""
        mentions = self._mentions(doc, topic, hits)
        value = 1.0 - math.exp(-mentions / REPEAT_SATURATION)
        cues = self.application_cues(doc.paper.title)
        value *= APPLICATION_FACTOR ** min(2, len(cues))
        reasons = [f"application cue in title: {', '.join(cues)}"] if cues else []
        return Scored(value, tuple(reasons))

    def application_cues(self, title: str) -> list[str]:
        """The application-domain words (or shared-task wording) of a title."""
        words = dict.fromkeys(textnorm.stem(t) for t in textnorm.tokens(title))
        cues = [w for w in words if w in self.application_words]
        if _SHARED_TASK.search(title):
            cues.append("shared task")
        return cues

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
