"""A fake arXiv on 127.0.0.1 for tests: the announcement feed, the query API and scripted faults.

    with FakeArxiv(papers=[...], feed=[...]) as fake:
        fake.script(["503", "429:2", "empty"])          # the next three requests misbehave
        ... point arxiv.rss_url at fake.feed_url and arxiv.api_url at fake.api_url ...
        fake.times("/api")                              # monotonic start times, to check spacing

Papers are dicts with Paper's field names (id, version, title, abstract, authors, categories,
comments, journal_ref, doi, announce_type, day, submitted), `models.Paper` objects, or lines of
arXiv's metadata snapshot (journal-ref, versions, authors_parsed). Fault tokens, one per request:
`ok`; an HTTP status `503`, optionally with a Retry-After value `429:2` or `503:<HTTP date>`;
`empty` (API: no entries but the real totals; feed: an empty, weekend-style channel); `empty:0`
(API: no entries and totalResults 0); `malformed` (the real answer cut in half); `stall:S` (answer
after S real seconds); `down` (close the connection without answering).

Standalone: `python -m tests.fakes.arxiv_server --port 0 --papers FILE.jsonl` prints its URLs.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import email.utils
import gzip
import hashlib
import json
import re
import threading
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from arxivwatch.errors import IdError
from arxivwatch.ids import parse_id

EASTERN = dt.timezone(dt.timedelta(hours=-5))
_NS = ('xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/" '
       'xmlns:atom="http://www.w3.org/2005/Atom"')


# ---------------------------------------------------------------- papers
def paper_dict(obj: Any) -> dict[str, Any]:
    """Normalises a Paper, a Paper-like dict or a snapshot line into the fake's paper dict."""
    is_paper = dataclasses.is_dataclass(obj) and not isinstance(obj, type)
    raw = dataclasses.asdict(obj) if is_paper else dict(obj)
    arxiv_id = parse_id(str(raw["id"]))
    versions = raw.get("versions") or []
    first = _when(versions[0].get("created")) if versions else None
    day = _day(raw.get("day"))
    submitted = _when(raw.get("submitted")) or first or _when(raw.get("published"))
    if submitted is None and day is not None:
        submitted = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
    return {
        "id": arxiv_id.id, "version": raw.get("version") or arxiv_id.version or len(versions) or 1,
        "title": raw.get("title") or "", "abstract": raw.get("abstract") or "",
        "authors": _authors(raw), "categories": _split(raw.get("categories")),
        "comments": raw.get("comments"), "journal_ref": raw.get("journal_ref") or
        raw.get("journal-ref"), "doi": raw.get("doi"),
        "announce_type": raw.get("announce_type") or "new",
        "day": day or (submitted.date() if submitted else None), "submitted": submitted,
    }


def _authors(raw: Mapping[str, Any]) -> list[str]:
    if raw.get("authors_parsed"):
        return [" ".join(p for p in (a[1], a[0], *a[2:]) if p) for a in raw["authors_parsed"]]
    authors = raw.get("authors") or []
    if isinstance(authors, str):
        return [a.strip() for a in re.split(r",|\band\b", authors) if a.strip()]
    return [str(a) for a in authors]


def _split(value: Any) -> list[str]:
    return value.split() if isinstance(value, str) else list(value or [])


