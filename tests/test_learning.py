"""The learned ranking: examples, per-section models, the scorer, retraining, suggestions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import math
from typing import Any

import numpy as np
import pytest

from arxivwatch.catalog import Catalog
from arxivwatch.learning import (
    EVIDENCE,
    LearnedScorer,
    ModelCache,
    Models,
    Policy,
    StoreSource,
    collect,
    learned_scorer,
    share,
    suggest,
    train,
)
from arxivwatch.learning.scorer import CENTERING, MAX_SHARE
from arxivwatch.models import Candidate, Decision, Paper, Topic
from arxivwatch.query import Doc
from arxivwatch.ranking import QueryEvidence, Scored, select
from arxivwatch.replay.curator import Curator, LearningLoop
from arxivwatch.replay.labels import Labels
from arxivwatch.store import Store
from tests.test_cli_backtest import project as backtest_project
from tests.topics import make_topic

T0 = dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)
SMALL = Policy(min_positives=5)     # the test catalog's section has 6 entries
DAY = dt.date(2024, 6, 1)
LORA = "LLM Training > Techniques"
PRUNING = "Model Compression > Pruning"

# Method papers (what the curator files) and application papers (what the curator rejects).
METHODS = [
    "Adaptive rank allocation for low-rank adapters", "Initialising low-rank adapter matrices",
    "Learning rates for the two adapter matrices of low-rank adaptation",
    "Weight-decomposed low-rank adaptation", "Sharing random low-rank adapter matrices",
    "Quantised low-rank adapters for memory-efficient fine-tuning",
    "Rank-adaptive adapter pruning during low-rank adaptation",
    "A theory of why low-rank adapters train well",
]
APPLICATIONS = [
    "Fine-tuning Llama with LoRA for medical question answering",
    "LoRA fine-tuning for legal contract review", "Clinical notes summarisation with LoRA",
    "Detecting hate speech on social media by LoRA fine-tuned models",
    "Crop disease diagnosis with a LoRA tuned vision model", "Radiology report generation with LoRA",
]
CATALOG = "\n".join([
    "# Papers", "", "## LLM Training", "", "### Techniques", "",
    *(f"- [Arxiv 2024] [{t}](https://arxiv.org/abs/2401.{i:05d}). An adapter method."
      for i, t in enumerate(METHODS[:6], 1)),
    "", "## Model Compression", "", "### Pruning", "",
    "- [Arxiv 2024] [Structured pruning of LLMs](https://arxiv.org/abs/2402.00001). Prune heads.",
    "- [Arxiv 2024] [Wanda: pruning by weights and activations]"
    "(https://arxiv.org/abs/2402.00002). Unstructured pruning.", "",
])


TOPICS = (make_topic("lora", LORA, 'ti:LoRA OR ti:adapter OR ti:"low-rank"'),
          make_topic("pruning", PRUNING, "ti:pruning"))


def _paper(pid: str, title: str, abstract: str = "") -> Paper:
    return Paper(id=pid, title=title, abstract=abstract or title, day=DAY)


def _sections() -> list[Any]:
    return list(Catalog.parse(CATALOG).sections)


def _rejections(n: int = len(APPLICATIONS)) -> tuple[list[Decision], dict[str, Paper]]:
    papers = {f"2405.{i:05d}": _paper(f"2405.{i:05d}", t) for i, t in enumerate(APPLICATIONS)}
    decisions = [Decision(pid, "reject", "U1", T0, None, None, "lora") for pid in list(papers)[:n]]
    return decisions, papers


def _models(n_rejections: int = len(APPLICATIONS), **policy: Any) -> Any:
    decisions, papers = _rejections(n_rejections)
    return train(collect(_sections(), decisions, papers=papers, topics=TOPICS),
                 Policy(**{"min_positives": 5, **policy}))


def _score(scorer: Any, paper: Paper, topic: Topic = TOPICS[0]) -> Any:
    doc = Doc.from_paper(paper)
    return scorer.score(doc, topic, topic.query.match(doc) or ())


# -- examples -----------------------------------------------------------------------------------


def test_collect_positives_negatives_and_moves() -> None:
    """Catalog entries and approvals are positives; rejections and moved approvals negatives."""
    decisions, papers = _rejections(2)
    moved = _paper("2405.00099", "Pruning adapters away")
    papers[moved.id] = moved
    decisions.append(Decision(moved.id, "approve", "U1", T0, PRUNING, None, "lora"))
    found = collect(_sections(), decisions, papers=papers, topics=TOPICS)
    lora, pruning = found[("llm training", "techniques")], found[("model compression", "pruning")]
    assert [e.source for e in lora.positives] == ["catalog"] * 6
    assert [e.source for e in lora.negatives] == ["rejected", "rejected", "moved"]
    assert [e.source for e in pruning.positives] == ["catalog", "catalog", "approved"]


def test_collect_counts_an_approval_in_the_catalog_once() -> None:
    """An approval already written into the catalog is not a second positive."""
    pid = "2401.00001"
    approval = Decision(pid, "approve", "U1", T0, LORA, None, "lora")
    found = collect(_sections(), [approval], papers={pid: _paper(pid, METHODS[0])}, topics=TOPICS)
    assert len(found[("llm training", "techniques")].positives) == 6


def test_collect_skips_decisions_without_metadata() -> None:
    """A decision on a paper the store has no title for teaches nothing."""
    decision = Decision("2405.99999", "reject", "U1", T0, None, None, "lora")
    found = collect(_sections(), [decision], papers={}, topics=TOPICS)
    assert found[("llm training", "techniques")].negatives == []


# -- models and the scorer ----------------------------------------------------------------------


class Const:
    """A shipped ranking that gives every paper the same score and reason."""

    def __init__(self, value: float = 0.3, reason: str = "shipped") -> None:
        self.value, self.reason = value, reason

    def score(self, doc: Doc, topic: Topic, hits: tuple[Any, ...]) -> Scored:
        return Scored(self.value, (self.reason,))


def test_model_ranks_like_papers_above_unlike() -> None:
    """Trained on method approvals and application rejections, a new method outranks an app."""
    models = _models()
    method = _paper("2406.00001", "Rank allocation for low-rank adapter matrices")
    app = _paper("2406.00002", "LoRA fine-tuning for medical report generation")
    key = ("llm training", "techniques")
    assert models.probability(key, method) > 0.5 > models.probability(key, app)
    scorer = LearnedScorer(Const(), models)
    assert _score(scorer, method).score > 0.3 > _score(scorer, app).score


def test_reasons_name_the_words_that_pushed_up() -> None:
    """The shipped reasons come first; the learned one lists the words that raised the score."""
    scored = _score(LearnedScorer(Const(), _models()),
                    _paper("2406.00003", "Low-rank adapter matrices"))
    shipped, reason = scored.reasons
    assert shipped == "shipped"
    assert reason.startswith("learned 0.")
    assert f"from {len(APPLICATIONS)} decisions, weight {share(6):.2f}: " in reason
    words = reason.split(": ")[1].split()
    assert words
    assert all(w.startswith("+") for w in words)
    assert {"+adapter", "+matrix", "+low-rank", "+adapter-matrix"} & set(words)


@pytest.mark.parametrize(("rejections", "policy", "has_model"), [
    (6, {}, True),
    (2, {}, False),                                   # 2 < 3 rejections
    (2, {"min_negatives": 2}, True),
    (6, {"min_positives": 7}, False),                 # 6 catalog entries < 7
])
def test_fallback_with_too_few_examples(rejections: int, policy: dict[str, int],
                                        has_model: bool) -> None:
    """A section below the thresholds has no model; the score is the shipped one and says why."""
    models = _models(rejections, **policy)
    assert (("llm training", "techniques") in models.sections) is has_model
    scored = _score(LearnedScorer(Const(), models), _paper("2406.00004", "LoRA for legal review"))
    if has_model:
        assert scored.score != 0.3
    else:
        assert scored.score == 0.3
        assert scored.reasons[0] == "shipped"
        assert scored.reasons[1].startswith("learned: none (")
        assert f"{rejections} negative" in scored.reasons[1]


def test_no_model_keeps_the_query_order() -> None:
    """A section without a model leaves the order of its matches unchanged."""
    base = QueryEvidence()
    with_learning = LearnedScorer(base, _models(0))
    papers = [_paper("2406.00010", "LoRA"), _paper("2406.00011", "A low-rank adapter: LoRA"),
              _paper("2406.00012", "Low-rank adapter")]
    order = [[c.paper.id for c in select(papers, TOPICS, s, cap=10, day=DAY)]
             for s in (base, with_learning)]
    assert order[0] == order[1]


def test_no_model_equals_the_base_score() -> None:
    """A section with no model scores exactly as without learning."""
    base = QueryEvidence()
    learned = LearnedScorer(base, _models(0))
    for title in ("LoRA", "A low-rank adapter: LoRA", "Low-rank adapter"):
        paper = _paper("2406.00013", title)
        assert _score(learned, paper).score == _score(base, paper).score


def test_learned_ranking_reorders_the_digest() -> None:
    """With a model, a method moves above an application that the query prefers."""
    base = QueryEvidence()
    cache = ModelCache(StoreSource(_store_with_rejections(), _sections(), TOPICS), SMALL)
    cache.refresh()
    app = _paper("2406.00020", "LoRA fine-tuning for clinical notes summarisation")
    method = _paper("2406.00021", "Rank allocation for adapter matrices")
    learned = learned_scorer(base, cache)
    assert learned.models is cache.current()
    ranked = [c.paper.id for c in select([app, method], TOPICS[:1], learned, cap=10, day=DAY)]
    query_only = [c.paper.id for c in select([app, method], TOPICS[:1], base, cap=10, day=DAY)]
    assert query_only == [app.id, method.id]
    assert ranked == [method.id, app.id]


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def _with_decisions(models: Models, n: int) -> Models:
    """The same models, the LoRA section's counting `n` curator decisions."""
    key = ("llm training", "techniques")
    sections = {**models.sections, key: dataclasses.replace(models.sections[key], decisions=n)}
    return dataclasses.replace(models, sections=sections)


