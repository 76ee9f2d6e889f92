"""PoliteSession against the fake arXiv: spacing, retries, Retry-After, timeouts, give-up."""

from __future__ import annotations

import datetime as dt
import email.utils
import itertools
import socket
import threading
from collections.abc import Iterator

import pytest

from arxivwatch import __version__
from arxivwatch.errors import SourceError
from arxivwatch.sources.http import (
    PoliteSession,
    RequestRecord,
    parse_retry_after,
    user_agent,
)
from tests.fakes.arxiv_server import FakeArxiv

NOW = dt.datetime(2024, 2, 21, 12, 0, tzinfo=dt.UTC)


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def make(clock: FakeClock, **overrides: object) -> PoliteSession:
    options: dict[str, object] = dict(
        interval=3.0, timeout=2.0, max_attempts=4, user_agent=user_agent("ops@example.org"),
        clock=clock, sleep=clock.sleep, rng=lambda: 0.0, backoff=1.0, now=lambda: NOW)
    options.update(overrides)
    return PoliteSession(**options)  # type: ignore[arg-type]


def starts(session: PoliteSession) -> list[float]:
    return [record.at for record in session.log]


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 6) for a, b in itertools.pairwise(times)]


def test_requests_are_spaced_by_the_interval(fake: FakeArxiv, clock: FakeClock) -> None:
    """Back-to-back requests start exactly `interval` apart and the first one does not wait."""
    session = make(clock)
    for _ in range(4):
        session.get(fake.url + "/rss/cs.LG")
    assert gaps(starts(session)) == [3.0, 3.0, 3.0]
    assert clock.sleeps == [3.0, 3.0, 3.0]


def test_spacing_counts_from_the_previous_start(fake: FakeArxiv, clock: FakeClock) -> None:
    """Time spent elsewhere between calls is deducted from the wait."""
    session = make(clock)
    session.get(fake.url + "/rss/cs.LG")
    clock.now += 2.0
    session.get(fake.url + "/rss/cs.LG")
    clock.now += 5.0
    session.get(fake.url + "/rss/cs.LG")
    assert clock.sleeps == [1.0]
    assert gaps(starts(session)) == [3.0, 5.0]


def test_retry_keeps_the_spacing_after_a_failure(fake: FakeArxiv, clock: FakeClock) -> None:
    """The first retry also waits a full interval after the failed request started."""
    fake.script(["503"])
    session = make(clock, backoff=0.01)
    response = session.get(fake.url + "/api/query")
    assert response.status_code == 200
    assert gaps(starts(session)) == [3.0]
    assert [r.status for r in session.log] == [503, 200]


@pytest.mark.parametrize("status", ["500", "502", "503", "504", "429", "408"])
def test_retryable_statuses_are_retried(fake: FakeArxiv, clock: FakeClock, status: str) -> None:
    """5xx, 429 and 408 are transient: the request is sent again and succeeds."""
    fake.script([status, status])
    response = make(clock).get(fake.url + "/rss/cs.LG")
    assert response.status_code == 200
    assert [r.status for r in fake.requests] == [int(status), int(status), 200]


def test_backoff_grows_exponentially_with_jitter(fake: FakeArxiv, clock: FakeClock) -> None:
    """Without the throttle, waits double per attempt; jitter adds up to the base again."""
    fake.script(["503"] * 3)
    make(clock, interval=0.0, rng=lambda: 0.0).get(fake.url + "/api/query")
    assert clock.sleeps == [0.5, 1.0, 2.0]
    fake.script(["503"] * 3)
    later = FakeClock()
    make(later, interval=0.0, rng=lambda: 0.999).get(fake.url + "/api/query")
    assert [round(s, 2) for s in later.sleeps] == [1.0, 2.0, 4.0]


def test_backoff_is_capped(fake: FakeArxiv, clock: FakeClock) -> None:
    """No single backoff exceeds backoff_max."""
    fake.script(["503"] * 5)
    make(clock, interval=0.0, max_attempts=6, backoff=10.0, backoff_max=25.0,
         rng=lambda: 0.999).get(fake.url + "/api/query")
    assert max(clock.sleeps) <= 25.0


def _http_date(seconds_from_now: int) -> str:
    return email.utils.format_datetime(NOW + dt.timedelta(seconds=seconds_from_now), usegmt=True)


@pytest.mark.parametrize(("retry_after", "expected"), [
    ("7", 7.0),
    (_http_date(42), 42.0),
    ("100000", 300.0),                   # capped: a server cannot park the bot for a day
])
def test_retry_after_is_honoured(
    fake: FakeArxiv, clock: FakeClock, retry_after: str, expected: float,
) -> None:
    """A 429's Retry-After (seconds or HTTP date) sets the wait, up to the cap."""
    fake.script([f"429:{retry_after}"])
    session = make(clock)
    session.get(fake.url + "/api/query")
    assert clock.sleeps == [expected]
    assert gaps(starts(session)) == [expected]


@pytest.mark.parametrize(("value", "expected"), [
    ("120", 120.0),
    (" 5 ", 5.0),
    (_http_date(90), 90.0),
    (_http_date(-30), 0.0),
    ("soon", None),
    ("", None),
])
def test_parse_retry_after(value: str, expected: float | None) -> None:
    """Retry-After in seconds or as an HTTP date; past dates mean now; garbage is ignored."""
    assert parse_retry_after(value, NOW) == expected