def _when(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if value is None:
        return None
    try:
        return email.utils.parsedate_to_datetime(str(value)).astimezone(dt.UTC)
    except (TypeError, ValueError):
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _day(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


# ---------------------------------------------------------------- XML
def _el(tag: str, text: Any) -> str:
    return f"<{tag}>{escape(str(text))}</{tag}>" if text not in (None, "") else ""


def _rfc822(day: dt.date | None) -> str:
    when = dt.datetime.combine(day or dt.date.today(), dt.time(), EASTERN)
    return email.utils.format_datetime(when)


def rss_xml(items: Iterable[Any], *, categories: Sequence[str] = ("cs.LG",),
            announced: dt.date | None = None) -> str:
    """arXiv's RSS 2.0 feed (rss.arxiv.org/rss/...) for Paper-like items."""
    name = "+".join(categories)
    body = "".join(_rss_item(paper_dict(i), announced) for i in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<rss {_NS} version="2.0"><channel>'
            f"<title>{escape(name)} updates on arXiv.org</title>"
            f"<link>http://rss.arxiv.org/rss/{escape(name)}</link>"
            f"<description>{escape(name)} updates on the arXiv.org e-print archive.</description>"
            f"<language>en-us</language><pubDate>{_rfc822(announced)}</pubDate>"
            "<skipDays><day>Saturday</day><day>Sunday</day></skipDays>"
            f"{body}</channel></rss>\n")


def _rss_item(p: Mapping[str, Any], announced: dt.date | None) -> str:
    vid = f"{p['id']}v{p['version']}"
    cats = "".join(_el("category", c) for c in p["categories"])
    desc = f"arXiv:{vid} Announce Type: {p['announce_type']} \nAbstract: {p['abstract']}"
    return (f"<item>{_el('title', p['title'])}<link>https://arxiv.org/abs/{p['id']}</link>"
            f"{_el('description', desc)}<guid isPermaLink=\"false\">oai:arXiv.org:{vid}</guid>"
            f"{cats}<pubDate>{_rfc822(announced or p['day'])}</pubDate>"
            f"{_el('arxiv:announce_type', p['announce_type'])}"
            f"<dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>"
            f"{_el('arxiv:DOI', p['doi'])}{_el('arxiv:journal_reference', p['journal_ref'])}"
            f"{_el('dc:creator', ', '.join(p['authors']))}</item>")


def atom_feed_xml(items: Iterable[Any], *, categories: Sequence[str] = ("cs.LG",),
                  announced: dt.date | None = None) -> str:
    """arXiv's Atom feed (rss.arxiv.org/atom/...) for Paper-like items."""
    name = escape("+".join(categories))
    entries = []
    for p in map(paper_dict, items):
        vid, day = f"{p['id']}v{p['version']}", announced or p["day"] or dt.date.today()
        desc = f"arXiv:{vid} Announce Type: {p['announce_type']} \nAbstract: {p['abstract']}"
        entries.append(
            f"<entry><id>oai:arXiv.org:{vid}</id>{_el('title', p['title'])}"
            f'<link href="https://arxiv.org/abs/{p["id"]}" rel="alternate" type="text/html"/>'
            f"{_el('summary', desc)}"
            + "".join(f"<category term={quoteattr(c)}/>" for c in p["categories"])
            + f"<published>{day.isoformat()}T00:00:00-05:00</published>"
            f"{_el('arxiv:announce_type', p['announce_type'])}"
            f"{_el('arxiv:DOI', p['doi'])}{_el('arxiv:journal_reference', p['journal_ref'])}"
            f"{_el('dc:creator', ', '.join(p['authors']))}</entry>")
    return (f"<?xml version='1.0' encoding='UTF-8'?>\n<feed {_NS.replace('xmlns:atom', 'xmlns')}>"
            f"<id>http://rss.arxiv.org/atom/{name}</id><title>{name} updates on arXiv.org</title>"
            f"<updated>{(announced or dt.date.today()).isoformat()}T05:00:00+00:00</updated>"
            f"{''.join(entries)}</feed>\n")


def api_xml(papers: Iterable[Any], *, total: int | None = None, start: int = 0,
            query: str = "") -> str:
    """An export.arxiv.org API Atom page with opensearch totals."""
    entries = [_api_entry(paper_dict(p)) for p in papers]
    total = len(entries) if total is None else total
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>ArXiv Query: {escape(query)}</title><id>http://arxiv.org/api/fake</id>"
            f"<updated>{dt.date.today().isoformat()}T00:00:00-05:00</updated>"
            + _opensearch("totalResults", total) + _opensearch("startIndex", start)
            + _opensearch("itemsPerPage", len(entries)) + "".join(entries) + "</feed>\n")


def api_error_xml(message: str) -> str:
    """arXiv's error answer: a single entry whose id points at /api/errors."""
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            "<title>ArXiv Query: error</title><id>http://arxiv.org/api/fake</id>"
            + _opensearch("totalResults", 1) + _opensearch("startIndex", 0)
            + _opensearch("itemsPerPage", 1)
            + f"<entry><id>http://arxiv.org/api/errors#{escape(message.replace(' ', '_'))}</id>"
            f"<title>Error</title>{_el('summary', message)}</entry></feed>\n")


