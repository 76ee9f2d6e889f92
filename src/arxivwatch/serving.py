"""The long-running process: what `arxivwatch serve` and `run` share (listeners, signals).

One place chooses how Slack's clicks arrive: over Socket Mode when `SLACK_APP_TOKEN` is set (an
outbound websocket, no public URL), else as signed HTTP POSTs to `/slack/events`; `/healthz` is
always served over HTTP by the same waitress server. Both transports carry the same Bolt App,
built here on the app's decision service. Stopping takes no new clicks, lets the running requests
finish, and then decides every click already acknowledged before returning.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from types import FrameType
from typing import TYPE_CHECKING, Any

from arxivwatch.decisions import DecisionService
from arxivwatch.errors import ArxivWatchError, ConfigError
from arxivwatch.reports import config_lines
from arxivwatch.scheduler import slack_notifier
from arxivwatch.wiring import templates

if TYPE_CHECKING:
    from wsgiref.types import WSGIApplication

    from slack_sdk import WebClient

    from arxivwatch.config import Settings, SlackSettings
    from arxivwatch.config.live import LiveConfig
    from arxivwatch.slack.transport import Health, HttpServer

log = logging.getLogger(__name__)

Echo = Callable[[str], None]
RELOAD_TICK = 0.2   # seconds between two looks at the SIGHUP flag
WORKERS = 4   # decisions made at once after their acks (the catalog write is serialised anyway)


def web_client(slack: SlackSettings) -> WebClient:
    """A WebClient for the bot that waits out 429s (it runs off the request, so it may sleep)."""
    from slack_sdk import WebClient
    from slack_sdk.http_retry import RateLimitErrorRetryHandler, default_retry_handlers

    handlers = [*default_retry_handlers(), RateLimitErrorRetryHandler(max_retry_count=2)]
    return WebClient(token=slack.bot_token, base_url=slack.api_url, timeout=10,
                     retry_handlers=handlers)


def check_secrets(slack: SlackSettings) -> None:
    """The tokens `serve` (and `run` with a bot token) need; a ConfigError that says which
    variable to set, and where from."""
    if not slack.bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: `serve` needs the bot token (xoxb-..., "
                          "OAuth & Permissions in the Slack app) to update the digest messages")
    if not (slack.app_token or slack.signing_secret):
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request "
                          "with it (Basic Information > Signing Secret); or set SLACK_APP_TOKEN "
                          "(xapp-...) to use Socket Mode, which needs no public URL")


def can_receive_clicks(slack: SlackSettings) -> bool:
    """True when Slack clicks can reach this process: a bot token plus an app token or secret."""
    return bool(slack.bot_token and (slack.app_token or slack.signing_secret))


@contextmanager
def listening(live: LiveConfig, store: Any, health: Health, *, host: str, port: int,
              clock: Callable[[], dt.datetime], echo: Echo,
              polls: bool = False) -> Iterator[HttpServer]:
    """`/healthz` always, and Slack's clicks, `/arxivwatch` and the shortcut over Socket Mode or
    HTTP when the tokens allow.

    The listeners read the config in force (`live`) at each request; `polls` says this process
    polls too (`run`: its config is the one `status` reports). On exit no new click is taken,
    and the clicks already acknowledged are decided.
    """
    slack = live.settings.slack
    if not can_receive_clicks(slack):
        why = ("Slack clicks are off: set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (HTTP) or "
               "SLACK_APP_TOKEN (Socket Mode)")
        echo(f"{why}; no Slack clicks are taken")
        with http_server(None, health, host=host, port=port, echo=echo,
                         why_no_events=why) as server:
            yield server
        return
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    from arxivwatch.slack.transport import SocketMode

    with ExitStack() as stack:
        workers = ThreadPoolExecutor(WORKERS, thread_name_prefix="slack-work")
        stack.callback(workers.shutdown, wait=True)   # last: the acknowledged clicks decided
        app = slack_app(live, store, clock=clock, executor=workers, echo=echo, polls=polls)
        if slack.app_token:
            socket_mode = SocketMode(app, slack.app_token)
            socket_mode.connect()
            stack.callback(socket_mode.close)
            echo("connected to Slack in Socket Mode (no public URL needed)")
            yield stack.enter_context(http_server(
                None, health, host=host, port=port, echo=echo,
                why_no_events="Slack clicks arrive over Socket Mode"))
        else:
            yield stack.enter_context(http_server(
                SlackRequestHandler(app), health, host=host, port=port, echo=echo))


def slack_app(live: LiveConfig, store: Any, *, clock: Callable[[], dt.datetime],
              executor: ThreadPoolExecutor, echo: Echo, polls: bool = False) -> Any:
    """The Bolt App on the decision service, after repairing approvals a crash interrupted."""
    from arxivwatch.slack.decider import SlackDecider
    from arxivwatch.slack.interactions import make_app
    from arxivwatch.workbench import AppWorkbench

    settings = live.settings
    envs = templates(settings)   # the user's templates for the filed line and the note (#13)
    # approvers and the rest as in force; templates_dir only changes with a restart
    service = DecisionService(store, live.view(), clock=clock, markdown_env=envs.markdown)
    for outcome in service.reconcile():
        echo(f"repaired: {outcome.message}")
    client = web_client(settings.slack)
    # `serve` alone: the config `run` has in force is the one it recorded in the store
    lines = None if polls else (lambda: config_lines(store, live.path))
    workbench = AppWorkbench(live, store, service, templates=envs, config_lines=lines,
                             clock=clock)
    return make_app(SlackDecider(service, client, decided=envs.decided_blocks()), client,
                    signing_secret=settings.slack.signing_secret, executor=executor,
                    workbench=workbench)


@contextmanager
def http_server(events: WSGIApplication | None, health: Health, *, host: str, port: int,
                echo: Echo, why_no_events: str = "") -> Iterator[HttpServer]:
    """`/healthz` (and `/slack/events` when `events` is given) served during the block."""
    from arxivwatch.slack.transport import HttpServer, Routes

    routes = Routes(health, events, no_events=why_no_events or "no Slack interactions here")
    try:
        server = HttpServer(routes, host=host, port=port)
    except (OSError, ValueError) as exc:   # port in use, an address not on this machine...
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
        raise ArxivWatchError(
            f"cannot listen on {host}:{port}: {why}; choose another --host/--port (port 0 "
            "picks a free one) or stop what is using it") from None
    server.start()
    if events is not None:
        echo(f"listening on {server.url}/slack/events (health: {server.url}/healthz)")
    else:
        echo(f"listening on {server.url} (health: {server.url}/healthz)")
    try:
        yield server
    finally:
        server.stop()


class Signals:
    """The first SIGTERM/SIGINT sets `stop`; a second one exits at once (status 128 + signal).

    SIGHUP sets `reload`: the config is read again (`wait_for_stop`).
    """

    def __init__(self, exit_now: Callable[[int], Any] = os._exit) -> None:
        self.stop = threading.Event()
        self.reload = threading.Event()
        self._exit_now = exit_now

    def install(self) -> Signals:
        """Handle SIGTERM, SIGINT and SIGHUP in this (the main) thread."""
        signal.signal(signal.SIGTERM, self.handle)
        signal.signal(signal.SIGINT, self.handle)
        if hasattr(signal, "SIGHUP"):   # not on Windows
            signal.signal(signal.SIGHUP, self.handle_reload)
        return self

    def handle_reload(self, signum: int, frame: FrameType | None = None) -> None:
        """SIGHUP handler: ask for the config to be read again."""
        log.info("SIGHUP: reading the config again")
        self.reload.set()

    def handle(self, signum: int, frame: FrameType | None = None) -> None:
        """Signal handler: ask for a graceful stop, or give up on it the second time."""
        name = signal.Signals(signum).name
        if self.stop.is_set():
            log.warning("%s again: exiting at once with status %d", name, 128 + signum)
            flush()
            self._exit_now(128 + signum)
            return
        log.info("%s: stopping (a second signal exits at once)", name)
        self.stop.set()


def wait_for_stop(stop: threading.Event, reload: threading.Event | None,
                  on_reload: Callable[[], Any], *, tick: float = RELOAD_TICK) -> None:
    """Block until `stop` is set, calling `on_reload` (in this thread) whenever `reload` is."""
    while not stop.wait(tick if reload is not None else None):
        if reload is not None and reload.is_set():
            reload.clear()
            try:
                on_reload()
            except Exception:  # a failed reload must not end the process
                log.exception("reloading the config failed")


def post_to_channel(settings: Settings, text: str) -> None:
    """Post a plain note to the digest channel of `settings` (nothing without Slack)."""
    notify = slack_notifier(settings)
    if notify is not None:
        notify(text)


def flush() -> None:
    """Flush the log handlers and the standard streams (before `os._exit`)."""
    for handler in logging.getLogger().handlers:
        handler.flush()
    sys.stdout.flush()
    sys.stderr.flush()
