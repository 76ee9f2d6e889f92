"""`arxivwatch tune TOPIC`: replay one topic over past papers before editing topics.yaml."""

from __future__ import annotations

import dataclasses
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from arxivwatch.cli import Context
from arxivwatch.cli.backtest_cmd import build_scorer, catalog_papers, load_catalog, report_skipped
from arxivwatch.errors import ConfigError

if TYPE_CHECKING:
    import datetime as dt

    from arxivwatch.config import Settings
    from arxivwatch.models import Hit, Paper
    from arxivwatch.ranking import Scorer, TopicLike

SAMPLE = 10             # titles shown, best first
LAST_DAYS = 14          # days listed in the hits-per-day histogram


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


def replay_topic(papers: Iterable[Paper], topics: Sequence[TopicLike], scorer: Scorer,
                 known: Any, others: Sequence[TopicLike] = ()) -> tuple[list[TopicRun],
                                                                      Counter[dt.date]]:
    """Match and score every paper for each topic variant; also count papers per day.

    With `others` (the config's topics), a match another topic scores higher goes there, as in
    the poll (`ranking.select`): `lost_to` records it, and it is not counted as posted.
    """
    from arxivwatch.query import Doc
    from arxivwatch.ranking import Selector, in_categories, known_predicate

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
            if matches[0] is not mine:
                run.lost_to[paper.id] = matches[0].topic.name
    return runs, days


def _with_variant(topics: Sequence[TopicLike], variant: TopicLike) -> list[TopicLike]:
    """The config's topics with `variant` in place of the topic of the same name."""
    out = [variant if t.name == variant.name else t for t in topics]
    return out if any(t.name == variant.name for t in topics) else [*out, variant]


def highlight(title: str, topic: TopicLike, hits: Sequence[Hit], *, bold: bool) -> str:
    """The title with the title hits of the query marked (ANSI bold, or **x**)."""
    from arxivwatch import textnorm
    from arxivwatch.query import Term
    from arxivwatch.query.matcher import TextMatcher, compile_term

    text = " ".join(title.split())
    clean = textnorm.clean(text)
    base = text if len(clean) == len(text) else clean   # positions must line up
    labels = {h.term for h in hits if h.field == "ti"}
    spans: list[tuple[int, int]] = []
    for term in topic.query.terms():   # type: ignore[attr-defined]
        if isinstance(term, Term) and term.label in labels:
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
        out += [text[last:start], click.style(piece, bold=True) if bold else f"**{piece}**"]
        last = end
    return "".join([*out, text[last:]])


def _topic(settings: Settings, name: str) -> TopicLike:
    for topic in settings.topics:
        if topic.name == name:
            return topic
    names = ", ".join(t.name for t in settings.topics)
    raise ConfigError(f"no topic named {name!r}; topics: {names}", file=str(settings.config_path),
                      key="topics")


def _stored(settings: Settings) -> Iterable[Paper]:
    from arxivwatch.store import Store

    with Store.open(settings.state.url) as store:
        yield from store.iter_papers()


@click.command("tune")
@click.argument("topic_name", metavar="TOPIC")
@click.option("--query", "query_text", help="A query to try instead of the saved one.")
@click.option("--papers", "papers_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Snapshot file to replay (default: the papers arxivwatch has stored).")
@click.option("--catalog-papers", "catalog_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Snapshot file with the catalog papers' abstracts (default: the store's).")
@click.option("--sample", default=SAMPLE, show_default=True, help="Titles to show.")
@click.option("--suggest", is_flag=True,
              help="Also what the decisions suggest: stored papers the learned model likes but "
                   "the query misses, candidate query terms, candidate ANDNOT terms.")
