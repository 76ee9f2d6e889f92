"""The shipped ranking: the estimated chance that a matched paper belongs in its topic's section.

A matched paper is described by a few features in [0, 1]: how strongly the query's own terms
speak for it (`QueryEvidence`), how much it resembles what the section already holds
(`CatalogSimilarity`), how central the matched terms are to its abstract (`Focus`), and what it
says it contributes (`Contribution`: the subject in the title or a coined name, in the sentence
that states the contribution, what points to another section, the kind of contribution). A
logistic model per kind of section (method, system, survey, dataset, benchmark) weighs them:

    score = 1 / (1 + exp(-(bias + sum(weight * feature))))

The weights were fitted on a reviewer's verdicts of real arXiv papers read against the curator's
rubric (`bench/relevance.py --fit`); a topic's `min_score` is then a chance to clear. Reasons
name the features that moved the score most, and the catalog entry the paper is closest to.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from arxivwatch.models import Hit, Paper, Topic
from arxivwatch.ranking.base import DocLike, Scored
from arxivwatch.ranking.contribution import FEATURES as READ_FEATURES
from arxivwatch.ranking.contribution import Contribution, TopicCues
from arxivwatch.ranking.evidence import QueryEvidence
from arxivwatch.ranking.focus import Focus
from arxivwatch.ranking.reading import Reading
from arxivwatch.ranking.similarity import CatalogSimilarity, SectionLike

FEATURES = ("evidence", "similarity", "focus", *READ_FEATURES)


@dataclass(frozen=True)
class Weights:
    """A logistic model over `FEATURES`: its bias and one weight per feature (missing = 0)."""

    bias: float
    of: Mapping[str, float]

    def logit(self, values: Mapping[str, float]) -> float:
        """bias + the weighted sum of the features."""
        return self.bias + sum(w * values.get(name, 0.0) for name, w in self.of.items())


# Fitted by `bench/relevance.py --fit` on ../shared/data/judged-*.tsv (see bench/README.md).
KIND_WEIGHTS: Mapping[str, Weights] = {
    "method": Weights(-6.05, {"evidence": 2.58, "similarity": 2.40, "focus": 1.95,
                      "subject_title": 1.28, "subject_contribution": 0.31, "subject_spread": 2.68,
                      "against_title": -2.32, "against_contribution": -0.74, "other_kind": -1.88}),
    "system": Weights(-8.75, {"evidence": 3.76, "similarity": 2.37, "focus": 3.46, "kind": 1.32,
                      "other_kind": -1.09}),
    "survey": Weights(-0.85, {"subject_title": 1.00, "subject_contribution": 0.48,
                      "against_title": -1.57, "against_contribution": -0.97}),
    "dataset": Weights(-2.73, {"focus": -0.24, "subject_spread": 1.28, "kind": 1.65,
                      "other_kind": -1.16, "against_title": -1.74}),
    "benchmark": Weights(-3.30, {"evidence": 1.14, "similarity": 1.24, "focus": 1.10,
                      "subject_title": 0.48, "subject_contribution": 0.14, "subject_spread": 1.94,
                      "against_title": -1.86, "against_contribution": -0.76, "kind": -0.03,
                      "other_kind": -1.31, "language_model": 1.24}),
}
MAX_REASONS = 4
# Features that never give a reason: not computed for a score whose model does not weigh them.
SILENT = ("focus", "subject_spread", "language_model")


def unused_cues(topic: Topic, weights: Mapping[str, Weights] = KIND_WEIGHTS) -> list[str]:
    """The topic's `about` / `against` keys that its kind's model does not weigh.

    A system section's papers are told apart by what they build (the query's systems words and
    the catalog), not by naming the subject: its model leaves those features out (measured:
    weighing them lowered the MoE sections' out-of-fold AUC from 0.96 to 0.93).
    """
    used = set(weights[topic.kind].of) if topic.kind in weights else set()
    keys = {"about": ("subject_title", "subject_contribution", "subject_spread"),
            "against": ("against_title", "against_contribution")}
    return [key for key, names in keys.items()
            if getattr(topic, key) is not None and used.isdisjoint(names)]


def sigmoid(z: float) -> float:
    """The logistic function, safe for any z."""
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


class Ranker:
    """Scores a matched paper for a topic: see the module doc."""

    def __init__(self, sections: Iterable[SectionLike], papers: Mapping[str, Paper] | None = None,
                 *, weights: Mapping[str, Weights] = KIND_WEIGHTS, reasons: bool = True) -> None:
        self.reasons = reasons   # False: scores only (a replay), see `score`
        self.similarity = CatalogSimilarity(sections, papers)
        self.evidence = QueryEvidence(vocabularies=self.similarity.vocabularies())
        self.focus = Focus()
        self.contribution = Contribution()
        self.weights = weights
        self._reading: Reading | None = None
        self._cues: dict[int, tuple[Topic, TopicCues]] = {}
        self._skip: dict[str, frozenset[str]] = {}   # per kind: see `score`

    def features(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...],
                 ) -> tuple[dict[str, float], list[str]]:
        """Every feature of the paper for the topic, and the reasons of the parts."""
        reasons: list[str] = []
        return self._features(doc, topic, hits, (), reasons), reasons

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """The chance that the paper belongs, and why.

        A feature that gives no reason (`SILENT`) and that the kind's model does not weigh
        is not computed: the score and the reasons are those of `features`. A ranker made
        with `reasons=False` (a replay, which outputs none) gives no reasons and computes
        only the features its kind's model weighs: the same score.
        """
        kind = self.cues(topic).kind
        weights = self.weights[kind]
        skip = self._skip.get(kind)
        if skip is None:
            unused = FEATURES if not self.reasons else SILENT
            skip = self._skip[kind] = frozenset(f for f in unused if not weights.of.get(f, 0.0))
        if not self.reasons:
            values = self._features(doc, topic, hits, skip, None)
            return Scored(round(sigmoid(weights.logit(values)), 6))
        reasons: list[str] = []
        values = self._features(doc, topic, hits, skip, reasons)
        return Scored(round(sigmoid(weights.logit(values)), 6), tuple(reasons[:MAX_REASONS * 3]))

    def _features(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...],
                  skip: Collection[str], reasons: list[str] | None) -> dict[str, float]:
        """The features not in `skip` (those are 0); their reasons go to `reasons`, and with
        None the parts are asked for values only (no reasons computed)."""
        values: dict[str, float] = {}
        for name, part in (("evidence", self.evidence), ("similarity", self.similarity),
                           ("focus", self.focus)):
            if name in skip:
                values[name] = 0.0
            elif reasons is None:
                values[name] = part.value(doc, topic, hits)
            else:
                scored = part.score(doc, topic, hits)
                values[name] = scored.score
                reasons.extend(scored.reasons)
        read = self.contribution.read(self._read(doc), self.cues(topic), skip=skip)
        values.update(read.values)
        if reasons is not None:
            reasons.extend(read.reasons)
        return values

    def cues(self, topic: Topic) -> TopicCues:
        """The topic's cues, built once per topic object (a `tune` variant has its own)."""
        found = self._cues.get(id(topic))
        if found is None or found[0] is not topic:
            found = self._cues[id(topic)] = (topic, TopicCues.of(topic))
        return found[1]

    def _read(self, doc: DocLike) -> Reading:
        if self._reading is None or self._reading.doc is not doc:
            self._reading = Reading(doc)  # type: ignore[arg-type]
        return self._reading
