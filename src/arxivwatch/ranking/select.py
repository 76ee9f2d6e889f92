"""The one selection path shared by the daily poll and the backtest.

For one announcement day: drop papers already known, match every topic (within its categories),
give each paper to the best-scoring topic among those whose `min_score` it clears (or, when it
clears none, to its best-scoring topic, where it is not posted; the other topics become
alternatives), rank each topic's papers, and mark the top `cap` at or above `min_score` posted,
and with `ask`, a few just under it posted as `unsure` (a question to the curator).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Collection, Iterable, Sequence

from arxivwatch.models import Candidate, Hit, Paper, Topic
from arxivwatch.query import Doc
from arxivwatch.ranking.base import Scorer
from arxivwatch.ranking.prefilter import Prefilter

Known = Callable[[Paper], bool] | Collection[str] | None   # e.g. CatalogIndex.knows, ids
DocFactory = Callable[[Paper], Doc]
ASK_BAND = 0.4      # how far under min_score, in log-odds, a paper may be asked about
MatchRow = tuple[int, tuple[Hit, ...], float, tuple[str, ...]]   # topic position, hits, score


def known_predicate(known: Known) -> Callable[[Paper], bool]:
    """Turn a predicate (`CatalogIndex.knows`, say) or a set of ids into one predicate on papers."""
    if known is None:
        return lambda _paper: False
    if callable(known):
        return known
    ids: Collection[str] = known
    return lambda p: p.id in ids


def either(*knowns: Known) -> Callable[[Paper], bool]:
    """A predicate true when any of `knowns` (predicates, ids) knows the paper."""
    preds = [known_predicate(k) for k in knowns if k is not None]
    return lambda p: any(pred(p) for pred in preds)


def in_categories(paper: Paper, categories: Sequence[str]) -> bool:
    """True when no categories are required or the paper is listed in one (`cs.*` is a prefix)."""
    return _category_test(categories)(paper.categories)


class _Match:
    __slots__ = ("hits", "order", "reasons", "score", "topic")

    def __init__(self, topic: Topic, order: int, hits: tuple[Hit, ...], score: float,
                 reasons: tuple[str, ...]) -> None:
        self.topic, self.order, self.hits, self.score, self.reasons = (
            topic, order, hits, score, reasons)


class Selector:
    """`select` for a fixed list of topics and scorer, with per-topic work done once."""

    def __init__(self, topics: Sequence[Topic], scorer: Scorer, *,
                 doc: DocFactory | None = None) -> None:
        self.topics, self.scorer = tuple(topics), scorer
        self._make_doc = doc or Doc.from_paper
        self.prefilter = Prefilter([t.query for t in self.topics])
        self._cats = [_category_test(t.categories) for t in self.topics]
        # paper id -> (the paper, its matches) computed elsewhere (see `remember`)
        self._ready: dict[str, tuple[Paper, list[_Match]]] = {}

    def select(self, papers: Iterable[Paper], *, known: Known = None, cap: int,
               day: dt.date, ask: int = 0) -> list[Candidate]:
        """Candidates of one day, grouped by topic (config order), best first.

        `ask`: per topic, at most this many of the best papers just under `min_score` (within
        ASK_BAND in log-odds) are posted too while the cap has room, marked `unsure`, so the
        curator's answer teaches the learned ranking where the boundary lies.
        """
        is_known = known_predicate(known)
        best: dict[str, list[tuple[Paper, _Match, tuple[str, ...]]]] = {
            t.name: [] for t in self.topics}
        skip_skeletons = not any(self.prefilter.possible_texts("", "", None))
        for paper in _unique(papers):
            ready = self._ready.pop(paper.id, None) if self._ready else None
            if ready is not None and ready[0] is paper:
                matches = ready[1]
                if not matches or is_known(paper):
                    continue
            elif skip_skeletons and not (paper.title or paper.abstract or paper.comments):
                continue   # a skeleton (see snapshot.read_snapshot): the prefilter declines it
            else:
                # the prefilter first: most papers match nothing and need no catalog lookup
                possible = self.prefilter.possible(paper)
                if not any(possible) or is_known(paper):
                    continue
                matches = self._match(paper, possible)
            if matches:
                top = route(matches)
                alternatives = tuple(m.topic.name for m in matches if m is not top)
                best[top.topic.name].append((paper, top, alternatives))
        out: list[Candidate] = []
        for topic in self.topics:
            out.extend(_rank(topic, best[topic.name], cap, day, ask))
        return out

    def match(self, paper: Paper) -> list[_Match]:
        """Every topic the paper matches, scored, best first (ties: config order)."""
        return self._match(paper, self.prefilter.possible(paper))

    def match_rows(self, paper: Paper) -> list[MatchRow]:
        """`match` as plain values (topic by its position), to ship between processes."""
        return [(m.order, m.hits, m.score, m.reasons) for m in self.match(paper)]

    def remember(self, paper: Paper, rows: list[MatchRow]) -> None:
        """Take `match_rows(paper)`, computed elsewhere, for when `select` meets this paper.

        Used once, and only for this very object; any other paper (another with the same id,
        say) is matched as usual.
        """
        self._ready[paper.id] = (paper, [_Match(self.topics[order], order, hits, score, reasons)
                                         for order, hits, score, reasons in rows])

    def _match(self, paper: Paper, possible: tuple[bool, ...]) -> list[_Match]:
        found: list[_Match] = []
        doc: Doc | None = None
        for order, topic in enumerate(self.topics):
            if not possible[order] or not self._cats[order](paper.categories):
                continue
            doc = doc or self._make_doc(paper)
            hits = topic.query.match(doc)
            if hits is not None:
                scored = self.scorer.score(doc, topic, hits)
                found.append(_Match(topic, order, hits, scored.score, scored.reasons))
        found.sort(key=lambda m: (-m.score, m.order))
        return found


def select(
    papers: Iterable[Paper], topics: Sequence[Topic], scorer: Scorer, *,
    known: Known = None, cap: int, day: dt.date, doc: DocFactory | None = None, ask: int = 0,
) -> list[Candidate]:
    """Candidates of one day: see the module doc (the poll's and the backtest's one path)."""
    return Selector(topics, scorer, doc=doc).select(papers, known=known, cap=cap, day=day,
                                                    ask=ask)


def route(matches: list[_Match]) -> _Match:
    """The best-scoring match whose topic's `min_score` it clears, else the best one.

    Routing before thresholds lost papers: a paper that clears its own section's bar but scores
    higher, under the bar, for another topic was posted nowhere.
    """
    for match in matches:       # best first
        floor = match.topic.min_score
        if floor is None or match.score >= floor:
            return match
    return matches[0]


def _category_test(categories: Sequence[str]) -> Callable[[Sequence[str]], bool]:
    """A test on a paper's categories: listed in one of `categories` (`cs.*` is a prefix)."""
    if not categories:
        return lambda _cats: True
    exact = frozenset(c.lower() for c in categories if not c.endswith("*"))
    prefixes = tuple(c.lower()[:-1] for c in categories if c.endswith("*"))

    def test(cats: Sequence[str]) -> bool:
        mine = [c.lower() for c in cats]
        return not exact.isdisjoint(mine) or any(c.startswith(prefixes) for c in mine if prefixes)

    return test


