"""The query tree: immutable nodes with value equality, printing, arXiv compilation, matching.

Printing (`str`) gives the canonical form of a query, which parses back to an equal tree: AND and
ANDNOT bind tighter than OR, chains of one operator are written without parentheses, and every
other nesting gets parentheses. `to_arxiv()` parenthesises every nested group instead, because
arXiv's API evaluates operators left to right without precedence.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dc_field

from arxivwatch.models import Hit
from arxivwatch.query.doc import Doc
from arxivwatch.query.matcher import Matcher, compile_term

FIELDS = ("ti", "abs", "au", "co", "cat", "all")
OPERATORS = frozenset({"AND", "OR", "ANDNOT", "NOT"})
_ARXIV_BARE = re.compile(r"[\w.]+")


class Query(ABC):
    """A parsed topic query; see `arxivwatch.query` for the language."""

    __slots__ = ()

    def match(self, doc: Doc) -> tuple[Hit, ...] | None:
        """The hits of the query on `doc` (which terms, in which fields), or None: no match."""
        hits = self._hits(doc)
        return None if hits is None else tuple(dict.fromkeys(hits))

    def terms(self) -> tuple[Term, ...]:
        """The distinct leaf terms, in query order (ANDNOT's right side included)."""
        return tuple(dict.fromkeys(self._leaves()))

    @abstractmethod
    def to_arxiv(self) -> str:
        """The query as an arXiv API `search_query` (not yet URL-encoded)."""

    @abstractmethod
    def _hits(self, doc: Doc) -> list[Hit] | None: ...

    @abstractmethod
    def _leaves(self) -> Iterator[Term]: ...


@dataclass(frozen=True, slots=True)
class Term(Query):
    """One search term: a word (`LoRA`, `low-rank`), a `"quoted phrase"` or a `prefix*`."""

    field: str                     # ti, abs, au, co, cat or all
    text: str                      # as written, without quotes or the trailing `*`
    phrase: bool = False           # written in double quotes
    prefix: bool = False           # written with a trailing `*`
    _matcher: Matcher = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.field not in FIELDS:
            raise ValueError(f"unknown field {self.field!r}; use one of {', '.join(FIELDS)}")
        if self.phrase:
            object.__setattr__(self, "text", " ".join(self.text.split()))
        object.__setattr__(self, "_matcher", compile_term(self.field, self.text, self.prefix))

    @property
    def label(self) -> str:
        """The term as written, without its field: `LoRA`, `"low-rank adaptation"`, `quantiz*`."""
        if self.phrase:
            return f'"{self.text}"'
        return self.text + "*" if self.prefix else self.text

    def __str__(self) -> str:
        bare = self.phrase or (":" not in self.text and self.text not in OPERATORS)
        return self.label if self.field == "all" and bare else f"{self.field}:{self.label}"

    def to_arxiv(self) -> str:
        """The term as arXiv writes it: `ti:"low rank"`, `all:lora`, `cat:cs.LG`."""
        bare = self.field == "cat" or self.prefix
        if bare or (not self.phrase and _ARXIV_BARE.fullmatch(self.text)):
            return f"{self.field}:{self.label}"
        return f'{self.field}:"{self.text}"'

    def _hits(self, doc: Doc) -> list[Hit] | None:
        fields = self._matcher.fields_hit(doc)
        return [Hit(self.label, f) for f in fields] if fields else None

    def _leaves(self) -> Iterator[Term]:
        yield self


@dataclass(frozen=True, slots=True)
class Or(Query):
    """Matches when any item matches; the hits of every matching item are kept."""

    items: tuple[Query, ...]

    def __post_init__(self) -> None:
        _check_items(self.items, "Or")

    def __str__(self) -> str:
        return " OR ".join(_wrap(i, isinstance(i, Term)) for i in self.items)

    def to_arxiv(self) -> str:
        """Items joined by OR, nested groups in parentheses."""
        return " OR ".join(_arxiv(i) for i in self.items)

    def _hits(self, doc: Doc) -> list[Hit] | None:
        found: list[Hit] | None = None
        for item in self.items:
            hits = item._hits(doc)
            if hits is not None:
                found = hits if found is None else found + hits
        return found

    def _leaves(self) -> Iterator[Term]:
        for item in self.items:
            yield from item._leaves()


@dataclass(frozen=True, slots=True)
class And(Query):
    """Matches when every item matches (checked in order, stopping at the first miss)."""

    items: tuple[Query, ...]

    def __post_init__(self) -> None:
        _check_items(self.items, "And")

    def __str__(self) -> str:
        first, *rest = self.items
        head = _wrap(first, isinstance(first, (Term, AndNot)))
        return " AND ".join([head, *(_wrap(i, isinstance(i, Term)) for i in rest)])

    def to_arxiv(self) -> str:
        """Items joined by AND, nested groups in parentheses."""
        return " AND ".join(_arxiv(i) for i in self.items)

    def _hits(self, doc: Doc) -> list[Hit] | None:
        found: list[Hit] = []
        for item in self.items:
            hits = item._hits(doc)
            if hits is None:
                return None
            found += hits
        return found

    def _leaves(self) -> Iterator[Term]:
        for item in self.items:
            yield from item._leaves()


@dataclass(frozen=True, slots=True)
class AndNot(Query):
    """Matches when `left` matches and `right` does not; only `left`'s hits are kept."""

    left: Query
    right: Query

    def __str__(self) -> str:
        left = _wrap(self.left, isinstance(self.left, (Term, And, AndNot)))
        return f"{left} ANDNOT {_wrap(self.right, isinstance(self.right, Term))}"

    def to_arxiv(self) -> str:
        """`left ANDNOT right`, nested groups in parentheses."""
        return f"{_arxiv(self.left)} ANDNOT {_arxiv(self.right)}"

    def _hits(self, doc: Doc) -> list[Hit] | None:
        hits = self.left._hits(doc)
        if hits is None or self.right._hits(doc) is not None:
            return None
        return hits

    def _leaves(self) -> Iterator[Term]:
        yield from self.left._leaves()
        yield from self.right._leaves()


def _check_items(items: tuple[Query, ...], name: str) -> None:
    if len(items) < 2:
        raise ValueError(f"{name} needs at least two items, got {len(items)}")


def _wrap(query: Query, bare: bool) -> str:
    return str(query) if bare else f"({query})"


def _arxiv(query: Query) -> str:
    return query.to_arxiv() if isinstance(query, Term) else f"({query.to_arxiv()})"
