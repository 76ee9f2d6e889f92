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
from dataclasses import dataclass
from functools import cached_property
from typing import NamedTuple

from arxivwatch import textnorm
from arxivwatch.query import And, AndNot, Doc, Or, Query, Term, parse
from arxivwatch.query.matcher import TextMatcher, compile_term

# Clean text is lower case, so a sentence ends at . ! or ? and white space; a piece that ends
# with an abbreviation that often stands mid-sentence is joined to the next.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "etc.", "vs.", "cf.", "fig.", "eq.", "sec.", "approx.")
# The sentences that state what the paper itself contributes.
_STATES_CONTRIBUTION = re.compile(
    r"\b(?:we|our|this (?:paper|work|study|article|letter|report|survey|review|thesis)|"
    r"in this (?:paper|work)|here)\b[^.;]*?\b(?:propos|present|introduc|develop|design|devis|"
    r"put forward|formulat|unveil|releas|construct|curat|buil[dt]|creat|contribut|"
    r"establish|offer|provid|collect|compil|assembl|stud(?:y|ied)|investigat|analy[sz]|"
    r"examin|explor|revisit|summari[sz]|review|survey|categori[sz]|benchmark|evaluat|assess|"
    r"measur|compar|extend|enabl|achiev)")
# A coined name: a title word with a capital after its first letter (LoRA, KeepLoRA, SVD-LLM).
_TITLE_WORD = re.compile(r"[^\W_][\w+\-]*")
_INNER_CAPITAL = re.compile(r"[A-Z]")


def sentences(clean_text: str) -> list[str]:
    """The sentences of a clean text (`textnorm.clean`); abbreviations do not end one."""
    out: list[str] = []
    for piece in _SENTENCE_END.split(clean_text.strip()):
        if out and _ends_with_abbreviation(out[-1]):
            out[-1] = f"{out[-1]} {piece}"
        else:
            out.append(piece)
    return out


def _ends_with_abbreviation(text: str) -> bool:
    """`... e.g.` yes; `... config.` no (an abbreviation is a whole word, not a word's end)."""
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
    """One paper, read once: its title, coined names, sentences and contribution sentences."""

    __slots__ = ("__dict__", "doc")

    def __init__(self, doc: Doc) -> None:
        self.doc = doc

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
    def possible(self) -> dict[Cues, list[_Cue]]:
        """Per cue set, the cues that may occur in the abstract (see `Cues`)."""
        return {}

    @cached_property
    def names(self) -> tuple[str, ...]:
        """Coined names in the title (see `coined_names`)."""
        return coined_names(self.doc.paper.title)

    @cached_property
    def sentences(self) -> tuple[str, ...]:
        """The abstract's sentences, clean."""
        return tuple(sentences(self.doc.clean("abs")))

    @cached_property
    def contribution(self) -> tuple[str, ...]:
        """The clean sentences that state the paper's own contribution (may be none)."""
        return tuple(s for s in self.sentences if _STATES_CONTRIBUTION.search(s))


class _Cue(NamedTuple):
    label: str
    anchor: str                 # the longest anchor: most cues fail on it alone
    others: tuple[str, ...]
    pattern: re.Pattern[str]


def _possible(cues: tuple[_Cue, ...], squeezed: str) -> list[_Cue]:
    """The cues whose anchors are all in a squeezed text (necessary for a match)."""
    return [c for c in cues if c.anchor in squeezed
            and (not c.others or all(a in squeezed for a in c.others))]


@dataclass(frozen=True, eq=False)
class Cues:
    """Words and phrases, written as in a topic query (an OR of terms), to look for in text.

    Field prefixes and operators are accepted and ignored: a cue is looked for in the place the
    caller names. Matching is the query language's (see `arxivwatch.query.matcher`).
    """

    text: str
    cues: tuple[_Cue, ...]
    words: tuple[str, ...]      # one-word terms of 3+ letters, for coined names

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
        for cue in _possible(self.cues, squeezed):
            if cue.pattern.search(clean) is not None:
                return cue.label
        return None

    def in_title(self, reading: Reading) -> str | None:
        """A cue in the title, or a one-word cue inside a coined name (`lora` in `keeplora`)."""
        return self.find(reading.title, reading.squeezed_title) or self._in_names(reading.names)

    def find_any(self, reading: Reading, texts: tuple[str, ...]) -> str | None:
        """The first cue in any of the texts (sentences of the reading's abstract)."""
        for cue in self._possible(reading):
            for text in texts:
                if cue.pattern.search(text) is not None:
                    return cue.label
        return None

    def count(self, reading: Reading, texts: tuple[str, ...]) -> int:
        """How many of the texts (sentences of the reading's abstract) hold a cue."""
        possible = self._possible(reading)
        if not possible:
            return 0
        return sum(1 for text in texts if any(c.pattern.search(text) for c in possible))

    def _possible(self, reading: Reading) -> list[_Cue]:
        """The cues that may occur in the reading's abstract (kept with the reading)."""
        found = reading.possible.get(self)
        if found is None:
            found = reading.possible[self] = _possible(self.cues, reading.squeezed_abstract)
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