@click.pass_obj
def tune(ctx: Context, topic_name: str, query_text: str | None, papers_path: Path | None,
         catalog_files: tuple[Path, ...], sample: int, suggest: bool) -> None:
    """Replay one topic over past papers: hits per day, sample titles, catalog coverage.

    \b
    Examples:
      arxivwatch tune lora
      arxivwatch tune lora --query 'ti:LoRA OR abs:"low-rank adaptation"' --papers sample.jsonl
      arxivwatch tune lora --suggest
    """
    from arxivwatch.query import parse
    from arxivwatch.ranking import catalog_known
    from arxivwatch.snapshot import SnapshotStats, read_snapshot

    settings = ctx.settings
    topic = _topic(settings, topic_name)
    variants = [topic]
    if query_text is not None:
        variants.append(dataclasses.replace(topic, query=parse(query_text),  # type: ignore
                                            query_text=query_text))
    catalog = load_catalog(settings)
    scorer = build_scorer(settings, catalog, catalog_files)
    read = SnapshotStats()
    papers = read_snapshot(papers_path, stats=read) if papers_path else _stored(settings)
    runs, days = replay_topic(papers, variants, scorer, catalog_known(catalog.sections),
                              settings.topics)
    if papers_path:
        report_skipped(read, papers_path)
    bold = sys.stdout.isatty()
    cap = settings.digest.max_per_topic
    click.echo(f"topic {topic.name} -> {topic.section}")
    for variant, run in zip(variants, runs, strict=True):
        click.echo(_summary(variant, run, days, cap))
    run = runs[-1]
    click.echo(_histogram(run, days))
    click.echo(_sample(variants[-1], run, sample, bold))
    click.echo(_coverage(settings, catalog, variants, catalog_files))
    if query_text is not None:
        click.echo(_diff(variants[-1], runs[0], runs[1], sample, bold))
    if suggest:
        from arxivwatch.learning.suggest import suggestions_report
        from arxivwatch.ranking import either

        click.echo(suggestions_report(settings.state.url, catalog.sections, settings.topics,
                                      topic, known=either(catalog_known(catalog.sections))))


def _summary(topic: TopicLike, run: TopicRun, days: Counter[dt.date], cap: int) -> str:
    label = getattr(topic, "query_text", None) or str(topic.query)
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
    return (f"\n  {len(run.lost_to)} of the matches go to other topics, scoring higher there: "
            f"{shown}")


def _histogram(run: TopicRun, days: Counter[dt.date]) -> str:
    lines = [f"\nhits per day (last {LAST_DAYS} days):"]
    for day in sorted(days)[-LAST_DAYS:]:
        n = run.per_day.get(day, 0)
        lines.append(f"  {day.isoformat()}  {n:>3}  {'#' * min(n, 60)}")
    return "\n".join(lines)


def _sample(topic: TopicLike, run: TopicRun, size: int, bold: bool) -> str:
    lines = [f"\nbest {min(size, len(run.matches))} of {len(run.matches)} matches:"]
    for score, paper, hits in run.ranked()[:size]:
        title = highlight(paper.title, topic, hits, bold=bold)
        lines.append(f"  {score:.3f}  {paper.id:<12} {title}")
    return "\n".join(lines)


def _coverage(settings: Settings, catalog: Any, variants: Sequence[TopicLike],
              files: Sequence[Path]) -> str:
    """Which of the section's catalog entries each query would catch."""
    from arxivwatch.models import Paper
    from arxivwatch.query import Doc

    section = catalog.section(variants[0].section)
    known = catalog_papers(settings, catalog, files)
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


def _diff(topic: TopicLike, saved: TopicRun, tried: TopicRun, size: int, bold: bool) -> str:
    gained = tried.matches.keys() - saved.matches.keys()
    lost = saved.matches.keys() - tried.matches.keys()
    lines = [f"\n--query against the saved query: {len(gained)} gained, {len(lost)} lost"]
    for sign, run, ids in (("+", tried, gained), ("-", saved, lost)):
        for score, paper, hits in run.ranked(ids)[:size]:
            title = highlight(paper.title, topic, hits, bold=bold) if sign == "+" else paper.title
            lines.append(f"  {sign} {score:.3f}  {paper.id:<12} {title}")
    return "\n".join(lines)


def register(cli: click.Group) -> None:
    """Attach `tune` to the command line."""
    cli.add_command(tune)
