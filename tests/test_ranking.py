"""Tests for ranking: scorer invariants, the shipped ranker, the prefilter and `select`."""

from __future__ import annotations

import datetime as dt
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch.catalog import Catalog
from arxivwatch.models import Hit, Paper, Topic
from arxivwatch.query import Doc, parse
from arxivwatch.query.matcher import compile_term
from arxivwatch.ranking import (
    CatalogSimilarity,
    QueryEvidence,
    Ranker,
    Scored,
    Selector,
    Weights,
    default_scorer,
    in_categories,
    select,
)
from arxivwatch.ranking.focus import Focus
from arxivwatch.ranking.prefilter import TEXT_REGEX, TITLE_REGEX, Prefilter, condition, simplify
from arxivwatch.ranking.similarity import bag, section_key
from tests.topics import make_topic

DAY = dt.date(2024, 3, 4)
CATALOG = """\
# Reading list

## Training
### Techniques
- [Arxiv 2021] [LoRA: Low-Rank Adaptation of Large Language Models](https://arxiv.org/abs/2106.09685). Training large models with few trainable parameters by low rank adapter matrices.

## Compression
### Low-rank Decomposition
- [Arxiv 2024] [SVD-LLM: Truncation-aware Singular Value Decomposition for Large Language Model Compression](https://arxiv.org/abs/2403.07378). Truncation-aware whitening so singular values map to compression loss.
- [Arxiv 2023] [ASVD: Activation-aware Singular Value Decomposition for Compressing Large Language Models](https://arxiv.org/abs/2312.05821). Activations scale the weights before SVD.
"""
LORA_SECTION = "Training > Techniques"
LOWRANK_SECTION = "Compression > Low-rank Decomposition"


def topic(name: str, query: str, section: str = LORA_SECTION, **kw: object) -> Topic:
    return make_topic(name, section, query, **kw)  # type: ignore[arg-type]


def paper(pid: str, title: str, abstract: str = "", cats: tuple[str, ...] = ("cs.LG",)) -> Paper:
    return Paper(pid, title, abstract, categories=cats, day=DAY)


