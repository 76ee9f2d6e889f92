"""Compiled matchers for one query term: a cheap necessary test first, a regex to confirm.

A text term becomes a list of *anchors* (substrings every match must leave in the field's
squeezed text) and one regular expression over the clean text. Most papers fail an anchor test
(`"lora" in squeezed_abstract`, a C-speed substring search), so the regex runs on few of them and
no paper is ever tokenised for matching.

What a text term matches, word by word (see `textnorm` for the normalisation):
- a word matches its plural/singular variants (`expert`, `experts`), case-insensitively;
- a word also matches two words joined by one space or hyphen (`lowrank` ~ `low-rank`);
- two adjacent query words also match one joined word (`low rank` ~ `lowrank`);
- the words of a phrase may be separated by any punctuation (`mixture-of-experts (MoE)`), but not
  by a sentence end (`.`, `!` or `?` followed by a space);
- a trailing `*` matches any word starting with the prefix (`quantiz*`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Protocol

from arxivwatch import textnorm
from arxivwatch.query.doc import TEXT_FIELDS, Doc

_START = r"(?<![^\W_])"
_START_AFTER = r"(?<![^\W_](?s:.))"  # _START, checked after the word's first letter
_END = r"(?![^\W_])"
_SEP = r"(?:[^\w.!?]|_|[.!?](?!\s))+"  # any punctuation except a sentence end
_SPLIT = "[ -]"


class Matcher(Protocol):
    """Says in which of a paper's fields one term matches."""

    def fields_hit(self, doc: Doc) -> tuple[str, ...]:
        """The fields of `doc` where the term matches, in a fixed order; () for none."""
        ...


@dataclass(frozen=True, slots=True)
class TextMatcher:
    """A word or phrase term over the title, abstract and/or comments.

    The anchors are first looked for in one text: the title for `ti:` terms, else the title,
    abstract and comments together (`Doc`'s `all` field), so a paper that cannot match costs
    one substring search per anchor whatever the number of fields.

    The regular expression is compiled on first use (`pattern`): compiling is most of the cost
    of loading a config (`re`'s parser is Python), and a term whose anchors never pass, or a
    process that only prefilters (a backtest's parent), needs none.
    """

    fields: tuple[str, ...]
    anchors: tuple[str, ...]
    source: str                    # the regular expression, see `_pattern`
    scope: str                     # where anchors are looked for first: "ti" or "all"
    _compiled: re.Pattern[str] | None = dc_field(default=None, init=False, repr=False,
                                                 compare=False)

    @property
    def pattern(self) -> re.Pattern[str]:
        """The term's regular expression over a clean field, compiled once."""
        compiled = self._compiled
        if compiled is None:
            compiled = re.compile(self.source)
            object.__setattr__(self, "_compiled", compiled)
        return compiled

    def fields_hit(self, doc: Doc) -> tuple[str, ...]:
        """The fields of `doc` where the term matches."""
        squeezed = doc.squeezed(self.scope)
        for anchor in self.anchors:  # inlined loops: this runs for every paper and topic
            if anchor not in squeezed:
                return ()
        found: tuple[str, ...] = ()
        for field in self.fields:
            squeezed = doc.squeezed(field)
            for anchor in self.anchors:
                if anchor not in squeezed:
                    break
            else:
                pattern = self._compiled or self.pattern
                if pattern.search(doc.clean(field)) is not None:
                    found += (field,)
        return found


@dataclass(frozen=True, slots=True)
class AuthorMatcher:
    """An `au:` term: all its words in one author's name, in any order.

    A one-letter word matches an initial and the other way round (`hinton_g` ~ `Geoffrey Hinton`,
    `geoffrey_hinton` ~ `G. Hinton`), but at least one word must match a name in full.
    """

    words: tuple[str, ...]
    prefix: bool

    def fields_hit(self, doc: Doc) -> tuple[str, ...]:
        """("au",) when one author's name has every word of the term."""
        names = doc.clean("au")
        if not any(len(w) > 1 and w in names for w in self.words):
            return ()
        return ("au",) if any(self._name_matches(n) for n in doc.author_names) else ()

    def _name_matches(self, name: tuple[str, ...]) -> bool:
        last = len(self.words) - 1
        if not any(self._full(w, i == last, t) for i, w in enumerate(self.words) for t in name):
            return False
        return all(any(self._full(w, i == last, t) or _initial(w, t) for t in name)
                   for i, w in enumerate(self.words))

    def _full(self, word: str, last: bool, token: str) -> bool:
        if len(word) < 2:
            return False
        return word == token or (self.prefix and last and token.startswith(word))


def _initial(word: str, token: str) -> bool:
    return (len(word) == 1 and token.startswith(word)) or (len(token) == 1 and word[0] == token)


@dataclass(frozen=True, slots=True)
class CategoryMatcher:
    """A `cat:` term: a category exactly (`cs.lg`), or by prefix (`cs.*`)."""

    value: str
    prefix: bool

    def fields_hit(self, doc: Doc) -> tuple[str, ...]:
        """("cat",) when the paper is listed in the category."""
        cats = doc.categories
        if self.prefix:
            return ("cat",) if any(c.startswith(self.value) for c in cats) else ()
        return ("cat",) if self.value in cats else ()


