"""How Slack's requests reach the App: HTTP on waitress, or a Socket Mode connection.

`HttpServer` serves one WSGI app (`Routes`) with waitress, in a thread of the calling process:
POST /slack/events goes to Bolt's WSGI adapter, GET /healthz to a health report, anything else
is 404. waitress reads each request whole on its I/O loop before a worker thread sees it, so a
slow client holds a connection, never a thread; connections are capped, an idle one is closed
after `IDLE_TIMEOUT` and one that has not sent a whole request within `REQUEST_DEADLINE` of its
first byte is closed too (waitress's own timeout restarts at every byte, so a client dripping a
byte every few seconds would otherwise be held forever).

`SocketMode` connects Bolt's `SocketModeHandler` (slack_sdk's builtin client: no extra dependency)
for the same App. Both stop the same way: no new requests, the running ones finished.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk.errors import SlackApiError
from waitress import wasyncore
from waitress.adjustments import Adjustments
from waitress.channel import HTTPChannel
from waitress.parser import HTTPRequestParser
from waitress.server import TcpWSGIServer

from arxivwatch.errors import SlackError

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
MAX_BODY = 1 << 20            # Slack's payloads are a few KiB; a bigger body is refused (413)
MAX_HEADERS = 32 << 10        # Slack's headers are about 1 KiB
REQUEST_DEADLINE = 10.0       # seconds from a request's first byte to its last (Slack: 3 s)
IDLE_TIMEOUT = 30             # seconds an idle (kept-alive or silent) connection stays open
THREADS = 8                   # requests handled at once: each is an ack, milliseconds long
CONNECTION_LIMIT = 500        # open connections; under the usual limit of 1024 open files
BACKLOG = 1024                # connections the kernel queues before the loop accepts them
STOP_GRACE = 5.0              # seconds running requests get to finish on stop

Health = Callable[[], Mapping[str, Any]]
_TOKEN_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "account_inactive",
                 "token_expired", "not_allowed_token_type", "missing_scope"}


class Routes:
    """The WSGI app: POST /slack/events to Slack's listeners, GET /healthz, else 404.

    `events` is Bolt's WSGI adapter (`slack_bolt.adapter.wsgi.SlackRequestHandler`); without it
    (clicks come over Socket Mode, or not at all) a POST gets 404 with `no_events` as the reason.
    """

    def __init__(self, health: Health, events: WSGIApplication | None = None, *,
                 no_events: str = "Slack interactions are not served over HTTP here") -> None:
        self.health, self.events, self.no_events = health, events, no_events

    def __call__(self, environ: WSGIEnvironment,
                 start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD", ""), environ.get("PATH_INFO", "")
        if method == "GET" and path == HEALTH_PATH:
            return self._health(start_response)
        if method == "POST" and path == EVENTS_PATH:
            if self.events is None:
                return _text(start_response, 404, self.no_events)
            return self._events(environ, start_response)
        return _text(start_response, 404, "not found")

    def _events(self, environ: WSGIEnvironment,
                start_response: StartResponse) -> Iterable[bytes]:
        assert self.events is not None
        try:
            return self.events(environ, start_response)
        except ValueError as exc:  # not UTF-8, or a payload that is not JSON (Bolt parses first)
            log.warning("unreadable Slack request: %s", exc)
            return _text(start_response, 400, "bad request")

    def _health(self, start_response: StartResponse) -> Iterable[bytes]:
        try:
            report = dict(self.health())
        except Exception as exc:
            log.exception("health check failed")
            report = {"ok": False, "error": str(exc)}
        body = json.dumps(report, default=str).encode()
        status = "200 OK" if report.get("ok", True) else "503 Service Unavailable"
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body)))])
        return [body]


def _text(start_response: StartResponse, status: int, text: str) -> Iterable[bytes]:
    reasons = {400: "Bad Request", 404: "Not Found"}
    body = f"{text}\n".encode()
    start_response(f"{status} {reasons[status]}", [("Content-Type", "text/plain; charset=utf-8"),
                                                   ("Content-Length", str(len(body)))])
    return [body]


class HttpServer:
    """`routes` served by waitress on a background thread; `stop()` finishes what is running."""

    def __init__(self, routes: WSGIApplication, *, host: str = "127.0.0.1", port: int = 3000,
                 threads: int = THREADS, connection_limit: int = CONNECTION_LIMIT,
                 deadline: float = REQUEST_DEADLINE, idle_timeout: int = IDLE_TIMEOUT) -> None:
        adj = Adjustments(
            host=host, port=port, threads=threads, connection_limit=connection_limit,
            backlog=BACKLOG, channel_timeout=idle_timeout, cleanup_interval=1,
            max_request_body_size=MAX_BODY, max_request_header_size=MAX_HEADERS,
            inbuf_overflow=64 << 10, asyncore_use_poll=True, ident="arxivwatch")
        self._map: dict[int, Any] = {}
        try:
            self._server = _Server(routes, map=self._map, adj=adj, sockinfo=_ipv4_first(adj),
                                   deadline=deadline)
        except OSError:
            wasyncore.close_all(self._map, ignore_all=True)
            raise
        host, bound = self._server.getsockname()[:2]
        self.host, self.port = str(host), int(bound)   # the port chosen when given 0
        self._stopping, self._done = threading.Event(), threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:3000."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> HttpServer:
        """Serve on a background thread."""
        self._thread = threading.Thread(target=self._loop, name="slack-http", daemon=True)
        self._thread.start()
        return self

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Take no new connection, let running requests finish (up to `grace` s), close all."""
        self._stopping.set()
        self._server.pull_trigger()
        dispatcher, until = self._server.task_dispatcher, time.monotonic() + grace
        while (dispatcher.queue or dispatcher.active_count) and time.monotonic() < until:
            time.sleep(0.01)
        self._done.set()
        self._server.pull_trigger()
        if self._thread is not None:
            self._thread.join(timeout=grace)
        dispatcher.shutdown(cancel_pending=True, timeout=math.ceil(grace))

    def _loop(self) -> None:
        """waitress's I/O loop, one turn at a time so that `stop()` is heard within a second."""
        while not self._done.is_set():
            if self._stopping.is_set() and self._server.accepting:
                self._server.accepting = False
                wasyncore.dispatcher.close(self._server)   # the listening socket only
            wasyncore.loop(timeout=1, map=self._map, use_poll=True, count=1)
        wasyncore.close_all(self._map, ignore_all=True)