class Fixed:
    """A scorer that returns a preset score per (paper id, topic name)."""

    def __init__(self, scores: dict[tuple[str, str], float]) -> None:
        self.scores = scores

    def score(self, doc: Doc, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        return Scored(self.scores.get((doc.paper.id, topic.name), 0.5), ("fixed",))


def scored(scorer: object, t: Topic, p: Paper) -> float:
    doc = Doc.from_paper(p)
    hits = t.query.match(doc)
    assert hits is not None, f"{t.query} does not match {p.title!r}"
    return scorer.score(doc, t, hits).score  # type: ignore[attr-defined]


LORA = topic("lora", 'LoRA OR "low-rank adaptation" OR adapter OR rank')


def test_title_phrase_outranks_abstract_word() -> None:
    """A query phrase in the title weighs more than a query word in the abstract."""
    in_title = paper("1", "Low-rank adaptation with fewer parameters", "We study a method.")
    in_abstract = paper("2", "A study of models", "We also try LoRA once.")
    for scorer in (QueryEvidence(), default_scorer(Catalog.parse(CATALOG).sections)):
        assert scored(scorer, LORA, in_title) > scored(scorer, LORA, in_abstract)


def test_distinct_terms_beat_one_repeated() -> None:
    """Three distinct terms in the abstract outweigh one term said five times."""
    distinct = paper("1", "A method", "LoRA; an adapter; a rank choice.")
    repeated = paper("2", "A method", "LoRA LoRA LoRA LoRA LoRA.")
    assert scored(QueryEvidence(), LORA, distinct) > scored(QueryEvidence(), LORA, repeated)


@given(st.lists(st.sampled_from(["ti", "abs", "co"]), min_size=1, max_size=4),
       st.sampled_from(["ti", "abs", "co"]))
def test_another_distinct_term_never_lowers_evidence(fields: list[str], extra: str) -> None:
    """Adding a hit of a new term can only raise the query evidence."""
    hits = tuple(Hit(f"term{i}", f) for i, f in enumerate(fields))
    doc = Doc.from_paper(paper("1", "t"))
    before = QueryEvidence().score(doc, LORA, hits).score
    after = QueryEvidence().score(doc, LORA, (*hits, Hit("another", extra))).score
    assert after > before


def test_evidence_explains_itself_by_field() -> None:
    """The reasons name the matched terms, title first."""
    doc = Doc.from_paper(paper("1", "LoRA", "an adapter"))
    reasons = QueryEvidence().score(doc, LORA, (Hit("adapter", "abs"), Hit("LoRA", "ti"))).reasons
    assert reasons == ("title: LoRA", "abstract: adapter")


def test_catalog_like_paper_outranks_unlike_one() -> None:
    """A paper close to the section's entries scores above one about something else."""
    sim = CatalogSimilarity(Catalog.parse(CATALOG).sections)
    t = topic("lowrank", "SVD OR compression", section=LOWRANK_SECTION)
    like = paper("1", "Whitening before SVD truncation for LLM compression",
                 "Singular value decomposition of weights, truncation-aware, compression loss.")
    unlike = paper("2", "Compression of medical images with JPEG",
                   "We compress radiology scans for storage in hospitals.")
    assert scored(sim, t, like) > scored(sim, t, unlike)
    doc = Doc.from_paper(like)
    reasons = sim.score(doc, t, t.query.match(doc) or ()).reasons
    assert len(reasons) == 1
    assert reasons[0].startswith("similar to catalog: SVD-LLM (0.")


def test_catalog_abstracts_make_similarity_sharper() -> None:
    """Known abstracts of catalog papers add their vocabulary to the section."""
    entry_paper = paper("2106.09685", "LoRA", "We freeze the pretrained weights and inject "
                        "trainable rank decomposition matrices into each transformer layer.")
    probe = paper("9", "Injecting decomposition matrices into frozen transformer layers")
    t = topic("lora", "transformer OR matrices")
    plain = CatalogSimilarity(Catalog.parse(CATALOG).sections)
    richer = CatalogSimilarity(Catalog.parse(CATALOG).sections, {entry_paper.id: entry_paper})
    assert scored(richer, t, probe) > scored(plain, t, probe)


SYSTEMS_CATALOG = """\
## ML System
### Training System
- [Tutel: Adaptive Mixture-of-Experts at Scale](https://arxiv.org/abs/2206.03382). Expert parallelism with all-to-all communication on GPU clusters.
- [FasterMoE: Training of Large-Scale Dynamic Pre-Trained Models](https://example.org/f). Load imbalance across GPUs, dynamic shadowing of experts.
### Inference System
- [MoE-Infinity: Offloading-Efficient MoE Model Serving](https://arxiv.org/abs/2401.14361). Expert offloading with prefetching.
"""


def test_one_entry_section_borrows_its_siblings_vocabulary() -> None:
    """A section with one entry learns from its siblings, but its own entry still counts more."""
    sections = Catalog.parse(SYSTEMS_CATALOG).sections
    t = topic("moe_inference", "MoE", section="ML System > Inference System")
    sibling_words = paper("1", "MoE on GPU clusters", "MoE expert parallelism and all-to-all.")
    own_words = paper("2", "MoE serving", "MoE expert offloading with prefetching.")
    sim = CatalogSimilarity(sections)
    assert scored(sim, t, own_words) > scored(sim, t, sibling_words) > 0.0
    assert {"gpu", "cluster"} <= sim.vocabularies()[("ml system", "inference system")]
    assert "offload" not in sim.vocabularies()[("ml system", "training system")]


def _reference_cosine(sim: CatalogSimilarity, target: dict[str, float], p: Paper) -> float:
    """The cosine written out: normalised TF-IDF vector of the paper, dot the target."""
    words = bag(p.title, p.abstract)
    vec = {w: (1 + math.log(n)) * sim._idf.get(w, sim._default_idf) for w, n in words.items()}
    norm = math.sqrt(sum(x * x for x in vec.values()))
    return sum(x / norm * target.get(w, 0.0) for w, x in vec.items()) if norm else 0.0


_VOCAB = ["svd", "singular", "value", "decomposition", "compression", "lora", "adapter",
          "rank", "matrices", "truncation", "whitening", "medical", "jpeg", "the", "42"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(_VOCAB), max_size=6), st.lists(st.sampled_from(_VOCAB),
                                                                  max_size=30))
def test_similarity_equals_the_plain_cosine(title: list[str], abstract: list[str]) -> None:
    """Score and nearest entry match the cosine of normalised vectors, to float noise."""
    sim = CatalogSimilarity(Catalog.parse(CATALOG).sections)
    t = topic("lowrank", "SVD", section=LOWRANK_SECTION)
    p = paper("1", " ".join(title), " ".join(abstract))
    profile = sim._profiles[section_key(LOWRANK_SECTION)]
    expected = min(1.0, _reference_cosine(sim, profile.centroid, p) / sim.scale)
    result = sim.score(Doc.from_paper(p), t, ())
    assert result.score == pytest.approx(expected, abs=1e-12)
    nearest = max(_reference_cosine(sim, v, p) for _, v in profile.entries)
    assert bool(result.reasons) == (nearest >= 0.05 - 1e-12) or abs(nearest - 0.05) < 1e-12


def test_similarity_is_zero_for_a_section_not_in_the_catalog() -> None:
    """No entries to compare with: no score and no reason."""
    sim = CatalogSimilarity(Catalog.parse(CATALOG).sections)
    t = topic("x", "LoRA", section="Nowhere > Else")
    doc = Doc.from_paper(paper("1", "LoRA"))
    assert sim.score(doc, t, (Hit("LoRA", "ti"),)) == Scored(0.0)


