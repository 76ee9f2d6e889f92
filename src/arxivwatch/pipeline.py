"""One poll cycle: fetch -> normalise -> dedupe -> match and rank -> summarise -> store -> deliver.

The order is what makes a poll safe to interrupt anywhere: everything a day produces (the papers
it fetched, its candidates, the feed's cache headers and the "last announcement" marker) is
written in ONE transaction, after all network work and before any delivery. A run killed before
that commit leaves the store as it was and the next run redoes the day; a run killed after it
finds the day done and only delivers what is still unposted. Candidates are keyed by paper id, so
nothing is stored twice, and delivery records each Slack message as it goes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from arxivwatch import announcements
from arxivwatch.catalog import Catalog, CatalogIndex
from arxivwatch.clock import Clock, utcnow
from arxivwatch.config import Settings
from arxivwatch.errors import ArxivWatchError
from arxivwatch.llm import Summarizer
from arxivwatch.models import Candidate, Paper, Topic
from arxivwatch.ranking import Scorer, select
from arxivwatch.sources import ArxivAPI, FeedResult
from arxivwatch.store import Store

log = logging.getLogger(__name__)

FEED_CACHE_KEY = "feed:"            # + feed URL -> "etag\nlast-modified"
ENRICH_BATCH = 50


class FeedFetcher(Protocol):
    def __call__(self, *, etag: str | None, modified: str | None) -> FeedResult: ...


Summarize = Callable[[Sequence[Candidate], Catalog], list[Candidate]]


class Delivery(Protocol):
    """Where a poll's digest goes: Slack (posts what the store has unposted) or the terminal."""

    def __call__(self, store: Store, new: Sequence[Candidate], *, announced: bool,
                 day: dt.date | None) -> int: ...


