"""The long-running listeners shared by `arxivwatch serve` and `arxivwatch run`.

Slack interactions arrive either over Socket Mode (an outbound websocket, no public URL) or as
signed HTTP POSTs to `/slack/events`; `/healthz` is always plain HTTP. Each listener is a context
manager that is started on entry and closed on exit, so a caller's shutdown order is explicit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from arxivwatch.decisions import DecisionService
from arxivwatch.errors import ArxivWatchError
from arxivwatch.slack.interactions import HttpResponse, Interactions

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from arxivwatch.config import Settings, SlackSettings
    from arxivwatch.slack.server import SlackHttpServer

Echo = Callable[[str], None]
Health = Callable[[], Mapping[str, Any]]


def web_client(slack: SlackSettings) -> WebClient:
    """A WebClient for the bot that waits out 429s (it runs off the request, so it may sleep)."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry import RateLimitErrorRetryHandler, default_retry_handlers

    handlers = [*default_retry_handlers(), RateLimitErrorRetryHandler(max_retry_count=2)]
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=10,
                     retry_handlers=handlers)


def can_receive_clicks(slack: SlackSettings) -> bool:
    """True when Slack clicks can reach this process: a bot token plus an app token or secret."""
    return bool(slack.bot_token and (slack.app_token or slack.signing_secret))


def make_interactions(settings: Settings, store: Any, *, clock: Callable[[], dt.datetime],
                      echo: Echo) -> Interactions:
    """The decision service behind the buttons, after repairing approvals a crash interrupted."""
    service = DecisionService(store, settings, clock=clock)
    for outcome in service.reconcile():
        echo(f"repaired: {outcome.message}")
    return Interactions(service, web_client(settings.slack),
                        signing_secret=settings.slack.signing_secret or "")


@contextmanager
def socket_mode(app_token: str, interactions: Interactions, client: Any,
                echo: Echo) -> Iterator[None]:
    """Connected to Slack in Socket Mode for the duration of the block."""
    from arxivwatch.slack.socket import SocketModeRunner

    runner = SocketModeRunner(app_token, interactions, web_client=client)
    runner.connect()
    echo("connected to Slack in Socket Mode (no public URL needed)")
    try:
        yield
    finally:
        runner.close()


@contextmanager
def http_server(interactions: Interactions | None, health: Health, *, host: str, port: int,
                echo: Echo, why_no_events: str = "") -> Iterator[SlackHttpServer]:
    """`/healthz` (and `/slack/events` when `interactions` is given) served during the block."""
    from arxivwatch.slack.server import SlackHttpServer

    events = interactions or cast(Interactions, _NoEvents(why_no_events))
    try:
        server = SlackHttpServer(events, health, host=host, port=port)
    except OSError as exc:   # port in use, host that does not resolve, port < 1024...
        raise ArxivWatchError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another "
            "--host/--port (port 0 picks a free one) or stop what is using it") from None
    server.start()
    if interactions is not None:
        echo(f"listening on {server.url}/slack/events (health: {server.url}/healthz)")
    else:
        echo(f"listening on {server.url} (health: {server.url}/healthz)")
    try:
        yield server
    finally:
        server.stop()


class _NoEvents:
    """Stands in for Interactions when clicks do not come over HTTP: every POST gets 404."""

    def __init__(self, why: str) -> None:
        self.why = why or "Slack interactions are not served over HTTP by this process"

    def handle_http(self, body: bytes, headers: Mapping[str, str]) -> HttpResponse:
        return HttpResponse(404, f"{self.why}\n".encode(), {"Content-Type": "text/plain"})
