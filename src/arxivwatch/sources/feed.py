"""arXiv's announcement feed (rss.arxiv.org, RSS 2.0 or Atom): a pure parser and a fetch.

One request covers every configured category (`/rss/cs.LG+cs.CL`). An empty channel is arXiv's
way of saying "no announcement today" (weekends, holidays) and is reported as such, never as an
error and never as silence.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import html
import io
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import feedparser  # type: ignore[import-untyped]
import requests

from arxivwatch.errors import ArxivWatchError, SourceError
from arxivwatch.ids import parse_id
from arxivwatch.models import ANNOUNCE_TYPES, AnnounceType, Paper
from arxivwatch.sources.http import PoliteSession, RetryableResponse

_ANNOUNCE = re.compile(r"Announce Type:\s*(?P<type>[\w-]+)", re.IGNORECASE)
_ABSTRACT = re.compile(r"\bAbstract:\s*(?P<text>.*)\Z", re.DOTALL)
_DESC_ID = re.compile(r"^\s*arXiv:(?P<id>\S+)", re.IGNORECASE)
_CLOSING = (b"</rss>", b"</feed>", b"</rdf:RDF>")
# Complaints about the declared encoding or content type, not about the document's structure.
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)


@dataclass(frozen=True, slots=True)
class FeedPage:
    """A parsed feed: its papers (each with how it was announced: `Paper.announce_type`), the
    announcement day, and whether arXiv announced nothing."""

    papers: list[Paper]
    announced: dt.date | None
    empty: bool
    skipped: tuple[str, ...] = field(default=())   # items that could not be read, and why


@dataclass(frozen=True, slots=True)
class FeedResult:
    """What a conditional fetch returned: a page, or None when the feed is unchanged (304)."""

    page: FeedPage | None
    etag: str | None
    modified: str | None
    url: str


def feed_url(base_url: str, categories: Sequence[str]) -> str:
    """The one URL for all categories: `https://rss.arxiv.org/rss/cs.LG+cs.CL`."""
    if not categories:
        raise ValueError("the feed needs at least one category")
    return base_url.rstrip("/") + "/" + "+".join(categories)


def fetch_feed(
    session: PoliteSession, base_url: str, categories: Sequence[str], *,
    etag: str | None = None, modified: str | None = None,
) -> FeedResult:
    """Fetches and parses the feed with a conditional GET; page is None when unchanged."""
    url = feed_url(base_url, categories)
    headers = {"If-None-Match": etag} if etag else {}
    if modified:
        headers["If-Modified-Since"] = modified

    def parse(response: requests.Response) -> FeedResult:
        if response.status_code == 304:
            return FeedResult(None, etag, modified, url)
        page = _parse_or_retry(response.content, url)
        return FeedResult(page, response.headers.get("ETag") or None,
                          response.headers.get("Last-Modified") or None, url)

    return session.fetch(url, parse, headers=headers)


def parse_feed(content: bytes, *, url: str) -> FeedPage:
    """Parses arXiv's RSS 2.0 or Atom feed; raises SourceError when it is not a readable feed."""
    parsed = parse_xml(content, url=url)
    announced = _announced(parsed)
    papers: list[Paper] = []
    skipped: list[str] = []
    for entry in parsed.entries:
        try:
            papers.append(_paper(entry, announced))
        except ArxivWatchError as exc:
            skipped.append(f"{entry.get('id') or entry.get('link') or '?'}: {exc}")
    return FeedPage(papers, announced, empty=not parsed.entries, skipped=tuple(skipped))


def parse_xml(content: bytes, *, url: str) -> Any:
    """feedparser on bytes (never a path), refusing what is not a complete feed."""
    headers = {"content-location": url, "content-type": "application/xml"}
    # arXiv's text is plain text escaped once; feedparser's HTML sanitiser would eat `p<0.05 ...>`.
    parsed = feedparser.parse(io.BytesIO(content), response_headers=headers,
                              sanitize_html=False, resolve_relative_uris=False)
    if not parsed.get("version"):
        raise SourceError(f"not an RSS or Atom document: {_head(content)}", url=url, attempt=1)
    broken = parsed.bozo and not isinstance(parsed.get("bozo_exception"), _BENIGN)
    truncated = not content.rstrip().endswith(_CLOSING)
    if broken and (truncated or not parsed.entries):
        raise SourceError(f"malformed XML ({parsed.get('bozo_exception')})", url=url, attempt=1)
    if broken:
        for entry in parsed.entries:
            _decode_loose(entry)
    return parsed


