"""The digest's Why line: matched words by field and the closest catalog entry (issue 18)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from arxivwatch.models import Hit
from arxivwatch.ranking.similarity import MIN_REASON
from arxivwatch.why import WHY_LIMIT, Nearest, nearest_entry, why_line

# Reasons as the ranking gave them when issue 18 was measured (269 characters on the digest).
REASONS = (
    "title: language, model", "abstract: learning",
    "similar to catalog: LoRA+ (0.42)",
    "learned: none for this section (2 positive and 0 negative examples; a model needs 10 and 3)",
)
HITS = (Hit("model", "ti"), Hit("model", "abs"), Hit("language", "ti"), Hit("language", "abs"),
        Hit("learning", "abs"))


def test_why_line_says_words_where_and_closest_entry() -> None:
    """Title words first, abstract words not already in the title, then the closest entry."""
    assert why_line(HITS, REASONS) == (
        "title: model, language · abstract: learning · closest: LoRA+")


def test_a_word_inside_a_longer_matched_term_is_not_repeated() -> None:
    """'low-rank' beside 'low-rank adaptation', 'language model' beside 'large language models'."""
    hits = (Hit('"low-rank adaptation"', "ti"), Hit("low-rank", "ti"), Hit("LoRA", "abs"),
            Hit('"language model"', "abs"), Hit('"large language models"', "abs"),
            Hit("low-rank", "abs"))
    assert why_line(hits, ["similar to catalog: stanford alpaca dataset. (0.20)"]) == (
        "title: low-rank adaptation · abstract: LoRA, large language models · "
        "closest: stanford alpaca dataset")


def test_phrase_quotes_are_dropped() -> None:
    """A query phrase shows as words, without its quotes."""
    assert why_line((Hit('"low-rank adaptation"', "abs"),), ()) == (
        "abstract: low-rank adaptation")


def test_engine_detail_stays_out() -> None:
    """The learned model's state and the scorers' other reasons are not on the line."""
    line = why_line(HITS, REASONS)
    assert "learned" not in line
    assert "ti:" not in line


def test_too_many_words_are_counted_not_listed() -> None:
    """Words that do not fit become '+N more'; the closest entry is kept."""
    hits = tuple(Hit(f"term{i:02d}", "abs") for i in range(40))
    line = why_line(hits, ("similar to catalog: SVD-LLM (0.31)",))
    assert len(line) <= WHY_LIMIT
    assert line.endswith("more · closest: SVD-LLM")


def test_without_hits_or_entry() -> None:
    """A candidate with neither still gets a line."""
    assert why_line((), ())


@given(st.lists(st.tuples(st.text(max_size=60), st.sampled_from(["ti", "abs", "co", "xx"])),
                max_size=30), st.text(max_size=200))
def test_why_line_never_exceeds_the_limit(hits: list[tuple[str, str]], name: str) -> None:
    """Whatever the hits and the entry's name, at most 160 characters."""
    line = why_line([Hit(t, f) for t, f in hits], [f"similar to catalog: {name} (0.50)"])
    assert len(line) <= WHY_LIMIT


def test_nearest_entry_reads_the_similarity_reason() -> None:
    """The adapter over ranking.similarity's reason: name and cosine; None when absent."""
    assert nearest_entry(REASONS) == Nearest("LoRA+", 0.42)
    assert nearest_entry(["similar to catalog: A (B): c (0.10)"]) == Nearest("A (B): c", 0.10)
    assert nearest_entry(["title: LoRA"]) is None


def test_nearest_entry_matches_what_the_scorer_says() -> None:
    """The reason the similarity scorer actually emits is the one the adapter reads."""
    from arxivwatch.catalog import Catalog
    from arxivwatch.models import Paper
    from arxivwatch.query import Doc
    from arxivwatch.ranking.similarity import CatalogSimilarity
    from tests.topics import make_topic

    catalog = Catalog.parse(
        "## Training\n- [LoRA+: Efficient Low Rank Adaptation](https://arxiv.org/abs/2402.12354)."
        " Different learning rates for the low rank adapter matrices.\n"
        "- [DoRA: Weight-Decomposed Adaptation](https://arxiv.org/abs/2402.09353). Magnitude and"
        " direction of pretrained weights.\n"
        "## Serving\n- [MoE-Infinity: Expert Offloading](https://arxiv.org/abs/2401.14361)."
        " Offloading experts to host memory for serving.\n")
    scorer = CatalogSimilarity(catalog.sections)
    paper = Paper("2501.00001", "Low rank adapter learning rates",
                  "Low rank adapter matrices with different learning rates.")
    scored = scorer.score(Doc.from_paper(paper), make_topic("lora", "Training", "ti:rank"), ())
    found = nearest_entry(scored.reasons)
    assert found is not None
    assert found.name == "LoRA+"
    assert found.similarity >= MIN_REASON
