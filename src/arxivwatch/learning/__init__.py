"""A ranking that learns from the curator: per-section models over the catalog and decisions.

- `examples`: what each section's model is trained on (catalog entries, approvals, rejections);
- `model`: TF-IDF features and one logistic regression per section (`train`, `Models`, `Policy`);
- `scorer`: `LearnedScorer`, a `ranking.Scorer` to blend into the default ranking;
- `trainer`: `ModelCache`, rebuilt off the request path when decisions change;
- `suggest`: what the decisions say about a topic's query (`tune TOPIC --suggest`).
"""

from arxivwatch.learning.examples import Example, SectionExamples, collect, paper_text
from arxivwatch.learning.model import Models, Policy, SectionModel, analyse, train
from arxivwatch.learning.scorer import NEUTRAL, WEIGHT, LearnedScorer
from arxivwatch.learning.suggest import Missed, Suggestions, Term, format_suggestions, suggest
from arxivwatch.learning.trainer import ModelCache, RetrainOnDecide, StoreSource
from arxivwatch.ranking import Blend

__all__ = [
    "NEUTRAL", "WEIGHT", "Example", "LearnedScorer", "Missed", "ModelCache", "Models", "Policy",
    "RetrainOnDecide", "SectionExamples", "SectionModel", "StoreSource", "Suggestions", "Term",
    "analyse", "collect", "format_suggestions", "learned_scorer", "paper_text", "suggest", "train",
]


def learned_scorer(base: Blend, cache: ModelCache, weight: float = WEIGHT) -> Blend:
    """The default ranking `base` with the learned part blended in (falling back to `base`)."""
    return base.with_part(LearnedScorer(cache.current, fallback=base), weight)
