"""Tests for the topic query language: parsing, errors, printing, arXiv form and matching."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from arxivwatch import textnorm
from arxivwatch.errors import QuerySyntaxError
from arxivwatch.models import Hit, Paper
from arxivwatch.query import And, AndNot, Doc, Or, Query, Term, parse
from arxivwatch.query import matcher as M
from arxivwatch.query.matcher import TextMatcher, compile_term


def T(text: str, field: str = "all", **kw: bool) -> Term:
    return Term(field, text, **kw)


def doc(title: str = "Untitled", abstract: str = "", **kw: Any) -> Doc:
    return Doc.from_paper(Paper(id="2401.00001", title=title, abstract=abstract, **kw))


# --- parsing ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "tree"), [
    ("lora", T("lora")),
    ("ti:LoRA", T("LoRA", "ti")),
    ("TI:LoRA", T("LoRA", "ti")),
    ('abs:"low-rank  adaptation"', T("low-rank adaptation", "abs", phrase=True)),
    ("low-rank", T("low-rank")),
    ("ti:quantiz*", T("quantiz", "ti", prefix=True)),
    ("cat:cs.LG", T("cs.LG", "cat")),
    ("cat:cs.*", T("cs.", "cat", prefix=True)),
    ("au:hinton_g", T("hinton_g", "au")),
    ("and", T("and")),
    ("ti:AND", T("AND", "ti")),
    ("((lora))", T("lora")),
    ("a OR b OR c", Or((T("a"), T("b"), T("c")))),
    ("a OR (b OR c)", Or((T("a"), Or((T("b"), T("c")))))),
    ("a AND b OR c", Or((And((T("a"), T("b"))), T("c")))),
    ("a OR b AND c", Or((T("a"), And((T("b"), T("c")))))),
    ("a ANDNOT b ANDNOT c", AndNot(AndNot(T("a"), T("b")), T("c"))),
    ("a AND b ANDNOT c AND d", And((AndNot(And((T("a"), T("b"))), T("c")), T("d")))),
    ("ti:(lora OR dora)", Or((T("lora", "ti"), T("dora", "ti")))),
    ("ti:(a AND (b OR \"c d\"))",
     And((T("a", "ti"), Or((T("b", "ti"), T("c d", "ti", phrase=True)))))),
])
def test_parse(text: str, tree: Query) -> None:
    """Queries parse to the expected tree; AND/ANDNOT bind tighter than OR, left to right."""
    assert parse(text) == tree


@pytest.mark.parametrize(("text", "column", "message"), [
    ("", 0, "empty query"),
    ("   ", 0, "empty query"),
    ("(lora OR dora", 0, "unclosed parenthesis"),
    ("lora AND (a OR (b)", 9, "unclosed parenthesis"),
    ("lora OR dora)", 12, "unmatched )"),
    (")", 0, "unmatched )"),
    ("()", 1, "empty parentheses"),
    ("lora OR", 5, "OR at the end needs a term"),
    ("lora ANDNOT", 5, "ANDNOT at the end needs a term"),
    ("OR lora", 0, "expected a term, found OR"),
    ("lora AND OR dora", 9, "expected a term after AND, found OR"),
    ("a AND (b OR )", 12, "expected a term after OR, found )"),
    ("tl:lora", 0, "unknown field prefix tl: (did you mean ti:?"),
    ("lora OR xyz:dora", 8, "unknown field prefix xyz:"),
    ('ti:"low rank', 3, "unterminated quote"),
    ('lora OR "', 8, "unterminated quote"),
    ('ti:""', 3, "empty phrase"),
    ('" $ "', 0, "empty phrase"),
    ("lora and dora", 5, "operators are upper case: write AND"),
    ("lora or dora", 5, "operators are upper case: write OR"),
    ("lora dora", 5, "missing operator"),
    ('lora "low rank"', 5, "missing operator"),
    ("NOT lora", 0, "NOT is not an operator"),
    ("lora AND NOT dora", 9, "NOT is not an operator"),
    ("ti: lora", 3, "missing term after ti:"),
    ("ti:", 3, "missing term after ti:"),
    ("ti:(abs:x)", 4, "field prefix cannot be used inside ti:( )"),
    ("quan*tiz", 4, "wildcard * must end the word"),
    ("ab*", 2, "at least 3 letters"),
    ('"low rank*"', 9, "wildcard * cannot be used inside a phrase"),
    ('cat:"cs.LG"', 4, "a category is one word"),
    ("cat:cs..x", 4, "not an arXiv category"),
    ("lora OR ---", 8, "no letters or digits"),
])
def test_parse_errors(text: str, column: int, message: str) -> None:
    """Each malformed query raises QuerySyntaxError pointing at the offending column."""
    with pytest.raises(QuerySyntaxError) as info:
        parse(text)
    assert (info.value.column, info.value.query) == (column, text)
    assert message in info.value.message


def test_error_shows_a_caret_under_the_column() -> None:
    """The error text repeats the query with a caret under the offending column."""
    with pytest.raises(QuerySyntaxError) as info:
        parse("lora OR tl:x")
    lines = str(info.value).splitlines()
    assert lines[0].endswith("at column 9")
    assert lines[1] == "  lora OR tl:x"
    assert lines[2] == "  " + " " * 8 + "^"


# --- printing and arXiv form -----------------------------------------------------------------

@pytest.mark.parametrize(("text", "printed"), [
    ("all:lora", "lora"),
    ("TI:LoRA", "ti:LoRA"),
    ('abs:"low   rank"', 'abs:"low rank"'),
    ("a OR b AND c", "a OR (b AND c)"),
    ("(a OR b) AND c", "(a OR b) AND c"),
    ("a AND b ANDNOT c", "a AND b ANDNOT c"),
    ("a ANDNOT (b OR c)", "a ANDNOT (b OR c)"),
    ("a AND (b AND c)", "a AND (b AND c)"),
    ("ti:(lora OR dora)", "ti:lora OR ti:dora"),
    ("all:AND", "all:AND"),
    ("all:a:b", "all:a:b"),
    ("quantiz* OR cat:cs.*", "quantiz* OR cat:cs.*"),
])
def test_str_prints_canonical_query(text: str, printed: str) -> None:
    """str() prints a canonical equivalent query."""
    assert str(parse(text)) == printed
    assert parse(printed) == parse(text)


@pytest.mark.parametrize(("text", "arxiv"), [
    ("lora", "all:lora"),
    ('ti:"low rank"', 'ti:"low rank"'),
    ("low-rank", 'all:"low-rank"'),
    ("a OR b AND c", "all:a OR (all:b AND all:c)"),
    ("a AND b ANDNOT c", "(all:a AND all:b) ANDNOT all:c"),
    ("cat:cs.LG AND co:NeurIPS", "cat:cs.LG AND co:NeurIPS"),
    ("ti:quantiz* OR cat:cs.*", "ti:quantiz* OR cat:cs.*"),
    ("au:hinton_g", "au:hinton_g"),
])
def test_to_arxiv(text: str, arxiv: str) -> None:
    """to_arxiv() writes every field and parenthesises every group (arXiv has no precedence)."""
    assert parse(text).to_arxiv() == arxiv


def test_terms_lists_leaves_once_in_order() -> None:
    """terms() gives each leaf term once, in query order, including ANDNOT's right side."""
    q = parse('ti:lora OR (abs:"low rank" ANDNOT survey) OR ti:lora')
    assert q.terms() == (T("lora", "ti"), T("low rank", "abs", phrase=True), T("survey"))
    assert [t.label for t in q.terms()] == ["lora", '"low rank"', "survey"]


