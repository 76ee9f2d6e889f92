"""Cheap rejection before matching: substrings a paper must contain to possibly match a query.

Most papers match no topic. Rather than walk every topic's query tree for every paper, each query
is reduced to clauses of *anchors* (substrings of a term's word that every match leaves in the
squeezed text, see `textnorm.squeeze`): a paper can match only if, for every clause, one of its
anchors occurs in the paper's squeezed title + abstract + comments. The anchors of all topics
are tested once per paper with C-speed substring searches.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from arxivwatch import textnorm
from arxivwatch.models import Paper
from arxivwatch.query import And, AndNot, Or, Query, Term

Clause = frozenset[str]          # at least one of these substrings must be present
TEXT_FIELDS = frozenset({"ti", "abs", "co", "all"})


def clauses(query: Query) -> tuple[Clause, ...]:
    """Necessary conditions of `query`: every clause needs one anchor present; () = none known."""
    if isinstance(query, Term):
        anchor = term_anchor(query)
        return (frozenset({anchor}),) if anchor else ()
    if isinstance(query, And):
        return tuple(c for item in query.items for c in clauses(item))
    if isinstance(query, AndNot):
        return clauses(query.left)
    if isinstance(query, Or):
        return _either([clauses(item) for item in query.items])
    return ()


def _either(options: Sequence[tuple[Clause, ...]]) -> tuple[Clause, ...]:
    """An OR needs one of its items: the union of each item's tightest clause."""
    if not options or any(not o for o in options):
        return ()
    return (frozenset().union(*(min(o, key=_looseness) for o in options)),)


def _looseness(clause: Clause) -> tuple[int, int]:
    """Fewer and longer anchors reject more papers."""
    return len(clause), -min(len(a) for a in clause)


def term_anchor(term: Term) -> str | None:
    """The longest substring every match of a text term leaves in the squeezed text."""
    if term.field not in TEXT_FIELDS:
        return None
    words = textnorm.tokens(term.text)
    best = ""
    for i, word in enumerate(words):
        if term.prefix and i == len(words) - 1:
            anchor = word
        else:
            anchor = textnorm.common_prefix(textnorm.variants(word))
        if len(anchor) > len(best):
            best = anchor
    return best if len(best) >= 2 else None


def squeezed_text(paper: Paper) -> str:
    """The paper's title, abstract and comments, cleaned and squeezed, for anchor tests."""
    text = "\n".join((paper.title, paper.abstract, paper.comments or ""))
    return textnorm.squeeze(textnorm.clean(text))


class Prefilter:
    """Anchor clauses for a list of queries, tested lazily on one paper at a time."""

    def __init__(self, queries: Iterable[object]) -> None:
        self.clauses = [sorted(clauses(q), key=_looseness) if isinstance(q, Query) else []
                        for q in queries]

    def possible(self, paper: Paper) -> list[bool]:
        """For each query, whether `paper` might match it (False: it certainly does not)."""
        text = squeezed_text(paper)
        seen: dict[str, bool] = {}
        return [all(_any_in(c, text, seen) for c in cs) for cs in self.clauses]


def _any_in(clause: Clause, text: str, seen: dict[str, bool]) -> bool:
    """Whether one anchor of the clause is in text, remembering each anchor's answer."""
    for anchor in clause:
        found = seen.get(anchor)
        if found is None:
            found = seen[anchor] = anchor in text
        if found:
            return True
    return False