@pytest.mark.parametrize(("decisions", "expected"), [
    (0, 0.0), (-3, 0.0), (1, 1 / (1 + EVIDENCE)), (EVIDENCE, 0.5), (3 * EVIDENCE, 0.75),
    (99 * EVIDENCE, 0.99),
])
def test_share_grows_with_decisions(decisions: int, expected: float) -> None:
    """The model's weight is n / (n + EVIDENCE): none without decisions, half at EVIDENCE."""
    assert share(decisions) == pytest.approx(expected)


def test_share_never_shrinks_as_decisions_come_and_stays_under_its_cap() -> None:
    """One more decision never lowers the model's weight, which never passes MAX_SHARE."""
    shares = [share(n) for n in [*range(0, 2000, 7), 10**9]]
    assert shares == sorted(shares)
    assert 0.0 <= shares[-1] <= MAX_SHARE
    assert share(10**9) == pytest.approx(min(MAX_SHARE, 1.0), abs=1e-6)


def test_training_counts_only_the_curators_decisions() -> None:
    """A section model counts its approvals and rejections as decisions, not catalog entries."""
    assert _models(4).sections[("llm training", "techniques")].decisions == 4
    alone = _models(0, min_negatives=0).sections[("llm training", "techniques")]
    assert (alone.positives, alone.decisions) == (6, 0)


