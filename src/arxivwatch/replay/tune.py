"""`tune TOPIC`: one topic, and a query tried instead of its own, replayed over past papers.

What each query matches and would post (scored by the poll's own selection, so a match another
topic scores higher goes there), hits per day, the best titles with their title hits marked,
which of the section's catalog entries each query catches, and what the trial query gains and
loses. (`tune --suggest` is `replay.suggest`.)
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from arxivwatch import textnorm
from arxivwatch.catalog import Catalog
from arxivwatch.config import Settings
from arxivwatch.models import Hit, Paper, Topic
from arxivwatch.query import Doc, parse
from arxivwatch.query.matcher import TextMatcher, compile_term
from arxivwatch.ranking import (
    Known,
    Scorer,
    Selector,
    default_scorer,
    in_categories,
    known_predicate,
    route,
)
from arxivwatch.replay.build import catalog_papers

SAMPLE = 10             # titles shown, best first
LAST_DAYS = 14          # days listed in the hits-per-day histogram
BOLD, PLAIN = "\x1b[1m", "\x1b[0m"   # ANSI bold on and off, for a terminal


def variants_of(topic: Topic, query_text: str | None) -> list[Topic]:
    """The topic, and the topic with `query_text` instead of its query when one is tried."""
    if query_text is None:
        return [topic]
    return [topic, dataclasses.replace(topic, query=parse(query_text), query_text=query_text)]


def tune_parts(settings: Settings, catalog: Catalog, tried: Sequence[Topic],
               papers: Iterable[Paper], *, catalog_files: Sequence[Path] = (),
               sample_size: int = SAMPLE, bold: bool = False) -> list[str]:
    """`tune`'s text, part by part, for the CLI and `/arxivwatch tune`: each query's summary,
    the last one's histogram, sample titles and catalog coverage, and what a tried query changes.

    `tried` is `variants_of(...)`; the papers are scored as the poll scores them (the shipped
    ranking over the catalog, catalog papers known).
    """
    known_papers = catalog_papers(settings, catalog, catalog_files)
    scorer = default_scorer(catalog.sections, known_papers)
    runs, days = replay_topic(papers, tried, scorer, catalog.index().knows, settings.topics)
    cap, last = settings.digest.max_per_topic, runs[-1]
    parts = [summary(v, run, days, cap) for v, run in zip(tried, runs, strict=True)]
    parts += [histogram(last, days), sample(tried[-1], last, sample_size, bold),
              coverage(catalog, tried, known_papers)]
    if len(tried) > 1:
        parts.append(diff(tried[-1], runs[0], runs[1], sample_size, bold))
    return parts


@dataclass
class TopicRun:
    """What one query of a topic matched: scored papers and matches per day."""

    matches: dict[str, tuple[float, Paper, tuple[Hit, ...]]] = field(default_factory=dict)
    per_day: Counter[dt.date] = field(default_factory=Counter)
    lost_to: dict[str, str] = field(default_factory=dict)   # id -> the topic that takes it

    def ranked(
        self, ids: Iterable[str] | None = None,
    ) -> list[tuple[float, Paper, tuple[Hit, ...]]]:
        """Matches (all, or those of `ids`) best first, ties by id."""
        keys = self.matches if ids is None else ids
        return sorted((self.matches[i] for i in keys), key=lambda m: (-m[0], m[1].id))


def replay_topic(papers: Iterable[Paper], topics: Sequence[Topic], scorer: Scorer,
                 known: Known, others: Sequence[Topic] = ()) -> tuple[list[TopicRun],
                                                                        Counter[dt.date]]:
    """Match and score every paper for each topic variant; also count papers per day.

    With `others` (the config's topics), a match the poll routes to another topic goes there
    (`ranking.route`: the best-scoring topic whose min_score it clears): `lost_to` records it,
    and it is not counted as posted.
    """
    is_known = known_predicate(known)
    runs = [TopicRun() for _ in topics]
    selectors = [Selector(_with_variant(others, topic), scorer) for topic in topics]
    days: Counter[dt.date] = Counter()
    for paper in papers:
        if paper.day is not None:
            days[paper.day] += 1
        if is_known(paper):
            continue
        doc = Doc.from_paper(paper)
        for topic, run, selector in zip(topics, runs, selectors, strict=True):
            hits = topic.query.match(doc) if in_categories(paper, topic.categories) else None
            if hits is None:
                continue
            # scored once, by the poll's own matching: the best topic first, this one among them
            matches = selector.match(paper)
            mine = next(m for m in matches if m.topic.name == topic.name)
            run.matches[paper.id] = (mine.score, paper, mine.hits)
            if paper.day is not None:
                run.per_day[paper.day] += 1
            routed = route(matches)
            if routed is not mine:
                run.lost_to[paper.id] = routed.topic.name
    return runs, days


def _with_variant(topics: Sequence[Topic], variant: Topic) -> list[Topic]:
    """The config's topics with `variant` in place of the topic of the same name."""
    out = [variant if t.name == variant.name else t for t in topics]
    return out if any(t.name == variant.name for t in topics) else [*out, variant]


def highlight(title: str, topic: Topic, hits: Sequence[Hit], *, bold: bool) -> str:
    """The title with the title hits of the query marked (ANSI bold, or **x**)."""
    text = " ".join(title.split())
    clean = textnorm.clean(text)
    base = text if len(clean) == len(text) else clean   # positions must line up
    labels = {h.term for h in hits if h.field == "ti"}
    spans: list[tuple[int, int]] = []
    for term in topic.query.terms():
        if term.label in labels:
            matcher = compile_term("ti", term.text, term.prefix)
            if isinstance(matcher, TextMatcher):
                spans += [m.span() for m in matcher.pattern.finditer(clean)]
    return _mark(base, _merge(spans), bold)


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _mark(text: str, spans: list[tuple[int, int]], bold: bool) -> str:
    out, last = [], 0
    for start, end in spans:
        piece = text[start:end]
        out += [text[last:start], f"{BOLD}{piece}{PLAIN}" if bold else f"**{piece}**"]
        last = end
    return "".join([*out, text[last:]])


def summary(topic: Topic, run: TopicRun, days: Counter[dt.date], cap: int) -> str:
    """What one query matched and would post, per day, and which topics take some of it."""
    label = topic.query_text or str(topic.query)
    n_days = len(days) or 1
    floor = topic.min_score if topic.min_score is not None else float("-inf")
    posted: Counter[dt.date] = Counter()
    for score, paper, _ in run.matches.values():
        if paper.day is not None and score >= floor and paper.id not in run.lost_to:
            posted[paper.day] += 1
    would_post = sum(min(cap, n) for n in posted.values())
    return (f"\nquery: {' '.join(str(label).split())}\n"
            f"  {sum(days.values())} papers over {len(days)} days: {len(run.matches)} matches "
            f"({len(run.matches) / n_days:.2f}/day, max {max(run.per_day.values(), default=0)}); "
            f"would post {would_post} ({would_post / n_days:.2f}/day, cap {cap}, "
            f"min_score {topic.min_score})" + _lost(run))


def _lost(run: TopicRun) -> str:
    """Which other topics take some of the matches (they score higher there)."""
    if not run.lost_to:
        return ""
    by_topic = Counter(run.lost_to.values()).most_common()
    shown = ", ".join(f"{name} {n}" for name, n in by_topic)
    return (f"\n  {len(run.lost_to)} of the matches go to other topics, as the poll routes them "
            f"(the best-scoring topic whose min_score they clear): {shown}")


def histogram(run: TopicRun, days: Counter[dt.date]) -> str:
    """Matches per day over the last LAST_DAYS days of the input."""
    lines = [f"\nhits per day (last {LAST_DAYS} days):"]
    for day in sorted(days)[-LAST_DAYS:]:
        n = run.per_day.get(day, 0)
        lines.append(f"  {day.isoformat()}  {n:>3}  {'#' * min(n, 60)}")
    return "\n".join(lines)


def sample(topic: Topic, run: TopicRun, size: int, bold: bool) -> str:
    """The `size` best matches, title hits marked."""
    lines = [f"\nbest {min(size, len(run.matches))} of {len(run.matches)} matches:"]
    for score, paper, hits in run.ranked()[:size]:
        title = highlight(paper.title, topic, hits, bold=bold)
        lines.append(f"  {score:.3f}  {paper.id:<12} {title}")
    return "\n".join(lines)


def coverage(catalog: Catalog, variants: Sequence[Topic], known: Mapping[str, Paper]) -> str:
    """Which of the section's catalog entries each query would catch (`known`: their papers)."""
    section = catalog.section(variants[0].section)
    lines = [f"\ncatalog section {section.path_text} ({len(section.entries)} entries):"]
    for entry in section.entries:
        ids = [i for i in entry.arxiv_ids if i in known]
        paper = known[ids[0]] if ids else Paper(
            entry.arxiv_ids[0] if entry.arxiv_ids else f"line {entry.line_no}", entry.title,
            entry.summary)
        doc = Doc.from_paper(paper)
        marks = "".join("+" if v.query.match(doc) is not None else "-" for v in variants)
        lines.append(f"  {marks}  {entry.title[:90]}")
    legend = "+ caught, - missed" + ("; first mark: saved query, second: --query"
                                     if len(variants) > 1 else "")
    return "\n".join([*lines, f"  ({legend})"])


def diff(topic: Topic, saved: TopicRun, tried: TopicRun, size: int, bold: bool) -> str:
    """What the tried query gains and loses against the saved one, best first."""
    gained = tried.matches.keys() - saved.matches.keys()
    lost = saved.matches.keys() - tried.matches.keys()
    lines = [f"\n--query against the saved query: {len(gained)} gained, {len(lost)} lost"]
    for sign, run, ids in (("+", tried, gained), ("-", saved, lost)):
        for score, paper, hits in run.ranked(ids)[:size]:
            title = highlight(paper.title, topic, hits, bold=bold) if sign == "+" else paper.title
            lines.append(f"  {sign} {score:.3f}  {paper.id:<12} {title}")
    return "\n".join(lines)