def test_focus_grows_with_repeated_mentions() -> None:
    """A paper that keeps naming its subject is more about it than one naming it once."""
    once = paper("1", "Instruction data", "We fine-tune with LoRA.")
    often = paper("2", "Instruction data", "LoRA is studied. LoRA ranks vary. LoRA merges.")
    assert scored(Focus(), LORA, often) > scored(Focus(), LORA, once)


# --- prefilter -----------------------------------------------------------------------------

QUERIES = [
    'LoRA OR "low-rank adaptation" OR ti:"low-rank"',
    '("mixture of experts" OR MoE) AND (serving OR offload* OR GPUs)',
    '(SVD OR "singular value") AND compress* ANDNOT ti:survey',
    'au:hinton OR cat:cs.DC',
    'ti:(benchmark OR evaluation) AND (LLM OR "language model")',
    '(adaptation AND "low-rank") OR (compress* AND "low-rank") OR (ti:survey AND SVD) OR '
    '(ti:benchmark AND SVD AND GPU) OR LoRA',
]
WORDS = ["low", "rank", "lowrank", "low-rank", "Low-Rank", "adaptation", "adaptations", "LoRA",
         "LoRA$+$", "mixture", "mixtures", "of", "experts", "expert", "MoE", "serving",
         "offloading", "GPUs", "GPU", "SVD", "singular", "value", "values", "compress",
         "compression", "survey", "benchmark", "evaluation", "LLM", "language", "models",
         "model", "(", ")", ",", ".", ":", "-", "\\textbf{LoRA}", "the", "a"]
texts = st.lists(st.sampled_from(WORDS), max_size=25).map(" ".join)


@settings(max_examples=300)
@given(texts, texts, st.sampled_from(QUERIES))
def test_prefilter_never_rejects_a_match(title: str, abstract: str, query: str) -> None:
    """Whenever a query matches a paper, the prefilter lets the paper through."""
    q = parse(query)
    p = Paper("1", title or "x", abstract, authors=("Geoffrey Hinton",), categories=("cs.LG",))
    if q.match(Doc.from_paper(p)) is not None:
        assert Prefilter([q]).possible(p) == (True,)


def test_prefilter_rejects_papers_without_the_anchors() -> None:
    """A paper with none of a query's words is rejected without matching."""
    pf = Prefilter([parse(QUERIES[0]), parse(QUERIES[1]), parse(QUERIES[3])])
    assert pf.possible(paper("1", "Graph networks for molecules", "Message passing.")) == (
        False, False, True)   # au:/cat: terms give no anchor: always possible


# (words of 5+ letters: a shorter anchor is confirmed by its term's regex, see the next tests)
@pytest.mark.parametrize(("query", "expected"), [
    ("expert OR subexpert OR coexpert", ("all", "expert")),
    ("ti:subexpert OR expert", ("all", "expert")),
    ("subexpert OR ti:expert", ("OR", (("all", "subexpert"), ("ti", "expert")))),   # narrower
    ("expert OR (subexpert AND mixer)", ("all", "expert")),
    ("abs:expert OR expert", ("abs", "expert")),                        # equivalent: first stays
])
def test_prefilter_drops_or_items_implied_by_another(query: str, expected: object) -> None:
    """An OR item that implies another item's anchor adds nothing and is dropped."""
    assert simplify(condition(parse(query))) == expected


def test_a_short_anchor_is_confirmed_by_its_terms_regex() -> None:
    """`lora` is in "exploration": a one-word term with an anchor of 4 letters or fewer is its
    anchor and then its regex (over the title, or the whole text); an item implying the
    anchor (`qlora`) then stays, as the regex would not find it."""
    lora = condition(parse("lora"))
    assert lora == ("AND", (("all", "lora"), (TEXT_REGEX, compile_term("all", "lora", False)
                                              .source)))   # type: ignore[attr-defined]
    assert simplify(condition(parse("lora OR qlora"))) == ("OR", (lora, ("all", "qlora")))
    title = condition(parse("ti:eval"))
    assert title == ("AND", (("ti", "eval"), (TITLE_REGEX, compile_term("ti", "eval", False)
                                              .source)))   # type: ignore[attr-defined]
    pf = Prefilter([parse("lora OR qlora"), parse("ti:eval")])
    assert pf.possible(paper("1", "Exploration of graphs", "We explore.")) == (False, False)
    assert pf.possible(paper("2", "Evaluating LLMs", "An evaluation.")) == (False, False)
    assert pf.possible(paper("3", "QLoRA", "Fine-tuning.")) == (True, False)
    assert pf.possible(paper("4", "An eval", "x")) == (False, True)
    assert pf.possible(paper("5", "Fast", "We use\n Lo-RA adapters.")) == (True, False)