def test_a_model_without_decisions_keeps_the_shipped_score() -> None:
    """A model of catalog entries alone (weight 0) leaves the shipped score and says so."""
    models = _models(0, min_negatives=0)
    assert ("llm training", "techniques") in models.sections
    scored = _score(LearnedScorer(Const(0.37), models), _paper("2406.00005", "LoRA for law"))
    assert scored == Scored(0.37, ("shipped", "learned: no decisions yet"))


@pytest.mark.parametrize("decisions", [1, 6, 30, 200, 5000])
def test_the_models_evidence_is_added_in_log_odds(decisions: int) -> None:
    """logit(score) = logit(shipped) + a * (logit(model) - c * center), a = share(decisions)."""
    models = _with_decisions(_models(), decisions)
    paper = _paper("2406.00006", "Rank allocation for low-rank adapter matrices")
    key = ("llm training", "techniques")
    p = models.probability(key, paper)
    assert p is not None
    a, center = share(decisions), models.sections[key].center
    expected = 1 / (1 + math.exp(-(_logit(0.2) + a * (_logit(p) - CENTERING * center))))
    assert _score(LearnedScorer(Const(0.2), models), paper).score == pytest.approx(
        expected, abs=1e-6)


def _sure(models: Models, intercept: float) -> Models:
    """The models with the LoRA section's model saying sigmoid(intercept) of every paper."""
    key = ("llm training", "techniques")
    model = models.sections[key]
    flat = dataclasses.replace(model, coef=np.zeros_like(model.coef), intercept=intercept,
                               center=intercept)
    return dataclasses.replace(models, sections={**models.sections, key: flat})


