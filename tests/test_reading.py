"""Tests for ranking.reading's shortcuts: each answers as the plain per-sentence search does."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch.catalog import Catalog
from arxivwatch.config import load
from arxivwatch.models import Paper
from arxivwatch.query import Doc
from arxivwatch.ranking import Ranker
from arxivwatch.ranking.contribution import FAMILIES, TopicCues
from arxivwatch.ranking.ranker import sigmoid
from arxivwatch.ranking.reading import (
    _SENTENCE_END,
    _STATES_CONTRIBUTION,
    Cues,
    Reading,
    _anchor_test,
    _ends_with_abbreviation,
    sentences,
)

ROOT = Path(__file__).resolve().parents[1]
CUES = Cues.parse('LoRA OR "low-rank adaptation" OR "low rank" OR rank OR benchmark OR '
                  '"language model" OR quantiz* OR "N:M" OR data OR dataset')
WORDS = ["We", "propose", "LoRA", "lora", "low-rank", "low", "rank", "Low-Rank", "adaptation",
         "a", "benchmark", "bench-mark", "benchmarks", "language", "model", "models", "Large",
         "quantized", "quantization", "N:M", "data", "dataset", "datasets", "this", "paper",
         "e.g.", "i.e.", "etc.", ".", ". ", "!", "?", ",", ";", "(", ")", "-", "\n", "$x$", "~",
         "\\textbf{LoRA}", "et al.", "Here", "here,", "our", "release", "evaluate", "We present",
         "In this paper", "we study", "?!", "...", "In this work we", "studied", "!?", "\t",
         "  ", "fig.", "proposes"]
texts = st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join)


def reading(title: str, abstract: str) -> Reading:
    return Reading(Doc.from_paper(Paper("1", title or "x", " ".join(abstract.split()))))


def first_in(cues: Cues, texts: tuple[str, ...]) -> str | None:
    """The plain search: the first cue (in order) whose pattern matches one of the texts."""
    for cue in cues.cues:
        if any(cue.pattern.search(t) for t in texts):
            return cue.label
    return None


@settings(max_examples=300)
@given(texts, texts)
def test_cue_shortcuts_answer_as_the_plain_search(title: str, abstract: str) -> None:
    """find_anywhere (one search of the abstract), find_claimed, find_at and count (anchors
    tested per sentence first) give what searching every sentence with every cue gives."""
    r = reading(title, abstract)
    for cues in (CUES, FAMILIES["release"], FAMILIES["language_model"]):
        assert cues.find_anywhere(r) == first_in(cues, r.sentences)
        assert cues.find_claimed(r) == first_in(cues, r.contribution)
        for at, sentence in enumerate(r.sentences):
            assert cues.find_at(r, at) == first_in(cues, (sentence,))
        assert cues.count(r) == sum(first_in(cues, (s,)) is not None for s in r.sentences)
        assert cues.find(r.title, r.squeezed_title) == first_in(cues, (r.title,))


# The contribution pattern as first written: one alternation of verbs.
STATES = re.compile(
    r"\b(?:we|our|this (?:paper|work|study|article|letter|report|survey|review|thesis)|"
    r"in this (?:paper|work)|here)\b[^.;]*?\b(?:propos|present|introduc|develop|design|devis|"
    r"put forward|formulat|unveil|releas|construct|curat|buil[dt]|creat|contribut|"
    r"establish|offer|provid|collect|compil|assembl|stud(?:y|ied)|investigat|analy[sz]|"
    r"examin|explor|revisit|summari[sz]|review|survey|categori[sz]|benchmark|evaluat|assess|"
    r"measur|compar|extend|enabl|achiev)")


def plain_sentences(clean_text: str) -> list[str]:
    out: list[str] = []
    for piece in _SENTENCE_END.split(clean_text.strip()):
        if out and _ends_with_abbreviation(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


@settings(max_examples=300)
@given(texts)
def test_sentences_and_contribution_as_first_written(abstract: str) -> None:
    """The faster sentence cut and contribution test give the plain ones' answers."""
    r = reading("x", abstract)
    assert sentences(r.abstract) == plain_sentences(r.abstract)
    assert sentences(abstract) == plain_sentences(abstract)
    assert r.contribution == tuple(s for s in r.sentences if STATES.search(s))
    for s in r.sentences:
        assert (_STATES_CONTRIBUTION.search(s) is None) == (STATES.search(s) is None)


def test_anchor_test_keeps_order_and_tests_each_anchor() -> None:
    """The generated anchor test gives the cues whose anchors are all present, in order."""
    cues = Cues.parse('"low rank" OR rank OR "rank adaptation" OR lora OR "N:M"').cues
    test = _anchor_test(cues)
    assert [c.label for c in test("lowrankadaptation")] == [
        '"low rank"', "rank", '"rank adaptation"', '"N:M"']   # `N:M` has no anchor
    assert [c.label for c in test("ranks")] == ["rank", '"N:M"']


def test_score_skips_only_unweighed_silent_features() -> None:
    """`score` equals the model over every feature (`features`), with the same reasons."""
    topics = load(ROOT / "config" / "topics.yaml", {}).topics
    ranker = Ranker(Catalog.parse((ROOT / "catalog" / "README.md").read_text()).sections)
    papers = [
        Paper("1", "LoRA-Bench: A Benchmark for Low-Rank Adaptation of LLMs",
              "We present a benchmark dataset of 10K instructions for evaluating large language "
              "models. We release it on GitHub. Mixture of experts serving on GPUs is faster."),
        Paper("2", "A Survey of Model Compression for Large Language Models",
              "This survey reviews pruning, quantization and low-rank decomposition. Our "
              "taxonomy covers MoE inference systems."),
    ]
    for paper in papers:
        doc = Doc.from_paper(paper)
        for topic in topics:
            hits = topic.query.match(doc) or ()
            values, reasons = ranker.features(doc, topic, hits)
            weights = ranker.weights[TopicCues.of(topic).kind]
            scored = ranker.score(doc, topic, hits)
            assert scored.score == round(sigmoid(weights.logit(values)), 6)
            assert scored.reasons == tuple(reasons[:12])
