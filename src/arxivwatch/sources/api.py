"""arXiv's query API (export.arxiv.org/api/query) through the `arxiv` package (checked: 4.0.2).

`arxiv.Search` builds the queries, the package parses the Atom into `arxiv.Result`s, `to_paper`
makes them Papers. `ArxivAPI` is an `arxiv.Client` whose requests go through the process's
PoliteSession (the throttle shared with the feed, timeout, Retry-After, bounded retries, the
User-Agent); each override says which gap of the package it closes.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import urllib.parse
from collections.abc import Generator, Iterator, Sequence

import arxiv
import requests
from arxiv._feed import ParsedFeed
from arxiv._feed import parse as parse_atom

from arxivwatch.errors import SourceError
from arxivwatch.ids import normalize_id, parse_id
from arxivwatch.models import Paper
from arxivwatch.sources.feed import collapse
from arxivwatch.sources.http import PoliteSession, RetryableResponse

MAX_PER_QUERY = 30000      # arXiv serves no result past this offset of one query
MAX_PER_PAGE = 2000        # arXiv's limit on max_results per request
_WHEN = "%Y%m%d%H%M"
# arXiv's answer to a wrong query: an <entry> with an /api/errors id, its words in <summary>.
_ERROR_ENTRY = re.compile(rb"<id>[^<]*/api/errors#[^<]*</id>.*?<summary[^>]*>(.*?)</summary>",
                          re.DOTALL)


class ArxivQueryError(SourceError):
    """arXiv answered with its error entry: the query or an id is wrong, retrying will not help."""


def parse_api(content: bytes, *, url: str = "arXiv API response") -> ParsedFeed:
    """The package's parse of an API page; SourceError for anything but a whole arXiv answer."""
    if message := _rejection(content):
        raise ArxivQueryError(message, url=url, attempt=1)
    try:
        feed = parse_atom(content)
        for result in feed.results:
            parse_id(result.get_short_id())
    except ValueError as exc:   # an IdError, or 4.0.2's ValueError for a garbled timestamp
        raise SourceError(f"unreadable entry: {exc}", url=url, attempt=1) from exc
    # Gap (4.0.2): lxml's recover=True turns a page cut short into its first entries, some half
    # empty, and any XML (a proxy's HTML page) into "no results", both without an error.
    whole = content.rstrip().endswith(b"</feed>") and b"totalResults" in content
    if feed.malformed or not whole:
        head = repr(collapse(content[:120].decode("utf-8", "replace")))
        raise SourceError(f"not a whole arXiv API answer: {feed.error or head}", url=url, attempt=1)
    return feed


def to_paper(result: arxiv.Result) -> Paper:
    """The one place an `arxiv.Result` becomes a Paper: whitespace collapsed, primary first."""
    arxiv_id = parse_id(result.get_short_id())
    names = (collapse(author.name) for author in result.authors)
    categories = (result.primary_category, *result.categories)
    return Paper(
        id=arxiv_id.id, title=collapse(result.title), abstract=collapse(result.summary),
        authors=tuple(name for name in names if name),
        categories=tuple(dict.fromkeys(c for c in categories if c)),
        comments=collapse(result.comment) or None,
        journal_ref=collapse(result.journal_ref) or None, doi=collapse(result.doi) or None,
        version=arxiv_id.version, day=result.published.date(),
    )


def window_query(search_query: str, start: dt.datetime, end: dt.datetime) -> str:
    """Adds arXiv's only date filter, `submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]` in GMT."""
    window = f"submittedDate:[{_gmt(start)} TO {_gmt(end)}]"
    query = search_query.strip()
    if not query:
        return window
    return f"({query}) AND {window}" if any(c.isspace() for c in query) else f"{query} AND {window}"


