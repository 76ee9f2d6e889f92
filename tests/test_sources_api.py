"""The arXiv query API: Atom parsing, error entries, look-up batches, date-window search, paging."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Iterator

import pytest
import requests

from arxivwatch.errors import SourceError
from arxivwatch.models import Paper
from arxivwatch.sources.api import ArxivAPI, ArxivQueryError, parse_api, to_paper, window_query
from arxivwatch.sources.http import PoliteSession, user_agent
from tests.fakes.arxiv_server import FakeArxiv, api_xml
from tests.test_sources_http import FakeClock

PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xmlns:arxiv="http://arxiv.org/schemas/atom">
  <title type="html">ArXiv Query: search_query=cat:cs.LG</title>
  <id>http://arxiv.org/api/abc</id>
  <updated>2024-02-21T00:00:00-05:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">57</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">10</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">2</opensearch:itemsPerPage>
  <entry>
    <id>http://arxiv.org/abs/2402.12354v2</id>
    <updated>2024-02-22T18:00:00Z</updated>
    <published>2024-02-19T17:41:07Z</published>
    <title>Low-Rank Adapters for
  Mixture-of-Experts</title>
    <summary>  We study LoRA
in MoE layers.
</summary>
    <author><name>Ada Example</name></author>
    <author><name>Bert Sample</name><arxiv:affiliation>Nowhere U</arxiv:affiliation></author>
    <arxiv:doi>10.1000/xyz</arxiv:doi>
    <arxiv:comment>Accepted at ICML 2024; 12 pages,
 code at https://github.com/example/lora-moe</arxiv:comment>
    <arxiv:journal_ref>Proc. ICML 2024, 1-12</arxiv:journal_ref>
    <link href="http://arxiv.org/abs/2402.12354v2" rel="alternate" type="text/html"/>
    <arxiv:primary_category term="cs.CL"/>
    <category term="cs.LG" scheme="http://arxiv.org/schemas/atom"/>
    <category term="cs.CL" scheme="http://arxiv.org/schemas/atom"/>
    <category term="stat.ML" scheme="http://arxiv.org/schemas/atom"/>
  </entry>
  <entry>
    <id>http://arxiv.org/abs/hep-th/0101001</id>
    <updated>2001-01-01T09:00:00-05:00</updated>
    <published>2001-01-01T09:00:00-05:00</published>
    <title>Strings</title>
    <summary>Old style.</summary>
    <author><name>H1 Collaboration</name></author>
    <arxiv:primary_category term="hep-th"/>
    <category term="hep-th"/>
  </entry>
</feed>
"""

PLUS2 = dt.timezone(dt.timedelta(hours=2))

ERROR = b"""<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>ArXiv Query: id_list=1234.5678x</title><id>http://arxiv.org/api/x</id>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">1</opensearch:totalResults>
  <entry>
    <id>http://arxiv.org/api/errors#incorrect_id_format_for_1234.5678x</id>
    <title>Error</title>
    <summary>incorrect id format for 1234.5678x</summary>
  </entry>
</feed>
"""


def test_entries_become_papers_with_comments_journal_ref_and_categories() -> None:
    """comments, journal_ref, doi, primary category first, version from the id, first day."""
    page = parse_api(PAGE)
    assert (page.header.total_results, page.header.start_index,
            page.header.items_per_page) == (57, 10, 2)
    assert to_paper(page.results[0]) == Paper(
        id="2402.12354", version=2, title="Low-Rank Adapters for Mixture-of-Experts",
        abstract="We study LoRA in MoE layers.", authors=("Ada Example", "Bert Sample"),
        categories=("cs.CL", "cs.LG", "stat.ML"),
        comments="Accepted at ICML 2024; 12 pages, code at https://github.com/example/lora-moe",
        journal_ref="Proc. ICML 2024, 1-12", doi="10.1000/xyz", day=dt.date(2024, 2, 19))


def test_old_style_id_without_version_or_optional_fields() -> None:
    """An id URL with no version gives version None; absent optional fields are None."""
    paper = to_paper(parse_api(PAGE).results[1])
    assert (paper.id, paper.version, paper.comments, paper.journal_ref, paper.doi) == (
        "hep-th/0101001", None, None, None, None)
    assert paper.day == dt.date(2001, 1, 1)


def test_error_entry_is_a_source_error_with_arxivs_words() -> None:
    """arXiv's error entry is not a paper: it raises with the summary text."""
    with pytest.raises(ArxivQueryError, match=r"incorrect id format for 1234\.5678x"):
        parse_api(ERROR, url="http://x/api/query?id_list=1234.5678x")