@pytest.mark.parametrize("build", [
    lambda: Term("tl", "x"), lambda: Term("ti", "---"), lambda: Or((T("a"),)),
    lambda: And(()),
])
def test_invalid_nodes_are_refused(build: Any) -> None:
    """Nodes that no query text could produce raise ValueError."""
    with pytest.raises(ValueError, match=r"field|letters|at least two"):
        build()


# --- matching --------------------------------------------------------------------------------

MATCHES = [
    # case, plural and singular, no over-stemming
    ("lora", {"title": "LoRA: Low-Rank Adaptation"}, True),
    ("LORA", {"abstract": "we use lora."}, True),
    ("expert", {"title": "Mixture of Experts"}, True),
    ("experts", {"abstract": "one expert"}, True),
    ("query", {"abstract": "many queries"}, True),
    ("matrices", {"abstract": "a weight matrix"}, True),
    ("cache", {"abstract": "KV caches"}, True),
    ("gpu", {"abstract": "8 GPUs"}, True),
    ("lora", {"title": "LoRAN: a different thing"}, False),
    ("lora", {"abstract": "exploration of QLoRA"}, False),
    ("moe", {"abstract": "moed"}, False),
    # hyphens, spaces and joined words, in the query and in the text
    ("low-rank", {"abstract": "a low rank update"}, True),
    ("low-rank", {"abstract": "a lowrank update"}, True),
    ("lowrank", {"abstract": "a low-rank update"}, True),
    ("lowrank", {"abstract": "a low rank update"}, True),
    ('"low rank"', {"abstract": "LowRank updates"}, True),
    ('"low-rank adaptation"', {"abstract": "lowrank-adaptations work"}, True),
    ("gpt-4", {"abstract": "GPT4 and friends"}, True),
    ("low-rank", {"abstract": "slow rank"}, False),
    ("lowrank", {"abstract": "flow rank"}, False),
    # LaTeX and punctuation
    ("lora", {"title": r"$\mathbf{LoRA}$ for all"}, True),
    ("lora", {"title": "LoRA$+$: better"}, True),
    ("sparse", {"abstract": r"a \emph{sparse} model"}, True),
    ("moe", {"abstract": "{MoE} layers"}, True),
    ("moe", {"abstract": "{MoE}s"}, True),
    ("low-rank", {"abstract": "low\u2011rank"}, True),
    # phrases
    ('"mixture of experts"', {"abstract": "sparse mixture-of-experts models"}, True),
    ('"mixture of experts"', {"title": "Mixture-of-Experts (MoE) at scale"}, True),
    ('"mixture of experts"', {"abstract": "mixtures of experts"}, True),
    ('"mixture of experts"', {"abstract": "a mixture, of experts"}, True),
    ('"mixture of experts"', {"abstract": "a mixture. Of experts we ask"}, False),
    ('"mixture of experts"', {"abstract": "a mixture of many experts"}, False),
    ('"rank low"', {"abstract": "low rank"}, False),
    # prefix wildcard
    ("ti:quantiz*", {"title": "Quantized LLMs"}, True),
    ("ti:quantiz*", {"title": "Post-training quantization"}, True),
    ("ti:quantiz*", {"title": "Quant tricks"}, False),
    # fields
    ("ti:lora", {"abstract": "lora"}, False),
    ("abs:lora", {"abstract": "lora"}, True),
    ("co:neurips", {"comments": "Accepted at NeurIPS 2024"}, True),
    ("co:neurips", {"comments": None}, False),
    ("lora", {"comments": "LoRA code released"}, True),
    ("lora", {"authors": ("Lora Aroyo",)}, False),
    ("au:hinton", {"authors": ("Geoffrey E. Hinton",)}, True),
    ('au:"hinton geoffrey"', {"authors": ("Geoffrey E. Hinton",)}, True),
    ("au:hinton_g", {"authors": ("Geoffrey E. Hinton",)}, True),
    ("au:geoffrey_hinton", {"authors": ("G. Hinton",)}, True),
    ("au:hint*", {"authors": ("Geoffrey Hinton",)}, True),
    ("au:scholkopf", {"authors": (r"Bernhard Sch\"olkopf",)}, True),
    ("au:scholkopf", {"authors": ("Bernhard Schölkopf",)}, True),
    ('au:"geoffrey hinton"', {"authors": ("Geoffrey Smith", "Jane Hinton")}, False),
    ("au:hinton", {"authors": ()}, False),
    ("au:g_h", {"authors": ("Geoffrey Hinton",)}, False),
    ("cat:cs.LG", {"categories": ("cs.LG", "stat.ML")}, True),
    ("cat:cs.lg", {"categories": ("cs.LG",)}, True),
    ("cat:cs.L", {"categories": ("cs.LG",)}, False),
    ("cat:cs.*", {"categories": ("stat.ML", "cs.DC")}, True),
    ("cat:math.*", {"categories": ("cs.LG",)}, False),
    # operators and groups
    ("lora ANDNOT survey", {"title": "LoRA methods"}, True),
    ("lora ANDNOT survey", {"title": "A survey of LoRA"}, False),
    ("x OR y AND z", {"abstract": "x"}, True),
    ("x OR y AND z", {"abstract": "y"}, False),
    ("(x OR y) AND z", {"abstract": "y z"}, True),
    ("(lora OR dora) AND (ti:efficient ANDNOT ti:survey)",
     {"title": "Efficient DoRA", "abstract": ""}, True),
    ("(lora OR dora) AND (ti:efficient ANDNOT ti:survey)",
     {"title": "Efficient DoRA: a survey"}, False),
    # empty abstract
    ("abs:lora", {"title": "LoRA", "abstract": ""}, False),
    ("lora", {"title": "LoRA", "abstract": ""}, True),
]