@pytest.mark.parametrize(("query", "expected"), [
    ("(mixer AND kernel) OR (mixer AND processor)",
     ("AND", (("all", "mixer"), ("OR", (("all", "kernel"), ("all", "processor")))))),
    ("(mixer AND kernel) OR expert OR (processor AND mixer)",
     ("OR", (("AND", (("all", "mixer"), ("OR", (("all", "kernel"), ("all", "processor"))))),
             ("all", "expert")))),
    ("(mixer AND kernel) OR (singular AND processor)",
     ("OR", (("AND", (("all", "mixer"), ("all", "kernel"))),
             ("AND", (("all", "singular"), ("all", "processor")))))),
])
def test_prefilter_factors_a_conjunct_shared_by_or_items(query: str, expected: object) -> None:
    """`(c AND x) OR (c AND y)` becomes `c AND (x OR y)`: `c` is searched once."""
    assert simplify(condition(parse(query))) == expected


def test_keep_texts_answers_possible_once_for_the_same_texts() -> None:
    """A paper kept by keep_texts gets the same answer from possible; a rejected one is False."""
    pf = Prefilter([parse(QUERIES[0]), parse(QUERIES[1])])
    kept = paper("1", "LoRA on GPUs", "Mixture of experts serving.")
    assert pf.keep_texts(kept.title, kept.abstract, kept.comments)
    assert pf.possible(kept) == (True, True) == pf.possible(kept)   # memo used, then gone
    assert not pf.keep_texts("Graph networks", "Message passing.", None)
    assert pf.possible(paper("2", "Graph networks", "Message passing.")) == (False, False)


def test_prefilter_shared_anchor_gives_the_same_answers() -> None:
    """An anchor used by several queries is searched once, with the same results per query."""
    queries = [parse("moe AND gpu"), parse("moe AND cpu"), parse("ti:moe")]
    pf = Prefilter(queries)
    assert pf.possible(paper("1", "Fast MoE", "on GPU")) == (True, False, True)
    assert pf.possible(paper("1", "Fast", "MoE on a CPU")) == (False, True, False)
    assert pf.possible(paper("1", "Fast", "nothing")) == (False, False, False)


# --- select --------------------------------------------------------------------------------

def test_select_drops_known_papers_by_predicate_ids_or_catalog() -> None:
    """Papers in the catalog (by id or title) or already stored are never candidates."""
    catalog = Catalog.parse(CATALOG)
    papers = [paper("2106.09685", "LoRA: stored elsewhere"),
              paper("2401.00001", "LoRA: Low-Rank Adaptation of Large Language Models"),
              paper("2401.00002", "LoRA for everyone"), paper("2401.00003", "More LoRA")]
    got = select(papers, [LORA], Fixed({}), known=catalog.index().knows, cap=9, day=DAY)
    assert [c.paper.id for c in got] == ["2401.00002", "2401.00003"]
    got = select(papers, [LORA], Fixed({}), known={"2401.00003"}, cap=9, day=DAY)
    assert [c.paper.id for c in got] == ["2106.09685", "2401.00001", "2401.00002"]
    got = select(papers, [LORA], Fixed({}), known=lambda p: p.id.endswith("2"), cap=9, day=DAY)
    assert "2401.00002" not in [c.paper.id for c in got]


def test_best_topic_wins_and_others_become_alternatives() -> None:
    """A paper matching three topics goes to its best one; the others are listed best first."""
    topics = [topic("a", "LoRA"), topic("b", "LoRA"), topic("c", "LoRA")]
    scorer = Fixed({("1", "a"): 0.2, ("1", "b"): 0.9, ("1", "c"): 0.5})
    (cand,) = select([paper("1", "LoRA")], topics, scorer, cap=5, day=DAY)
    assert (cand.topic, cand.section, cand.score) == ("b", LORA_SECTION, 0.9)
    assert cand.alternatives == ("c", "a")
    assert cand.reasons == ("fixed",)
    assert cand.matched == ["ti:LoRA"]


def test_ties_between_topics_go_to_the_first_in_config_order() -> None:
    """Equal scores: the topic listed first in topics.yaml wins."""
    topics = [topic("first", "LoRA"), topic("second", "LoRA")]
    (cand,) = select([paper("1", "LoRA")], topics, Fixed({}), cap=5, day=DAY)
    assert (cand.topic, cand.alternatives) == ("first", ("second",))


@pytest.mark.parametrize(("cap", "min_score", "posted"), [
    (10, None, ["a", "b", "c", "d"]),
    (2, None, ["a", "b"]),
    (10, 0.5, ["a", "b"]),
    (1, 0.5, ["a"]),
    (10, 0.95, []),
])
def test_cap_and_min_score_decide_what_is_posted(
    cap: int, min_score: float | None, posted: list[str],
) -> None:
    """The top `cap` candidates at or above min_score are posted; all are ranked."""
    t = topic("t", "LoRA", min_score=min_score)
    scores = {("a", "t"): 0.9, ("b", "t"): 0.5, ("c", "t"): 0.3, ("d", "t"): 0.1}
    papers = [paper(i, "LoRA") for i in "dcba"]
    cands = select(papers, [t], Fixed(scores), cap=cap, day=DAY)
    assert [(c.paper.id, c.rank) for c in cands] == [("a", 1), ("b", 2), ("c", 3), ("d", 4)]
    assert [c.paper.id for c in cands if c.posted] == posted
    assert {c.day for c in cands} == {DAY}


