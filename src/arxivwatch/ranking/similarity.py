"""Similarity to what the curator already filed in a topic's catalog section.

Each catalog entry becomes a TF-IDF vector of its title, its summary and, when known, the title
and abstract of the papers it links. Document frequencies come from the catalog itself, so words
every section shares ("large language model") weigh little and a section's own vocabulary
("singular value", "expert offloading") weighs much, without any outside corpus. A paper scores
by cosine to its topic's section centroid; the reason names the nearest entry.
"""

from __future__ import annotations

import functools
import math
import operator
from collections import Counter
from collections.abc import Iterable, Mapping
from itertools import repeat
from typing import Protocol

from arxivwatch import textnorm
from arxivwatch.catalog import section_key
from arxivwatch.models import CatalogEntry, Hit, Paper, Topic
from arxivwatch.ranking.base import DocLike, Scored

Vector = dict[str, float]
_PUNCTUATION_TO_SPACE = str.maketrans(
    {c: " " for c in map(chr, range(128)) if not (c.isascii() and c.isalnum())})

# Words of any research abstract that say nothing about its subject.
GENERIC = frozenset({
    "also", "approach", "based", "both", "demonstrate", "different", "each", "existing",
    "experiment", "extensive", "furthermore", "however", "large", "language", "method", "model",
    "new", "not", "novel", "only", "other", "paper", "performance", "propose", "proposed",
    "result", "show", "significant", "such", "than", "then", "thus", "two", "using", "various",
    "via", "well", "what", "when", "where", "work", "llm",
})
TITLE_REPEAT = 2        # the title is the paper's own summary: count its words twice
SCALE = 0.5             # a cosine this high already means "looks like the section"
MIN_REASON = 0.05       # below this, naming the nearest entry would mislead
SMALL_SECTION = 2       # a section with fewer entries than this borrows from its siblings
SIBLING_SHARE = 0.5     # ... all siblings together weighing this much of its own entries


class SectionLike(Protocol):
    """What similarity needs of a catalog section (catalog.Section satisfies it)."""

    @property
    def path(self) -> tuple[str, ...]: ...
    @property
    def entries(self) -> list[CatalogEntry]: ...


# `section_key` of a topic's section, folded once per distinct path (asked at every scoring)
topic_key = functools.lru_cache(maxsize=1024)(section_key)


def bag(title: str, text: str = "") -> Counter[str]:
    """The stemmed content words of a title (counted twice) and a body text."""
    return clean_bag(textnorm.clean(title), textnorm.clean(text))


def clean_bag(title: str, text: str) -> Counter[str]:
    """`bag` of texts already clean (`textnorm.clean`)."""
    tokens = clean_words(title) * TITLE_REPEAT + clean_words(text)
    return Counter(filter(None, map(_CONTENT.__getitem__, tokens)))


def clean_words(clean: str) -> list[str]:
    """`words` of a text already clean."""
    if clean.isascii():
        return clean.translate(_PUNCTUATION_TO_SPACE).split()
    return textnorm.tokens(clean)


class _ContentWords(dict[str, str | None]):
    """token -> its stem, or None for stopwords, generic words, digits and single letters.

    A dict with `__missing__` so that `map(CONTENT.__getitem__, tokens)` stays in C for the
    tokens already seen; cleared when it grows past MAX_CACHED to keep memory flat.
    """

    MAX_CACHED = 200_000

    def __missing__(self, token: str) -> str | None:
        if len(self) >= self.MAX_CACHED:
            self.clear()
        stem: str | None = None
        if len(token) >= 2 and not token.isdigit() and token not in textnorm.STOPWORDS:
            stem = textnorm.stem(token)
            stem = None if stem in GENERIC else stem
        self[token] = stem
        return stem


_CONTENT = _ContentWords()


class _Profile:
    """One section: the normalised centroid and each entry's vector with a short name."""

    def __init__(self, entries: list[tuple[str, Vector]],
                 borrowed: list[Vector] | None = None) -> None:
        self.entries = entries
        centroid: Counter[str] = Counter()
        for _, vec in entries:
            centroid.update(vec)
        # Borrowed words inform but must not outvote the section's own: a fixed share in all.
        weight = SIBLING_SHARE * len(entries) / len(borrowed) if borrowed else 0.0
        for vec in borrowed or ():
            centroid.update({w: x * weight for w, x in vec.items()})
        self.centroid = _normalise(dict(centroid))


