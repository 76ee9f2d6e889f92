"""PoliteSession: the one HTTP client the process uses for arXiv.

arXiv's terms allow one request every 3 seconds and one connection at a time, counted per user,
so the throttle, the lock and the retry policy live here, in one object shared by the feed and
the API clients. Clock, sleeper and random source are injected so tests never wait for real.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import requests

from arxivwatch import __version__
from arxivwatch.clock import Clock, utcnow
from arxivwatch.errors import SourceError

PROJECT_URL = "https://github.com/arxivwatch/arxivwatch"
RETRY_AFTER_MAX = 300.0        # never let a server park us for more than five minutes
_TRANSIENT_ERRORS = (
    requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)

T = TypeVar("T")

log = logging.getLogger(__name__)


def user_agent(contact: str | None = None) -> str:
    """Builds the User-Agent arXiv asks for: tool, version, project URL and a contact address."""
    if not contact:
        return f"arxivwatch/{__version__} (+{PROJECT_URL})"
    address = contact.removeprefix("mailto:").strip()
    return f"arxivwatch/{__version__} (+{PROJECT_URL}; mailto:{address})"


class RetryableResponse(Exception):  # a signal between parser and session, never shown
    """Raised by a `fetch` parser: the answer is bad in a way a retry may fix (empty page...)."""


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One attempt as sent: when it started (session clock), the full URL and how it ended."""

    at: float
    url: str
    attempt: int
    status: int | None = None
    error: str | None = None