@pytest.mark.parametrize(("text", "paper", "expected"), MATCHES)
def test_match(text: str, paper: dict[str, Any], expected: bool) -> None:
    """Matching tolerates case, plurals, hyphens, LaTeX and punctuation, and nothing more."""
    assert (parse(text).match(doc(**paper)) is not None) is expected


def test_hits_say_which_term_hit_in_which_field() -> None:
    """Hits list every positive term that matched, with the field it matched in."""
    q = parse('ti:LoRA OR abs:"low-rank adaptation" OR abs:survey OR au:hu OR cat:cs.CL')
    d = doc("LoRA: Low-Rank Adaptation", "We propose low-rank adaptation.",
            authors=("Edward J. Hu",), categories=("cs.CL",))
    assert q.match(d) == (
        Hit("LoRA", "ti"), Hit('"low-rank adaptation"', "abs"), Hit("hu", "au"),
        Hit("cs.CL", "cat"))


def test_bare_term_hits_every_text_field_it_appears_in() -> None:
    """A bare term reports each of title, abstract and comments where it matched."""
    d = doc("LoRA", "about loras", comments="LoRA code")
    assert parse("lora").match(d) == (Hit("lora", "ti"), Hit("lora", "abs"), Hit("lora", "co"))


def test_andnot_right_side_never_appears_as_a_hit() -> None:
    """Terms under ANDNOT's right side explain nothing, even when some of them match."""
    d = doc("LoRA and DoRA", "")
    assert parse("lora ANDNOT (dora AND survey)").match(d) == (Hit("lora", "ti"),)


