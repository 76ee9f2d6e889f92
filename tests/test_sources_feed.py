"""The arXiv announcement feed: RSS and Atom parsing, empty days, malformed XML, conditional GET."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import feedparser  # type: ignore[import-untyped]
import pytest
import requests
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from arxivwatch.errors import SourceError
from arxivwatch.models import Paper
from arxivwatch.sources.feed import FeedPage, feed_url, fetch_feed, parse_feed
from arxivwatch.sources.http import PoliteSession
from tests.fakes.arxiv_server import FakeArxiv, atom_feed_xml, rss_xml

ROOT = Path(__file__).resolve().parents[1]
URL = "https://rss.arxiv.org/rss/cs.LG+cs.CL"

RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
     xmlns:atom="http://www.w3.org/2005/Atom" version="2.0">
 <channel>
  <title>cs.LG+cs.CL updates on arXiv.org</title>
  <link>http://rss.arxiv.org/rss/cs.LG+cs.CL</link>
  <description>cs.LG+cs.CL updates on the arXiv.org e-print archive.</description>
  <pubDate>Wed, 21 Feb 2024 00:00:00 -0500</pubDate>
  <skipDays><day>Saturday</day><day>Sunday</day></skipDays>
  <item>
   <title>Low-Rank Adapters
     for Mixture-of-Experts</title>
   <link>https://arxiv.org/abs/2402.12354</link>
   <description>arXiv:2402.12354v1 Announce Type: new
Abstract: We study   LoRA &amp; MoE
 layers with $O(n^2)$ cost &lt; 1.</description>
   <guid isPermaLink="false">oai:arXiv.org:2402.12354v1</guid>
   <category>cs.LG</category><category>cs.CL</category><category>cs.LG</category>
   <pubDate>Wed, 21 Feb 2024 00:00:00 -0500</pubDate>
   <arxiv:announce_type>new</arxiv:announce_type>
   <dc:rights>http://creativecommons.org/licenses/by/4.0/</dc:rights>
   <dc:creator>Ada Example, Bert  Sample,  Chen Placeholder</dc:creator>
  </item>
  <item>
   <title>Speculative Decoding at Scale</title>
   <link>https://arxiv.org/abs/2402.11111</link>
   <description>arXiv:2402.11111v1 Announce Type: cross
Abstract: A cross-listed paper.</description>
   <guid isPermaLink="false">oai:arXiv.org:2402.11111v1</guid>
   <category>cs.DC</category><category>cs.LG</category>
   <pubDate>Wed, 21 Feb 2024 00:00:00 -0500</pubDate>
   <arxiv:announce_type>cross</arxiv:announce_type>
   <dc:creator>Dana Sample</dc:creator>
  </item>
  <item>
   <title>An Old Paper, Revised</title>
   <link>https://arxiv.org/abs/2301.00042</link>
   <description>arXiv:2301.00042v3 Announce Type: replace
Abstract: Third version.</description>
   <guid isPermaLink="false">oai:arXiv.org:2301.00042v3</guid>
   <category>cs.CL</category>
   <pubDate>Wed, 21 Feb 2024 00:00:00 -0500</pubDate>
   <arxiv:announce_type>replace</arxiv:announce_type>
   <arxiv:DOI>10.1000/xyz.42</arxiv:DOI>
   <arxiv:journal_reference>Journal of Examples 12 (2024) 1-20</arxiv:journal_reference>
   <dc:creator>Eve Example</dc:creator>
  </item>
  <item>
   <title>Old-Style Identifier</title>
   <link>https://arxiv.org/abs/hep-th/0101001</link>
   <description>arXiv:hep-th/0101001v2 Announce Type: replace-cross
Abstract: Strings.</description>
   <guid isPermaLink="false">oai:arXiv.org:hep-th/0101001v2</guid>
   <category>hep-th</category><category>cs.LG</category>
   <pubDate>Wed, 21 Feb 2024 00:00:00 -0500</pubDate>
   <arxiv:announce_type>replace-cross</arxiv:announce_type>
   <dc:creator>Frank Sample</dc:creator>
  </item>
 </channel>
</rss>
"""