class PoliteSession:
    """Throttled, locked, retrying GET for arXiv; one instance per process."""

    def __init__(
        self, *, interval: float, timeout: float, max_attempts: int, user_agent: str,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        session: requests.Session | None = None,
        backoff: float = 2.0, backoff_max: float = 120.0,
        retry_after_max: float = RETRY_AFTER_MAX,
        retry_statuses: frozenset[int] = frozenset({408, 429}),
        now: Clock = utcnow,
        on_request: Callable[[RequestRecord], None] | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.interval, self.timeout, self.max_attempts = interval, timeout, max_attempts
        self.backoff, self.backoff_max, self.retry_after_max = backoff, backoff_max, retry_after_max
        self.retry_statuses = retry_statuses
        self._clock, self._sleep, self._rng, self._now = clock, sleep, rng, now
        self._session = session or requests.Session()
        self._session.headers["User-Agent"] = user_agent
        self.on_request = on_request
        self.log: deque[RequestRecord] = deque(maxlen=1000)
        self._lock = threading.Lock()
        self._last_start: float | None = None

    def get(
        self, url: str, params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> requests.Response:
        """GETs a URL politely; returns the 2xx or 304 response or raises SourceError."""
        return self.fetch(url, lambda response: response, params=params, headers=headers)

    def fetch(
        self, url: str, parse: Callable[[requests.Response], T], *,
        params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None,
        explain: Callable[[requests.Response], str | None] | None = None,
    ) -> T:
        """GETs and parses; `parse` may raise RetryableResponse to spend another attempt."""
        full_url = requests.Request("GET", url, params=params).prepare().url or url
        with self._lock:
            return self._run(full_url, dict(headers or {}), parse, explain)

    def close(self) -> None:
        """Closes the pooled connections."""
        self._session.close()

    def __enter__(self) -> PoliteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _run(
        self, url: str, headers: dict[str, str], parse: Callable[[requests.Response], T],
        explain: Callable[[requests.Response], str | None] | None,
    ) -> T:
        for attempt in range(1, self.max_attempts + 1):
            response, problem = self._attempt(url, headers, attempt)
            if response is not None and problem is None:
                self._refuse_if_client_error(response, url, attempt, explain)
                try:
                    return parse(response)
                except RetryableResponse as signal:
                    problem = str(signal)
                except SourceError as exc:  # the parser cannot know where and when it ran
                    exc.url, exc.attempt = url, attempt
                    exc.status = exc.status or response.status_code
                    raise
            status = response.status_code if response is not None else None
            if attempt == self.max_attempts:
                raise SourceError(_gave_up(attempt, problem, response), url=url,
                                  attempt=attempt, status=status)
            delay = self._delay(attempt, response)
            # A retry can take minutes (Retry-After, backoff): say so rather than look hung.
            log.warning("arXiv: %s; retrying in %.1fs (attempt %d of %d): %s",
                        problem, delay, attempt + 1, self.max_attempts, _excerpt(url, 160))
            self._sleep_for(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(
        self, url: str, headers: dict[str, str], attempt: int,
    ) -> tuple[requests.Response | None, str | None]:
        """One throttled request; returns (response, None) or (response|None, retry reason)."""
        self._throttle()
        started = self._clock()
        try:
            response = self._session.get(url, headers=headers, timeout=self.timeout)
        except _TRANSIENT_ERRORS as exc:
            reason = _describe(exc, self.timeout)
            self._record(RequestRecord(started, url, attempt, error=reason))
            return None, reason
        except requests.RequestException as exc:
            raise SourceError(f"cannot request arXiv: {exc}", url=url, attempt=attempt) from exc
        self._record(RequestRecord(started, url, attempt, status=response.status_code))
        if response.status_code >= 500 or response.status_code in self.retry_statuses:
            return response, f"HTTP {response.status_code} {response.reason}".strip()
        return response, None

    def _refuse_if_client_error(
        self, response: requests.Response, url: str, attempt: int,
        explain: Callable[[requests.Response], str | None] | None,
    ) -> None:
        if response.status_code < 400:
            return
        detail = (explain(response) if explain else None) or _excerpt(response.text)
        raise SourceError(
            f"arXiv refused the request (HTTP {response.status_code}): {detail}; "
            "check the URL and query in the config",
            url=url, attempt=attempt, status=response.status_code)

    def _throttle(self) -> None:
        """Waits until `interval` has passed since the previous request started."""
        if self._last_start is not None:
            wait = self._last_start + self.interval - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_start = self._clock()

    def _delay(self, attempt: int, response: requests.Response | None) -> float:
        """Exponential backoff with jitter, but never shorter than a Retry-After."""
        base = min(self.backoff_max, self.backoff * 2.0 ** (attempt - 1))
        delay = base / 2 + self._rng() * base / 2
        header = response.headers.get("Retry-After") if response is not None else None
        wanted = parse_retry_after(header, self._now()) if header else None
        if wanted is not None:
            delay = max(delay, min(wanted, self.retry_after_max))
        return delay

    def _sleep_for(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(seconds)

    def _record(self, record: RequestRecord) -> None:
        log.info("arXiv GET %s attempt %d: %s", record.url, record.attempt,
                 record.status if record.status is not None else record.error)
        self.log.append(record)
        if self.on_request is not None:
            self.on_request(record)


def parse_retry_after(value: str, now: dt.datetime) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None if garbled."""
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _gave_up(attempts: int, problem: str | None, response: requests.Response | None) -> str:
    """The final message: a server that answered badly is busy; no connection is our side."""
    if response is None and (problem or "").startswith("connection failed"):
        return (f"cannot reach arXiv after {attempts} attempts: {problem}; check the network "
                "connection (and proxy settings) and the arXiv URLs in the config")
    return (f"arXiv did not answer usefully after {attempts} attempts: {problem}; "
            "arXiv may be overloaded, try again later")


def _describe(exc: Exception, timeout: float) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within the {timeout:g} s timeout"
    if isinstance(exc, requests.ConnectionError):
        return f"connection failed ({_root_cause(exc)})"
    return f"broken response ({type(exc).__name__})"


def _root_cause(exc: Exception) -> str:
    """urllib3's innermost reason, without its object repr: "Failed to resolve 'host' (...)"."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    text = str(reason if isinstance(reason, Exception) else exc)
    return _excerpt(_OBJECT_REPR.sub("", text))


_OBJECT_REPR = re.compile(r"^\(?<[^>]*>[:,]\s*")


def _excerpt(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."
