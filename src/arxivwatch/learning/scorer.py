"""The learned part of the ranking: the curator's decisions carry the score as they accumulate.

The shipped ranking (`ranking.Ranker`) gives the chance that a paper belongs from what the paper
says; a section's model (`learning.model`, classes balanced) says how much more the paper's words
look like what the curator filed than like what they turned down. That evidence is added in
log-odds, its weight growing with the decisions behind it:

    logit(score) = logit(shipped) + a * (logit(model) - c * center),   a = n / (n + EVIDENCE)

where n counts the curator's own decisions for the section (approvals and rejections; the
catalog's entries alone do not move it) and `center` is the model's mean log-odds over those
decided papers, taken off in part (c = CENTERING). A paper that looks like the rejections
sinks, one that looks like the approvals rises, and a topic's `min_score` and volume keep
their meaning. Measured with the simulated curator (bench/relevance.py): without the center a
section whose digest is mostly approved pushed every paper up (llm_evaluation from 1.5 to 2.1
posts a sample day); with all of it, papers a little below the decided average sank under the
bar (lora recall 0.94 -> 0.90); half keeps both. (Measured with the simulated curator:
mixing the two scores instead, (1 - a) * shipped + a * model, pulled every low score towards
0.5 and posted twice as much at lower precision.) A section without a model keeps the shipped
score, and the reason says why.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from arxivwatch.catalog import section_key
from arxivwatch.learning.model import Models
from arxivwatch.models import Hit, Topic
from arxivwatch.ranking import DocLike, Scored, Scorer

EVIDENCE = 30       # decisions at which the model's evidence counts half
MAX_SHARE = 1.0     # ... and at most whole
CENTERING = 0.5     # how much of the decided papers' mean log-odds is taken off (see above)
TOP_WORDS = 3


def logit(p: float) -> float:
    """log(p / (1 - p)), safe at 0 and 1."""
    p = min(1.0 - 1e-6, max(1e-6, p))
    return math.log(p / (1.0 - p))


def share(decisions: int, evidence: int = EVIDENCE) -> float:
    """The weight of the model's evidence after `decisions` decisions of the curator."""
    return min(MAX_SHARE, decisions / (decisions + evidence)) if decisions > 0 else 0.0


class LearnedScorer:
    """The shipped score moved by the section model's evidence, weighed by its decisions."""

    def __init__(self, base: Scorer, models: Models | Callable[[], Models], *,
                 evidence: int = EVIDENCE, top_words: int = TOP_WORDS) -> None:
        # A callable lets a long-lived scorer follow a ModelCache as it retrains.
        self._models = models if callable(models) else (lambda: models)
        self.base, self.evidence, self.top_words = base, evidence, top_words

    @property
    def models(self) -> Models:
        """The models in use now."""
        return self._models()

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """The mixed score (see the module doc), with the shipped reasons and the model's."""
        shipped = self.base.score(doc, topic, hits)
        models = self._models()
        key = section_key(topic.section)
        model = models.sections.get(key)
        if model is None:
            why = models.skipped.get(key, "no model yet")
            return Scored(shipped.score, (*shipped.reasons, f"learned: none ({why})"))
        a = share(model.decisions, self.evidence)
        if a == 0.0:
            return Scored(shipped.score, (*shipped.reasons, "learned: no decisions yet"))
        row = models.vector(doc.paper)
        p = model.probability(row)
        z = logit(shipped.score) + a * (model.log_odds(row) - CENTERING * model.center)
        value = round(1.0 / (1.0 + math.exp(-z)), 6)
        words = model.pushes(row, models.names, self.top_words)
        pushed = " ".join(f"+{w.replace(' ', '-')}" for w in words)
        why = f"learned {p:.2f} from {model.decisions} decisions, weight {a:.2f}"
        return Scored(value, (*shipped.reasons, f"{why}: {pushed}" if pushed else why))
