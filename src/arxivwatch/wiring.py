"""Builds the running objects from Settings: one place that wires adapters to the core.

The CLI commands and the scheduler ask here for a store, the arXiv clients, the scorer, the
template environments and a Poller, so every entry point is assembled the same way.
"""

from __future__ import annotations

import datetime as dt
import functools
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from jinja2 import Environment

from arxivwatch.catalog import Catalog
from arxivwatch.catalog_file import load_catalog
from arxivwatch.config import Settings
from arxivwatch.config.settings import ArxivSettings
from arxivwatch.entry import entry_preview
from arxivwatch.errors import ArxivWatchError
from arxivwatch.llm import summarizer
from arxivwatch.models import Candidate, Paper
from arxivwatch.pipeline import Poller
from arxivwatch.ranking import Scorer, default_scorer
from arxivwatch.render import make_env
from arxivwatch.slack.blocks import decided_blocks
from arxivwatch.sources import ArxivAPI, FeedResult, PoliteSession, fetch_feed, user_agent
from arxivwatch.store import Store

API_PAGE_SIZE = 200
Sleep = Callable[[float], None]


def open_store(settings: Settings, *, read_only: bool = False) -> Store:
    """The state store; `read_only` gives an in-memory copy, so nothing on disk changes."""
    if read_only:
        return Store.open_copy(settings.state.url)
    return Store.open(settings.state.url)


def polite_session(arxiv: ArxivSettings, **kwargs: Any) -> PoliteSession:
    """The process's one throttled session for every arXiv request."""
    return PoliteSession(interval=arxiv.request_interval, timeout=arxiv.timeout,
                         max_attempts=arxiv.max_attempts, backoff=arxiv.retry_backoff,
                         user_agent=user_agent(arxiv.contact),
                         **kwargs)


def lookup_paper(arxiv: ArxivSettings, paper_id: str) -> Paper:
    """One paper's metadata from the arXiv API; a clear error when arXiv does not know it."""
    with polite_session(arxiv) as session:
        found = ArxivAPI(session, arxiv.api_url, page_size=1).lookup([paper_id])
    if not found:
        raise ArxivWatchError(f"arXiv has no paper {paper_id} (check the id, or give --title)")
    return found[0]


def scorer_for(settings: Settings) -> Callable[[Catalog, Store], Scorer]:
    """The ranking a poll uses: the shipped scorer, with the curator's decisions learned in.

    The per-section models are retrained at each poll from the catalog and every decision so
    far (a second or two); a section with too few examples keeps the shipped score.
    """
    from arxivwatch.learning import ModelCache, StoreSource, learned_scorer

    def build(catalog: Catalog, store: Store) -> Scorer:
        ids = sorted(catalog.index().ids)
        papers = {p.id: p for p in map(store.get_paper, ids) if p is not None}
        cache = ModelCache(StoreSource(store, catalog.sections, settings.topics))
        cache.refresh()
        return learned_scorer(default_scorer(catalog.sections, papers), cache)

    return build


@dataclass(frozen=True)
class Templates:
    """The two template environments, built once from `templates_dir` and passed to every
    renderer, so every preview and every note honours the user's templates (issue 13)."""

    markdown: Environment      # the catalog line
    slack: Environment         # digest, decided note, notes (mrkdwn, escaped)

    @property
    def catalog_line(self) -> Callable[[Any], str]:
        """Renders the catalog line a candidate would add, with its stored summary."""
        return entry_preview(self.markdown)

    def decided_blocks(self) -> Callable[..., list[dict[str, Any]]]:
        """`slack.blocks.decided_blocks` with the Slack environment (the "decided" note)."""
        return functools.partial(decided_blocks, env=self.slack)


def templates(settings: Settings) -> Templates:
    """The catalog and Slack environments, user templates first."""
    return Templates(make_env(settings.templates_dir, slack=False),
                     make_env(settings.templates_dir, slack=True))


def make_poller(
    settings: Settings, store: Store, *, dry_run: bool = False, stream: IO[str] | None = None,
    session: PoliteSession | None = None, slack_sleep: Sleep = time.sleep,
) -> Poller:
    """A Poller wired to arXiv, the store, and Slack (or the terminal without a bot token).

    `slack_sleep` is how the Slack delivery waits between retries (tests pass a recorder).
    """
    session = session or polite_session(settings.arxiv)
    arxiv = settings.arxiv
    envs = templates(settings)

    def feed(*, etag: str | None, modified: str | None) -> FeedResult:
        return fetch_feed(session, arxiv.rss_url, arxiv.categories, etag=etag, modified=modified)

    return Poller(
        settings=settings, store=store, fetch_feed=feed,
        api=ArxivAPI(session, arxiv.api_url, page_size=API_PAGE_SIZE),
        scorer_for=scorer_for(settings),
        load_catalog=lambda: load_catalog(settings.catalog.path),   # as on disk now
        deliver=_delivery(settings, envs, dry_run=dry_run, stream=stream or sys.stdout,
                          sleep=slack_sleep),
        summarize=summarizer(settings),
        write=not dry_run,
    )


def _delivery(settings: Settings, envs: Templates, *, dry_run: bool, stream: IO[str],
              sleep: Sleep) -> Any:
    if settings.slack.configured and not dry_run:
        return _slack_delivery(settings, envs, sleep)
    return _terminal_delivery(settings, envs, stream)


def _terminal_delivery(settings: Settings, envs: Templates, stream: IO[str]) -> Any:
    from arxivwatch.slack.delivery import TerminalDelivery

    def deliver(store: Store, new: Sequence[Candidate], *, announced: bool,
                day: dt.date | None) -> int:
        sections = load_catalog(settings.catalog.path).filing_paths()
        terminal = TerminalDelivery(stream, catalog_line=envs.catalog_line, sections=sections)
        return terminal.show(new, announced=announced, day=day).posted_papers

    return deliver


def _slack_delivery(settings: Settings, envs: Templates, sleep: Sleep) -> Any:
    from arxivwatch.slack.delivery import SlackDelivery, make_client

    slack = settings.slack
    assert slack.bot_token
    assert slack.channel
    delivery = SlackDelivery(make_client(slack.bot_token, slack.api_url), slack.channel,
                             sleep=sleep)

    def deliver(store: Store, new: Sequence[Candidate], *, announced: bool,
                day: dt.date | None) -> int:
        sections = load_catalog(settings.catalog.path).filing_paths()
        report = delivery.deliver(store, env=envs.slack, sections=sections,
                                  catalog_line=envs.catalog_line,
                                  post_empty_note=slack.post_empty_note, announced=announced,
                                  day=day)
        return report.posted_papers   # papers, as in the terminal: one message holds several

    return deliver
