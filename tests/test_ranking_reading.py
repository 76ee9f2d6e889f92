"""Tests for ranking.reading: sentences, contribution sentences, coined names and cue matching."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch import textnorm
from arxivwatch.errors import QuerySyntaxError
from arxivwatch.models import Paper
from arxivwatch.query import Doc, parse
from arxivwatch.ranking.reading import Cues, Reading, coined_names, sentences


def reading(title: str, abstract: str = "") -> Reading:
    return Reading(Doc.from_paper(Paper("2401.00001", title, abstract)))


def find(cues: str, text: str) -> str | None:
    """The label of the first cue of `cues` in `text` (cleaned and squeezed as a field is)."""
    return Cues.parse(cues).find(textnorm.clean(text), textnorm.squeeze(text))


# -- sentences ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("We propose X. It works! Does it? Yes.", ["we propose x.", "it works!", "does it?", "yes."]),
    ("We tune adapters, e.g. LoRA. It is cheap.", ["we tune adapters, e.g. lora.", "it is cheap."]),
    ("Smith et al. showed it, i.e. a gain. We extend it.",
     ["smith et al. showed it, i.e. a gain.", "we extend it."]),
    ("LoRA vs. DoRA (cf. Fig. 2 and Eq. 3). Next.",
     ["lora vs. dora (cf. fig. 2 and eq. 3).", "next."]),
    ("A 2.5x speedup.\nOn GPUs.", ["a 2.5x speedup.", "on gpus."]),
    ("No end at all", ["no end at all"]),
    ("  Padded.   Text.  ", ["padded.", "text."]),
    ("e.g., adapters.  Then more.", ["e.g., adapters.", "then more."]),
])
def test_sentences_split_at_ends_but_not_after_abbreviations(text: str,
                                                              expected: list[str]) -> None:
    """A sentence ends at . ! or ? before white space; e.g., i.e., et al., vs., cf. do not end one."""
    assert sentences(textnorm.clean(text)) == expected


@pytest.mark.parametrize("text", [
    "We release the code and config. We propose LoRA-X.",
    "Prior work trains seq2seq. We propose LoRA-X.",
])
def test_abbreviations_are_whole_words(text: str) -> None:
    """Only the abbreviation itself keeps a sentence open, not a word that ends like one."""
    assert len(sentences(textnorm.clean(text))) == 2


_WORDS = ["We", "propose", "LoRA", "e.g.", "i.e.", "et", "al.", "vs.", "fig.", "x.", "y!",
          "z?", "2.5", "a", "...", "\n", "  ", "(cf.", "Eq.", "etc.", "end."]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=30).map(" ".join) | st.text(max_size=80))
def test_sentences_join_back_to_the_same_text(text: str) -> None:
    """Splitting loses nothing but the white space between sentences."""
    clean = textnorm.clean(text)
    out = sentences(clean)
    assert " ".join(" ".join(out).split()) == " ".join(clean.split())
    assert all(s == s.strip() for s in out)
    assert len(out) == 1 or all(s for s in out)


# -- contribution sentences ----------------------------------------------------------------------


def test_contribution_sentences_are_those_stating_the_papers_own_work() -> None:
    """Sentences saying what we/this paper propose, present, release or study are kept."""
    r = reading("X", "Large models are costly. Prior methods use adapters. We propose KeepLoRA, "
                     "an orthogonal update. KeepLoRA beats LoRA. In this paper, we also "
                     "release a benchmark. This survey reviews pruning. Here we study merging.")
    assert r.sentences[:2] == ("large models are costly.", "prior methods use adapters.")
    assert r.contribution == (
        "we propose keeplora, an orthogonal update.",
        "in this paper, we also release a benchmark.",
        "this survey reviews pruning.",
        "here we study merging.",
    )


@pytest.mark.parametrize("abstract", [
    "",
    "Adapters are popular. Results improve.",
    "Previous work proposed LoRA. Where it helps is unclear.",
])
def test_no_contribution_sentence_without_the_papers_own_voice(abstract: str) -> None:
    """Background and other people's proposals are not the paper's contribution."""
    assert reading("X", abstract).contribution == ()


# -- coined names --------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "names"), [
    ("KeepLoRA: Continual Learning without Forgetting", ("keeplora",)),
    ("SVD-LLM: Truncation-aware Singular Value Decomposition", ("svd-llm",)),
    ("MoE-Lightning: High-Throughput MoE Inference", ("moe-lightning", "high-throughput", "moe")),
    ("LoRA+: Efficient Low Rank Adaptation", ("lora+",)),
    ("Efficient fine-tuning of language models", ()),
    ("A Survey of Model Compression", ()),
    ("", ()),
])
def test_coined_names_are_title_words_with_an_inner_capital(title: str,
                                                            names: tuple[str, ...]) -> None:
    """KeepLoRA, SVD-LLM, MoE-Lightning are coined; Title Case words are not."""
    assert coined_names(title) == names


# -- cues ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cues", "text", "label"), [
    ("new", "A new method", "new"),
    ("new", "Fake news detection", None),
    ("news", "Fake news detection", "news"),
    ("news", "A new method", None),
    ("law", "Scaling laws for adapters", "law"),
    ('"scaling law"', "Scaling laws for adapters", '"scaling law"'),
    ('"scaling law"', "Law of large adapters", None),
    ('"scaling law"', "Legal law and scaling", None),
    ("adapter", "Two adapters", "adapter"),
    ("adapters", "One adapter", "adapters"),
    ("matrix", "Low-rank matrices", "matrix"),
    ("low-rank", "Lowrank updates", "low-rank"),
    ("lowrank", "Low-rank updates", "lowrank"),
    ('"low rank"', "Low-Rank updates", '"low rank"'),
    ('"low-rank adaptation"', "low rank adaptations", '"low-rank adaptation"'),
    ('"low-rank adaptation"', "low-rank (adaptation)", '"low-rank adaptation"'),
    ('"low-rank adaptation"', "Low. Rank adaptation", None),
    ("LoRA", "FLORA of the alps", None),
    ("LoRA", "KeepLoRA keeps", None),
    ("quantiz*", "Quantized models", "quantiz*"),
    ("ti:LoRA OR abs:survey", "A survey", "survey"),     # fields are ignored
    ("au:hinton OR cat:cs.LG", "Hinton cs.LG", None),
    ("prune OR sparse", "sparse and prunes", "prune"),   # the first cue listed wins
    ("prune", "pruned", None),                          # plurals, not other endings
])
def test_cues_match_as_the_query_language(cues: str, text: str, label: str | None) -> None:
    """Whole words and phrases, plural = singular, low-rank = lowrank; `new` is not `news`."""
    assert find(cues, text) == label


def test_cues_and_the_query_agree_on_whether_a_title_matches() -> None:
    """A cue is found in a title exactly when the same query matches that title."""
    texts = ["A new method", "Fake news", "Scaling laws", "Lowrank LoRAs", "KeepLoRA", "x"]
    for query in ("new", "news", "law", '"scaling law"', "low-rank", "LoRA"):
        for title in texts:
            matched = parse(f"ti:{query}").match(Doc.from_paper(Paper("1", title, ""))) is not None
            assert (find(query, title) is not None) is matched, (query, title)


def test_anchors_gate_the_pattern() -> None:
    """A cue is only searched where its anchor is in the squeezed text; a gate never finds."""
    cues = Cues.parse('LoRA OR "mixture of experts"')
    assert cues.find("we use lora", "") is None              # anchor absent: not searched
    assert cues.find("we use lora", "weuselora") == "LoRA"
    assert cues.find("a flora", "aflora") is None            # anchor present, no whole word
    r = reading("T", "Nothing to see.")
    assert cues.find_any(r, ("we use lora",)) is None        # the abstract has no `lora`
    assert cues.count(r, ("we use lora",)) == 0
    assert r.possible[cues] == []                             # kept with the reading
    r = reading("T", "We use LoRA. A mixture of experts. Flora.")
    assert cues.find_any(r, r.sentences) == "LoRA"
    assert cues.count(r, r.sentences) == 2
    assert [c.label for c in r.possible[cues]] == ["LoRA", '"mixture of experts"']


@pytest.mark.parametrize(("title", "label"), [
    ("KeepLoRA: continual learning", "lora"),          # inside a coined name
    ("QLoRA-X for everyone", "lora"),
    ("LoRA for everyone", "LoRA"),                     # the bare word: matched as a word
    ("LoRAs merge", "LoRA"),                           # its plural is the word, not a name
    ("Flora and fauna", None),                         # not a coined name
    ("A study of adapters", None),
])
def test_a_one_word_cue_hits_inside_a_coined_name(title: str, label: str | None) -> None:
    """`lora` is found in `KeepLoRA`, but a coined name that is just the word is the word."""
    assert Cues.parse("LoRA").in_title(reading(title)) == label


def test_coined_names_give_no_hit_for_phrases_prefixes_or_short_words() -> None:
    """Only one-word cues of 3+ letters, without a wildcard, are looked for inside names."""
    cues = Cues.parse('"low rank" OR quantiz* OR AB')
    assert cues.words == ()
    assert cues.in_title(reading("LowRankQuantizABLE: a method")) is None


@pytest.mark.parametrize("text", ["", "   ", None])
def test_empty_cues_find_nothing(text: str | None) -> None:
    """No cue text: falsy cues that never find anything."""
    cues = Cues.parse(text)
    assert not cues
    r = reading("LoRA", "We propose LoRA.")
    assert (cues.find("lora", "lora"), cues.in_title(r), cues.find_any(r, r.sentences),
            cues.count(r, r.sentences)) == (None, None, None, 0)


def test_malformed_cues_raise_the_query_syntax_error() -> None:
    """Cue text is query syntax: a malformed one raises QuerySyntaxError."""
    with pytest.raises(QuerySyntaxError):
        Cues.parse('LoRA OR "low rank')


_CUE_WORDS = ["LoRA", "lora", "low", "rank", "low-rank", "Low-Rank", "lowrank", "adaptation",
              "adaptations", "news", "new", "law", "laws", "scaling", "KeepLoRA", "e.g.", ".",
              ",", "(", ")", "We", "propose", "$\\mathbf{LoRA}$", "mixture", "of", "experts",
              "Mixture-of-Experts", "\n", "SVD-LLM", "?", "!"]
cue_texts = st.lists(st.sampled_from(_CUE_WORDS), max_size=25).map(" ".join)
CUE_SETS = [Cues.parse(q) for q in (
    'LoRA OR "low-rank adaptation" OR new', 'law OR "scaling law" OR news',
    '"mixture of experts" OR MoE OR expert', "low-rank OR quantiz* OR SVD")]


@settings(max_examples=200, deadline=None)
@given(cue_texts | st.text(max_size=60), cue_texts | st.text(max_size=200),
       st.sampled_from(CUE_SETS))
def test_cues_never_raise_and_agree_with_their_patterns(title: str, abstract: str,
                                                         cues: Cues) -> None:
    """On any text, cues answer without error, and the anchor gate never hides a match."""
    r = reading(title, abstract)
    r.contribution  # noqa: B018 -- computing it must not raise either
    clean, squeezed = r.title, r.squeezed_title
    ungated = next((c.label for c in cues.cues if c.pattern.search(clean)), None)
    assert cues.find(clean, squeezed) == ungated
    in_title = cues.in_title(r)
    assert in_title is None or ungated is not None or in_title in cues.words
    some = cues.find_any(r, r.sentences)
    count = cues.count(r, r.sentences)
    assert (some is None) == (count == 0)
    assert 0 <= count <= len(r.sentences)
    whole = r.doc.clean("abs")
    assert (count > 0) == any(c.pattern.search(whole) for c in cues.cues)
