"""Ranking: scoring matched papers, assigning each to one topic, and the per-day cap.

Pure: takes values and returns values. `select` is the one selection path used by both the
daily poll and the backtest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from arxivwatch.catalog import section_key
from arxivwatch.models import Paper
from arxivwatch.ranking.base import DocLike, Scored, Scorer
from arxivwatch.ranking.evidence import QueryEvidence
from arxivwatch.ranking.ranker import KIND_WEIGHTS, Ranker, Weights
from arxivwatch.ranking.select import (
    Known,
    Selector,
    either,
    in_categories,
    known_predicate,
    route,
    select,
)
from arxivwatch.ranking.similarity import CatalogSimilarity, SectionLike

__all__ = [
    "KIND_WEIGHTS",
    "CatalogSimilarity",
    "DocLike",
    "Known",
    "QueryEvidence",
    "Ranker",
    "Scored",
    "Scorer",
    "SectionLike",
    "Selector",
    "Weights",
    "default_scorer",
    "either",
    "in_categories",
    "known_predicate",
    "route",
    "section_key",
    "select",
]


def default_scorer(sections: Iterable[SectionLike], papers: Mapping[str, Paper] | None = None,
                   *, reasons: bool = True) -> Ranker:
    """The shipped ranking: the chance that a matched paper belongs (see `ranking.ranker`).

    `reasons=False`: scores only, no reasons (a backtest outputs none), the same scores.
    """
    return Ranker(sections, papers, reasons=reasons)