def _opensearch(name: str, value: int) -> str:
    ns = 'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/"'
    return f"<opensearch:{name} {ns}>{value}</opensearch:{name}>"


def _api_entry(p: Mapping[str, Any]) -> str:
    vid = f"{p['id']}v{p['version']}"
    when = (p["submitted"] or dt.datetime(2000, 1, 1, tzinfo=dt.UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    arx = 'xmlns:arxiv="http://arxiv.org/schemas/atom"'
    optional = "".join(f"<arxiv:{tag} {arx}>{escape(str(p[key]))}</arxiv:{tag}>"
                       for tag, key in (("comment", "comments"), ("journal_ref", "journal_ref"),
                                        ("doi", "doi")) if p[key])
    cats = p["categories"] or ["cs.LG"]
    return (f"<entry><id>http://arxiv.org/abs/{vid}</id><updated>{when}</updated>"
            f"<published>{when}</published>{_el('title', p['title'])}"
            f"{_el('summary', p['abstract'])}"
            + "".join(f"<author>{_el('name', a)}</author>" for a in p["authors"]) + optional
            + f'<link href="http://arxiv.org/abs/{vid}" rel="alternate" type="text/html"/>'
            f"<arxiv:primary_category {arx} term={quoteattr(cats[0])}/>"
            + "".join(f"<category term={quoteattr(c)}/>" for c in cats) + "</entry>")


# ---------------------------------------------------------------- search_query evaluator
_TOKEN = re.compile(r'\s*(\(|\)|ANDNOT\b|AND\b|OR\b|submittedDate:\[(\d{8,14})\s+TO\s+(\d{8,14})\]'
                    r'|(?:(\w+):)?("[^"]*"|[^\s()"]+))')
_FIELDS = {"ti": ("title",), "abs": ("abstract",), "au": ("authors",), "co": ("comments",),
           "jr": ("journal_ref",), "cat": ("categories",), "id": ("id",),
           "all": ("title", "abstract", "authors", "comments", "categories")}
Predicate = Callable[[Mapping[str, Any]], bool]


def compile_query(text: str) -> Predicate:
    """A small evaluator of arXiv's search_query: fields, phrases, AND/OR/ANDNOT, dates."""
    tokens = _tokens(text)
    pred, rest = _expr(tokens)
    if rest:
        raise ValueError(f"unexpected {rest[0][0]!r} in search_query")
    return pred


def _tokens(text: str) -> list[tuple[str, ...]]:
    out, pos = [], 0
    while pos < len(text.rstrip()):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"cannot read search_query at {text[pos:]!r}")
        out.append(tuple(g or "" for g in m.groups()))
        pos = m.end()
    return out


def _expr(tokens: list[tuple[str, ...]]) -> tuple[Predicate, list[tuple[str, ...]]]:
    left, tokens = _atom(tokens)
    while tokens and tokens[0][0] in ("AND", "OR", "ANDNOT"):
        op, (right, tokens) = tokens[0][0], _atom(tokens[1:])
        left = _combine(op, left, right)
    return left, tokens


def _combine(op: str, a: Predicate, b: Predicate) -> Predicate:
    if op == "AND":
        return lambda p: a(p) and b(p)
    if op == "OR":
        return lambda p: a(p) or b(p)
    return lambda p: a(p) and not b(p)


def _atom(tokens: list[tuple[str, ...]]) -> tuple[Predicate, list[tuple[str, ...]]]:
    if not tokens:
        raise ValueError("search_query ends too early")
    whole, lo, hi, field, value = tokens[0]
    if whole == "(":
        inner, rest = _expr(tokens[1:])
        if not rest or rest[0][0] != ")":
            raise ValueError("unbalanced parentheses in search_query")
        return inner, rest[1:]
    if lo:
        return (lambda p: p["submitted"] is not None
                and lo <= p["submitted"].strftime("%Y%m%d%H%M") <= hi), tokens[1:]
    if (field and field not in _FIELDS) or whole in (")", "AND", "OR", "ANDNOT"):
        raise ValueError(f"unsupported term {whole!r} in search_query")
    keys, needle = _FIELDS[field or "all"], value.strip('"').lower()
    return (lambda p: any(needle in _text(p[k]) for k in keys)), tokens[1:]


def _text(value: Any) -> str:
    return " ".join(value).lower() if isinstance(value, list) else str(value or "").lower()


# ---------------------------------------------------------------- server
@dataclass(frozen=True)
class LoggedRequest:
    """One request as the fake saw it: monotonic arrival time, path, query, answer."""

    at: float
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int | None
    fault: str | None


class FakeArxiv:
    """The fake server: a ThreadingHTTPServer on 127.0.0.1, port 0, in a daemon thread."""

    def __init__(self, *, papers: Iterable[Any] = (), feed: Iterable[Any] | None = None,
                 announced: dt.date | None = None, host: str = "127.0.0.1", port: int = 0):
        self.papers = [paper_dict(p) for p in papers]
        self.requests: list[LoggedRequest] = []
        self._faults: list[tuple[str | None, deque[str]]] = []
        self._lock, self._stopping = threading.Lock(), threading.Event()
        self.set_feed(self.papers if feed is None else feed, announced=announced)
        self._server = ThreadingHTTPServer((host, port), _handler_for(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    url = property(lambda self: f"http://{self._server.server_address[0]}:"
                                f"{self._server.server_address[1]}")
    feed_url = property(lambda self: self.url + "/rss/")
    atom_url = property(lambda self: self.url + "/atom/")
    api_url = property(lambda self: self.url + "/api/query")

    def start(self) -> FakeArxiv:
        """Starts serving in a background thread."""
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,),
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving, wakes stalled answers, and frees the port."""
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeArxiv:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_feed(self, items: Iterable[Any], *, announced: dt.date | None = None) -> None:
        """Replaces today's announcement (an empty list is a weekend); changes ETag and date."""
        with self._lock:
            self.feed = [paper_dict(i) for i in items]
            self.announced = announced or next((p["day"] for p in self.feed if p["day"]), None)
            self.feed_modified = email.utils.formatdate(time.time(), usegmt=True)

    def set_papers(self, papers: Iterable[Any]) -> None:
        """Replaces the corpus the API searches and looks up."""
        with self._lock:
            self.papers = [paper_dict(p) for p in papers]

    def script(self, faults: Sequence[str], *, path: str | None = None) -> None:
        """Queues faults for the next requests (under `path`, e.g. "/api", when given)."""
        with self._lock:
            self._faults.append((path, deque(faults)))

    def times(self, path: str = "") -> list[float]:
        """Arrival times of the logged requests whose path starts with `path`."""
        return [r.at for r in self.requests if r.path.startswith(path)]

    def _next_fault(self, path: str) -> str | None:
        with self._lock:
            for prefix, queue in self._faults:
                if queue and (prefix is None or path.startswith(prefix)):
                    return queue.popleft()
        return None

    def _stall(self, seconds: float) -> None:
        self._stopping.wait(seconds)


def _handler_for(fake: FakeArxiv) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        server_fake = fake
    return Handler


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    wbufsize = -1          # one write per answer: headers and body in one segment, no Nagle stall
    server_fake: FakeArxiv

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the fake keeps its own request log."""

    def do_GET(self) -> None:
        fake, at = self.server_fake, time.monotonic()
        parts = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        fault = fake._next_fault(parts.path)
        status = self._answer(parts.path, query, fault)
        fake.requests.append(LoggedRequest(at, parts.path, query, dict(self.headers.items()),
                                           status, fault))

    def _answer(self, path: str, query: dict[str, str], fault: str | None) -> int | None:
        fault = None if fault == "ok" else fault
        if fault == "down":
            self.close_connection = True
            return None
        if fault and fault.startswith("stall:"):
            self.server_fake._stall(float(fault.split(":", 1)[1]))
            fault = None
        if fault and fault[:3].isdigit():
            status, _, retry_after = fault.partition(":")
            extra = {"Retry-After": retry_after} if retry_after else {}
            return self._send(int(status), f"fake fault {status}\n", "text/plain", extra)
        try:
            code, body, ctype, extra = self._route(path, query, fault)
        except (ValueError, IdError) as exc:
            code, body, ctype, extra = 400, api_error_xml(str(exc)), "application/atom+xml", {}
        if fault == "malformed":
            body = body[: len(body) // 2]
        return self._send(code, body, ctype, extra)

    def _route(self, path: str, query: dict[str, str], fault: str | None
               ) -> tuple[int, str, str, dict[str, str]]:
        kind, _, cats = path.strip("/").partition("/")
        if kind in ("rss", "atom") and cats:
            return self._feed(kind, cats.split("+"), fault == "empty")
        if path == "/api/query":
            return 200, self._api(query, fault), "application/atom+xml; charset=utf-8", {}
        return 404, "not found\n", "text/plain", {}

    def _feed(self, kind: str, cats: list[str], empty: bool
              ) -> tuple[int, str, str, dict[str, str]]:
        fake = self.server_fake
        items = [] if empty else [
            p for p in fake.feed if not p["categories"] or set(p["categories"]) & set(cats)]
        render = rss_xml if kind == "rss" else atom_feed_xml
        body = render(items, categories=cats, announced=fake.announced)
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        headers = {"ETag": etag, "Last-Modified": fake.feed_modified}
        if self._not_modified(etag, fake.feed_modified):
            return 304, "", "", headers
        return 200, body, f"application/{kind}+xml; charset=utf-8", headers

    def _not_modified(self, etag: str, modified: str) -> bool:
        if self.headers.get("If-None-Match"):
            return self.headers["If-None-Match"] == etag
        since = self.headers.get("If-Modified-Since")
        if not since:
            return False
        try:
            return email.utils.parsedate_to_datetime(modified) <= \
                email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False

    def _api(self, query: dict[str, str], fault: str | None) -> str:
        found = _select(self.server_fake.papers, query)
        start, size = int(query.get("start", 0)), int(query.get("max_results", 10))
        page = [] if fault and fault.startswith("empty") else found[start : start + size]
        total = 0 if fault == "empty:0" else len(found)
        return api_xml(page, total=total, start=start, query=urllib.parse.urlencode(query))

    def _send(self, code: int, body: str, ctype: str, extra: Mapping[str, str]) -> int:
        data = body.encode()
        try:
            self.send_response(code)
            for name, value in {**extra, "Content-Length": str(len(data))}.items():
                self.send_header(name, value)
            if ctype:
                self.send_header("Content-Type", ctype)
            self.end_headers()
            self.wfile.write(data)
        except OSError:
            self.close_connection = True   # the client gave up (timeout) before the answer
        return code


def _select(papers: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    """The API's result list: id_list and/or search_query, sorted as asked."""
    found = list(papers)
    if query.get("id_list"):
        by_id = {p["id"]: p for p in papers}
        wanted = [parse_id(i).id for i in query["id_list"].split(",") if i.strip()]
        found = [by_id[i] for i in wanted if i in by_id]
    if query.get("search_query"):
        matches = compile_query(query["search_query"])
        found = [p for p in found if matches(p)]
    if query.get("sortBy") in ("submittedDate", "lastUpdatedDate"):
        found.sort(key=lambda p: p["submitted"] or dt.datetime.min.replace(tzinfo=dt.UTC),
                   reverse=query.get("sortOrder", "descending") == "descending")
    return found


# ---------------------------------------------------------------- standalone
def read_papers(path: Path) -> list[dict[str, Any]]:
    """Reads paper dicts or snapshot lines from a .jsonl (or .jsonl.gz) file."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as lines:
        return [paper_dict(json.loads(line)) for line in lines if line.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    """Serves a fake arXiv until interrupted; prints its URLs first."""
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--host", default="127.0.0.1")
    args.add_argument("--port", type=int, default=0)
    args.add_argument("--papers", type=Path, help="API corpus (.jsonl or .jsonl.gz)")
    args.add_argument("--feed", type=Path, help="today's feed items (default: --papers)")
    args.add_argument("--day", type=dt.date.fromisoformat,
                      help="the announcement day: the feed keeps papers of that day")
    opts = args.parse_args(argv)
    papers = read_papers(opts.papers) if opts.papers else []
    feed = read_papers(opts.feed) if opts.feed else papers
    if opts.day:
        feed = [p for p in feed if p["day"] == opts.day]
    with FakeArxiv(papers=papers, feed=feed, announced=opts.day,
                   host=opts.host, port=opts.port) as fake:
        print(fake.url, fake.feed_url, fake.api_url, sep="\n", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