def test_repeated_hits_are_reported_once() -> None:
    """The same term in the same field is listed once."""
    assert parse("lora OR ti:lora").match(doc("LoRA")) == (Hit("lora", "ti"),)


def test_no_match_is_none() -> None:
    """A query that does not match returns None, not an empty tuple."""
    assert parse("lora AND dora").match(doc("LoRA")) is None


def test_doc_tokens_for_ranking() -> None:
    """Doc exposes the normalised tokens of a field for the ranking."""
    d = doc(r"$\mathbf{LoRA}$: Low-Rank Adaptation")
    assert d.tokens("ti") == ["lora", "low", "rank", "adaptation"]
    with pytest.raises(ValueError, match="not a text field"):
        d.raw("xx")


# --- print/parse property --------------------------------------------------------------------

_FIELDS = st.sampled_from(["ti", "abs", "au", "co", "all"])
_WORDS = st.from_regex(r"[A-Za-z][a-z0-9]{0,5}(-[a-z0-9]{1,4})?", fullmatch=True)
_ODD_WORDS = st.sampled_from(["AND", "OR", "ANDNOT", "NOT", "and", "or", "a:b", "LoRA$+$"])
_LEAVES = st.one_of(
    st.builds(Term, _FIELDS, _WORDS | _ODD_WORDS),
    st.builds(lambda f, ws: Term(f, " ".join(ws), phrase=True),
              _FIELDS, st.lists(_WORDS | _ODD_WORDS, min_size=1, max_size=3)),
    st.builds(lambda f, w: Term(f, w, prefix=True),
              _FIELDS, st.from_regex(r"[a-z]{3,7}", fullmatch=True)),
    st.sampled_from([Term("cat", "cs.LG"), Term("cat", "cs.", prefix=True), Term("cat", "hep-th")]),
)
_TREES = st.recursive(_LEAVES, lambda kids: st.one_of(
    st.builds(Or, st.lists(kids, min_size=2, max_size=3).map(tuple)),
    st.builds(And, st.lists(kids, min_size=2, max_size=3).map(tuple)),
    st.builds(AndNot, kids, kids),
), max_leaves=10)


