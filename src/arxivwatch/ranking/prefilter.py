"""Cheap rejection before matching: substrings a paper must contain to possibly match a query.

Most papers match no topic. Rather than run every topic's full query (regular expressions per
field) on every paper, each query is first reduced to a tree of *anchors*: substrings of each
word of a term that every match leaves in the squeezed text (see `textnorm.squeeze`), combined
with the query's own AND / OR. A paper that fails it cannot match; one that passes is matched
for real. Anchors are C-speed substring tests, each done at most once per paper.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from arxivwatch import textnorm
from arxivwatch.models import Paper
from arxivwatch.query import And, AndNot, Or, Query, Term

TEXT_FIELDS = frozenset({"ti", "abs", "co", "all"})

# A necessary condition, as a small tree: an anchor (field, substring), ("AND", parts) or
# ("OR", parts); field is ti, abs, co or all. None stands for "no condition known".
Anchor = tuple[str, str]
Condition = Anchor | tuple[str, tuple["Condition", ...]] | None


def condition(query: Query) -> Condition:
    """What any paper matching `query` must contain, as a tree of anchors (None: unknown)."""
    if isinstance(query, Term):
        return _all([(query.field, a) for a in term_anchors(query)])
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
    return textnorm.squeeze(textnorm.clean(text))


class Prefilter:
    """Necessary conditions for a list of queries, compiled into one Python expression.

    Anchors on the title are tested against the squeezed title, every other anchor against
    the squeezed title + abstract + comments (a superset: still a necessary condition). The
    expression short-circuits, so a paper lacking a topic's first anchors costs one or two
    substring tests per topic, with no Python call per test.
    """

    def __init__(self, queries: Iterable[object]) -> None:
        self.conditions = [condition(q) if isinstance(q, Query) else None for q in queries]
        source = "lambda t, a: (" + "".join(f"{_source(c)}, " for c in self.conditions) + ")"
        self._test: Callable[[str, str], tuple[bool, ...]] = eval(  # noqa: S307 - built above
            source, {"__builtins__": {}})

    def possible(self, paper: Paper) -> tuple[bool, ...]:
        """For each query, whether `paper` might match it (False: it certainly does not)."""
        title = textnorm.squeeze(textnorm.clean(paper.title))
        rest = textnorm.squeeze(textnorm.clean(f"{paper.abstract}\n{paper.comments or ''}"))
        return self._test(title, title + "\n" + rest)


def _source(cond: Condition) -> str:
    """The Python expression testing `cond` on the squeezed title `t` and whole text `a`."""
    if cond is None:
        return "True"
    op, rest = cond
    if isinstance(rest, str):
        return f"({rest!r} in {'t' if op == 'ti' else 'a'})"
    joiner = " and " if op == "AND" else " or "
    return "(" + joiner.join(_source(p) for p in rest) + ")"
