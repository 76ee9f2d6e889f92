"""Tests for ranking.prefilter: title terms without anchors (`ti:"N:M"`) and the keep test.

(The prefilter's other tests are in test_ranking.py.)
"""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch import textnorm
from arxivwatch.config import load
from arxivwatch.models import Paper
from arxivwatch.query import Doc, parse
from arxivwatch.ranking.prefilter import (
    TEXT_REGEX,
    TITLE_REGEX,
    Condition,
    Prefilter,
    _anchors,
    _text_test,
    condition,
    first_anchors,
    simplify,
    squeeze_raw,
    squeeze_words,
    whole_text,
)
from arxivwatch.replay.snapshot import _collapse

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


_SHIPPED = load(ROOT / "config" / "topics.yaml", {}).topics
_SHIPPED_PREFILTER = Prefilter([t.query for t in _SHIPPED])
_ANCHOR_WORDS = sorted({a[1] for c in _SHIPPED_PREFILTER.conditions for a in _anchors(c)
                        if a[0] not in (TITLE_REGEX, TEXT_REGEX)}
                       | {"low rank", "N:M", "2-4", "of", "é", "-", "exploration", "LoRA", "Lo-RA",
                          "evaluate", "eval", "metadata", "data", "$", "\\emph{", "}"})
anchor_texts = st.lists(st.sampled_from(_ANCHOR_WORDS) | st.text(max_size=4),
                        max_size=14).map(lambda ws: "".join(w + (" " if len(w) % 3 else "")
                                                            for w in ws))


def _holds(cond: Condition, t: str, a: str, title: str, rest: str) -> bool:
    """A condition evaluated plainly: each anchor an `in` test, a regex searched (a text
    regex as the prefilter searches it: see test_confirmed_short_anchors_never_reject_a_match)."""
    if cond is None:
        return True
    op, text = cond
    if isinstance(text, str):
        if op == TITLE_REGEX:
            return re.search(text, " ".join(textnorm.clean(title).split())) is not None
        if op == TEXT_REGEX:
            return _text_test(text)(whole_text(title, rest))
        return text in (t if op == "ti" else a)
    parts = (_holds(p, t, a, title, rest) for p in text)
    return all(parts) if op == "AND" else any(parts)


@settings(max_examples=300, deadline=None)
@given(anchor_texts, anchor_texts, st.none() | anchor_texts)
def test_the_automaton_and_the_expression_answer_as_the_plain_conditions(
        title: str, abstract: str, comments: str | None) -> None:
    """The shipped topics' prefilter (first anchors found by the automaton, overlapping ones
    too, title anchors by another over the title, the rest by `in`) answers as its conditions
    evaluated anchor by anchor."""
    t = squeeze_words(textnorm.clean(title))
    a = t + "\n" + squeeze_words(textnorm.clean(f"{abstract}\n{comments or ''}"))
    rest = f"{abstract}\n{comments or ''}"
    expected = tuple(_holds(c, t, a, title, rest) for c in _SHIPPED_PREFILTER.conditions)
    if title or abstract or comments:
        assert _SHIPPED_PREFILTER.possible_texts(title, abstract, comments) == expected


def test_title_anchors_inside_others_are_found() -> None:
    """Title anchors found by the automaton include those inside or overlapping another."""
    pf = Prefilter([parse("ti:compress OR ti:compression"), parse("ti:rank AND ti:lowrank"),
                    parse("ti:sparse")])
    assert pf.possible_texts("Compression of low-rank nets", "", None) == (True, True, False)
    assert pf.possible_texts("Low rank", "", None) == (False, True, False)
    assert pf.possible_texts("Sparsely", "", None) == (False, False, True)   # a substring
    assert pf.possible_texts("Spare", "", None) == (False, False, False)


def test_the_first_anchors_are_those_a_paper_without_anchors_is_asked() -> None:
    """The first part of an AND, every part of an OR; title anchors are not searched whole."""
    cond = simplify(condition(parse('(lora OR (expert AND moe) OR ti:survey) AND LLM')))
    assert first_anchors(cond) == [("a", "lora"), ("a", "expert")]


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(max_codepoint=127)) | st.text() | anchor_texts)
def test_squeeze_raw_is_clean_then_squeeze(text: str) -> None:
    """The prefilter's one-pass squeeze (ASCII without LaTeX) equals cleaning then squeezing."""
    assert squeeze_raw(text) == squeeze_words(textnorm.clean(text))


SHORT_QUERIES = ['LoRA OR QLoRA OR "low-rank"', "abs:MoE", "ti:eval", "SVD OR co:GPU", "ti:data*",
                 'ti:"N:M" OR lora', "LLM"]
SHORT_WORDS = ["LoRA", "QLoRA", "Lo-RA", "Lo RA", "lo", "ra", "exploration", "MoE", "M-oE",
               "moes", "eval", "evals", "evaluate", "SVD", "S-VD", "GPU", "GPUs", "data",
               "dataset", "metadata", "LLM", "LLMs", "low", "rank", "$", "$LoRA$", "{", "}",
               "~", "\\emph{", "\\", ".", "e.g.", "-", ":", "\u2009", "\xa0", "é", "N:M"]
short_texts = st.lists(st.sampled_from(SHORT_WORDS) | st.sampled_from([" ", "\n", "  ", "\t"]),
                       max_size=16).map("".join)


@settings(max_examples=700)
@given(short_texts, short_texts, st.none() | short_texts, st.sampled_from(SHORT_QUERIES))
def test_confirmed_short_anchors_never_reject_a_match(title: str, abstract: str,
                                                      comments: str | None, query: str) -> None:
    """A short anchor confirmed by its term's regex over the raw texts (cleaned, white space
    collapsed) never rejects a paper the query matches, built as the snapshot reader builds it
    (white space collapsed first)."""
    q = parse(query)
    p = Paper("1", _collapse(title) or "x", _collapse(abstract),
              comments=None if comments is None else _collapse(comments))
    if q.match(Doc.from_paper(p)) is not None:
        assert Prefilter([q]).possible_texts(title if title.split() else "x", abstract,
                                             comments) == (True,)
        assert Prefilter([q]).possible(p) == (True,)