ATOM = b"""<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns:dc="http://purl.org/dc/elements/1.1/"
      xmlns="http://www.w3.org/2005/Atom" xml:lang="en-us">
  <id>http://rss.arxiv.org/atom/cs.AI</id>
  <title>cs.AI updates on arXiv.org</title>
  <updated>2025-08-20T04:00:19.866337+00:00</updated>
  <link href="http://rss.arxiv.org/atom/cs.AI" rel="self" type="application/atom+xml"/>
  <entry>
    <id>oai:arXiv.org:2508.00001v2</id>
    <title>Agents That Plan</title>
    <updated>2025-08-20T04:00:19.899254+00:00</updated>
    <link href="https://arxiv.org/abs/2508.00001" rel="alternate" type="text/html"/>
    <summary>arXiv:2508.00001v2 Announce Type: cross
Abstract: Planning with
 language models.</summary>
    <category term="cs.CL"/>
    <category term="cs.AI"/>
    <published>2025-08-20T00:00:00-04:00</published>
    <arxiv:announce_type>cross</arxiv:announce_type>
    <dc:creator>Gina Example, Hal Sample</dc:creator>
  </entry>
</feed>
"""

EMPTY_RSS = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss xmlns:arxiv="http://arxiv.org/schemas/atom" version="2.0"><channel>
<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>
<description>cs.LG updates on the arXiv.org e-print archive.</description>
<pubDate>Sat, 24 Feb 2024 00:00:00 -0500</pubDate>
<skipDays><day>Saturday</day><day>Sunday</day></skipDays>
</channel></rss>
"""


@pytest.fixture(scope="module")
def page() -> FeedPage:
    return parse_feed(RSS, url=URL)


def by_id(page: FeedPage) -> dict[str, Paper]:
    return {paper.id: paper for paper in page.papers}


def test_rss_items_become_papers(page: FeedPage) -> None:
    """A `new` item: bare id, version, collapsed title and abstract, split authors, categories."""
    assert page.announced == dt.date(2024, 2, 21)
    assert not page.empty
    assert page.papers[0] == Paper(
        id="2402.12354", version=1, title="Low-Rank Adapters for Mixture-of-Experts",
        abstract="We study LoRA & MoE layers with $O(n^2)$ cost < 1.",
        authors=("Ada Example", "Bert Sample", "Chen Placeholder"),
        categories=("cs.LG", "cs.CL"), day=dt.date(2024, 2, 21), announce_type="new")


@pytest.mark.parametrize(("paper_id", "kind", "version"), [
    ("2402.12354", "new", 1),
    ("2402.11111", "cross", 1),
    ("2301.00042", "replace", 3),
    ("hep-th/0101001", "replace-cross", 2),
])
def test_announce_types_and_versions(page: FeedPage, paper_id: str, kind: str,
                                     version: int) -> None:
    """Every announce type is kept with the paper, and the version comes from the guid."""
    paper = next(p for p in page.papers if p.id == paper_id)
    assert (paper.announce_type, paper.version) == (kind, version)


def test_optional_doi_and_journal_reference(page: FeedPage) -> None:
    """arxiv:DOI and arxiv:journal_reference are read when present, None when absent."""
    papers = by_id(page)
    assert papers["2301.00042"].doi == "10.1000/xyz.42"
    assert papers["2301.00042"].journal_ref == "Journal of Examples 12 (2024) 1-20"
    assert (papers["2402.12354"].doi, papers["2402.12354"].journal_ref) == (None, None)


def test_atom_shape_gives_the_same_fields() -> None:
    """The /atom feed parses to the same Paper shape as /rss."""
    atom = parse_feed(ATOM, url="https://rss.arxiv.org/atom/cs.AI")
    assert atom.announced == dt.date(2025, 8, 20)
    assert atom.papers[0] == Paper(
        id="2508.00001", version=2, title="Agents That Plan",
        abstract="Planning with language models.", authors=("Gina Example", "Hal Sample"),
        categories=("cs.CL", "cs.AI"), day=dt.date(2025, 8, 20), announce_type="cross")


def test_announce_type_read_from_the_description_when_the_prefix_differs() -> None:
    """feedparser keys by prefix; a feed using `ax:` still yields the type from the text."""
    other = RSS.replace(b"xmlns:arxiv=", b"xmlns:ax=").replace(b"arxiv:", b"ax:")
    other = other.replace(b"ax:2", b"arXiv:2").replace(b"ax:hep", b"arXiv:hep")
    kinds = [paper.announce_type for paper in parse_feed(other, url=URL).papers]
    assert kinds == ["new", "cross", "replace", "replace-cross"]


def test_weekend_feed_is_empty_not_an_error() -> None:
    """A channel with no items is arXiv's "no announcement today"."""
    weekend = parse_feed(EMPTY_RSS, url=URL)
    assert (weekend.empty, weekend.papers, weekend.announced) == (True, [], dt.date(2024, 2, 24))