def test_a_stall_longer_than_the_timeout_is_retried(fake: FakeArxiv, clock: FakeClock) -> None:
    """A server that stalls past the timeout costs one attempt, not a hung job."""
    fake.script(["stall:3"])
    session = make(clock, timeout=0.2)
    assert session.get(fake.url + "/rss/cs.LG").status_code == 200
    first, second = session.log
    assert first.status is None
    assert "timeout" in (first.error or "")
    assert second.status == 200
    assert second.attempt == 2


def test_a_dropped_connection_is_retried(fake: FakeArxiv, clock: FakeClock) -> None:
    """A connection closed without an answer is a transient failure."""
    fake.script(["down"])
    session = make(clock)
    assert session.get(fake.url + "/api/query").status_code == 200
    assert session.log[0].error is not None
    assert "connection" in session.log[0].error


def test_gives_up_after_max_attempts_with_url_attempt_and_status(
    fake: FakeArxiv, clock: FakeClock,
) -> None:
    """Bounded attempts, then one SourceError that says where, how often and what came back."""
    fake.script(["503"] * 10)
    with pytest.raises(SourceError) as caught:
        make(clock, max_attempts=3).get(fake.url + "/api/query", params={"id_list": "2402.12354"})
    error = caught.value
    assert (error.attempt, error.status) == (3, 503)
    assert error.url == fake.url + "/api/query?id_list=2402.12354"
    assert len(fake.requests) == 3
    assert "after 3 attempts" in str(error)
    assert "HTTP 503" in str(error)


def test_connection_refused_ends_in_source_error(clock: FakeClock) -> None:
    """Nobody listening: every attempt fails to connect, then a SourceError with no status."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/rss/cs.LG"
    session = make(clock, max_attempts=3)
    with pytest.raises(SourceError) as caught:
        session.get(url)
    assert (caught.value.url, caught.value.attempt, caught.value.status) == (url, 3, None)
    assert "connection failed" in str(caught.value)
    assert len(session.log) == 3
    assert gaps(starts(session)) == [3.0, 3.0]


def test_unreachable_arxiv_points_at_the_network_not_at_overload(clock: FakeClock) -> None:
    """No connection at all: the message says to check the network and URL, not to wait."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(SourceError) as caught:
        make(clock, max_attempts=2).get(f"http://127.0.0.1:{port}/rss/cs.LG")
    message = str(caught.value)
    assert message.startswith("cannot reach arXiv after 2 attempts: connection failed")
    assert "check the network connection" in message
    assert "overloaded" not in message
    assert "Connection refused" in message   # urllib3's own reason, without its object repr
    assert " object at 0x" not in message


@pytest.mark.parametrize("status", ["400", "403", "404", "406"])
def test_client_errors_fail_at_once(fake: FakeArxiv, clock: FakeClock, status: str) -> None:
    """A 4xx other than 408/429 will not get better: one request, a clear message."""
    fake.script([status])
    with pytest.raises(SourceError) as caught:
        make(clock).get(fake.url + "/api/query")
    assert caught.value.status == int(status)
    assert caught.value.attempt == 1
    assert "refused" in str(caught.value)
    assert len(fake.requests) == 1


def test_not_modified_is_returned_not_retried(fake: FakeArxiv, clock: FakeClock) -> None:
    """304 is an answer for the caller, not a failure."""
    session = make(clock)
    first = session.get(fake.feed_url + "cs.LG")
    second = session.get(fake.feed_url + "cs.LG", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 304
    assert len(fake.requests) == 2


def test_user_agent_names_tool_version_and_contact(fake: FakeArxiv, clock: FakeClock) -> None:
    """arXiv asks for a descriptive User-Agent with a contact; it goes out on every request."""
    make(clock).get(fake.url + "/rss/cs.LG")
    sent = fake.requests[0].headers["User-Agent"]
    assert sent == user_agent("ops@example.org")
    assert sent.startswith(f"arxivwatch/{__version__} (+https://")
    assert sent.endswith("; mailto:ops@example.org)")
    assert "mailto" not in user_agent(None)
    assert user_agent("mailto:a@b.org") == user_agent("a@b.org")


def test_on_request_sees_every_attempt(fake: FakeArxiv, clock: FakeClock) -> None:
    """The hook (for --verbose and tests) gets one record per attempt, failures included."""
    seen: list[RequestRecord] = []
    fake.script(["503", "429:1"])
    session = make(clock, on_request=seen.append)
    session.get(fake.url + "/api/query")
    assert [(r.attempt, r.status) for r in seen] == [(1, 503), (2, 429), (3, 200)]
    assert seen == list(session.log)


def test_one_request_in_flight_across_threads(fake: FakeArxiv) -> None:
    """Threads sharing the session never overlap requests: each waits for the previous answer."""
    fake.script(["stall:0.15"] * 4)
    session = PoliteSession(interval=0.0, timeout=5.0, max_attempts=1, user_agent="t")
    threads = [threading.Thread(target=session.get, args=(fake.url + "/rss/cs.LG",))
               for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    arrivals = sorted(fake.times("/rss"))
    assert len(arrivals) == 4
    assert min(gaps(arrivals)) >= 0.14


def test_rejects_zero_attempts() -> None:
    """A session that may never send a request is a configuration mistake."""
    with pytest.raises(ValueError, match="max_attempts"):
        PoliteSession(interval=3, timeout=5, max_attempts=0, user_agent="t")