@dataclass
class PollReport:
    """What one poll did, for the terminal, the runs table and /healthz."""

    outcome: str = "ok"                     # ok | no-announcement | unchanged | already-done
    day: dt.date | None = None              # the announcement processed
    backfilled: list[dt.date] = field(default_factory=list)
    fetched: int = 0                        # papers read from the feed and the API
    offered: int = 0                        # new/cross items (and unseen replacements) considered
    matched: int = 0
    stored: int = 0                         # candidates added to the store
    delivered: int = 0                      # papers posted (Slack) or shown (terminal)
    warnings: list[str] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The counters stored with the run and shown by /healthz."""
        return {"fetched": self.fetched, "offered": self.offered, "matched": self.matched,
                "stored": self.stored, "delivered": self.delivered,
                "backfilled_days": len(self.backfilled)}

    def summary(self) -> str:
        """One line for logs and the terminal."""
        # Candidates an earlier, failed delivery left behind go out on any poll: say so.
        leftovers = (f"; delivered {self.delivered} candidates left from an earlier poll"
                     if self.delivered else "")
        if self.outcome == "no-announcement":
            return ("arXiv made no announcement today (weekend or holiday); nothing to do"
                    + leftovers)
        if self.outcome == "unchanged":
            return "the arXiv feed has not changed since the last poll; nothing new" + leftovers
        day = self.day.isoformat() if self.day else "?"
        extra = f", backfilled {len(self.backfilled)} missed day(s)" if self.backfilled else ""
        done = " (announcement already processed)" if self.outcome == "already-done" else ""
        return (f"announcement {day}{done}: {self.fetched} papers fetched, {self.matched} matched, "
                f"{self.stored} new candidates, {self.delivered} delivered{extra}")


@dataclass
class Poller:
    """Everything a poll needs, built once by the CLI or the scheduler."""

    settings: Settings
    store: Store
    fetch_feed: FeedFetcher
    api: ArxivAPI
    scorer_for: Callable[[Catalog, Store], Scorer]
    deliver: Delivery
    load_catalog: Callable[[], Catalog]
    now: Clock = utcnow
    write: bool = True                      # False for --dry-run: nothing is stored
    # Each new candidate's catalog-line summary, made once (built-in, or by a language model
    # within a budget) before the commit, so a rerun or a Slack update asks nothing again.
    summarize: Summarize = field(default_factory=Summarizer)

    # -- entry points ---------------------------------------------------------------------------

    def poll(self, *, since: dt.date | None = None) -> PollReport:
        """Runs one poll cycle (the feed, or an API backfill from `since`) and records the run."""
        run_id = self.store.start_run("api" if since else "feed") if self.write else None
        report = PollReport()
        try:
            self._poll(report, since)
        except BaseException as exc:
            if run_id is not None:
                outcome = "interrupted" if isinstance(exc, KeyboardInterrupt) else "failed"
                self.store.finish_run(run_id, outcome, report.counts(), error=_error_text(exc))
            raise
        if run_id is not None:
            self.store.finish_run(run_id, report.outcome, report.counts())
        return report

    def _poll(self, report: PollReport, since: dt.date | None) -> None:
        catalog = self.load_catalog()

        def scorer() -> Scorer:
            # After the fetch, not before: with arXiv unreachable the poll fails on the feed
            # without first waiting out the retries of the (optional) catalog abstracts.
            self._ensure_catalog_papers(catalog, report)
            return self.scorer_for(catalog, self.store)

        if since is not None:
            days = self._backfill(since, self.now(), report)
            self._process(days, catalog, scorer(), report, last=None, meta={})
        else:
            self._poll_feed(catalog, scorer, report)
        report.delivered = self.deliver(
            self.store, report.candidates,
            announced=report.outcome != "no-announcement", day=report.day)

    # -- the feed -------------------------------------------------------------------------------

    def _poll_feed(self, catalog: Catalog, scorer: Callable[[], Scorer],
                   report: PollReport) -> None:
        arxiv = self.settings.arxiv
        key = FEED_CACHE_KEY + arxiv.rss_url + "+".join(arxiv.categories)
        etag, modified = _split_cache(self.store.get_meta(key)) if self.write else (None, None)
        result = self.fetch_feed(etag=etag, modified=modified)
        if result.page is None:
            report.outcome = "unchanged"
            return
        page = result.page
        report.warnings.extend(f"skipped feed item {s}" for s in page.skipped)
        if page.empty or not page.papers:
            report.outcome = "no-announcement"
            report.day = page.announced or announcements.latest_feed_day(self.now())
            return
        day = page.announced or announcements.latest_feed_day(self.now())
        report.day = day
        last = self.store.last_announcement()
        if last is not None and day <= last:
            report.outcome = "already-done"
            return
        days: dict[dt.date, list[Paper]] = {}
        if last is not None:
            missing = announcements.missing_days(last, day)
            if missing:
                start = announcements.submission_window(missing[0])[0]
                end = announcements.submission_window(missing[-1])[1]
                days.update(self._backfill_window(start, end, report))
        days[day] = self._offered(page.papers, report)
        meta = {key: _join_cache(result.etag, result.modified)}
        self._process(days, catalog, scorer(), report, last=day, meta=meta)

    def _offered(self, papers: Sequence[Paper], report: PollReport) -> list[Paper]:
        """Feed papers worth considering: configured announce types; never a known replacement."""
        kinds = set(self.settings.arxiv.announce_types)
        report.fetched += len(papers)
        replaced = [p.id for p in papers if (p.announce_type or "new").startswith("replace")]
        seen = self.store.seen_papers(replaced) if replaced else set()
        offered = []
        for paper in papers:
            kind = paper.announce_type or "new"
            if kind.startswith("replace"):
                if paper.id in seen or not ({"replace", kind} & kinds):
                    continue
            elif kind not in kinds:
                continue
            offered.append(paper)
        report.offered += len(offered)
        return offered

    # -- the API --------------------------------------------------------------------------------

    def _backfill(self, since: dt.date, now: dt.datetime,
                  report: PollReport) -> dict[dt.date, list[Paper]]:
        start = dt.datetime.combine(since, dt.time(0), dt.UTC)
        return self._backfill_window(start, now, report)

    def _backfill_window(self, start: dt.datetime, end: dt.datetime,
                         report: PollReport) -> dict[dt.date, list[Paper]]:
        """Papers the topics would have matched, submitted in [start, end), by feed day."""
        found: dict[str, Paper] = {}
        for topic in self.settings.topics:
            query = _api_query(topic, self.settings.arxiv.categories)
            for paper in self.api.search(query, start=start, end=end):
                found.setdefault(paper.id, paper)
        report.fetched += len(found)
        report.offered += len(found)
        days: dict[dt.date, list[Paper]] = defaultdict(list)
        for paper in found.values():
            day = _feed_day(paper, self.now())
            days[day].append(dataclasses.replace(paper, day=day))
        report.backfilled.extend(sorted(days))
        return dict(sorted(days.items()))

    def _ensure_catalog_papers(self, catalog: Catalog, report: PollReport) -> None:
        """Fetches, once, the metadata of catalog papers the ranking compares against."""
        wanted = sorted(catalog.index().ids)
        missing = sorted(set(wanted) - self.store.seen_papers(wanted))
        if not missing or not self.write:
            return
        try:
            self.store.upsert_papers(self.api.lookup(missing), source="catalog")
        except ArxivWatchError as exc:   # fail-open: similarity falls back to titles/summaries
            report.warnings.append(f"could not fetch catalog abstracts: {exc}")

    def _enrich(self, candidates: list[Candidate], report: PollReport) -> list[Candidate]:
        """Adds comments and journal refs (venue tag, code link) that the feed does not carry."""
        ids = [c.paper.id for c in candidates if c.posted and c.paper.comments is None]
        if not ids:
            return candidates
        try:
            found = {p.id: p for p in self.api.lookup(ids, batch=ENRICH_BATCH)}
        except ArxivWatchError as exc:   # fail-open: the digest goes out without venue/code
            report.warnings.append(f"could not enrich candidates from the arXiv API: {exc}")
            return candidates
        return [_enriched(c, found.get(c.paper.id)) for c in candidates]

    # -- selection and storage ------------------------------------------------------------------

    def _process(self, days: dict[dt.date, list[Paper]], catalog: Catalog, scorer: Scorer,
                 report: PollReport, *, last: dt.date | None, meta: dict[str, str]) -> None:
        """Selects each day's candidates and commits everything in one transaction."""
        index = catalog.index()
        papers: list[Paper] = []
        candidates: list[Candidate] = []
        for day, batch in sorted(days.items()):
            known = self._known(index, batch, day)
            digest = self.settings.digest
            chosen = select(batch, self.settings.topics, scorer, known=known,
                            cap=digest.max_per_topic, day=day, ask=digest.ask_per_topic)
            report.matched += len(chosen)
            candidates.extend(c for c in chosen if c.posted)
            papers.extend(batch)
        candidates = self.summarize(self._enrich(candidates, report), catalog)
        report.candidates = candidates
        if not self.write:
            report.stored = len(candidates)
            return
        report.stored = len(self.store.record_poll(papers, candidates, last_announcement=last,
                                                   meta=meta))

    def _known(self, index: CatalogIndex, batch: Sequence[Paper],
               day: dt.date) -> Callable[[Paper], bool]:
        """In the catalog (id or title), offered or decided already, or seen on an earlier day."""
        ids = [p.id for p in batch]
        taken = self.store.known_ids(ids) | self.store.seen_papers(ids, before=day)

        def is_known(paper: Paper) -> bool:
            return paper.id in taken or index.knows(paper)

        return is_known


