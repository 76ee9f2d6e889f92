"""Tests for ranking.prefilter: title terms without anchors (`ti:"N:M"`) and the keep test.

(The prefilter's other tests are in test_ranking.py.)
"""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch.config import load
from arxivwatch.models import Paper
from arxivwatch.query import Doc, parse
from arxivwatch.ranking.prefilter import TITLE_REGEX, Prefilter, condition, simplify

ROOT = Path(__file__).resolve().parents[1]
QUERIES = [
    '(ti:pruning OR ti:"N:M" OR ti:"2:4") AND (LLM OR "language model")',
    'ti:"N:M" OR lora',
    'ti:"2:4" AND ti:sparse',
    '(ti:"N:M" AND nm) OR ti:"a b"',
]
WORDS = ["N:M", "n:m", "N-M", "N M", "NM", "N:Ms", "n", "m", "2:4", "2-4", "2 4", "24", "2:4s",
         "pruning", "LLM", "language", "model", "models", "sparse", "lora", "a", "b", "ab",
         "a-b", "environment", "$N$:$M$", "N\n:M", "N  M", "N\tM", "(", ")", ".", ",", "-", ":",
         "\\textbf{N:M}", "e.g.", "N.M", "N. M", "x"]
texts = st.lists(st.sampled_from(WORDS), max_size=12).map(" ".join)
spaced = st.lists(st.sampled_from(WORDS), max_size=12).map("\n ".join)


def paper(title: str, abstract: str = "") -> Paper:
    return Paper("1", " ".join(title.split()) or "x", " ".join(abstract.split()))


@settings(max_examples=400)
@given(st.one_of(texts, spaced), texts, st.sampled_from(QUERIES))
def test_title_terms_without_anchors_never_reject_a_match(title: str, abstract: str,
                                                          query: str) -> None:
    """A paper a query matches passes the prefilter, from the raw texts (keep_texts, before
    white space is collapsed) and from the Paper."""
    q = parse(query)
    p = paper(title, abstract)
    if q.match(Doc.from_paper(p)) is not None:
        assert Prefilter([q]).possible(p) == (True,)
        assert Prefilter([q]).possible_texts(title or "x", abstract, None) == (True,)


def test_a_title_term_without_anchors_is_tested_by_its_regex() -> None:
    """`ti:"N:M"` no longer makes its OR unknown: its letters together, then its regex."""
    cond = simplify(condition(parse('(ti:pruning OR ti:"N:M") AND LLM')))
    assert cond is not None
    assert cond[0] == "AND"
    pf = Prefilter([parse('(ti:pruning OR ti:"N:M") AND LLM')])
    assert pf.possible(paper("Sparse LLMs", "An LLM.")) == (False,)
    assert pf.possible(paper("Environment models", "An LLM.")) == (False,)   # `nm`, no match
    assert pf.possible(paper("N:M sparsity for LLMs", "An LLM.")) == (True,)
    assert pf.possible(paper("Pruning LLMs", "An LLM.")) == (True,)


def test_a_title_regex_implies_no_anchor() -> None:
    """A title regex is not an anchor: it neither implies an anchor nor is dropped for one."""
    cond = simplify(condition(parse('ti:"N:M" OR ti:n')))
    assert cond is not None
    assert TITLE_REGEX in repr(cond)


def test_shipped_topics_prefilter_never_rejects_their_matches() -> None:
    """On hand-made titles, every shipped topic that matches is possible."""
    topics = load(ROOT / "config" / "topics.yaml", {}).topics
    pf = Prefilter([t.query for t in topics])
    papers = [
        paper("N:M Sparse LLMs", "A language model is pruned."),
        paper("2:4 sparsity for transformers", "We prune LLaMA."),
        paper("Fast pruning of LLMs", "Structured pruning of a language model."),
        paper("An environment model", "A language model."),
    ]
    for p in papers:
        possible = pf.possible(p)
        for topic, ok in zip(topics, possible, strict=True):
            if topic.query.match(Doc.from_paper(p)) is not None:
                assert ok, (p.title, topic.name)
    assert pf.possible(papers[3])[[t.name for t in topics].index("pruning")] is False
