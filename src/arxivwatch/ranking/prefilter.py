"""Cheap rejection before matching: substrings a paper must contain to possibly match a query.

Most papers match no topic. Rather than run every topic's full query (regular expressions per
field) on every paper, each query is first reduced to a tree of *anchors*: substrings of each
word of a term that every match leaves in the squeezed text (see `textnorm.squeeze`), combined
with the query's own AND / OR. A paper that fails it cannot match; one that passes is matched
for real. Anchors are C-speed substring tests, each done at most once per paper.

A title term that leaves no anchor (`ti:"N:M"`, `ti:"2:4"`: words of one letter) would make its
whole OR unknown, so the query's other conditions alone would decide: a paper needs "its two
letters written together in the squeezed title" (`nm`) and then the term's own regular
expression over the clean title (`TITLE_REGEX`), an exact test where the title is short.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence

from ahocorasick_rs import AhoCorasick

from arxivwatch import textnorm
from arxivwatch.models import Paper
from arxivwatch.query import And, AndNot, Or, Query, Term
from arxivwatch.query.matcher import _SPLIT, TextMatcher, compile_term

TEXT_FIELDS = frozenset({"ti", "abs", "co", "all"})
KEEP_MEMO = 4096   # answers of keep_texts awaiting `possible` (papers of a few days)
_NON_ALNUM_BYTES = bytes(c for c in range(128) if not chr(c).isalnum())
_LOWER_BYTES = bytes(range(256)).lower()   # A-Z to a-z, every other byte kept
_NON_WORD = re.compile(r"[\W_]+")

# A necessary condition, as a small tree: an anchor (field, substring), ("AND", parts) or
# ("OR", parts); field is ti, abs, co or all, or TITLE_REGEX: then the "substring" is a title
# term's regular expression, searched in the clean title. None stands for "no condition known".
TITLE_REGEX = "ti~"
# TEXT_REGEX: the same for a term on the abstract or comments (or all), searched in the clean
# title, abstract and comments together, white space collapsed (a superset of each field).
TEXT_REGEX = "all~"
REGEX_FIELDS = (TITLE_REGEX, TEXT_REGEX)
SHORT_ANCHOR = 4    # a one-word term whose anchor is this short is confirmed by its regex
Anchor = tuple[str, str]
Condition = Anchor | tuple[str, tuple["Condition", ...]] | None


def condition(query: Query) -> Condition:
    """What any paper matching `query` must contain, as a tree of anchors (None: unknown)."""
    if isinstance(query, Term):
        words = [(query.field, a) for a in term_anchors(query)]
        joined = phrase_anchors(query)
        if joined:   # a cheap word test first (most papers fail it), then the selective ones
            return ("AND", (words[0], ("OR", tuple((query.field, a) for a in joined))))
        if not words and query.field == "ti":
            return _title_regex(query)
        if len(words) == 1 and len(words[0][1]) <= SHORT_ANCHOR:
            return _confirmed(query, words[0])
        return _all(words)
    if isinstance(query, And):
        return _all([condition(item) for item in query.items])
    if isinstance(query, AndNot):
        return condition(query.left)
    if isinstance(query, Or):
        parts = [condition(item) for item in query.items]
        return None if any(p is None for p in parts) else ("OR", tuple(parts))
    return None


def _all(parts: Sequence[Condition]) -> Condition:
    known = tuple(p for p in parts if p is not None)
    if not known:
        return None
    return known[0] if len(known) == 1 else ("AND", known)


def term_anchors(term: Term) -> list[str]:
    """Substrings every match of a text term leaves in the squeezed text: one per word."""
    if term.field not in TEXT_FIELDS:
        return []
    words = textnorm.tokens(term.text)
    anchors = []
    for i, word in enumerate(words):
        if term.prefix and i == len(words) - 1:
            anchor = word
        else:
            anchor = textnorm.common_prefix(textnorm.variants(word))
        if len(anchor) >= 2:
            anchors.append(anchor)
    return sorted(set(anchors), key=lambda a: (-len(a), a))


def _title_regex(term: Term) -> Condition:
    """A title term without anchors: its letters together (`nm` for `N:M`), then its regex."""
    matcher = compile_term("ti", term.text, term.prefix)
    if not isinstance(matcher, TextMatcher):
        return None
    test: Condition = (TITLE_REGEX, matcher.source)
    joined: list[Condition] = [("ti", a) for a in phrase_anchors(term, shortest=1) if len(a) >= 2]
    if not joined:
        return test
    return ("AND", (joined[0] if len(joined) == 1 else ("OR", tuple(joined)), test))


def _confirmed(term: Term, anchor: Anchor) -> Condition:
    """A short anchor (`lora` is in "exploration", `eval` in "evaluate") and then the term's
    own regular expression: most papers holding the letters do not hold the word."""
    matcher = compile_term(term.field, term.text, term.prefix)
    if not isinstance(matcher, TextMatcher) or len(textnorm.tokens(term.text)) != 1:
        return anchor
    return ("AND", (anchor, (TITLE_REGEX if term.field == "ti" else TEXT_REGEX,
                             matcher.source)))


def phrase_anchors(term: Term, *, shortest: int = 3) -> list[str]:
    """For a phrase, its first two words written together, in each form the match allows.

    Squeezing drops every non-word character, so `low-rank`, `low rank`, `low, rank` and
    `lowrank` all leave `lowrank`; the first word may be plural (`mixtures of`), so each of
    its forms gives one anchor. Empty when the term is not a phrase of words of `shortest`+
    letters.
    """
    words = textnorm.tokens(term.text) if term.field in TEXT_FIELDS else []
    if len(words) < 2 or any(len(w) < shortest for w in words[:2]):
        return []
    second = words[1] if term.prefix and len(words) == 2 else textnorm.common_prefix(
        textnorm.variants(words[1]))
    joined = {form + second for form in textnorm.variants(words[0])}
    if not (term.prefix and len(words) == 2):
        joined.add(textnorm.common_prefix(textnorm.variants(words[0] + words[1])))
    return sorted(joined, key=lambda a: (-len(a), a))


def squeezed_text(paper: Paper, field: str = "all") -> str:
    """A field (`ti`, `abs`, `co`; `all` = the three) cleaned and squeezed, for anchor tests."""
    if field == "ti":
        text = paper.title
    elif field == "abs":
        text = paper.abstract
    elif field == "co":
        text = paper.comments or ""
    else:
        text = "\n".join((paper.title, paper.abstract, paper.comments or ""))
    return squeeze_words(textnorm.clean(text))


def squeeze_raw(text: str) -> str:
    """`squeeze_words(textnorm.clean(text))`, in one pass for ASCII text without LaTeX
    commands (most): cleaning then only lower-cases and drops `$ { } ~`, which squeezing
    drops anyway, so both are one `bytes.translate` (delete, then lower-case)."""
    if text.isascii() and "\\" not in text:
        return text.encode().translate(_LOWER_BYTES, _NON_ALNUM_BYTES).decode()
    return squeeze_words(textnorm.clean(text))


def squeeze_words(clean: str) -> str:
    """Drop every character that is not a letter or digit (so phrases read as one word)."""
    if clean.isascii():   # bytes.translate deletes by table: several times str.translate's speed
        return clean.encode().translate(None, _NON_ALNUM_BYTES).decode()
    return _NON_WORD.sub("", clean)


class Prefilter:
    """Necessary conditions for a list of queries, compiled into one Python expression.

    Anchors on the title are tested against the squeezed title, every other anchor against
    the squeezed title + abstract + comments (a superset: still a necessary condition), a
    title regex (`TITLE_REGEX`) against the clean title with its white space collapsed. The
    expression short-circuits, so a paper lacking a topic's first anchors costs one or two
    substring tests per topic, with no Python call per test. An anchor on the whole text that
    several conditions use is searched once per paper (remembered in a lambda default).

    The whole-text anchors that every paper is tested for (`first_anchors`: those a paper
    lacking every anchor is asked about, ~20 of them) are found together, by one pass of an
    Aho-Corasick automaton over the text (`ahocorasick_rs`, every occurrence, overlapping
    ones too); the expression then asks the set of those found, five times faster than
    20 `in` scans. The other anchors, asked only once a first one is there, stay `in` tests.
    The title's anchors are found the same way, by an automaton over the squeezed title:
    the ORs of title terms that a paper reaches without any first anchor asked ~100 `in`
    tests of every title (~2 us a line less this way).
    """

    def __init__(self, queries: Iterable[object]) -> None:
        self.conditions = [simplify(condition(q)) if isinstance(q, Query) else None
                           for q in queries]
        first = {a: "f" for c in self.conditions for a in first_anchors(c)}
        counts = Counter(_key(a) for c in self.conditions for a in _anchors(c))
        counts = Counter({a: n for a, n in counts.items() if a[0] == "a" and a not in first})
        shared = {a: f"m{i}" for i, a in enumerate(a for a, n in counts.items() if n > 1)}
        params = "".join(f", {name}=None" for name in (*shared.values(), "x"))
        tests = {_key(a): f"r{i}" for i, a in enumerate(dict.fromkeys(
            a for c in self.conditions for a in _anchors(c) if a[0] in REGEX_FIELDS))}
        body = "".join(f"{_source(c, shared | tests | first)}, " for c in self.conditions)
        scope = {name: _title_test(key[1]) if key[0] == "c" else _text_test(key[1])
                 for key, name in tests.items()}
        self._test: Callable[[Collection[str], str, str, Collection[str], str],
                             tuple[bool, ...]] = eval(  # noqa: S307
            f"lambda t, a, c, f, r{params}: ({body})",
            {"__builtins__": {}, "whole": whole_text, **scope})
        self._find = _finder(a[1] for a in first)
        self._find_title = _finder(a[1] for c in self.conditions for a in map(_key, _anchors(c))
                                   if a[0] == "t")
        self._nothing: tuple[bool, ...] = self._test("", "\n", "", (), "\n")
        self._kept: dict[tuple[str, str, str | None], tuple[bool, ...]] = {}

    def possible(self, paper: Paper) -> tuple[bool, ...]:
        """For each query, whether `paper` might match it (False: it certainly does not)."""
        texts = (paper.title, paper.abstract, paper.comments)
        if self._kept:   # answered by keep_texts before the paper was built (same texts)
            known = self._kept.pop(texts, None)
            if known is not None:
                return known
        return self.possible_texts(*texts)

    def keep_texts(self, title: str, abstract: str, comments: str | None) -> bool:
        """Whether any query might match these texts; a True answer is kept for `possible`.

        A snapshot reader's `keep` (see `snapshot.read_snapshot`): the papers it keeps reach
        `possible` later with the same texts (unless whitespace was collapsed), so their
        anchors are not searched twice. At most KEEP_MEMO answers are held.
        """
        found = self.possible_texts(title, abstract, comments)
        if not any(found):
            return False
        if len(self._kept) >= KEEP_MEMO:
            self._kept.clear()
        self._kept[(title, abstract, comments)] = found
        return True

    def possible_texts(self, title: str, abstract: str, comments: str | None,
                       ) -> tuple[bool, ...]:
        """`possible` from the raw texts (whitespace is squeezed away: collapsing is not needed)."""
        if not (title or abstract or comments):   # a skeleton paper (see snapshot.read_snapshot)
            return self._nothing
        ti = squeeze_raw(title)
        rest = f"{abstract}\n{comments or ''}"
        text = ti + "\n" + squeeze_raw(rest)
        return self._test(self._find_title(ti), text, title, self._find(text), rest)


def _finder(anchors: Iterable[str]) -> Callable[[str], Collection[str]]:
    """The `anchors` found in a text, by one pass of an Aho-Corasick automaton (every
    occurrence, overlapping ones too)."""
    words = sorted(set(anchors))
    if not words:
        return lambda text: ()
    find = AhoCorasick(words).find_matches_as_strings
    return lambda text: set(find(text, overlapping=True))


def first_anchors(cond: Condition) -> list[Anchor]:
    """The whole-text anchors (`_key` "a") that testing `cond` asks about when no anchor is
    present: the first part of each AND, every part of an OR (see `Prefilter`)."""
    if cond is None:
        return []
    op, rest = cond
    if isinstance(rest, str):
        key = _key((op, rest))
        return [key] if key[0] == "a" else []
    if op == "AND":
        return first_anchors(rest[0])
    return [a for p in rest for a in first_anchors(p)]


def simplify(cond: Condition) -> Condition:
    """Drop the items of an OR that imply one of its anchors (`qlora` when `lora` is there)."""
    if cond is None or isinstance(cond[1], str):
        return cond
    op, parts = cond
    items = tuple(simplify(p) for p in parts)
    if op == "OR":
        items = tuple(p for i, p in enumerate(items) if not _redundant(items, i))
        items = _factor(items)
    return items[0] if len(items) == 1 else (op, items)


def _factor(items: tuple[Condition, ...]) -> tuple[Condition, ...]:
    """OR items `c AND x`, `c AND y` become one `c AND (x OR y)`: `c` is then tested once."""
    while True:
        counts = Counter(c for p in items for c in set(_conjuncts(p)))
        common = [c for c, n in counts.items() if n > 1]
        if not common:
            return items
        c = max(common, key=lambda k: (counts[k], -_first_use(items, k)))
        group = [p for p in items if c in _conjuncts(p)]
        rests = tuple(_all([q for q in _conjuncts(p) if q != c]) for p in group)
        if any(r is None for r in rests):   # `c` alone is an item: it implies the others
            merged: Condition = c
        else:
            merged = simplify(("AND", (c, ("OR", rests))))
        at = items.index(group[0])
        items = tuple(merged if i == at else p for i, p in enumerate(items) if p not in group
                      or i == at)


def _conjuncts(cond: Condition) -> tuple[Condition, ...]:
    """The parts of an AND (not an anchor or an OR: those are one conjunct, not factored)."""
    if cond is not None and cond[0] == "AND" and not isinstance(cond[1], str):
        return cond[1]
    return ()


def _first_use(items: tuple[Condition, ...], c: Condition) -> int:
    return next(i for i, p in enumerate(items) if c in _conjuncts(p))


def _redundant(items: tuple[Condition, ...], i: int) -> bool:
    """Item i implies another item that is an anchor (of two equivalent ones, the first stays)."""
    p = items[i]
    return any(j != i and _is_anchor(a) and _implies(p, a)
               and not (j > i and _is_anchor(p) and _implies(a, p))
               for j, a in enumerate(items))


def _is_anchor(cond: Condition) -> bool:
    return cond is not None and isinstance(cond[1], str)


def _implies(cond: Condition, anchor: Condition) -> bool:
    """True when `cond` holding means `anchor` (field, substring) is present too."""
    if cond is None or anchor is None or anchor[0] in REGEX_FIELDS:
        return False
    op, rest = cond
    if isinstance(rest, str):
        if op in REGEX_FIELDS:
            return False
        field, text = anchor
        assert isinstance(text, str)
        return text in rest and (field != "ti" or op == "ti")
    if op == "AND":
        return any(_implies(p, anchor) for p in rest)
    return all(_implies(p, anchor) for p in rest)


def _anchors(cond: Condition) -> list[Anchor]:
    """Every anchor of a condition tree, with repeats."""
    if cond is None:
        return []
    op, rest = cond
    if isinstance(rest, str):
        return [(op, rest)]
    return [a for p in rest for a in _anchors(p)]


def _key(anchor: Anchor) -> Anchor:
    """The text an anchor is searched in (`t` the title, `a` everything, `c` the title and
    `x` everything, by regex) and its substring."""
    field = anchor[0]
    return ("t" if field == "ti" else "c" if field == TITLE_REGEX else
            "x" if field == TEXT_REGEX else "a", anchor[1])


def _title_test(pattern: str) -> Callable[[str], bool]:
    """A title regex's test on the raw title, cleaned and with its white space collapsed as
    in a `Paper`'s (run only for the few titles whose letters passed)."""
    search = re.compile(pattern).search
    return lambda title: search(" ".join(textnorm.clean(title).split())) is not None


