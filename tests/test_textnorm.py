"""Tests for textnorm: cleaning, tokens, plural folding and variants."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arxivwatch import textnorm


@pytest.mark.parametrize(("text", "expected"), [
    ("LoRA: Low-Rank Adaptation", ["lora", "low", "rank", "adaptation"]),
    (r"$\mathbf{LoRA}$ and LoRA$+$", ["lora", "and", "lora"]),
    (r"\emph{sparse} {MoE}s", ["sparse", "moes"]),
    (r"Sch\"olkopf and Schölkopf", ["scholkopf", "and", "scholkopf"]),
    ("low\u2011rank (non-breaking hyphen)", ["low", "rank", "non", "breaking", "hyphen"]),
    ("GPT-4o, fine_tuning; x~y", ["gpt", "4o", "fine", "tuning", "x", "y"]),
    ("", []),
    ("$$ {} --", []),
])
def test_tokens(text: str, expected: list[str]) -> None:
    """tokens() lower-cases, drops LaTeX and punctuation, splits hyphens and underscores."""
    assert textnorm.tokens(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    (r"A $\mathbf{LoRA}$-based method.", "a lora-based method."),
    (r"\textit{Lo}\textit{RA} keeps~punctuation, (and) dots.",
     "lora keeps punctuation, (and) dots."),
    ("Naïve Bayes", "naive bayes"),
])
def test_clean_keeps_punctuation(text: str, expected: str) -> None:
    """clean() removes markup but keeps punctuation, which phrases and sentence ends need."""
    assert textnorm.clean(text) == expected


def test_squeeze_is_clean_without_spaces_and_hyphens() -> None:
    """squeeze() cleans and joins `low-rank` and `low rank` into `lowrank`, keeping other punctuation."""
    assert textnorm.squeeze("Low-rank, low rank. Naïve {MoE}~$x$") == "lowrank,lowrank.naivemoex"


def test_compounds_join_adjacent_pairs() -> None:
    """compounds() gives the joined form of each adjacent pair."""
    assert textnorm.compounds(["low", "rank", "adapter"]) == ["lowrank", "rankadapter"]


@pytest.mark.parametrize(("token", "expected"), [
    ("experts", "expert"), ("expert", "expert"), ("queries", "query"), ("matrices", "matrix"),
    ("indices", "index"), ("vertices", "vertex"), ("hypotheses", "hypothesis"),
    ("analyses", "analysis"), ("analysis", "analysis"), ("classes", "class"),
    ("batches", "batch"), ("caches", "cache"), ("kvcaches", "kvcache"), ("boxes", "box"),
    ("biases", "bias"), ("bias", "bias"), ("gpus", "gpu"), ("loras", "lora"), ("moes", "moe"),
    ("movies", "movie"), ("devices", "device"), ("studies", "study"), ("corpus", "corpus"),
    ("corpora", "corpus"), ("criteria", "criterion"), ("process", "process"),
    ("processes", "process"), ("this", "this"), ("lora", "lora"), ("loran", "loran"),
    ("moe", "moe"), ("moed", "moed"), ("is", "is"), ("ties", "tie"), ("uses", "use"),
    ("news", "news"), ("new", "new"),
])
def test_stem(token: str, expected: str) -> None:
    """stem() folds plurals to singulars and leaves everything else alone."""
    assert textnorm.stem(token) == expected


@pytest.mark.parametrize(("word", "expected"), [
    ("lora", {"lora", "loras"}),
    ("moe", {"moe", "moes"}),
    ("experts", {"expert", "experts"}),
    ("matrix", {"matrix", "matrices", "matrixes", "matrixs"}),
    ("cache", {"cache", "caches"}),
    ("bias", {"bias", "biases"}),
    ("new", {"new"}),                    # "news" is its own word, not the plural of "new"
])
def test_variants(word: str, expected: set[str]) -> None:
    """variants() lists the surface forms with the word's stem, and nothing that over-stems."""
    assert textnorm.variants(word) == expected


def test_common_prefix() -> None:
    """common_prefix() is the longest shared prefix."""
    assert textnorm.common_prefix({"query", "queries"}) == "quer"
    assert textnorm.common_prefix({"lora", "moe"}) == ""


@given(st.text(alphabet="abcdeisuxyzpch", min_size=1, max_size=12))
def test_stem_is_idempotent_and_variants_agree(word: str) -> None:
    """Stemming a stem changes nothing, and every variant of a word shares its stem."""
    base = textnorm.stem(word)
    assert textnorm.stem(base) == base
    forms = textnorm.variants(word)
    assert word in forms
    assert {textnorm.stem(f) for f in forms} == {base}


@given(st.text(max_size=200))
def test_tokens_are_lowercase_words(text: str) -> None:
    """Any text gives non-empty lower-case tokens of letters and digits only."""
    for token in textnorm.tokens(text):
        assert token
        assert token == token.lower() or not token.isascii()
        assert all(c.isalnum() for c in token)


@given(st.text(alphabet=st.sampled_from("aB -~${}\\\"öé\u2010.,x"), max_size=40))
def test_squeeze_equals_clean_without_spaces_and_hyphens(text: str) -> None:
    """squeeze() is exactly clean() with spaces and hyphens removed (the matcher relies on it)."""
    assert textnorm.squeeze(text) == textnorm.clean(text).replace(" ", "").replace("-", "")


@pytest.mark.parametrize("title", [
    "Low-Rank Adaptation for Everyone", "LowRank Adaptation for Everyone",
    "low rank adaptation for everyone!", "Low-Rank  Adaptation\n for {E}veryone",
])
def test_fold_title_keeps_letters_and_digits_only(title: str) -> None:
    """Titles that differ in case, hyphens, spacing, punctuation or LaTeX braces fold alike."""
    assert textnorm.fold_title(title) == "lowrankadaptationforeveryone"