@pytest.mark.parametrize(("intercept", "direction"), [(0.0, 0), (2.0, 1), (-2.0, -1)])
def test_the_score_moves_the_way_the_model_leans_more_as_decisions_accumulate(
    intercept: float, direction: int,
) -> None:
    """A model at its decided papers' mean keeps the score; one leaning away moves it further."""
    models = _models()
    paper = _paper("2406.00007", "Rank allocation for low-rank adapter matrices")
    scores = [_score(LearnedScorer(Const(0.3), _sure(_with_decisions(models, n), intercept)),
                     paper).score for n in (0, 5, 30, 300, 10**6)]
    assert scores[0] == 0.3
    steps = [b - a for a, b in itertools.pairwise(scores)]
    if direction == 0:
        assert scores == [0.3] * len(scores)
    else:
        assert all(step * direction > 0 for step in steps)
        a = share(10**6)
        assert scores[-1] == pytest.approx(
            1 / (1 + math.exp(-(_logit(0.3) + a * (1 - CENTERING) * intercept))), abs=1e-6)


@pytest.mark.parametrize("shipped", [0.0, 1.0])
def test_the_mix_is_safe_at_certain_scores(shipped: float) -> None:
    """A shipped score of exactly 0 or 1 mixes without error and stays in [0, 1]."""
    scored = _score(LearnedScorer(Const(shipped), _models()), _paper("2406.00008", "LoRA"))
    assert 0.0 <= scored.score <= 1.0


# -- retraining ---------------------------------------------------------------------------------


def _store_with_rejections(n: int = len(APPLICATIONS)) -> Store:
    store = Store.open("sqlite:///:memory:", clock=lambda: T0)
    decisions, papers = _rejections(n)
    store.add_candidates([Candidate(p, "lora", LORA, 0.5, DAY) for p in papers.values()])
    for d in decisions:
        store.decide(d)
    return store


def test_cache_rebuilds_only_when_decisions_change() -> None:
    """refresh() trains on the first call and again only after a new decision."""
    store = _store_with_rejections(2)
    cache = ModelCache(StoreSource(store, _sections(), TOPICS), SMALL)
    first = cache.refresh()
    assert cache.refresh() is first
    assert not first.sections
    store.decide(Decision("2405.00002", "reject", "U1", T0, None, None, "lora"))
    second = cache.refresh()
    assert second is not first
    assert second.version == first.version + 1
    assert ("llm training", "techniques") in second.sections


# -- simulated curator --------------------------------------------------------------------------


def test_curator_approves_labelled_section_only() -> None:
    """A labelled paper is approved in its label's section, rejected in any other."""
    curator = Curator(Labels({"2406.00001": frozenset({"lora"})}, {"lora": (LORA,)}))
    paper = _paper("2406.00001", "LoRA+")
    assert curator.decision(Candidate(paper, "lora", LORA, 1.0, DAY)).action == "approve"
    assert curator.decision(Candidate(paper, "pruning", PRUNING, 1.0, DAY)).action == "reject"
    other = Candidate(_paper("2406.00002", "LoRA for X"), "lora", LORA, 1.0, DAY)
    rejected = curator.decision(other)
    assert rejected.action == "reject"
    assert rejected.at > T0
    assert rejected.topic == "lora"


def _verdict_curator(rows: str) -> Curator:
    from arxivwatch.replay.labels import parse_labels

    return Curator(parse_labels("arxiv_id\tsection\trelevant\n" + rows, topics=TOPICS))


