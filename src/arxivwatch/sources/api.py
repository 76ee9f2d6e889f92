"""arXiv's query API (export.arxiv.org/api/query): a pure Atom parser, look-ups and searches.

arXiv sometimes answers a page with no entries by mistake (throttling), so an empty page is never
taken at face value: a page with no entries where the totals promise some is retried through the
session's backoff, and a first page claiming zero results is asked once more before it is believed.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from arxivwatch.errors import IdError, SourceError
from arxivwatch.ids import normalize_id, parse_id
from arxivwatch.models import Paper
from arxivwatch.sources.feed import collapse, parse_date, parse_xml
from arxivwatch.sources.http import PoliteSession, RetryableResponse

MAX_PER_QUERY = 30000      # arXiv serves no result past this offset of one query
MAX_PER_PAGE = 2000        # arXiv's limit on max_results per request
_WHEN = "%Y%m%d%H%M"


@dataclass(frozen=True, slots=True)
class ApiPage:
    """One page of API results with arXiv's opensearch totals."""

    papers: list[Paper]
    total_results: int
    start: int
    items_per_page: int


class ArxivQueryError(SourceError):
    """arXiv answered with its error entry: the query or an id is wrong, retrying will not help."""


def parse_api(content: bytes, *, url: str = "arXiv API response") -> ApiPage:
    """Parses an API Atom page; raises SourceError for malformed XML or arXiv's error entry."""
    parsed = parse_xml(content, url=url)
    for entry in parsed.entries:
        if "/api/errors" in str(entry.get("id", "")):
            message = collapse(entry.get("summary")) or "unspecified error"
            raise ArxivQueryError(f"arXiv rejected the query: {message}", url=url, attempt=1)
    total = _int(parsed.feed.get("opensearch_totalresults"))
    if total is None:
        raise SourceError("not an arXiv API answer: no opensearch:totalResults", url=url, attempt=1)
    try:
        papers = [_paper(entry) for entry in parsed.entries]
    except IdError as exc:
        raise SourceError(f"unreadable entry: {exc}", url=url, attempt=1) from exc
    return ApiPage(papers, total, _int(parsed.feed.get("opensearch_startindex")) or 0,
                   _int(parsed.feed.get("opensearch_itemsperpage")) or len(papers))


def window_query(search_query: str, start: dt.datetime, end: dt.datetime) -> str:
    """Adds arXiv's only date filter, `submittedDate:[YYYYMMDDHHMM TO YYYYMMDDHHMM]` in GMT."""
    window = f"submittedDate:[{_gmt(start)} TO {_gmt(end)}]"
    query = search_query.strip()
    if not query:
        return window
    return f"({query}) AND {window}" if any(c.isspace() for c in query) else f"{query} AND {window}"


class ArxivAPI:
    """Look-ups by id and date-window searches through the shared PoliteSession."""

    def __init__(self, session: PoliteSession, api_url: str, *, page_size: int = 100) -> None:
        if not 1 <= page_size <= MAX_PER_PAGE:
            raise ValueError(f"page_size must be between 1 and {MAX_PER_PAGE}")
        self.session, self.api_url, self.page_size = session, api_url, page_size

    def lookup(self, ids: Sequence[str], batch: int = 50) -> list[Paper]:
        """Fetches the latest metadata of papers by id, `batch` ids per request."""
        wanted = list(dict.fromkeys(normalize_id(i) for i in ids))
        found: dict[str, Paper] = {}
        for i in range(0, len(wanted), batch):
            chunk = wanted[i : i + batch]
            page = self._first_page({"id_list": ",".join(chunk), "start": 0,
                                     "max_results": len(chunk)})
            for paper in page.papers:
                found.setdefault(paper.id, paper)
        return list(found.values())

    def search(
        self, search_query: str, *, start: dt.datetime, end: dt.datetime,
        max_results: int | None = None,
    ) -> Iterator[Paper]:
        """Yields the papers submitted in [start, end] that match, oldest first, page by page."""
        if end < start:
            raise ValueError(f"empty window: {start} is after {end}")
        params: dict[str, Any] = {"search_query": window_query(search_query, start, end),
                                  "sortBy": "submittedDate", "sortOrder": "ascending"}
        offset, total, seen = 0, None, set()
        while (want := self._want(offset, total, max_results)) > 0:
            params.update(start=offset, max_results=want)
            page = self._first_page(params) if total is None else self._page(params)
            if total is None:
                self._check_cap(page.total_results, max_results, params)
            total = page.total_results
            offset += len(page.papers)
            for paper in page.papers:
                if paper.id not in seen:
                    seen.add(paper.id)
                    yield paper
            if not page.papers:
                return

    def _want(self, offset: int, total: int | None, limit: int | None) -> int:
        """The page size actually needed: never more than what is left to fetch."""
        want = self.page_size
        if limit is not None:
            want = min(want, limit - offset)
        if total is not None:
            want = min(want, total - offset, MAX_PER_QUERY - offset)
        return want

    def _first_page(self, params: Mapping[str, Any]) -> ApiPage:
        """A first page; "no results at all" is asked twice before it is believed."""
        page = self._page(params)
        return self._page(params) if page.total_results == 0 else page

    def _page(self, params: Mapping[str, Any]) -> ApiPage:
        offset = int(params.get("start", 0))

        def parse(response: requests.Response) -> ApiPage:
            try:
                page = parse_api(response.content, url=response.url)
            except ArxivQueryError:
                raise
            except SourceError as exc:
                raise RetryableResponse(exc.message) from exc
            if not page.papers and offset < page.total_results:
                raise RetryableResponse(
                    f"empty page at start={offset} although arXiv reports "
                    f"{page.total_results} results")
            return page

        return self.session.fetch(self.api_url, parse, params=params, explain=_explain)

    def _check_cap(self, total: int, limit: int | None, params: Mapping[str, Any]) -> None:
        if total > MAX_PER_QUERY and (limit is None or limit > MAX_PER_QUERY):
            url = f"{self.api_url}?{urllib.parse.urlencode(params)}"
            raise SourceError(
                f"the query matches {total} papers but arXiv serves at most {MAX_PER_QUERY} per "
                "query; use narrower date windows (a later --since) or a narrower query",
                url=url, attempt=1)


def _paper(entry: Mapping[str, Any]) -> Paper:
    arxiv_id = parse_id(str(entry.get("id", "")))
    primary = (entry.get("arxiv_primary_category") or {}).get("term")
    terms = [primary, *(tag.get("term") for tag in entry.get("tags") or ())]
    return Paper(
        id=arxiv_id.id, title=collapse(entry.get("title")),
        abstract=collapse(entry.get("summary")),
        authors=tuple(collapse(a.get("name")) for a in entry.get("authors") or ()
                      if collapse(a.get("name"))),
        categories=tuple(dict.fromkeys(t for t in terms if t)),
        comments=collapse(entry.get("arxiv_comment")) or None,
        journal_ref=collapse(entry.get("arxiv_journal_ref")) or None,
        doi=collapse(entry.get("arxiv_doi")) or None,
        version=arxiv_id.version, day=parse_date(entry.get("published")),
    )


def _explain(response: requests.Response) -> str | None:
    """arXiv's own words for a refused request, when the body is its error entry."""
    try:
        parse_api(response.content, url=response.url)
    except SourceError as exc:
        return exc.message if isinstance(exc, ArxivQueryError) else None
    return None


def _gmt(when: dt.datetime) -> str:
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC)
    return when.strftime(_WHEN)


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None
