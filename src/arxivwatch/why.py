"""The digest's "Why" line: what a curator needs to see at a glance, in at most 160 characters.

"title: LoRA · abstract: low-rank adaptation, adapter · closest: LoRA+" -- the query's words that
matched, where (title or abstract first), and the catalog entry the paper is closest to. It is
built from structured data (the candidate's hits: term and field), so it does not depend on how
the ranking words its reasons; the query engine's detail and the learned model's state are left
to `arxivwatch explain` (`cli/explain_cmd.explanation`).

The one exception is the nearest catalog entry, which the scorer reports only as a reason
(`similar to catalog: NAME (0.42)`); `nearest_entry` is the one place that reads it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from arxivwatch.models import Hit

__all__ = ["WHY_LIMIT", "Nearest", "matched_by_field", "nearest_entry", "why_line"]

WHY_LIMIT = 160
SEP = " · "
FIELD_NAMES = {"ti": "title", "abs": "abstract", "co": "comments", "au": "authors",
               "cat": "category"}
_FIELD_ORDER = ("ti", "abs", "co", "au", "cat")
_NEAREST = re.compile(r"^similar to catalog: (?P<name>.+) \((?P<score>-?\d+(?:\.\d+)?)\)$")


class Nearest(NamedTuple):
    """The catalog entry a paper is closest to, by its short name, and the cosine."""

    name: str
    similarity: float


def nearest_entry(reasons: Iterable[str]) -> Nearest | None:
    """The nearest catalog entry named by the similarity scorer's reason, if any.

    Adapter over `ranking.similarity`'s `similar to catalog: NAME (0.42)`: when the ranking
    changes how it says so, this function (and its test) is what changes.
    """
    for reason in reasons:
        found = _NEAREST.match(reason.strip())
        if found:
            return Nearest(found.group("name").strip(), float(found.group("score")))
    return None


def matched_by_field(hits: Iterable[Hit]) -> list[tuple[str, list[str]]]:
    """The distinct matched words per field, title first; a word in the title is not repeated."""
    ordered = sorted(hits, key=lambda h: _rank(h.field))
    terms = [(h.field, h.term.strip().strip('"').strip()) for h in ordered]
    keys = [_words(t) for _, t in terms]
    by_field: dict[str, list[str]] = {}
    seen: set[tuple[str, ...]] = set()
    for n, (field, term) in enumerate(terms):
        key = keys[n]
        inside = any(_within(key, other) for m, other in enumerate(keys)
                     if m != n and len(other) > len(key) and _rank(terms[m][0]) <= _rank(field))
        if term and key not in seen and not inside:  # "low-rank" beside "low-rank adaptation"
            seen.add(key)
            by_field.setdefault(field, []).append(term)
    return [(FIELD_NAMES.get(f, f), words) for f, words in by_field.items()]


def _words(term: str) -> tuple[str, ...]:
    """A term's words, folded: case, hyphens, a plural -s."""
    return tuple(w.removesuffix("s") for w in re.split(r"[\s\-]+", term.casefold()) if w)


def _within(key: tuple[str, ...], other: tuple[str, ...]) -> bool:
    return any(other[i:i + len(key)] == key for i in range(len(other) - len(key) + 1))


def _rank(field: str) -> int:
    return _FIELD_ORDER.index(field) if field in _FIELD_ORDER else len(_FIELD_ORDER)


def why_line(hits: Sequence[Hit], reasons: Sequence[str], limit: int = WHY_LIMIT) -> str:
    """`title: LoRA · abstract: adapter, low-rank adaptation · closest: LoRA+`, within `limit`.

    Words are dropped from the end ("+2 more") before the closest entry is; a name too long is
    shortened with "…".
    """
    nearest = nearest_entry(reasons)
    tail = f"closest: {nearest.name.rstrip('. ')}" if nearest else ""
    if len(tail) > limit // 2:
        tail = tail[:limit // 2 - 1].rstrip() + "…"
    budget = limit - (len(tail) + len(SEP) if tail else 0)
    groups = matched_by_field(hits)
    words = _fit_words(groups, budget)
    line = SEP.join(p for p in (words, tail) if p)
    return line or "ranked in by similarity to the catalog"


def _fit_words(groups: list[tuple[str, list[str]]], budget: int) -> str:
    """As many matched words as fit, field by field; '+N more' for the ones left out."""
    total = sum(len(words) for _, words in groups)
    for keep in range(total, 0, -1):
        text = _words_text(groups, keep, total)
        if len(text) <= budget:
            return text
    return ""


def _words_text(groups: list[tuple[str, list[str]]], keep: int, total: int) -> str:
    parts, left = [], keep
    for name, words in groups:
        if left <= 0:
            break
        parts.append(f"{name}: {', '.join(words[:left])}")
        left -= len(words)
    more = f" +{total - keep} more" if keep < total else ""
    return SEP.join(parts) + more