def _text_test(pattern: str) -> Callable[[str], bool]:
    """A term's regex on the whole text (`whole_text`), any run of white space taken where
    the regex asks for one space (`[ -]`, `lowrank` ~ `low rank`): the `Paper`'s fields have
    their white space collapsed, the raw texts not, so the test is wider, never narrower."""
    search = re.compile(pattern.replace(_SPLIT, r"(?:\s+|-)")).search
    return lambda text: search(text) is not None


def whole_text(title: str, rest: str) -> str:
    """The raw title and the rest (abstract, comments) together, cleaned (see `_text_test`)."""
    return textnorm.clean(f"{title}\n{rest}")


def _source(cond: Condition, shared: Mapping[Anchor, str]) -> str:
    """The Python expression testing `cond` on the title anchors `t` found in the squeezed
    title and the whole text `a`."""
    if cond is None:
        return "True"
    op, rest = cond
    if isinstance(rest, str):
        if op == TITLE_REGEX:
            return f"({shared[_key((op, rest))]}(c))"
        if op == TEXT_REGEX:   # x: the whole text, made once a paper when first asked for
            return f"({shared[_key((op, rest))]}(x if x is not None else (x := whole(c, r))))"
        name = shared.get(_key((op, rest)))
        test = f"{rest!r} in {'t' if op == 'ti' else name if name == 'f' else 'a'}"
        if name is None or name == "f":   # f: the set of anchors found by the automaton
            return f"({test})"
        return f"({name} if {name} is not None else ({name} := {test}))"
    joiner = " and " if op == "AND" else " or "
    return "(" + joiner.join(_source(p, shared) for p in rest) + ")"