def test_ranking_is_deterministic_with_ties_by_id() -> None:
    """Shuffled input gives the same ranking; equal scores are ordered by id."""
    papers = [paper(f"2401.{i:05d}", "LoRA") for i in range(20)]
    runs = []
    for seed in range(3):
        random.Random(seed).shuffle(papers)
        runs.append([c.paper.id for c in select(papers, [LORA], Fixed({}), cap=5, day=DAY)])
    assert runs[0] == runs[1] == runs[2] == sorted(runs[0])


def test_a_paper_listed_twice_is_one_candidate() -> None:
    """Duplicates within a day's input count once."""
    cands = select([paper("1", "LoRA"), paper("1", "LoRA")], [LORA], Fixed({}), cap=5, day=DAY)
    assert len(cands) == 1


@given(st.lists(st.tuples(st.sampled_from("123"), st.booleans()), max_size=8),
       st.sampled_from([LORA, topic("any", "cat:cs.LG")]))
def test_skeletons_are_dropped_as_the_prefilter_drops_them(rows: list[tuple[str, bool]],
                                                           t: Topic) -> None:
    """A skeleton (no texts: see snapshot.read_snapshot) is passed over without the prefilter
    when the prefilter declines empty texts (`select`'s fast path), and still hides a later
    paper with its id: the same candidates as the plain path (a prefilter keeping all)."""
    papers = [Paper(pid, "", day=DAY) if skeleton else paper(pid, "LoRA") for pid, skeleton in rows]
    fast = select(papers, [t], Fixed({}), cap=5, day=DAY)
    plain = Selector([t], Fixed({}))
    plain.prefilter.possible_texts = lambda *_texts: (True,)  # type: ignore[method-assign]
    slow = plain.select(papers, cap=5, day=DAY)
    assert [(c.paper, c.rank) for c in fast] == [(c.paper, c.rank) for c in slow]


@pytest.mark.parametrize(("categories", "paper_cats", "expected"), [
    ((), ("math.OC",), True),
    (("cs.LG",), ("cs.CL", "cs.LG"), True),
    (("cs.lg",), ("cs.LG",), True),
    (("cs.LG",), ("cs.CV",), False),
    (("cs.*",), ("cs.CV",), True),
    (("stat.*",), ("cs.CV",), False),
])
def test_categories_filter(categories: tuple[str, ...], paper_cats: tuple[str, ...],
                           expected: bool) -> None:
    """A topic with categories only sees papers listed in one of them (`cs.*` is a prefix)."""
    p = paper("1", "LoRA", cats=paper_cats)
    assert in_categories(p, categories) is expected
    t = topic("t", "LoRA", categories=categories)
    assert bool(select([p], [t], Fixed({}), cap=5, day=DAY)) is expected


def test_default_scorer_ranks_a_method_above_an_application() -> None:
    """The shipped blend puts a LoRA method above a paper that merely uses LoRA."""
    scorer = default_scorer(Catalog.parse(CATALOG).sections)
    t = topic("lora", 'LoRA OR "low-rank adaptation" OR adapter')
    method = paper("1", "Rank-adaptive LoRA: allocating low-rank adapter matrices",
                   "LoRA trains low rank adapter matrices. We allocate the rank of each LoRA "
                   "module and reduce trainable parameters.")
    use = paper("2", "Clinical note summarization with large language models",
                "We fine-tune Llama for hospital notes using LoRA and report ROUGE.")
    cands = select([use, method], [t], scorer, cap=5, day=DAY)
    assert [c.paper.id for c in cands] == ["1", "2"]
    assert 0.0 <= cands[1].score < cands[0].score <= 1.0


# --- routing after thresholds ----------------------------------------------------------------

A_SECTION, B_SECTION = "Training > Techniques", "Compression > Low-rank Decomposition"


