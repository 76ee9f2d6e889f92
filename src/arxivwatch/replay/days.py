"""Replay of past papers through the same selection code as the daily poll.

Papers stream in (a 4.5 GB snapshot never sits in memory), are grouped by announcement day and
each day goes through `ranking.select`: dedupe against the catalog, match, rank, cap. Per-topic
figures are accumulated as the days go; with labels, recall, precision and the ROC AUC of the
score are measured as well, in memory bounded by the label list and a fixed score histogram.

Day grouping assumes the input is *roughly* in day order, as arXiv snapshots are (ids are given
at submission): a day is replayed once the input has moved more than `window` days away from it.
A paper arriving after its day was replayed starts a new batch for that day (counted in
`late_batches`); its topic cap then applies to that batch on its own.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import IO

from arxivwatch.models import Candidate, Paper, Topic
from arxivwatch.ranking import Known, Scorer, Selector, known_predicate, section_key
from arxivwatch.replay.labels import BINS, Labels, LabelStats
from arxivwatch.replay.verdicts import VerdictStats

WINDOW = 7          # days of input kept open for late papers of a day

OUT_KEYS = ("id", "day", "topic", "section", "score", "rank", "posted", "matched", "title")


def group_days(
    papers: Iterable[Paper], *, window: int = WINDOW, stats: ReplayStats | None = None,
) -> Iterator[tuple[dt.date, list[Paper]]]:
    """Yield (day, papers of that day), oldest open day first, keeping `window` days open."""
    stats = stats if stats is not None else ReplayStats()
    open_days: dict[dt.date, list[Paper]] = {}
    done: set[dt.date] = set()
    current: dt.date | None = None
    for paper in papers:
        day = paper.day
        if day is None:
            stats.undated += 1
            continue
        batch = open_days.get(day)
        if batch is None:
            if day in done:
                stats.late_batches += 1
            batch = open_days[day] = []
        batch.append(paper)
        if day != current:      # the input moved to another day: close the ones left behind
            current = day
            for old in sorted(d for d in open_days if abs((day - d).days) > window):
                done.add(old)
                yield old, open_days.pop(old)
    for day in sorted(open_days):
        yield day, open_days.pop(day)


def in_range(papers: Iterable[Paper], start: dt.date | None, end: dt.date | None,
             ) -> Iterator[Paper]:
    """The papers whose day lies in [start, end] (either bound optional)."""
    for paper in papers:
        day = paper.day
        if day is not None and ((start and day < start) or (end and day > end)):
            continue
        yield paper


@dataclass
class ReplayStats:
    """Input-level counts of a replay."""

    papers: int = 0
    days: int = 0
    undated: int = 0
    late_batches: int = 0


@dataclass
class TopicStats:
    """One topic's figures over the replay."""

    name: str
    section: str
    matches: int = 0
    posted: int = 0
    max_per_day: int = 0

    def add_day(self, cands: Sequence[Candidate]) -> None:
        """Count one day's candidates of this topic."""
        posted = sum(c.posted for c in cands)
        self.matches += len(cands)
        self.posted += posted
        self.max_per_day = max(self.max_per_day, posted)