@pytest.mark.parametrize("content", [
    RSS[: len(RSS) // 2],                          # cut off mid-item
    RSS[:-30],                                     # cut off just before </rss>
    b"",
    b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    b"<rss version='2.0'><channel><title>x</title><item><title>a</item></channel>",
])
def test_malformed_xml_is_a_source_error(content: bytes) -> None:
    """Truncated, empty or non-feed bodies raise SourceError naming the URL."""
    with pytest.raises(SourceError) as caught:
        parse_feed(content, url=URL)
    assert caught.value.url == URL


@pytest.mark.parametrize("text", [
    "p<0.05 and q>1 on <script>alert(1)</script> inputs",
    "a &amp; b, <b>bold</b>, 5 < 6",
    "<>",
])
def test_markup_like_text_survives_verbatim(text: str) -> None:
    """Abstracts are plain text: `<`, `>` and tag-like runs are kept, not sanitised away."""
    xml = rss_xml([{"id": "2402.00001", "title": text, "abstract": text}], announced=TODAY)
    paper = parse_feed(xml.encode(), url=URL).papers[0]
    assert (paper.title, paper.abstract) == (text, text)


@pytest.mark.parametrize("shape", [rss_xml, atom_feed_xml], ids=["rss", "atom"])
@pytest.mark.parametrize("text", [
    "Mallory <@U0ADMIN>", "A &amp; B (written so)", "x & y > z", "Café \"quoted\" it's",
])
def test_entities_are_decoded_once_also_when_the_xml_is_invalid(shape: Any, text: str) -> None:
    """feedparser reads invalid XML with its loose parser, which leaves `&lt;` ... in authors,
    journal references and DOIs: they read as from valid XML, decoded exactly once."""
    xml = shape([{"id": "2402.00001", "title": text, "abstract": text, "authors": [text, "Bob"],
                  "journal_ref": text, "doi": text, "categories": ["cs.LG"]}], announced=TODAY)
    invalid = xml.replace("</title>", "</title><junk>&nbsp; a & b</junk>", 1)
    assert feedparser.parse(invalid.encode()).bozo   # the loose parser read it
    strict = parse_feed(xml.encode(), url=URL).papers[0]
    assert strict.authors == (text, "Bob")
    assert strict.journal_ref == strict.doi == text
    assert parse_feed(invalid.encode(), url=URL).papers[0] == strict


def test_an_item_with_an_unreadable_id_is_skipped_and_reported() -> None:
    """One broken item does not sink the announcement, and it is not dropped silently."""
    broken = RSS.replace(b"oai:arXiv.org:2402.11111v1", b"oai:arXiv.org:garbage", 1)
    broken = broken.replace(b"arXiv:2402.11111v1", b"arXiv:garbage", 1)
    result = parse_feed(broken, url=URL)
    assert "2402.11111" not in by_id(result)
    assert len(result.papers) == 3
    assert len(result.skipped) == 1
    assert "garbage" in result.skipped[0]


@pytest.mark.parametrize(("base", "cats", "expected"), [
    ("https://rss.arxiv.org/rss/", ["cs.LG", "cs.CL"], "https://rss.arxiv.org/rss/cs.LG+cs.CL"),
    ("https://rss.arxiv.org/rss", ["cs.LG"], "https://rss.arxiv.org/rss/cs.LG"),
    ("http://127.0.0.1:9/atom//", ["cs.AI", "cs.DC"], "http://127.0.0.1:9/atom/cs.AI+cs.DC"),
])
def test_feed_url_joins_categories(base: str, cats: list[str], expected: str) -> None:
    """One URL for all categories, joined with `+`."""
    assert feed_url(base, cats) == expected


def test_feed_url_needs_a_category() -> None:
    """No categories is a configuration mistake, not an empty feed."""
    with pytest.raises(ValueError, match="category"):
        feed_url("https://rss.arxiv.org/rss/", [])


# ------------------------------------------------------------------ against the fake server
TODAY = dt.date(2024, 2, 21)
ITEMS = [
    {"id": "2402.00001", "title": "New One", "categories": ["cs.LG"], "announce_type": "new"},
    {"id": "2402.00002v2", "title": "Replaced", "categories": ["cs.CL"],
     "announce_type": "replace"},
    {"id": "2402.00003", "title": "Elsewhere", "categories": ["math.OC"], "announce_type": "new"},
]


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv(feed=ITEMS, announced=TODAY) as server:
        yield server


@pytest.fixture
def session() -> PoliteSession:
    return PoliteSession(interval=0.0, timeout=2.0, max_attempts=3, user_agent="test",
                         sleep=lambda s: None)


def test_fetch_feed_one_request_for_all_categories(fake: FakeArxiv,
                                                   session: PoliteSession) -> None:
    """The categories share one request; only their items come back."""
    result = fetch_feed(session, fake.feed_url, ["cs.LG", "cs.CL"])
    assert result.url == fake.feed_url + "cs.LG+cs.CL"
    assert result.page is not None
    assert [p.id for p in result.page.papers] == ["2402.00001", "2402.00002"]
    assert result.page.announced == TODAY
    assert [r.path for r in fake.requests] == ["/rss/cs.LG+cs.CL"]


@pytest.mark.parametrize("use", ["etag", "modified"])
def test_unchanged_feed_is_a_304_with_no_page(fake: FakeArxiv, session: PoliteSession,
                                             use: str) -> None:
    """A conditional GET of an unchanged feed returns page None and keeps the validators."""
    first = fetch_feed(session, fake.feed_url, ["cs.LG"])
    assert first.etag
    assert first.modified
    validators = {"etag": first.etag} if use == "etag" else {"modified": first.modified}
    again = fetch_feed(session, fake.feed_url, ["cs.LG"], **validators)
    assert again.page is None
    assert (again.etag, again.modified) == (validators.get("etag"), validators.get("modified"))
    sent = fake.requests[-1].headers
    assert sent.get("If-None-Match" if use == "etag" else "If-Modified-Since")
    assert fake.requests[-1].status == 304


def test_a_new_announcement_is_fetched_despite_the_old_etag(fake: FakeArxiv,
                                                             session: PoliteSession) -> None:
    """When the feed changes, the old ETag no longer matches and the new page comes back."""
    first = fetch_feed(session, fake.feed_url, ["cs.LG"])
    fake.set_feed([{"id": "2402.00009", "title": "Tomorrow", "categories": ["cs.LG"]}],
                  announced=TODAY + dt.timedelta(days=1))
    second = fetch_feed(session, fake.feed_url, ["cs.LG"], etag=first.etag)
    assert second.page is not None
    assert [p.id for p in second.page.papers] == ["2402.00009"]
    assert second.etag != first.etag


def test_fetch_feed_weekend_is_empty(fake: FakeArxiv, session: PoliteSession) -> None:
    """The weekend feed (an empty channel) comes back as an empty page, not an error."""
    fake.set_feed([], announced=dt.date(2024, 2, 24))
    result = fetch_feed(session, fake.feed_url, ["cs.LG"])
    assert result.page is not None
    assert result.page.empty
    assert result.page.announced == dt.date(2024, 2, 24)


def test_fetch_feed_retries_a_malformed_answer(fake: FakeArxiv, session: PoliteSession) -> None:
    """A truncated feed may come whole next time: it costs one attempt."""
    fake.script(["malformed"])
    result = fetch_feed(session, fake.atom_url, ["cs.LG"])
    assert result.page is not None
    assert [p.id for p in result.page.papers] == ["2402.00001"]
    assert len(fake.requests) == 2


def test_fetch_feed_always_malformed_is_a_source_error(fake: FakeArxiv,
                                                       session: PoliteSession) -> None:
    """Bounded: after max_attempts broken answers the fetch fails with the reason."""
    fake.script(["malformed"] * 3)
    with pytest.raises(SourceError, match="malformed XML") as caught:
        fetch_feed(session, fake.feed_url, ["cs.LG"])
    assert caught.value.attempt == 3


def _reads_as_double_encoded(text: str) -> bool:
    """feedparser "repairs" UTF-8 that was read as Latin-1 (mixin.py); real titles never are."""
    try:
        return text.encode("iso-8859-1").decode("utf-8") != text
    except UnicodeError:
        return False


_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=60)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=_text, abstract=_text, authors=st.lists(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc", "Z"),
                          exclude_characters=","), min_size=1, max_size=20), max_size=4))