class ArxivAPI(arxiv.Client):
    """Look-ups by id and date-window searches: an `arxiv.Client` on the shared PoliteSession."""

    def __init__(self, session: PoliteSession, api_url: str, *, page_size: int = 100) -> None:
        if not 1 <= page_size <= MAX_PER_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PER_PAGE}")
        # No delay, no retries (4.0.2): the PoliteSession is the one throttle, shared with the
        # feed, and the one retry loop. `_session` stays unused: its only user is the helper
        # that `_parse_feed`, overridden below, no longer calls.
        super().__init__(page_size=page_size, delay_seconds=0.0, num_retries=0)
        # Gap (4.0.2): the endpoint is only this class attribute, no constructor argument.
        self.query_url_format = api_url + "?{}"
        self.session, self.api_url = session, api_url

    def lookup(self, ids: Sequence[str], batch: int = 50) -> list[Paper]:
        """Fetches the latest metadata of papers by id, `batch` ids per request."""
        wanted = list(dict.fromkeys(normalize_id(i) for i in ids))
        found: dict[str, Paper] = {}
        for i in range(0, len(wanted), batch):
            chunk = wanted[i : i + batch]
            # One request per batch, the batch being the page: nothing is left to page through.
            url = self._format_url(arxiv.Search(id_list=chunk), 0, len(chunk))
            for result in self._parse_feed(url).results:
                paper = to_paper(result)
                found.setdefault(paper.id, paper)
        return list(found.values())

    def search(
        self, search_query: str, *, start: dt.datetime, end: dt.datetime,
        max_results: int | None = None,
    ) -> Iterator[Paper]:
        """Yields the papers submitted in [start, end] that match, oldest first, page by page."""
        if end < start:
            raise ValueError(f"empty window: {start} is after {end}")
        query = arxiv.Search(window_query(search_query, start, end), max_results=max_results,
                             sort_by=arxiv.SortCriterion.SubmittedDate,
                             sort_order=arxiv.SortOrder.Ascending)
        seen: set[str] = set()
        for paper in map(to_paper, self.results(query)):
            if paper.id not in seen:   # a page boundary moved by a new submission repeats one
                seen.add(paper.id)
                yield paper

    def _results(
        self, search: arxiv.Search, offset: int = 0,
    ) -> Generator[arxiv.Result, None, None]:
        # Gaps (4.0.2): every page asks for page_size results, even when fewer are left, and
        # paging runs on past arXiv's 30,000 results per query, where arXiv serves nothing.
        limit, total = search.max_results, None
        while True:
            left = (n - offset for n in (limit, total, MAX_PER_QUERY) if n is not None)
            if (size := min(self.page_size, *left)) <= 0:
                return
            url, first = self._format_url(search, offset, size), total is None
            feed = self._parse_feed(url, first_page=first)
            total = feed.header.total_results
            if first and total > MAX_PER_QUERY and (limit is None or limit > MAX_PER_QUERY):
                raise SourceError(
                    f"the query matches {total} papers but arXiv serves at most {MAX_PER_QUERY} "
                    "per query; use narrower date windows (a later --since) or a narrower query",
                    url=url, attempt=1)
            yield from feed.results
            offset += len(feed.results)

    def _parse_feed(self, url: str, first_page: bool = True, _try_index: int = 0) -> ParsedFeed:
        # Gaps (4.0.2): its request helper (`__try_parse_feed`, on `_session`) has no timeout,
        # overrides our User-Agent with arxiv.py/4.0.2, ignores Retry-After, retries 4xx, retries
        # without backoff, throttles per client on the naive wall clock with time.sleep, and takes
        # an empty first page for "no results". Here the PoliteSession sends it, retries empty
        # pages with its backoff, and a first page claiming zero results is asked once more.
        start = int(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["start"][0])

        def check(response: requests.Response) -> ParsedFeed:
            try:
                feed = parse_api(response.content, url=response.url)
            except ArxivQueryError:
                raise
            except SourceError as exc:
                raise RetryableResponse(exc.message) from exc
            if not feed.results and start < feed.header.total_results:
                raise RetryableResponse(f"empty page at start={start} although arXiv reports "
                                        f"{feed.header.total_results} results")
            return feed

        feed = self.session.fetch(url, check, explain=_explain)
        if first_page and feed.header.total_results == 0:
            feed = self.session.fetch(url, check, explain=_explain)
        return feed


def _rejection(content: bytes) -> str | None:
    """arXiv's words from its error entry (4.0.2 skips that entry: it has no <published>)."""
    if (match := _ERROR_ENTRY.search(content)) is None:
        return None
    words = collapse(html.unescape(match.group(1).decode("utf-8", "replace")))
    return f"arXiv rejected the query: {words or 'no reason given'}"


def _explain(response: requests.Response) -> str | None:
    return _rejection(response.content)


def _gmt(when: dt.datetime) -> str:
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.strftime(_WHEN)
