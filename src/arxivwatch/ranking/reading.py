"""Reading what a paper says it contributes: its title, its coined names, and the sentences of
its abstract that state the contribution ("We propose X, ...", "This paper presents ...").

A paper that merely uses a technique names it in passing, in its setup or its experiments; a
paper about the technique names it in its title, in the name it coins (KeepLoRA, SVD-LLM,
MoE-Lightning) and in the sentence that says what it contributes. `Reading` splits a paper once;
`Cues` say whether a list of words and phrases occurs in one of those places, matched as the
query language matches them (whole words, plural = singular, `low-rank` = `low rank`).

Cost matters: every matched paper is read, for every topic it matches, in the poll and in a
backtest over years of papers. A reading reuses the clean and squeezed texts the query matcher
already made (`query.Doc`), and a cue's regular expression runs only where its anchors (the
substrings any match must leave, see `query.matcher`) are present.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress
from typing import NamedTuple

from arxivwatch import textnorm
from arxivwatch.query import And, AndNot, Doc, Or, Query, Term, parse
from arxivwatch.query.matcher import TextMatcher, compile_term

# Clean text is lower case, so a sentence ends at . ! or ? and white space; a piece that ends
# with an abbreviation that often stands mid-sentence is joined to the next.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_SENTENCE_CUT = re.compile(r"([.!?])\s+")   # the same cuts, found faster (a class first)
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "fig.", "eq.", "sec.", "approx.")
# The sentences that state what the paper itself contributes: a subject, then a verb.
_SUBJECTS = (r"\b(?:we|our|this (?:paper|work|study|article|letter|report|survey|review|thesis)|"
             r"in this (?:paper|work)|here)\b")
_VERBS = ("propos", "present", "introduc", "develop", "design", "devis", "put forward",
          "formulat", "unveil", "releas", "construct", "curat", "buil[dt]", "creat", "contribut",
          "establish", "offer", "provid", "collect", "compil", "assembl", "stud(?:y|ied)",
          "investigat", "analy[sz]", "examin", "explor", "revisit", "summari[sz]", "review",
          "survey", "categori[sz]", "benchmark", "evaluat", "assess", "measur", "compar",
          "extend", "enabl", "achiev")


def _by_first_letter(stems: tuple[str, ...]) -> str:
    """An alternation of stems grouped by first letter: `re` then tries one branch per letter
    at each position instead of every stem (the same strings match)."""
    groups: dict[str, list[str]] = {}
    for stem in stems:
        groups.setdefault(stem[0], []).append(stem[1:])
    return "(?:" + "|".join(f"{c}(?:{'|'.join(rest)})" for c, rest in groups.items()) + ")"


_STATES_CONTRIBUTION = re.compile(_SUBJECTS + r"[^.;]*?\b" + _by_first_letter(_VERBS))
# A coined name: a title word with a capital after its first letter (LoRA, KeepLoRA, SVD-LLM).
_TITLE_WORD = re.compile(r"[^\W_][\w+\-]*")
_INNER_CAPITAL = re.compile(r"[A-Z]")


def sentences(clean_text: str) -> list[str]:
    """The sentences of a clean text (`textnorm.clean`); abbreviations do not end one.

    The cuts are `_SENTENCE_END`'s, white space after `.`, `!` or `?`; `_SENTENCE_CUT` finds
    them faster and hands the mark back separately, to be put back on its piece.
    """
    out: list[str] = []
    parts = iter(_SENTENCE_CUT.split(clean_text.strip()))
    for head in parts:
        piece = head + next(parts, "")
        if out and _ends_with_abbreviation(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _ends_with_abbreviation(text: str) -> bool:
    """`... e.g.` yes; `... config.` no (an abbreviation is a whole word, not a word's end)."""
    if not text.endswith(_ABBREVIATIONS):   # most sentences: one test in C
        return False
    for abbreviation in _ABBREVIATIONS:
        if text.endswith(abbreviation):
            before = len(text) - len(abbreviation) - 1
            return before < 0 or not text[before].isalnum()
    return False


def coined_names(title: str) -> tuple[str, ...]:
    """The title's coined names, lower-cased: `keeplora`, `svd-llm` from `SVD-LLM: ...`."""
    return tuple(w.lower() for w in _TITLE_WORD.findall(title)
                 if len(w) > 1 and _INNER_CAPITAL.search(w, 1))


class Reading:
    """One paper, read once: its title, coined names, sentences and contribution sentences.

    Cue sets share what they ask of the abstract: an anchor is searched in the squeezed
    abstract once a paper, whichever set asks (`Cues._possible`).
    """

    __slots__ = ("__dict__", "_has", "doc")

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self._has: dict[str, bool] = {}     # anchor -> in the squeezed abstract

    @property
    def title(self) -> str:
        """The title, clean."""
        return self.doc.clean("ti")

    @property
    def squeezed_title(self) -> str:
        """The title, squeezed (for anchor tests)."""
        return self.doc.squeezed("ti")

    @property
    def squeezed_abstract(self) -> str:
        """The abstract, squeezed (for anchor tests)."""
        return self.doc.squeezed("abs")

    @cached_property
    def squeezed_contribution(self) -> str:
        """The contribution sentences squeezed as the abstract is, one a line (anchor tests: a
        cue matching in them leaves its anchors here, in a third of the abstract's length)."""
        return "\n".join(self.squeezed_sentences[i] for i in self.contribution_at)

    @cached_property
    def possible(self) -> dict[Cues, list[_Cue]]:
        """Per cue set, the cues that may occur in the abstract (see `Cues`)."""
        return {}

    @cached_property
    def possible_claimed(self) -> dict[Cues, list[_Cue]]:
        """Per cue set, the cues that may occur in the contribution sentences."""
        return {}

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Coined names in the title (see `coined_names`)."""
        return coined_names(self.doc.paper.title)

    @cached_property
    def abstract(self) -> str:
        """The clean abstract, stripped (what `sentences` cuts)."""
        return self.doc.clean("abs").strip()

    @cached_property
    def sentences(self) -> tuple[str, ...]:
        """The abstract's sentences, clean."""
        return tuple(sentences(self.abstract))

    @cached_property
    def squeezed_sentences(self) -> tuple[str, ...]:
        """The sentences squeezed as the abstract is (`textnorm.squeeze` of clean text), for
        anchor tests before a cue's regular expression runs on one sentence."""
        return tuple(_squeeze_clean(s) for s in self.sentences)

    @cached_property
    def contribution_at(self) -> tuple[int, ...]:
        """Which sentences (indexes into `sentences`) state the paper's own contribution."""
        return tuple(i for i, s in enumerate(self.sentences)
                     if ("we" in s or "our" in s or "this" in s or "here" in s)   # its subjects
                     and _STATES_CONTRIBUTION.search(s))

    @cached_property
    def contribution(self) -> tuple[str, ...]:
        """The clean sentences that state the paper's own contribution (may be none)."""
        return tuple(self.sentences[i] for i in self.contribution_at)


def _squeeze_clean(clean: str) -> str:
    """`textnorm.squeeze` of a clean text (lower case, no LaTeX: only the deletions left)."""
    return clean.encode().translate(None, b" -${}~").decode()


class _Cue(NamedTuple):
    label: str
    anchor: str                 # the longest anchor: most cues fail on it alone
    others: tuple[str, ...]
    pattern: re.Pattern[str]


AnchorTest = Callable[[str], "compress[_Cue]"]


def _anchor_test(cues: tuple[_Cue, ...]) -> AnchorTest:
    """A function giving the cues whose anchors are all in a squeezed text (necessary for a
    match), in order: one Python expression of `in` tests, each distinct anchor tested once
    (a loop over the cues costs more than the tests themselves on a title)."""
    names: dict[str, str] = {}    # first anchors: always tested, so named for reuse
    tests = []
    for cue in cues:
        name = names.get(cue.anchor)
        if name is None:
            name = names[cue.anchor] = f"v{len(names)}"
            name = f"({name} := {cue.anchor!r} in s)"
        others = (names.get(a, f"{a!r} in s") for a in cue.others)
        tests.append(" and ".join((name, *others)))
    source = f"lambda s: compress(cues, ({''.join(f'{t}, ' for t in tests)}))"
    test: AnchorTest = eval(source, {"__builtins__": {}, "compress": compress,  # noqa: S307
                                     "cues": cues})
    return test


def _in(cue: _Cue, squeezed: str) -> bool:
    """Whether all the cue's anchors are in a squeezed text."""
    return cue.anchor in squeezed and (not cue.others or all(a in squeezed for a in cue.others))


@dataclass(frozen=True, eq=False)
class Cues:
    """Words and phrases, written as in a topic query (an OR of terms), to look for in text.

    Field prefixes and operators are accepted and ignored: a cue is looked for in the place the
    caller names. Matching is the query language's (see `arxivwatch.query.matcher`).
    """

    text: str
    cues: tuple[_Cue, ...]
    words: tuple[str, ...]      # one-word terms of 3+ letters, for coined names
    possible_in: AnchorTest = field(init=False, repr=False)   # see `_anchor_test`

    def __post_init__(self) -> None:
        object.__setattr__(self, "possible_in", _anchor_test(self.cues))

    @classmethod
    def parse(cls, text: str | None) -> Cues:
        """Compile cue text; raises `QuerySyntaxError` for a malformed one."""
        return cls.of(parse(text)) if text and text.strip() else cls("", (), ())

    @classmethod
    def of(cls, query: Query | None) -> Cues:
        """The cues of a parsed query: the word and phrase terms that can make it match (not
        those on the right of ANDNOT, which exclude); None: no cues."""
        if query is None:
            return cls("", (), ())
        terms = [t for t in positive_terms(query) if t.field in ("ti", "abs", "all", "co")]
        cues = []
        for term in terms:
            matcher = compile_term("abs", term.text, term.prefix)
            if isinstance(matcher, TextMatcher):
                first, *others = matcher.anchors or ("",)
                cues.append(_Cue(term.label, first, tuple(others), matcher.pattern))
        words = tuple(dict.fromkeys(w for w in map(_word, terms) if w))
        return cls(str(query), tuple(cues), words)

    def __bool__(self) -> bool:
        return bool(self.cues)

    def find(self, clean: str, squeezed: str) -> str | None:
        """The label of the first cue in a text, given clean and squeezed; None for none."""
        for cue in self.possible_in(squeezed):
            if cue.pattern.search(clean) is not None:
                return cue.label
        return None

    def in_title(self, reading: Reading) -> str | None:
        """A cue in the title, or a one-word cue inside a coined name (`lora` in `keeplora`)."""
        return self.find(reading.title, reading.squeezed_title) or self._in_names(reading.names)

    def find_at(self, reading: Reading, at: int) -> str | None:
        """The first cue in the reading's sentence number `at`."""
        return self.find(reading.sentences[at], reading.squeezed_sentences[at])

    def find_anywhere(self, reading: Reading) -> str | None:
        """The first cue in any sentence of the reading's abstract.

        One search of the whole stripped abstract per cue: a cue's match cannot cross a
        sentence end (a `.`, `!` or `?` followed by white space: the words and separators of
        `query.matcher` never take one), and its look-arounds see white space at a sentence's
        edges as they see a string's ends, so the abstract holds a match if and only if one of
        its sentences does.
        """
        text = reading.abstract
        for cue in self._possible(reading):
            if cue.pattern.search(text) is not None:
                return cue.label
        return None

    def find_claimed(self, reading: Reading) -> str | None:
        """The first cue in the sentences that state the reading's contribution."""
        if not reading.contribution_at:
            return None
        possible = reading.possible.get(self)   # the abstract's (a superset), when known
        if possible is None:
            possible = reading.possible_claimed.get(self)
            if possible is None:
                possible = reading.possible_claimed[self] = list(
                    self.possible_in(reading.squeezed_contribution))
        sentences, squeezed = reading.sentences, reading.squeezed_sentences
        for cue in possible:
            for i in reading.contribution_at:
                if _in(cue, squeezed[i]) and cue.pattern.search(sentences[i]) is not None:
                    return cue.label
        return None

    def find_any(self, reading: Reading, texts: tuple[str, ...]) -> str | None:
        """The first cue in any of the texts (sentences of the reading's abstract)."""
        for cue in self._possible(reading):
            for text in texts:
                if cue.pattern.search(text) is not None:
                    return cue.label
        return None

    def count(self, reading: Reading, texts: tuple[str, ...] | None = None) -> int:
        """How many of the texts (sentences of the reading's abstract; None: all of them) hold
        a cue. For all of them, each sentence's anchors are tested first, by the set's one
        expression."""
        if texts is not None:
            possible = self._possible(reading)
            if not possible:
                return 0
            return sum(1 for text in texts if any(c.pattern.search(text) for c in possible))
        return sum(self.find(text, squeezed) is not None for text, squeezed in zip(
            reading.sentences, reading.squeezed_sentences, strict=True))

    def _possible(self, reading: Reading) -> list[_Cue]:
        """The cues that may occur in the reading's abstract (kept with the reading; each
        anchor is searched once a paper, whichever cue set asks)."""
        found = reading.possible.get(self)
        if found is None:
            found = reading.possible[self] = []
            has, squeezed = reading._has, reading.squeezed_abstract
            for cue in self.cues:
                anchor = cue.anchor
                present = has.get(anchor)
                if present is None:
                    present = has[anchor] = anchor in squeezed
                if present and (not cue.others or all(a in squeezed for a in cue.others)):
                    found.append(cue)
        return found

    def _in_names(self, names: tuple[str, ...]) -> str | None:
        for word in self.words:
            for name in names:
                if word in name and textnorm.stem(name) != textnorm.stem(word):
                    return word
        return None


def positive_terms(query: Query) -> list[Term]:
    """The distinct terms of `query` outside the right-hand side of an ANDNOT, in order."""
    if isinstance(query, Term):
        return [query]
    if isinstance(query, AndNot):
        return positive_terms(query.left)
    items = query.items if isinstance(query, And | Or) else ()
    return list(dict.fromkeys(t for item in items for t in positive_terms(item)))


def _word(term: Term) -> str:
    """A term usable inside a coined name: one word of 3+ letters, no wildcard."""
    text = term.text.lower()
    return text if not term.prefix and len(text) >= 3 and text.isalnum() else ""