class CatalogSimilarity:
    """Cosine of a paper to its topic's section of the catalog, TF-IDF over the catalog."""

    def __init__(
        self, sections: Iterable[SectionLike], papers: Mapping[str, Paper] | None = None,
        *, scale: float = SCALE,
    ) -> None:
        known = papers or {}
        raw = [(section_key(tuple(s.path)), [(_name(e), _entry_bag(e, known)) for e in s.entries])
               for s in sections]
        bags = [b for _, entries in raw for _, b in entries]
        self._idf = _idf(bags)
        self._default_idf = math.log(len(bags) + 1) if bags else 1.0
        vectors = {key: [(n, self._vector(b)) for n, b in entries] for key, entries in raw}
        self._profiles = {key: _Profile(own, _borrowed(key, own, vectors))
                          for key, own in vectors.items() if own}
        self.scale = scale
        self._last: tuple[str, Vector, float] | None = None

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        """min(1, cosine to the section centroid / scale); the reason names the nearest entry."""
        profile = self._profiles.get(topic_key(topic.section))
        if profile is None:
            return Scored(0.0)
        weights, norm = self._doc_weights(doc)
        return Scored(self._value(weights, norm, profile), self._reasons(weights, norm, profile))

    def value(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> float:
        """`score` without its reason (no cosine to each entry)."""
        profile = self._profiles.get(topic_key(topic.section))
        if profile is None:
            return 0.0
        return self._value(*self._doc_weights(doc), profile)

    def _value(self, weights: Vector, norm: float, profile: _Profile) -> float:
        return min(1.0, _dot(weights, profile.centroid) / norm / self.scale)

    @staticmethod
    def _reasons(weights: Vector, norm: float, profile: _Profile) -> tuple[str, ...]:
        """The nearest entry, when near enough to name."""
        name, nearest = max(((n, _dot(weights, v) / norm) for n, v in profile.entries),
                            key=lambda nv: (nv[1], nv[0]))
        if nearest < MIN_REASON:
            return ()
        return (f"similar to catalog: {name} ({nearest:.2f})",)

    def vocabularies(self) -> dict[tuple[str, ...], frozenset[str]]:
        """Each section's stemmed words (what its entries and their abstracts say)."""
        return {key: frozenset(p.centroid) for key, p in self._profiles.items()}

    def sections(self) -> list[tuple[str, ...]]:
        """The folded paths of the sections that have a profile."""
        return sorted(self._profiles)

    def _doc_weights(self, doc: DocLike) -> tuple[Vector, float]:
        """The paper's TF-IDF weights, not normalised, and their norm ({} and 1 for none).

        A cosine is then the dot product over the words shared with a section vector, divided
        by the norm: no normalised copy of the paper's vector is built. select() scores one
        paper for every topic in a row, so the last paper's weights are kept. The words are
        those of the doc's clean title and abstract (cleaned once, for the query too).
        """
        paper_id = doc.paper.id
        if self._last is None or self._last[0] != paper_id:
            words = clean_bag(doc.clean("ti"), doc.clean("abs"))
            counts = words.values()
            damped = map(_DAMPED.__getitem__, counts) if max(counts, default=0) < len(
                _DAMPED) else map(_damp, counts)
            # map() keeps the per-word work in C: most matched papers have 100-200 words
            found = list(map(operator.mul, damped,
                             map(self._idf.get, words, repeat(self._default_idf))))
            norm = math.hypot(*found)
            # no content word: the cosine to anything is 0, as for an empty vector
            self._last = ((paper_id, dict(zip(words, found, strict=True)), norm) if norm else
                          (paper_id, {}, 1.0))
        return self._last[1], self._last[2]

    def _vector(self, words: Counter[str]) -> Vector:
        idf, default = self._idf, self._default_idf
        return _normalise({w: _damp(n) * idf.get(w, default) for w, n in words.items()})


def _borrowed(key: tuple[str, ...], own: list[tuple[str, Vector]],
              vectors: Mapping[tuple[str, ...], list[tuple[str, Vector]]]) -> list[Vector]:
    """A one-entry section's centroid says little: lend it its sibling sections' entries."""
    if len(own) >= SMALL_SECTION or len(key) < 2:
        return []
    return [vec for other, entries in vectors.items()
            if other != key and other[:-1] == key[:-1] for _, vec in entries]


def _entry_bag(entry: CatalogEntry, papers: Mapping[str, Paper]) -> Counter[str]:
    words = bag(entry.title, entry.summary)
    for paper_id in entry.arxiv_ids:
        paper = papers.get(paper_id)
        if paper is not None:
            words.update(bag(paper.title, paper.abstract))
    return words


def _name(entry: CatalogEntry) -> str:
    """A short name for reasons: `SVD-LLM` from `SVD-LLM: Truncation-aware ...`."""
    head = entry.title.split(":")[0].strip()
    if len(head) <= 40:
        return head
    return head[:37].rstrip() + "..."


@functools.lru_cache(maxsize=256)
def _damp(count: int) -> float:
    """Sub-linear term frequency: 1 + ln(count)."""
    return 1.0 + math.log(count)


_DAMPED = (0.0, *(1.0 + math.log(n) for n in range(1, 256)))   # _damp(n) for n < 256


def _idf(bags: list[Counter[str]]) -> dict[str, float]:
    df: Counter[str] = Counter()
    for words in bags:
        df.update(words.keys())
    n = len(bags)
    return {w: math.log((n + 1) / (c + 1)) for w, c in df.items()}


def _normalise(vec: Vector) -> Vector:
    norm = math.sqrt(sum(x * x for x in vec.values()))
    return {w: x / norm for w, x in vec.items()} if norm else {}


def _dot(a: Vector, b: Vector) -> float:
    """The dot product of two sparse vectors (a cosine when both are normalised)."""
    shared = a.keys() & b.keys()     # iterates the smaller of the two, in C
    total: float = sum(map(operator.mul, map(a.__getitem__, shared), map(b.__getitem__, shared)))
    return total