@pytest.mark.parametrize(("a_min", "b_min", "a_score", "b_score", "topic", "posted", "others"), [
    (0.8, 0.3, 0.7, 0.5, "b", True, ("a",)),       # clears only B: B, although A scores more
    (0.8, 0.3, 0.7, 0.2, "a", False, ("b",)),      # clears none: the best topic, not posted
    (0.6, 0.3, 0.7, 0.5, "a", True, ("b",)),       # clears both: the best
    (0.8, None, 0.7, 0.1, "b", True, ("a",)),      # no min_score: always cleared
    (None, 0.3, 0.1, 0.5, "b", True, ("a",)),      # the best cleared one, not the first
])
def test_routing_comes_after_thresholds(
    a_min: float | None, b_min: float | None, a_score: float, b_score: float, topic: str,
    posted: bool, others: tuple[str, ...],
) -> None:
    """A paper goes to the best-scoring topic whose min_score it clears, else to its best."""
    topics = [topic_("a", a_min, A_SECTION), topic_("b", b_min, B_SECTION)]
    scorer = Fixed({("1", "a"): a_score, ("1", "b"): b_score})
    (cand,) = select([paper("1", "LoRA")], topics, scorer, cap=5, day=DAY)
    assert (cand.topic, cand.posted, cand.alternatives) == (topic, posted, others)
    assert cand.score == {"a": a_score, "b": b_score}[topic]
    assert cand.section == {"a": A_SECTION, "b": B_SECTION}[topic]


def test_a_routed_paper_takes_its_place_in_the_cap_of_its_topic() -> None:
    """Routed to B, a paper is ranked among B's papers and posted only within B's cap."""
    topics = [topic_("a", 0.8, A_SECTION), topic_("b", 0.3, B_SECTION)]
    scorer = Fixed({("1", "a"): 0.7, ("1", "b"): 0.5, ("2", "a"): 0.1, ("2", "b"): 0.6})
    cands = select([paper("1", "LoRA"), paper("2", "LoRA")], topics, scorer, cap=1, day=DAY)
    assert [(c.paper.id, c.topic, c.rank, c.posted) for c in cands] == [
        ("2", "b", 1, True), ("1", "b", 2, False)]


@pytest.mark.parametrize(("ask", "min_score", "cap", "posted", "unsure"), [
    (0, 0.5, 5, ["a"], []),
    (1, 0.5, 5, ["a", "b"], ["b"]),                 # the best just under min_score
    (2, 0.5, 5, ["a", "b"], ["b"]),                 # c is more than ASK_BAND under 0.5
    (5, None, 2, ["a", "b"], []),                   # no min_score: nothing to be unsure of
    (5, 0.4, 3, ["a", "b", "c"], ["c"]),            # b clears 0.4; c is asked in the third place
    (5, 0.4, 2, ["a", "b"], []),                    # the cap is full: nothing is asked
    (5, 0.5, 1, ["a"], []),                         # an asked paper counts against the cap
    (5, 0.3, 5, ["a", "b", "c", "d"], ["d"]),
])
def test_ask_posts_a_few_papers_just_under_min_score_as_unsure(
    ask: int, min_score: float | None, cap: int, posted: list[str], unsure: list[str],
) -> None:
    """With ask, the best papers within ASK_BAND log-odds under min_score are posted, unsure."""
    t = topic("t", "LoRA", min_score=min_score)
    scores = {("a", "t"): 0.6, ("b", "t"): 0.45, ("c", "t"): 0.35, ("d", "t"): 0.25}
    cands = select([paper(i, "LoRA") for i in "abcd"], [t], Fixed(scores), cap=cap, day=DAY,
                   ask=ask)
    assert [c.paper.id for c in cands if c.posted] == posted
    assert [c.paper.id for c in cands if c.unsure] == unsure


def test_selector_remember_routes_like_select() -> None:
    """Matches computed elsewhere (match_rows) are routed after thresholds too."""
    from arxivwatch.ranking import Selector

    topics = [topic_("a", 0.8, A_SECTION), topic_("b", 0.3, B_SECTION)]
    scorer = Fixed({("1", "a"): 0.7, ("1", "b"): 0.5})
    p = paper("1", "LoRA")
    worker, main = Selector(topics, scorer), Selector(topics, scorer)
    main.remember(p, worker.match_rows(p))
    (cand,) = main.select([p], cap=5, day=DAY)
    assert (cand.topic, cand.posted) == ("b", True)


def topic_(name: str, min_score: float | None, section: str) -> Topic:
    return topic(name, "LoRA", section=section, min_score=min_score)


# --- the shipped ranker ----------------------------------------------------------------------

def _ranker() -> Ranker:
    return Ranker(Catalog.parse(CATALOG).sections)


# One paper per kind of section, matched by its topic; the topics differ only in the cue tested.
KIND_CASES = {
    "method": ("LoRA OR adapter", "Riemannian adapters for LLMs",
               "We propose a LoRA variant for LLMs. LoRA adapters train fast."),
    "survey": ("ti:survey", "A survey of Riemannian compression for LLMs",
               "This survey reviews compression of LLMs."),
    "dataset": ("ti:dataset", "A Riemannian dataset for instruction tuning of LLMs",
                "We release a dataset of 10K instruction pairs for LLMs."),
    "benchmark": ("ti:benchmark", "A Riemannian benchmark for LLMs",
                  "We introduce a benchmark to evaluate LLMs."),
    "system": ("MoE", "Riemannian MoE serving on GPUs",
               "We present a system that serves MoE models on GPU clusters."),
}