@given(_TREES)
def test_parse_of_str_is_the_same_query(q: Query) -> None:
    """Printing any query tree and parsing it back gives an equal tree."""
    assert parse(str(q)) == q


@given(_TREES)
@example(AndNot(Term("ti", "a:b"), Or((Term("ti", "AND"), Term("ti", "a:b", phrase=True)))))
def test_to_arxiv_is_a_valid_query_with_the_same_terms(q: Query) -> None:
    """The arXiv form parses in our syntax too and keeps every term and field.

    A word that arXiv needs quoted (`a:b`) comes back as a phrase, so it may merge with a phrase
    of the same text: terms are compared as distinct (field, text) pairs.
    """
    back = parse(q.to_arxiv())
    assert _pairs(back) == _pairs(q)


def _pairs(q: Query) -> list[tuple[str, str]]:
    return list(dict.fromkeys((t.field, t.text) for t in q.terms()))


_VOCAB = ["low", "rank", "lowrank", "adaptation", "adaptations", "mixture", "of", "experts",
          "expert", "lora", "loras", "moe", "query", "queries", "kv", "cache", "kvcache"]
_GLUE = [" ", "-", ", ", ". ", "", "$", "{", "} ", " (", ") "]


@given(
    st.lists(st.sampled_from(_VOCAB), min_size=1, max_size=3).map(" ".join),
    st.lists(st.tuples(st.sampled_from(_VOCAB), st.sampled_from(_GLUE)), max_size=12),
)
def test_anchor_precheck_never_rejects_a_regex_match(phrase: str, parts: list[Any]) -> None:
    """The cheap anchor test is a necessary condition: it agrees with the full regex check."""
    text = "".join(w + g for w, g in parts)
    d = doc(text, text.upper())
    matcher = compile_term("all", phrase, prefix=False)
    assert isinstance(matcher, TextMatcher)
    expected = tuple(f for f in matcher.fields if matcher.pattern.search(d.clean(f)))
    assert matcher.fields_hit(d) == expected


# The plain construction `matcher._pattern` must equal: every grouping of the words into units,
# each unit every form of its word, whole or split in two by a space or hyphen, as one flat
# alternation in order of preference (longest form first, whole before split).
def _plain_pattern(words: list[str], prefix: bool) -> str:
    groupings = []
    for grouping in M._groupings(len(words)):
        units = [_plain_unit("".join(words[i:j]), prefix and j == len(words)) for i, j in grouping]
        groupings.append(M._SEP.join(units))
    return M._START + "(?:" + "|".join(groupings) + ")" + M._END