@pytest.mark.parametrize("content", [
    PAGE[: len(PAGE) // 2],
    b"",
    b"<feed xmlns='http://www.w3.org/2005/Atom'><title>no totals</title></feed>",
])
def test_malformed_or_foreign_answers_are_source_errors(content: bytes) -> None:
    """Truncated XML, an empty body, or Atom without opensearch totals is refused."""
    with pytest.raises(SourceError):
        parse_api(content)


@pytest.mark.parametrize("content", [
    PAGE[: PAGE.index(b"</entry>") + len(b"</entry>")],
    PAGE[: PAGE.index(b"</summary>")],
    b"<html><body><h1>Service unavailable</h1></body></html>",
    PAGE.replace(b"2024-02-19T17:41:07Z", b"yesterday"),
])
def test_what_the_package_would_take_silently_is_refused(content: bytes) -> None:
    """arxiv 4.0.2 reads these as short pages, half-empty papers, "no results" or a ValueError."""
    with pytest.raises(SourceError):
        parse_api(content)


@pytest.mark.parametrize(("query", "start", "end", "expected"), [
    ("cat:cs.LG", dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 1, 1, 23, 59),
     "cat:cs.LG AND submittedDate:[202401010000 TO 202401012359]"),
    ("ti:lora OR abs:lora", dt.datetime(2024, 1, 1, 2, 30, tzinfo=PLUS2),
     dt.datetime(2024, 1, 2, tzinfo=dt.UTC),
     "(ti:lora OR abs:lora) AND submittedDate:[202401010030 TO 202401020000]"),
    ("  ", dt.datetime(2023, 12, 31, 19, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
     dt.datetime(2024, 1, 1, 5, 0, tzinfo=dt.UTC),
     "submittedDate:[202401010000 TO 202401010500]"),
])
def test_window_query_adds_the_gmt_date_filter(
    query: str, start: dt.datetime, end: dt.datetime, expected: str,
) -> None:
    """The window is in GMT to the minute; compound queries are parenthesised first."""
    assert window_query(query, start, end) == expected


# ------------------------------------------------------------------ against the fake server
def at(day: int, hour: int) -> dt.datetime:
    return dt.datetime(2024, 2, day, hour, tzinfo=dt.UTC)


CORPUS = [
    {"id": f"2402.{10000 + n}", "version": 1 + n % 2, "title": f"Paper {n}",
     "abstract": "mixture of experts" if n % 3 else "graph neural nets",
     "authors": ["Ada Example"], "categories": ["cs.LG"] if n % 2 else ["cs.CL", "cs.LG"],
     "comments": f"{n} pages" if n % 4 == 0 else None, "submitted": at(19 + n // 6, n % 24)}
    for n in range(20)
]


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv(papers=CORPUS) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def api(fake: FakeArxiv, sleeps: list[float]) -> ArxivAPI:
    session = PoliteSession(interval=0.0, timeout=2.0, max_attempts=3, user_agent="test",
                            sleep=sleeps.append)
    return ArxivAPI(session, fake.api_url, page_size=3)


def api_queries(fake: FakeArxiv) -> list[dict[str, str]]:
    return [r.query for r in fake.requests if r.path == "/api/query"]


def test_lookup_batches_ids(fake: FakeArxiv, api: ArxivAPI) -> None:
    """Ids go out `batch` at a time, with max_results equal to the batch; versions are dropped."""
    ids = ["2402.10000v1", "arXiv:2402.10001", "2402.10002", "2402.10003", "2402.10004",
           "https://arxiv.org/abs/2402.10000v2"]
    papers = api.lookup(ids, batch=2)
    assert [p.id for p in papers] == [f"2402.1000{n}" for n in range(5)]
    assert [(q["id_list"], q["max_results"]) for q in api_queries(fake)] == [
        ("2402.10000,2402.10001", "2"), ("2402.10002,2402.10003", "2"), ("2402.10004", "1")]
    assert papers[0].comments == "0 pages"


def test_lookup_of_nothing_sends_nothing(fake: FakeArxiv, api: ArxivAPI) -> None:
    """An empty id list costs no request."""
    assert api.lookup([]) == []
    assert fake.requests == []


def test_search_pages_through_the_window(fake: FakeArxiv, api: ArxivAPI) -> None:
    """Paging by start/max_results, never asking for more than is left, oldest first."""
    found = list(api.search("cat:cs.LG", start=at(19, 0), end=at(20, 23)))
    expected = [p["id"] for p in CORPUS if at(19, 0) <= p["submitted"] <= at(20, 23)]
    assert [p.id for p in found] == expected
    assert len(expected) == 12
    queries = api_queries(fake)
    assert [(q["start"], q["max_results"]) for q in queries] == [
        ("0", "3"), ("3", "3"), ("6", "3"), ("9", "3")]
    assert queries[0]["search_query"] == (
        "cat:cs.LG AND submittedDate:[202402190000 TO 202402202300]")
    assert (queries[0]["sortBy"], queries[0]["sortOrder"]) == ("submittedDate", "ascending")


def test_search_last_page_asks_only_for_the_rest(fake: FakeArxiv, api: ArxivAPI) -> None:
    """With 7 results and pages of 3, the last request asks for 1."""
    found = list(api.search("abs:experts", start=at(19, 0), end=at(20, 10)))
    assert len(found) == 7
    assert [q["max_results"] for q in api_queries(fake)] == ["3", "3", "1"]


def test_search_max_results_limits_the_page_size(fake: FakeArxiv, api: ArxivAPI) -> None:
    """max_results=4 with pages of 3 asks for 3, then 1."""
    found = list(api.search("cat:cs.LG", start=at(19, 0), end=at(23, 0), max_results=4))
    assert len(found) == 4
    assert [q["max_results"] for q in api_queries(fake)] == ["3", "1"]


def test_an_empty_page_is_retried_not_taken_as_the_end(
    fake: FakeArxiv, api: ArxivAPI, sleeps: list[float],
) -> None:
    """0 entries while totalResults promises more: the same page is asked again after a backoff."""
    fake.script(["ok", "empty"], path="/api")
    found = list(api.search("cat:cs.LG", start=at(19, 0), end=at(20, 23)))
    assert len(found) == 12
    assert [q["start"] for q in api_queries(fake)] == ["0", "3", "3", "6", "9"]
    assert len(sleeps) == 1


def test_a_persistently_empty_page_ends_in_source_error(fake: FakeArxiv, api: ArxivAPI) -> None:
    """Bounded: after max_attempts empty pages, a SourceError naming the page."""
    fake.script(["empty"] * 3, path="/api")
    with pytest.raises(SourceError, match="empty page at start=0") as caught:
        list(api.search("cat:cs.LG", start=at(19, 0), end=at(20, 23)))
    assert caught.value.attempt == 3
    assert "start=0" in caught.value.url


def test_zero_results_are_confirmed_once(fake: FakeArxiv, api: ArxivAPI) -> None:
    """A first page claiming totalResults 0 is asked once more; the second answer wins."""
    fake.script(["empty:0"], path="/api")
    found = list(api.search("cat:cs.LG", start=at(19, 0), end=at(19, 5)))
    assert len(found) == 6
    assert len(api_queries(fake)) == 2 + 1


def test_truly_no_results_is_an_empty_answer(fake: FakeArxiv, api: ArxivAPI) -> None:
    """Confirmed zero results are zero results, after exactly two requests."""
    assert list(api.search("cat:math.OC", start=at(19, 0), end=at(23, 0))) == []
    assert len(api_queries(fake)) == 2


def test_retries_through_503_and_429(fake: FakeArxiv, api: ArxivAPI) -> None:
    """Transient HTTP failures on a page are retried; the results are complete."""
    fake.script(["503", "ok", "429:1", "malformed"], path="/api")
    found = list(api.search("cat:cs.LG", start=at(19, 0), end=at(20, 23)))
    assert len(found) == 12


def test_a_rejected_query_fails_at_once_with_arxivs_words(fake: FakeArxiv, api: ArxivAPI) -> None:
    """arXiv's 400 with an error entry is not retried; its message reaches the user."""
    with pytest.raises(SourceError, match="rejected the query") as caught:
        list(api.search("foo:bar", start=at(19, 0), end=at(20, 0)))
    assert caught.value.status == 400
    assert len(api_queries(fake)) == 1


def test_search_rejects_a_backwards_window(api: ArxivAPI) -> None:
    """end before start is a bug in the caller, caught before any request."""
    with pytest.raises(ValueError, match="empty window"):
        list(api.search("cat:cs.LG", start=at(20, 0), end=at(19, 0)))


class CannedSession(requests.Session):
    """A requests.Session that answers every GET with one canned body (for totals no fake holds)."""

    def __init__(self, body: str) -> None:
        super().__init__()
        self.body, self.urls = body, []

    def get(self, url: str | bytes, **kwargs: object) -> requests.Response:  # type: ignore[override]
        self.urls.append(str(url))
        response = requests.Response()
        response.status_code, response._content, response.url = 200, self.body.encode(), str(url)
        return response


def test_more_than_30000_results_asks_for_a_narrower_window() -> None:
    """arXiv serves at most 30000 results per query: fail early with advice, not at page 300."""
    canned = CannedSession(api_xml(CORPUS[:3], total=45000))
    session = PoliteSession(interval=0.0, timeout=1.0, max_attempts=2, user_agent="t",
                            session=canned, sleep=lambda s: None)
    with pytest.raises(SourceError, match=r"at most 30000.*narrower"):
        list(ArxivAPI(session, "http://arxiv.invalid/api/query").search(
            "cat:cs.LG", start=at(1, 0), end=at(28, 0)))
    assert len(canned.urls) == 1
    capped = ArxivAPI(session, "http://arxiv.invalid/api/query", page_size=3).search(
        "cat:cs.LG", start=at(1, 0), end=at(28, 0), max_results=3)
    assert len(list(capped)) == 3


def test_page_size_is_bounded_by_arxivs_limit(api: ArxivAPI) -> None:
    """arXiv refuses more than 2000 results per request; so does the constructor."""
    with pytest.raises(ValueError, match="page_size"):
        ArxivAPI(api.session, api.api_url, page_size=5000)


# ------------------------------------------------------------ the package on the shared session
def test_every_api_request_goes_through_the_shared_session(fake: FakeArxiv) -> None:
    """One throttle: pages are spaced by the session's interval only, never by the package's own
    wall-clock delay, and each carries our User-Agent, not arxiv.py's."""
    clock = FakeClock()
    session = PoliteSession(interval=3.0, timeout=2.0, max_attempts=3, clock=clock,
                            sleep=clock.sleep, user_agent=user_agent("ops@example.org"))
    began = time.monotonic()
    found = list(ArxivAPI(session, fake.api_url, page_size=3).search(
        "cat:cs.LG", start=at(19, 0), end=at(20, 23)))
    assert len(found) == 12
    assert time.monotonic() - began < 3.0      # a second throttle would take 9 s or more
    assert clock.sleeps == [3.0, 3.0, 3.0]
    assert [r.at for r in session.log] == [1000.0, 1003.0, 1006.0, 1009.0]
    assert len(session.log) == len(fake.requests) == 4
    assert {r.headers["User-Agent"] for r in fake.requests} == {user_agent("ops@example.org")}


def test_a_stalled_api_page_costs_one_attempt(fake: FakeArxiv) -> None:
    """The session's timeout covers the package's requests: a stall is retried, not a hang."""
    session = PoliteSession(interval=0.0, timeout=0.2, max_attempts=3, user_agent="t",
                            sleep=lambda s: None)
    fake.script(["stall:3"], path="/api")
    assert len(ArxivAPI(session, fake.api_url).lookup(["2402.10000"])) == 1
    assert "timeout" in (session.log[0].error or "")
    assert [r.status for r in session.log] == [None, 200]


def test_unreachable_api_ends_in_one_source_error() -> None:
    """Connection refused on every attempt: one SourceError with the URL, attempts, no status."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    session = PoliteSession(interval=0.0, timeout=1.0, max_attempts=2, user_agent="t",
                            sleep=lambda s: None)
    api = ArxivAPI(session, f"http://127.0.0.1:{port}/api/query")
    with pytest.raises(SourceError, match="connection failed") as caught:
        api.lookup(["2402.10000"])
    assert (caught.value.attempt, caught.value.status) == (2, None)
    assert "id_list=2402.10000" in caught.value.url


def test_an_html_answer_is_not_taken_for_no_results() -> None:
    """A proxy's 200 HTML page: retried, then a SourceError, not an empty result list."""
    canned = CannedSession("<html><body>Please log in to the network</body></html>")
    session = PoliteSession(interval=0.0, timeout=1.0, max_attempts=2, user_agent="t",
                            session=canned, sleep=lambda s: None)
    with pytest.raises(SourceError, match="not a whole arXiv API answer") as caught:
        list(ArxivAPI(session, "http://arxiv.invalid/api/query").search(
            "cat:cs.LG", start=at(1, 0), end=at(28, 0)))
    assert caught.value.attempt == 2
    assert len(canned.urls) == 2