def test_fake_rss_round_trips_through_the_parser(title: str, abstract: str,
                                                 authors: list[str]) -> None:
    """Whatever text a paper holds, the feed the fake writes parses back to it (collapsed)."""
    assume(not any(_reads_as_double_encoded(t) for t in (title, abstract, *authors)))
    xml = rss_xml([{"id": "2402.00001", "title": title, "abstract": abstract,
                    "authors": authors, "categories": ["cs.LG"]}], announced=TODAY)
    paper = parse_feed(xml.encode(), url=URL).papers[0]
    assert paper.title == " ".join(title.split())
    assert paper.abstract == " ".join(abstract.split())
    assert paper.authors == tuple(authors)


def test_fake_runs_standalone(tmp_path: Path) -> None:
    """`python -m tests.fakes.arxiv_server --port 0 --papers FILE` prints URLs and serves."""
    papers = tmp_path / "papers.jsonl"
    papers.write_text(json.dumps({
        "id": "2402.00001", "title": "Snapshot Line", "authors": "A. One and B. Two",
        "categories": "cs.LG cs.AI", "abstract": "x", "journal-ref": None,
        "versions": [{"version": "v1", "created": "Tue, 20 Feb 2024 10:00:00 GMT"}]}) + "\n")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.arxiv_server", "--port", "0", "--papers", str(papers)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().strip()
        feed = requests.get(base + "/rss/cs.LG", timeout=5)
        api = requests.get(base + "/api/query", params={"id_list": "2402.00001"}, timeout=5)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
    item = parse_feed(feed.content, url=base).papers[0]
    assert (item.id, item.authors, item.categories) == (
        "2402.00001", ("A. One", "B. Two"), ("cs.LG", "cs.AI"))
    assert b"Snapshot Line" in api.content


def test_fake_serves_model_papers_on_both_feed_shapes(session: PoliteSession) -> None:
    """models.Paper objects can be handed to the fake; /rss and /atom give them back."""
    paper = Paper(id="2402.00005", version=3, title="From a Model", abstract="Body.",
                  authors=("Ada Example",), categories=("cs.LG",), doi="10.1/x",
                  journal_ref="J. Ex. 1", day=TODAY, announce_type="replace")
    with FakeArxiv(feed=[paper], announced=TODAY) as fake:
        rss = fetch_feed(session, fake.feed_url, ["cs.LG"]).page
        atom = fetch_feed(session, fake.atom_url, ["cs.LG"]).page
    assert rss is not None
    assert atom is not None
    assert rss.papers[0] == paper
    assert atom.papers[0] == paper
