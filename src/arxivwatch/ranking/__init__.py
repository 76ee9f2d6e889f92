"""Ranking: scoring matched papers, assigning each to one topic, and the per-day cap.

Pure: takes values and returns values. `select` is the one selection path used by both the
daily poll and the backtest.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from arxivwatch.models import Paper
from arxivwatch.ranking.base import Blend, DocLike, Scored, Scorer
from arxivwatch.ranking.evidence import QueryEvidence
from arxivwatch.ranking.focus import Focus
from arxivwatch.ranking.select import (
    Known,
    Selector,
    either,
    in_categories,
    known_predicate,
    select,
)
from arxivwatch.ranking.similarity import CatalogSimilarity, SectionLike, section_key

__all__ = [
    "Blend",
    "CatalogSimilarity",
    "DocLike",
    "Known",
    "QueryEvidence",
    "Scored",
    "Scorer",
    "SectionLike",
    "Selector",
    "default_scorer",
    "either",
    "in_categories",
    "known_predicate",
    "section_key",
    "select",
]


WEIGHTS = (0.3, 0.4, 0.3)   # query evidence, catalog similarity, focus: chosen on bench/quality.py


def default_scorer(sections: Iterable[SectionLike], papers: Mapping[str, Paper] | None = None,
                   ) -> Blend:
    """The shipped ranking: query evidence, similarity to the catalog section, and focus."""
    similarity = CatalogSimilarity(sections, papers)
    evidence = QueryEvidence(vocabularies=similarity.vocabularies())
    return Blend(((evidence, WEIGHTS[0]), (similarity, WEIGHTS[1]), (Focus(), WEIGHTS[2])))