def compile_term(field: str, text: str, prefix: bool) -> Matcher:
    """Build the matcher for one term; `field` is ti, abs, co, au, cat or all."""
    if field == "cat":
        return CategoryMatcher(text.lower(), prefix)
    words = textnorm.tokens(text)
    if not words:
        raise ValueError(f"term {text!r} has no letters or digits")
    if field == "au":
        return AuthorMatcher(tuple(words), prefix)
    fields = TEXT_FIELDS if field == "all" else (field,)
    scope = "ti" if field == "ti" else "all"
    return TextMatcher(fields, *_text_parts(tuple(words), prefix), scope)


@functools.lru_cache(maxsize=4096)
def _text_parts(words: tuple[str, ...], prefix: bool) -> tuple[tuple[str, ...], str]:
    """A text term's anchors and regex source, built once a process for its words: a topic's
    query, its cues and its focus each make a matcher of their own for the same terms, and
    many terms share words (building sources is most of parsing a config's queries)."""
    return _anchors(list(words), prefix), _pattern(list(words), prefix)


def _groupings(n: int) -> Iterator[list[tuple[int, int]]]:
    """Every way to cut words 0..n into runs of one or two (two may be written joined)."""
    if n == 0:
        yield []
        return
    for rest in _groupings(n - 1):
        yield [*rest, (n - 1, n)]
    if n >= 2:
        for rest in _groupings(n - 2):
            yield [*rest, (n - 2, n)]


def _pattern(words: list[str], prefix: bool) -> str:
    """The term's regex (its source), shaped so that `re` can scan for its first letter in C.

    The word-start test sits after the first letter (a 2-wide lookbehind), so the pattern
    starts with a literal and `re` only tries the positions holding that letter: the same
    matches, in the same order of preference, as `_START(?:alternatives)_END`.
    """
    branches: dict[str, list[str]] = {}
    for grouping in _groupings(len(words)):
        units = [_unit_alts("".join(words[i:j]), prefix and j == len(words))
                 for i, j in grouping]
        tail = "".join(_SEP + "(?:" + "|".join(a + b for a, b in unit) + ")"
                       for unit in units[1:])
        for first in dict.fromkeys(a for a, _ in units[0]):
            rests = [b for a, b in units[0] if a == first]
            branches.setdefault(first, []).append("(?:" + "|".join(rests) + ")" + tail)
    body = "|".join(first + _START_AFTER + "(?:" + "|".join(alts) + ")"
                    for first, alts in branches.items())
    return "(?:" + body + ")" + _END


def _unit_alts(word: str, prefix: bool) -> list[tuple[str, str]]:
    """One unit's alternatives as (first letter, rest): its variants, or them split in two.

    A form whose plural adds an `s` is written once with `s?` (`expert` ~ `experts?`, and
    each split `ex[ -]perts?`): about half the alternatives, and compiling them (most of a
    worker's start) costs a third less. Same strings, and at each place the same match: a
    unit is always followed by a non-letter, so of two alternatives that both start there,
    only a form and the same form going on with `_SPLIT` can both match, and the forms still
    come first.
    """
    if prefix:
        return [(re.escape(word[0]), re.escape(word[1:]) + r"[^\W_]*")]
    forms = sorted(textnorm.variants(word), key=lambda f: (-len(f), f))
    plural = {f for f in forms if f + "s" in forms}
    forms = [f for f in forms if f[:-1] not in plural or f[-1] != "s"]
    alts = [(re.escape(f[0]), re.escape(f[1:]) + ("s?" if f in plural else "")) for f in forms]
    for f in forms:
        end = "s?" if f in plural else ""
        alts += [(re.escape(f[0]), re.escape(f[1:k]) + _SPLIT + re.escape(f[k:]) + end)
                 for k in range(1, min(len(word), len(f)))]
        if f in plural and len(word) > len(f):   # the plural split before its `s`
            alts.append((re.escape(f[0]), re.escape(f[1:]) + _SPLIT + "s"))
    return alts


def _anchors(words: list[str], prefix: bool) -> tuple[str, ...]:
    """Substrings that every match leaves in the squeezed field, longest first."""
    found: set[str] = set()
    last = len(words) - 1
    for i, word in enumerate(words):
        own = _forms(word, prefix and i == last)
        joined: set[str] = set()
        if i > 0:
            joined |= _forms(words[i - 1] + word, prefix and i == last)
        if i < last:
            joined |= _forms(word + words[i + 1], prefix and i + 1 == last)
        anchor = textnorm.common_prefix(own)
        if len(anchor) > 1 and all(anchor in form for form in joined):
            found.add(anchor)
    return tuple(sorted(found, key=lambda a: (-len(a), a)))


def _forms(word: str, prefix: bool) -> frozenset[str]:
    return frozenset({word}) if prefix else textnorm.variants(word)