@pytest.mark.parametrize(("rows", "section", "action"), [
    ("2406.00001\tlora\t1\n", LORA, "approve"),
    ("2406.00001\tlora\t0\n", LORA, "reject"),
    ("2406.00002\tlora\t1\n", LORA, None),                 # another paper judged
    ("2406.00001\tpruning\t1\n", LORA, None),              # judged for another section only
    ("2406.00001\tpruning\t0\n", PRUNING, "reject"),
    (f"2406.00001\t{LORA}\t1\n", LORA, "approve"),        # a heading path
])
def test_curator_with_verdicts_decides_only_judged_papers(rows: str, section: str,
                                                          action: str | None) -> None:
    """With verdicts, 1 approves, 0 rejects, and a paper not judged for the section is skipped."""
    curator = _verdict_curator(rows)
    topic = "lora" if section == LORA else "pruning"
    cand = Candidate(_paper("2406.00001", "LoRA+"), topic, section, 1.0, DAY)
    decision = curator.decision(cand)
    assert (decision.action if decision else None) == action
    if decision is not None:
        assert decision.topic == topic
        assert decision.section == (section if action == "approve" else None)
        assert decision.at > T0


def test_learning_loop_leaves_unjudged_candidates_pending() -> None:
    """after_day decides judged candidates only; the others stay pending in the store."""
    store = Store.open("sqlite:///:memory:", clock=lambda: T0)
    curator = _verdict_curator("2406.00000\tlora\t1\n2406.00001\tlora\t0\n")
    loop = LearningLoop(store, curator, _sections(), TOPICS, policy=SMALL)
    papers = [_paper(f"2406.{i:05d}", t) for i, t in enumerate(APPLICATIONS[:3])]
    cands = select(papers, TOPICS, loop.scorer(QueryEvidence()), cap=10, day=DAY)
    assert loop.after_day(cands) == (1, 1)
    assert [(d.paper_id, d.action) for d in store.decisions()] == [
        ("2406.00000", "approve"), ("2406.00001", "reject")]
    assert store.get_candidate("2406.00002").status == "pending"


def test_learning_loop_feeds_decisions_into_the_next_day() -> None:
    """Each day's posted candidates are decided in the store; the next day's models use them."""
    store = Store.open("sqlite:///:memory:", clock=lambda: T0)
    loop = LearningLoop(store, Curator(Labels({}, {})), _sections(), TOPICS, policy=SMALL)
    scorer = loop.scorer(QueryEvidence())
    papers = [_paper(f"2406.{i:05d}", t) for i, t in enumerate(APPLICATIONS)]
    loop.before_day(DAY)
    cands = select(papers, TOPICS, scorer, cap=10, day=DAY)
    assert loop.after_day(cands) == (0, len(APPLICATIONS))
    assert not loop.cache.current().sections
    loop.before_day(DAY + dt.timedelta(days=1))
    assert ("llm training", "techniques") in loop.cache.current().sections


# -- suggestions --------------------------------------------------------------------------------


def test_suggest_missed_papers_and_terms() -> None:
    """--suggest lists unmatched look-alikes and contrasting terms of approvals and rejections."""
    topic = make_topic("lora", LORA, 'ti:LoRA AND ti:"low-rank"')
    decisions, papers = _rejections()
    examples = collect(_sections(), decisions, papers=papers, topics=(topic,))
    models = train(examples, SMALL)
    stored = [_paper("2406.00030", "Rank allocation for adapter matrices"),
              _paper("2406.00031", "LoRA for legal contract review with fine-tuning"),
              _paper("2406.00032", "Rank allocation for adapter matrices, low-rank LoRA"),
              _paper("2406.00033", "Weather forecasting with graph networks"),
              _paper("2406.00099", "Rank allocation for adapter matrices, known")]
    found = suggest(topic, models, examples[("llm training", "techniques")], stored,
                    known=lambda p: p.id == "2406.00099")
    assert [m.paper.id for m in found.missed] == ["2406.00030"]
    assert found.missed[0].probability >= 0.5
    assert found.missed[0].words
    add = [t.term for t in found.query_terms]
    drop = [t.term for t in found.andnot_terms]
    assert "adapter" in add
    assert "matrix" in add
    assert "lora" not in add
    assert "low-rank" not in add
    assert "lora-fine" in drop
    assert "lora" not in drop
    assert all(t.rejected_share > 4 * t.approved_share for t in found.andnot_terms)
    assert (found.positives, found.rejections) == (6, len(APPLICATIONS))