def _plain_unit(word: str, prefix: bool) -> str:
    if prefix:
        return re.escape(word) + r"[^\W_]*"
    forms = sorted(textnorm.variants(word), key=lambda f: (-len(f), f))
    alts = [re.escape(f) for f in forms]
    alts += [re.escape(f[:k]) + M._SPLIT + re.escape(f[k:])
             for f in forms for k in range(1, min(len(word), len(f)))]
    return "(?:" + "|".join(alts) + ")"


_WORDS = ["expert", "experts", "study", "studies", "index", "matrix", "process", "bias", "lora",
          "low", "rank", "lowrank", "model", "llms", "kv", "data", "a", "of", "box", "child"]


def _pieces(word: str, cut: int, sep: str, plural: str) -> str:
    form = sorted(textnorm.variants(word))[cut % len(textnorm.variants(word))] + plural
    return form[:cut] + sep + form[cut:] if 0 < cut < len(form) else form


_PIECE = st.builds(_pieces, st.sampled_from(_WORDS), st.integers(0, 9),
                   st.sampled_from([" ", "-", ""]), st.sampled_from(["", "", "s", "es"]))


@given(st.lists(st.sampled_from(_WORDS), min_size=1, max_size=3), st.booleans(),
       st.lists(st.tuples(_PIECE, st.sampled_from([*_GLUE, " s ", "-s", "s"])), max_size=8))
@example(["expert"], False, [("expert", " s")])
@example(["experts"], False, [("expert", " s"), ("ex", "-perts.")])
def test_term_regex_matches_as_the_plain_alternation(words: list[str], prefix: bool,
                                                     parts: list[tuple[str, str]]) -> None:
    """The compact regex (first letter factored out, `s?` plurals) finds the same matches,
    span for span, as the plain alternation of every form and split."""
    text = textnorm.clean("".join(p + g for p, g in parts))
    compact = re.compile(M._pattern(words, prefix))
    plain = re.compile(_plain_pattern(words, prefix))
    assert [m.span() for m in compact.finditer(text)] == [m.span() for m in plain.finditer(text)]


@pytest.mark.parametrize("word", _WORDS)
def test_term_regex_takes_every_form_and_split_as_the_plain_alternation(word: str) -> None:
    """Each form of a word, whole, split at every place, or followed by `s`, `-s`, a letter,
    in a phrase or alone: the same spans as the plain alternation."""
    forms = textnorm.variants(word) | {word + "s", word + "es"}
    texts = [f[:k] + sep + f[k:] + end for f in forms for k in range(len(f) + 1)
             for sep in (" ", "-") for end in ("", " s", "-s", "x", ". ")]
    for words in ([word], [word, "rank"], ["low", word]):
        compact = re.compile(M._pattern(words, False))
        plain = re.compile(_plain_pattern(words, False))
        for text in texts:
            for t in (text, f"low {text} rank", f"{text}-rank"):
                assert ([m.span() for m in compact.finditer(t)]
                        == [m.span() for m in plain.finditer(t)]), (words, t)


@pytest.mark.parametrize("field", ["all", "ti", "abs"])
@pytest.mark.parametrize(("text", "prefix"), [("low-rank adaptation", False), ("experts", False),
                                              ("quantiz", True), ("mixture of experts", False)])
def test_a_term_built_again_is_built_as_the_first_time(field: str, text: str,
                                                       prefix: bool) -> None:
    """Anchors and regex sources are remembered per words: the same as building them anew,
    whatever the field, and the same objects the second time."""
    first, second = compile_term(field, text, prefix), compile_term(field, text, prefix)
    assert isinstance(first, TextMatcher)
    assert isinstance(second, TextMatcher)
    words = textnorm.tokens(text)
    assert first.anchors == M._anchors(words, prefix)
    assert first.source == M._pattern(words, prefix)
    assert second.source is first.source
    assert first.fields == (M.TEXT_FIELDS if field == "all" else (field,))