class Replay:
    """Accumulates a backtest day by day: topic figures, label figures, JSON lines out."""

    learns = False   # True when the scorer changes as the days go: no worker can score ahead

    def __init__(self, topics: Sequence[Topic], scorer: Scorer, *, known: Known, cap: int,
                 labels: Labels | None = None, out: IO[str] | None = None, ask: int = 0) -> None:
        self.topics, self.cap, self.ask = topics, cap, ask
        self.known = known_predicate(known)
        self.selector = Selector(topics, scorer)
        self.labels, self.out = labels, out
        self.stats = ReplayStats()
        self.topic_stats = {t.name: TopicStats(t.name, t.section) for t in topics}
        judged = labels is not None and labels.verdicts is not None
        self.label_stats = labels.stats() if labels and not judged else []
        self._label_keys = [{section_key(s) for s in ls.sections} for ls in self.label_stats]
        self.verdict_stats = labels.verdict_stats() if labels and judged else []
        self._verdict_keys = [{section_key(s) for s in vs.sections} for vs in self.verdict_stats]

    def run(self, papers: Iterable[Paper], *, window: int = WINDOW) -> Replay:
        """Replay every day of `papers`; returns self for chaining."""
        for day, batch in group_days(self._count(papers), window=window, stats=self.stats):
            self.day(day, batch)
        return self

    def day(self, day: dt.date, batch: list[Paper]) -> list[Candidate]:
        """Select one day's candidates and account for them."""
        self.stats.days += 1
        cands = self.selector.select(batch, known=self.known, cap=self.cap, day=day, ask=self.ask)
        by_topic: dict[str, list[Candidate]] = {}
        for cand in cands:
            by_topic.setdefault(cand.topic, []).append(cand)
            if self.out is not None:
                self.out.write(json.dumps(out_line(cand), ensure_ascii=False) + "\n")
        for name, topic_cands in by_topic.items():
            self.topic_stats[name].add_day(topic_cands)
        if self.labels is not None:
            self._score_labels(batch, cands)
            self._score_verdicts(batch, cands)
        return cands

    def keep(self, title: str, abstract: str, comments: str | None) -> bool:
        """A `keep` for `snapshot.read_snapshot`: False for texts no topic's query can match.

        It is the selection's own prefilter, so a paper it declines would be dropped by
        `select` unread. Only for a replay without labels: a skeleton paper has no title for
        the catalog's title lookup of labelled papers.
        """
        return self.labels is not None or self.selector.prefilter.keep_texts(
            title, abstract, comments)

    def _count(self, papers: Iterable[Paper]) -> Iterator[Paper]:
        for paper in papers:
            self.stats.papers += 1
            yield paper

    def _score_labels(self, batch: list[Paper], cands: list[Candidate]) -> None:
        assert self.labels is not None
        labelled = {p.id: p for p in batch if p.id in self.labels.by_id}
        for ls, keys in zip(self.label_stats, self._label_keys, strict=True):
            mine = [p for p in labelled.values() if ls.name in self.labels.by_id[p.id]]
            ls.labelled += len(mine)
            ls.in_catalog += sum(self.known(p) for p in mine)
            for cand in cands:
                if section_key(cand.section) in keys:
                    self._count_label(ls, cand)

    def _score_verdicts(self, batch: list[Paper], cands: list[Candidate]) -> None:
        """Account one day for the verdicts: what was posted, and every judged match's score."""
        if not self.verdict_stats:
            return
        assert self.labels is not None
        assert self.labels.verdicts is not None
        posted = {c.paper.id: section_key(c.section) for c in cands if c.posted}
        seen: set[str] = set()
        for paper in batch:
            judged = self.labels.verdicts.get(paper.id)
            if not judged or paper.id in seen:     # a paper listed twice in a day counts once
                continue
            seen.add(paper.id)
            known = self.known(paper)
            scores = {} if known else {section_key(m.topic.section): m.score
                                       for m in reversed(self.selector.match(paper))}
            for vs, keys in zip(self.verdict_stats, self._verdict_keys, strict=True):
                verdict = judged.get(vs.name)
                if verdict is not None:
                    self._count_verdict(vs, keys, verdict, known, scores, posted.get(paper.id))

    @staticmethod
    def _count_verdict(vs: VerdictStats, keys: set[tuple[str, ...]], verdict: int, known: bool,
                       scores: dict[tuple[str, ...], float], posted: tuple[str, ...] | None,
                       ) -> None:
        vs.judged += 1
        vs.relevant += verdict
        if known:
            vs.in_catalog += verdict
            return
        mine = [score for key, score in scores.items() if key in keys]
        if mine:
            vs.scored.append((max(mine), verdict))
        if posted in keys:
            vs.posted_judged += 1
            vs.posted_relevant += verdict
            vs.found += verdict

    def _count_label(self, ls: LabelStats, cand: Candidate) -> None:
        assert self.labels is not None
        has = ls.name in self.labels.by_id.get(cand.paper.id, frozenset())
        hist = ls.pos_hist if has else ls.neg_hist
        hist[min(BINS, max(0, round(cand.score * BINS)))] += 1
        if cand.posted:
            ls.posted += 1
            ls.posted_labelled += has
            ls.found += has

    def summary(self) -> str | None:
        """A line to print after the report, if the replay has one (see `CuratedReplay`)."""
        return None

    def per_day_mean(self, name: str) -> float:
        """Posted candidates of a topic per replayed day."""
        return self.topic_stats[name].posted / self.stats.days if self.stats.days else 0.0


def out_line(cand: Candidate) -> dict[str, object]:
    """The `--out` JSON object of one match (keys are an interface: OUT_KEYS)."""
    return {
        "id": cand.paper.id, "day": cand.day.isoformat(), "topic": cand.topic,
        "section": cand.section, "score": round(cand.score, 4), "rank": cand.rank,
        "posted": cand.posted, "matched": cand.matched, "title": cand.paper.title,
    }