def test_suggest_without_a_model_still_lists_terms() -> None:
    """With too few examples there are no missed papers, a note why, and terms if any."""
    topic = TOPICS[0]
    decisions, papers = _rejections(2)
    examples = collect(_sections(), decisions, papers=papers, topics=TOPICS)
    found = suggest(topic, train(examples, SMALL), examples[("llm training", "techniques")],
                    [_paper("2406.00040", "Adapter matrices")])
    assert found.missed == ()
    assert found.model_note
    assert "2 negative" in found.model_note


def test_suggest_from_store_and_its_text() -> None:
    """On a store: decided papers are never 'missed'; the text has all three parts."""
    from arxivwatch.learning import format_suggestions
    from arxivwatch.replay.suggest import suggest_from_store

    topic = make_topic("lora", LORA, 'ti:LoRA AND ti:"low-rank"')
    store = _store_with_rejections()
    missed = _paper("2406.00050", "Rank allocation for adapter matrices")
    store.upsert_papers([missed, _paper("2406.00051", "Graph networks for weather")])
    found = suggest_from_store(store, _sections(), (topic,), topic, policy=SMALL)
    assert [m.paper.id for m in found.missed] == [missed.id]
    text = "\n".join(format_suggestions(found))
    assert missed.id in text
    assert "candidate query terms" in text
    assert "candidate ANDNOT terms" in text
    assert "2405.00000" not in text                      # a rejected paper is not "missed"


@pytest.fixture
def curator_project(tmp_path: Any) -> Any:
    """The small project of the backtest command tests (config path)."""
    return backtest_project.__wrapped__(tmp_path)  # type: ignore[attr-defined]


def test_backtest_curator_decides_every_posted_candidate(curator_project: Any,
                                                         tmp_path: Any) -> None:
    """`backtest --curator`: every posted candidate is decided; --out keeps its keys."""
    import json

    from tests.test_cli_backtest import run, snap

    config = curator_project
    labels = tmp_path / "curator.tsv"
    labels.write_text("arxiv_id\ttopic\n2405.00001\tlora\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    result = run(config, "backtest", "--papers", snap(config), "--curator", str(labels),
                 "--label-map", "lora=Training > Techniques", "--out", str(out))
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    posted = [x for x in lines if x["posted"]]
    assert all(list(x) == ["id", "day", "topic", "section", "score", "rank", "posted",
                           "matched", "title"] for x in lines)
    assert f"simulated curator: 1 approved, {len(posted) - 1} rejected" in result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line}
    assert rows["lora"][1:3] == ["1", "1"]            # the curator's labels measure recall too


def test_tune_suggest_prints_the_three_parts(curator_project: Any, tmp_path: Any) -> None:
    """`tune lora --suggest` adds missed papers (or why none), query and ANDNOT terms."""
    from tests.test_cli_backtest import run

    with Store.open(f"sqlite:///{tmp_path / 'state.db'}", clock=lambda: T0) as store:
        papers = [_paper(f"2405.{i:05d}", t) for i, t in enumerate(APPLICATIONS)]
        store.add_candidates([Candidate(p, "lora", "Training > Techniques", 0.5, DAY)
                              for p in papers])
        for p in papers:
            store.decide(Decision(p.id, "reject", "U1", T0, None, None, "lora"))
    result = run(curator_project, "tune", "lora", "--suggest")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "suggestions for lora (Training > Techniques), from 2 papers of the section and " \
           f"{len(APPLICATIONS)} rejections" in out
    assert "likely missed by the query: no model yet (2 positive" in out
    assert "candidate ANDNOT terms (behind most rejections):" in out
    assert "candidate query terms" in out


def test_a_papers_row_is_the_vectorizers_own() -> None:
    """Models.row computes exactly what vectorizer.transform gives, without its overhead."""
    models = _models()
    assert models.vectorizer is not None
    for text in ("LoRA adapters for rank allocation", "rank rank rank of low-rank adapters",
                 "nothing the vocabulary knows", ""):
        expected = models.vectorizer.transform([text]).toarray()
        assert np.allclose(models.row(text).toarray(), expected, atol=1e-12)