class _TimedRequestParser(HTTPRequestParser):
    """waitress's request parser, remembering when the request's first byte arrived."""

    def __init__(self, adj: Adjustments) -> None:
        super().__init__(adj)
        self.started = time.monotonic()


class _Channel(HTTPChannel):
    parser_class = _TimedRequestParser


class _Server(TcpWSGIServer):
    """waitress's TCP server, closing connections whose request takes longer than `deadline`."""

    channel_class = _Channel

    def __init__(self, *args: Any, deadline: float, **kwargs: Any) -> None:
        self.deadline = deadline
        super().__init__(*args, **kwargs)

    def maintenance(self, now: Any) -> None:
        """Close idle channels (waitress) and those still receiving a request past the deadline."""
        super().maintenance(now)
        cutoff = time.monotonic() - self.deadline
        channels: dict[int, Any] = self.active_channels  # type: ignore[assignment] # stubs
        for channel in list(channels.values()):
            request = channel.request
            if request is not None and not channel.requests and request.started < cutoff:
                log.info("closed a connection from %s: no whole request within %.0f s",
                         channel.addr[0] if channel.addr else "?", self.deadline)
                channel.will_close = True


def _ipv4_first(adj: Adjustments) -> Any:
    """The address to bind: `localhost` resolves to ::1 and 127.0.0.1; prefer the latter."""
    found: list[Any] = list(adj.listen)   # (family, type, proto, address) despite the stubs
    return next((s for s in found if s[0] == socket.AF_INET), found[0])


class SocketMode:
    """The App over a Socket Mode connection, opened with the app-level token."""

    def __init__(self, app: App, app_token: str) -> None:
        # The client logs its sessions ("A new session has been established") at INFO.
        self.handler = SocketModeHandler(app, app_token,
                                         logger=logging.getLogger(f"{__name__}.socket_mode"))

    def connect(self) -> None:
        """Open the connection (non-blocking; the client reconnects by itself).

        Raises SlackError, saying what to fix, when Slack refuses the app token.
        """
        try:
            self.handler.connect()  # type: ignore[no-untyped-call]
        except SlackApiError as exc:
            self.close()  # stop the client's threads: the caller gives up
            error = str(exc.response.get("error") or "unknown_error")
            raise SlackError(explain_connect(error), error=error) from exc
        except OSError as exc:
            self.close()
            raise SlackError(f"Socket Mode: could not reach Slack's apps.connections.open "
                             f"({exc}): check slack.api_url and the network") from exc
        log.info("connected to Slack in Socket Mode")

    def close(self) -> None:
        """Close the connection (no new envelopes) and wait for the envelopes being handled."""
        self.handler.close()  # type: ignore[no-untyped-call]


def explain_connect(error: str) -> str:
    """One line saying why `apps.connections.open` failed and what to change."""
    if error in _TOKEN_ERRORS:
        return (f"Socket Mode: Slack refused SLACK_APP_TOKEN ({error}): use the app-level token "
                f"(xapp-..., Basic Information > App-Level Tokens, scope connections:write) "
                f"and turn Socket Mode on in the app settings")
    return (f"Socket Mode: Slack's apps.connections.open failed ({error}): check that Socket "
            f"Mode is on in the app settings, or unset SLACK_APP_TOKEN to serve over HTTP")