def _kind_score(kind: str, **cues: str) -> float:
    query, title, abstract = KIND_CASES[kind]
    t = topic(f"{kind}-{sorted(cues.items())}", query, kind=kind, **cues)
    return scored(_ranker(), t, paper("1", title, abstract))


@pytest.mark.parametrize("kind", ["method", "survey", "dataset", "benchmark"])
def test_an_against_cue_in_the_title_lowers_the_score(kind: str) -> None:
    """The same paper scores lower for a topic whose `against` names a word of its title."""
    assert _kind_score(kind, against="Riemannian") < _kind_score(kind, against="Euclidean")


@pytest.mark.parametrize("kind", ["method", "survey", "benchmark"])
def test_the_subject_in_the_title_raises_the_score(kind: str) -> None:
    """The same paper scores higher for a topic whose `about` names a word of its title."""
    base = {"method": "LoRA", "survey": "pruning", "benchmark": "leaderboard",
            "system": "offloading"}[kind]                # a subject word not in the title
    assert _kind_score(kind, about=f"{base} OR Riemannian") > _kind_score(
        kind, about=f"{base} OR Euclidean")


def test_a_system_topic_reads_no_cues_and_check_says_so() -> None:
    """A system topic is ranked without about/against; `unused_cues` names them for `check`."""
    from arxivwatch.ranking.ranker import unused_cues

    assert _kind_score("system", against="Riemannian") == _kind_score("system")
    cued = topic("moe", "MoE", kind="system", about="offloading", against="Riemannian")
    assert unused_cues(cued) == ["about", "against"]
    assert unused_cues(topic("lora", "LoRA", kind="method", against="survey")) == []


# (kind, query, about, against) in the shape of config/topics.yaml, and a paper in and out.
LOOK_ALIKES = [
    ("method", 'LoRA OR "low-rank adaptation"', None, '"prompt tuning" OR survey',
     ("KeepLoRA: Continual Learning with Low-Rank Adaptation",
      "We propose KeepLoRA, which keeps each LoRA update orthogonal to past tasks."),
     ("Medical Question Answering with a Fine-tuned Llama",
      "Medical QA needs knowledge. We fine-tune Llama with LoRA for medical QA.")),
    ("survey", "ti:survey", "compression OR quantization OR pruning OR distillation",
     '"speculative decoding" OR "efficient reasoning" OR hardware',
     ("A Survey on Model Compression for Large Language Models",
      "This survey reviews quantization, pruning and distillation of LLMs."),
     ("A Survey of Speculative Decoding for Efficient LLM Inference",
      "This survey reviews speculative decoding methods for LLMs.")),
    ("dataset", "ti:dataset OR ti:data", 'dataset OR corpus OR "instruction data"',
     '"data selection" OR selecting',
     ("OpenInstruct: A Dataset for Instruction Tuning of LLMs",
      "We release OpenInstruct, a dataset of 800K instruction pairs for instruction tuning."),
     ("Less is More: Data Selection for Instruction Tuning",
      "We propose a data selection method that picks 5% of the instruction data of LLMs.")),
    ("benchmark", "ti:benchmark", "benchmark OR leaderboard", "vision OR VLM OR multimodal",
     ("LawBench: A Benchmark for Large Language Models",
      "We introduce a benchmark of 5,000 questions to evaluate large language models."),
     ("VisBench: A Benchmark for Vision-Language Models",
      "We introduce a benchmark to evaluate vision-language models on charts.")),
]


@pytest.mark.parametrize(("kind", "query", "about", "against", "inside", "outside"), LOOK_ALIKES,
                         ids=[case[0] for case in LOOK_ALIKES])
def test_the_shipped_weights_rank_the_contribution_above_its_look_alike(
    kind: str, query: str, about: str | None, against: str, inside: tuple[str, str],
    outside: tuple[str, str],
) -> None:
    """What belongs (sections.md's 'in') outranks what only mentions its words ('out')."""
    t = topic(kind, query, kind=kind, about=about, against=against)
    ranker = _ranker()
    assert scored(ranker, t, paper("1", *inside)) > scored(ranker, t, paper("2", *outside))


def test_the_score_is_the_logistic_of_the_weighted_features() -> None:
    """score = sigmoid(bias + sum(weight * feature)) with the topic kind's weights."""
    weights = {"method": Weights(-1.0, {"subject_title": 2.0, "evidence": 0.5}),
               "survey": Weights(3.0, {})}
    ranker = Ranker(Catalog.parse(CATALOG).sections, weights=weights)
    p = paper("1", "LoRA adapters", "We propose LoRA.")
    doc = Doc.from_paper(p)
    values, _ = ranker.features(doc, LORA, LORA.query.match(doc) or ())
    assert values["subject_title"] == 1.0
    expected = 1 / (1 + math.exp(-(-1.0 + 2.0 + 0.5 * values["evidence"])))
    assert scored(ranker, LORA, p) == pytest.approx(expected, abs=1e-6)
    survey = topic("s", "LoRA", kind="survey")
    assert scored(ranker, survey, p) == pytest.approx(1 / (1 + math.exp(-3.0)), abs=1e-6)


