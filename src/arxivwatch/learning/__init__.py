"""A ranking that learns from the curator: per-section models over the catalog and decisions.

- `examples`: what each section's model is trained on (catalog entries, approvals, rejections);
- `model`: TF-IDF features and one logistic regression per section (`train`, `Models`, `Policy`);
- `scorer`: `LearnedScorer`, the shipped ranking moved by the models as decisions accumulate;
- `trainer`: `ModelCache`, rebuilt at the poll when decisions changed;
- `suggest`: what the decisions say about a topic's query (`tune TOPIC --suggest`).
"""

from arxivwatch.learning.examples import Example, SectionExamples, collect, paper_text
from arxivwatch.learning.model import Models, Policy, SectionModel, analyse, train
from arxivwatch.learning.scorer import EVIDENCE, LearnedScorer, share
from arxivwatch.learning.suggest import Missed, Suggestions, TermShare, format_suggestions, suggest
from arxivwatch.learning.trainer import ModelCache, StoreSource
from arxivwatch.ranking import Scorer

__all__ = [
    "EVIDENCE", "Example", "LearnedScorer", "Missed", "ModelCache", "Models", "Policy",
    "SectionExamples", "SectionModel", "StoreSource", "Suggestions", "TermShare",
    "analyse", "collect", "format_suggestions", "learned_scorer", "paper_text", "share",
    "suggest", "train",
]


def learned_scorer(base: Scorer, cache: ModelCache) -> LearnedScorer:
    """The shipped ranking `base`, moved by the section models as decisions accumulate."""
    return LearnedScorer(base, cache.current)