def _decode_loose(node: dict[str, Any]) -> None:
    """Decodes the entities feedparser's loose parser leaves in place, once, as the strict one does.

    The loose parser (feedparser's fallback when the XML is not well-formed) decodes the text
    constructs (title, summary) but leaves `&lt;`, `&amp;` ... in every other value: authors,
    comments, journal references, categories. Escaped again for Slack they would read
    `Mallory &amp;lt;@U0ADMIN&amp;gt;`.
    """
    for key, value in node.items():
        detail = node.get(f"{key}_detail")
        if isinstance(value, str) and not (isinstance(detail, dict) and "type" in detail):
            node[key] = html.unescape(value)
        for child in value if isinstance(value, list) else [value]:
            if isinstance(child, dict) and "type" not in child:   # not a text construct
                _decode_loose(child)


def collapse(text: str | None) -> str:
    """Collapses runs of whitespace (newlines from XML wrapping) into single spaces."""
    return " ".join((text or "").split())


def parse_date(text: str | None) -> dt.date | None:
    """The calendar date of an RFC 822 or ISO 8601 timestamp, in the timestamp's own offset."""
    if not text:
        return None
    try:
        return email.utils.parsedate_to_datetime(text).date()
    except (TypeError, ValueError):
        pass
    try:
        return dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None


def _parse_or_retry(content: bytes, url: str) -> FeedPage:
    try:
        return parse_feed(content, url=url)
    except SourceError as exc:
        raise RetryableResponse(exc.message) from exc  # a truncated answer may come whole next time


def _announced(parsed: Any) -> dt.date | None:
    """The channel's pubDate (arXiv: the announcement date), else the first item's date."""
    day = parse_date(parsed.feed.get("published"))
    if day is None and parsed.entries:
        day = parse_date(parsed.entries[0].get("published"))
    return day or parse_date(parsed.feed.get("updated"))


def _paper(entry: Mapping[str, Any], announced: dt.date | None) -> Paper:
    description = entry.get("summary") or ""
    arxiv_id = parse_id(_raw_id(entry, description))
    kind = _announce_type(entry, description)
    return Paper(
        id=arxiv_id.id, title=collapse(entry.get("title")),
        abstract=_abstract(description), authors=_authors(entry.get("author")),
        categories=_categories(entry), journal_ref=_optional(entry, "arxiv_journal_reference"),
        doi=_optional(entry, "arxiv_doi"), version=arxiv_id.version,
        day=parse_date(entry.get("published")) or announced, announce_type=kind,
    )


def _raw_id(entry: Mapping[str, Any], description: str) -> str:
    """The guid (`oai:arXiv.org:IDvN`) or the description's `arXiv:IDvN`: both carry the version."""
    match = _DESC_ID.match(description)
    return str(entry.get("id") or (match.group("id") if match else None) or entry.get("link", ""))


def _announce_type(entry: Mapping[str, Any], description: str) -> AnnounceType | None:
    # feedparser names the key after the document's prefix, so the description is the fallback.
    found = entry.get("arxiv_announce_type")
    if not found:
        match = _ANNOUNCE.search(description)
        found = match.group("type") if match else None
    kind = (found or "").strip().lower()
    return cast(AnnounceType, kind) if kind in ANNOUNCE_TYPES else None


def _abstract(description: str) -> str:
    match = _ABSTRACT.search(description)
    if match:
        return collapse(match.group("text"))
    return collapse(_ANNOUNCE.sub("", _DESC_ID.sub("", description)))


def _authors(creator: str | None) -> tuple[str, ...]:
    """arXiv puts every author in one comma-separated dc:creator string."""
    names = (collapse(name) for name in (creator or "").split(","))
    return tuple(name for name in names if name)


def _categories(entry: Mapping[str, Any]) -> tuple[str, ...]:
    terms = (str(tag.get("term") or "").strip() for tag in entry.get("tags") or ())
    return tuple(dict.fromkeys(term for term in terms if term))


def _optional(entry: Mapping[str, Any], key: str) -> str | None:
    return collapse(entry.get(key)) or None


def _head(content: bytes) -> str:
    text = collapse(content[:120].decode("utf-8", "replace"))
    return repr(text) if text else "an empty body"