def test_weights_ignore_features_they_do_not_name() -> None:
    """Weights.logit is bias + the named weights times the features (missing features are 0)."""
    w = Weights(0.5, {"a": 2.0, "b": -1.0, "c": 4.0})
    assert w.logit({"a": 1.0, "b": 0.5, "z": 9.0}) == pytest.approx(2.0)


@pytest.mark.parametrize(("z", "expected"), [(0.0, 0.5), (1e9, 1.0), (-1e9, 0.0), (40.0, 1.0)])
def test_sigmoid_is_safe_for_any_logit(z: float, expected: float) -> None:
    """The logistic function never overflows."""
    from arxivwatch.ranking.ranker import sigmoid

    assert sigmoid(z) == pytest.approx(expected, abs=1e-12)


def test_default_scorer_is_the_ranker_with_a_model_per_kind() -> None:
    """default_scorer gives a Ranker weighing the shipped KIND_WEIGHTS, one per kind."""
    from arxivwatch.ranking import KIND_WEIGHTS
    from arxivwatch.ranking.contribution import KINDS
    from arxivwatch.ranking.ranker import FEATURES

    scorer = default_scorer(Catalog.parse(CATALOG).sections)
    assert isinstance(scorer, Ranker)
    assert scorer.weights is KIND_WEIGHTS
    assert set(KIND_WEIGHTS) == set(KINDS)
    assert all(set(w.of) <= set(FEATURES) for w in KIND_WEIGHTS.values())


def test_topics_of_the_same_name_are_read_with_their_own_cues() -> None:
    """Two topics named alike (tune's --query variant) each use their own query as subject."""
    ranker = _ranker()
    saved = topic("lora", "DoRA OR abs:adapter")
    variant = topic("lora", "QLoRA OR abs:adapter")
    doc = Doc.from_paper(paper("1", "QLoRA for everyone", "An adapter."))
    ranker.features(doc, saved, saved.query.match(doc) or ())
    values, _ = ranker.features(doc, variant, variant.query.match(doc) or ())
    assert values["subject_title"] == 1.0


_RANK_WORDS = ["LoRA", "adapter", "MoE", "survey", "dataset", "benchmark", "We", "propose",
               "release", "LLMs", "medical", "vision", ".", "e.g.", "GPU", "800K", "pairs", "\n"]
rank_texts = st.lists(st.sampled_from(_RANK_WORDS), max_size=25).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(rank_texts, rank_texts | st.text(max_size=100),
       st.sampled_from(["method", "system", "survey", "dataset", "benchmark"]))
def test_ranker_scores_any_matched_paper_in_the_unit_interval(title: str, abstract: str,
                                                              kind: str) -> None:
    """Whatever a matched paper says, its score is a probability and reasons stay few."""
    t = topic("any", "LoRA OR adapter OR MoE OR survey OR dataset OR benchmark", kind=kind)
    doc = Doc.from_paper(paper("1", title or "x", abstract))
    hits = t.query.match(doc)
    if hits is None:
        return
    result = _RANKER.score(doc, t, hits)
    assert 0.0 <= result.score <= 1.0
    assert len(result.reasons) <= 12


_RANKER = Ranker(Catalog.parse(CATALOG).sections)
_SCORES_ONLY = Ranker(Catalog.parse(CATALOG).sections, reasons=False)


@settings(max_examples=150, deadline=None)
@given(rank_texts, rank_texts | st.text(max_size=100),
       st.sampled_from(["method", "system", "survey", "dataset", "benchmark"]),
       st.sampled_from([{}, {"about": "LoRA OR adapter"}, {"against": "medical OR vision"},
                        {"about": "MoE", "against": "survey OR benchmark"}]))
def test_a_ranker_without_reasons_gives_the_same_score(title: str, abstract: str, kind: str,
                                                       cues: dict[str, str]) -> None:
    """A replay's ranker (`reasons=False`) computes only the weighed features: same score."""
    t = topic(f"any-{kind}-{sorted(cues.items())}",
              "LoRA OR adapter OR MoE OR survey OR dataset OR benchmark", kind=kind, **cues)
    p = paper("1", title or "x", abstract)
    doc = Doc.from_paper(p)
    hits = t.query.match(doc)
    if hits is None:
        return
    full = _RANKER.score(doc, t, hits)
    plain = _SCORES_ONLY.score(Doc.from_paper(p), t, hits)
    assert plain == (full.score, ())
    values, _ = _RANKER.features(doc, t, hits)
    weighed = _SCORES_ONLY._features(Doc.from_paper(p), t, hits, frozenset(), None)
    assert weighed == values