def _rank(
    topic: Topic, items: list[tuple[Paper, _Match, tuple[str, ...]]], cap: int, day: dt.date,
    ask: int = 0,
) -> list[Candidate]:
    items.sort(key=lambda item: (-item[1].score, item[0].id))
    floor = topic.min_score if topic.min_score is not None else float("-inf")
    near = _near(topic.min_score)
    out: list[Candidate] = []
    for rank, (paper, m, alternatives) in enumerate(items, 1):
        posted = rank <= cap and m.score >= floor
        # an asked paper takes a place under the cap: max_per_topic bounds what a topic posts
        unsure = not posted and ask > 0 and rank <= cap and near <= m.score < floor
        ask -= unsure
        out.append(Candidate(
            paper=paper, topic=topic.name, section=topic.section, score=m.score, day=day,
            hits=m.hits, reasons=m.reasons, alternatives=alternatives, rank=rank,
            posted=posted or unsure, unsure=unsure))
    return out


def _near(floor: float | None) -> float:
    """The lowest score still near `floor` (ASK_BAND under it in log-odds); inf without one."""
    if floor is None or not 0.0 < floor < 1.0:
        return float("inf")
    z = math.log(floor / (1.0 - floor)) - ASK_BAND
    return 1.0 / (1.0 + math.exp(-z))


def _unique(papers: Iterable[Paper]) -> Iterable[Paper]:
    """Each id once (a paper listed twice in one day's input counts once: the first)."""
    seen: set[str] = set()
    for paper in papers:
        if paper.id not in seen:
            seen.add(paper.id)
            yield paper
