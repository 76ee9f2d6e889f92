"""A paper prepared for matching: each field cleaned once, on first use."""

from __future__ import annotations

from arxivwatch import textnorm
from arxivwatch.models import Paper

TEXT_FIELDS = ("ti", "abs", "co")


class Doc:
    """A paper's fields, normalised lazily and cached: only the fields a query reads are built.

    Rejecting a paper usually needs just two squeezed texts, the title and `all` (title, abstract
    and comments in one string), each a few string operations in C. Clean per-field texts, word
    tokens and author names are built only for the few papers that pass those checks.
    """

    __slots__ = ("_categories", "_clean", "_names", "_squeezed", "_tokens", "paper")

    def __init__(self, paper: Paper) -> None:
        self.paper = paper
        self._clean: dict[str, str] = {}
        self._squeezed: dict[str, str] = {}
        self._tokens: dict[str, list[str]] = {}
        self._names: tuple[tuple[str, ...], ...] | None = None
        self._categories: frozenset[str] | None = None

    @classmethod
    def from_paper(cls, paper: Paper) -> Doc:
        """Prepare `paper` for matching (cheap: the work happens on first use of each field)."""
        return cls(paper)

    def raw(self, field: str) -> str:
        """The original text of `ti`, `abs`, `co`, `au` (names joined) or `all` (ti+abs+co)."""
        if field == "ti":
            return self.paper.title
        if field == "abs":
            return self.paper.abstract
        if field == "co":
            return self.paper.comments or ""
        if field == "au":
            return ", ".join(self.paper.authors)
        if field == "all":  # one text for cheap pre-checks; newlines keep anchors apart
            return f"{self.paper.title}\n{self.paper.abstract}\n{self.paper.comments or ''}"
        raise ValueError(f"{field!r} is not a text field; use one of ti, abs, co, au, all")

    def clean(self, field: str) -> str:
        """The field lower-cased with LaTeX markup removed (see `textnorm.clean`)."""
        text = self._clean.get(field)
        if text is None:
            text = self._clean[field] = textnorm.clean(self.raw(field))
        return text

    def squeezed(self, field: str) -> str:
        """The clean field without spaces and hyphens, for cheap substring pre-checks."""
        try:
            return self._squeezed[field]
        except KeyError:
            text = self._squeezed[field] = textnorm.squeeze(self.raw(field))
            return text

    def tokens(self, field: str) -> list[str]:
        """The field's word tokens (`textnorm.tokens`), for ranking."""
        words = self._tokens.get(field)
        if words is None:
            words = self._tokens[field] = textnorm.tokens(self.clean(field))
        return words

    @property
    def author_names(self) -> tuple[tuple[str, ...], ...]:
        """Each author's name as word tokens (`Bernhard Sch\\"olkopf` -> bernhard, scholkopf)."""
        if self._names is None:
            self._names = tuple(tuple(textnorm.tokens(a)) for a in self.paper.authors)
        return self._names

    @property
    def categories(self) -> frozenset[str]:
        """The paper's categories, lower-cased (`cs.lg`)."""
        if self._categories is None:
            self._categories = frozenset(c.lower() for c in self.paper.categories)
        return self._categories