def _api_query(topic: Topic, categories: Sequence[str]) -> str:
    """The topic's query for the API, narrowed to its (or the configured) categories."""
    cats = topic.categories or tuple(categories)
    query = topic.query.to_arxiv()
    if not cats:
        return query
    cat_clause = " OR ".join(f"cat:{c}" for c in cats)
    return f"({query}) AND ({cat_clause})"


def _feed_day(paper: Paper, now: dt.datetime) -> dt.date:
    """The feed day a paper from the API was (or will be) announced on."""
    if paper.day is None:
        return announcements.latest_feed_day(now)
    # The API gives the submission date; noon Eastern is before the 14:00 cut-off.
    noon = dt.datetime.combine(paper.day, dt.time(12), announcements.EASTERN)
    return announcements.feed_day_for(noon)


def _enriched(candidate: Candidate, fresh: Paper | None) -> Candidate:
    if fresh is None:
        return candidate
    paper = dataclasses.replace(
        candidate.paper, comments=fresh.comments, journal_ref=fresh.journal_ref,
        doi=candidate.paper.doi or fresh.doi,
        abstract=candidate.paper.abstract or fresh.abstract)
    return dataclasses.replace(candidate, paper=paper)


def _split_cache(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    etag, _, modified = value.partition("\n")
    return etag or None, modified or None


def _join_cache(etag: str | None, modified: str | None) -> str:
    return f"{etag or ''}\n{modified or ''}"


def _error_text(exc: BaseException) -> str:
    if isinstance(exc, ArxivWatchError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "interrupted (Ctrl-C or SIGTERM)"
    return f"{type(exc).__name__}: {exc}"

