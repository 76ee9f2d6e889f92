"""`arxivwatch serve`: answer Slack's Approve / Reject clicks (Socket Mode or HTTP)."""

from __future__ import annotations

import datetime as dt
import logging
import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import click

from arxivwatch.cli import Context
from arxivwatch.cli.decide_cmd import open_store, utcnow
from arxivwatch.errors import ConfigError
from arxivwatch.service import http_server, make_interactions, socket_mode, web_client
from arxivwatch.slack.interactions import Interactions

log = logging.getLogger(__name__)

Echo = Callable[[str], None]


def check_secrets(settings: Any) -> None:
    """The tokens `serve` needs; a ConfigError that says which variable to set, and where from."""
    slack = settings.slack
    if not slack.bot_token:
        raise ConfigError("SLACK_BOT_TOKEN is not set: `serve` needs the bot token (xoxb-..., "
                          "OAuth & Permissions in the Slack app) to update the digest messages")
    if not (slack.app_token or slack.signing_secret):
        raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request "
                          "with it (Basic Information > Signing Secret); or set SLACK_APP_TOKEN "
                          "(xapp-...) to use Socket Mode, which needs no public URL")


def serve_until(settings: Any, store: Any, stop: threading.Event, *, host: str, port: int,
                echo: Echo = click.echo) -> None:
    """Serve Slack interactions until `stop` is set; the testable body of `serve`."""
    check_secrets(settings)
    slack = settings.slack
    interactions = make_interactions(settings, store, clock=utcnow, echo=echo)
    client = web_client(slack)
    try:
        with _listener(settings, interactions, client, host, port, echo):
            stop.wait()
    finally:
        interactions.close()
    echo("stopped")


@contextmanager
def _listener(settings: Any, interactions: Interactions, client: Any, host: str, port: int,
              echo: Echo) -> Iterator[None]:
    slack = settings.slack
    if slack.app_token:
        with socket_mode(slack.app_token, interactions, client, echo):
            yield
        return
    started = utcnow().isoformat(timespec="seconds")
    with http_server(interactions, lambda: _health(started), host=host, port=port, echo=echo):
        yield


def _health(started: str) -> Mapping[str, Any]:
    return {"ok": True, "mode": "http", "started": started,
            "now": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, frame: object) -> None:
        log.info("signal %s: stopping", signum)
        stop.set()
    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind in HTTP mode (put a TLS proxy in front for Slack).")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535),
              help="Port in HTTP mode; 0 picks a free one and prints it.")
@click.pass_obj
def serve(ctx: Context, host: str, port: int) -> None:
    """Receive Slack clicks: Socket Mode if SLACK_APP_TOKEN is set, else HTTP POST /slack/events.

    Every HTTP request is verified with SLACK_SIGNING_SECRET; GET /healthz answers too. Use
    `arxivwatch run` to poll on schedule in the same process.

    \b
    Examples:
      SLACK_APP_TOKEN=xapp-... arxivwatch serve     Socket Mode: no public URL needed
      arxivwatch serve --port 3000                  HTTP, behind your TLS proxy
    """
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    check_secrets(ctx.settings)
    stop = threading.Event()
    _stop_on_signals(stop)
    with open_store(ctx) as store:
        serve_until(ctx.settings, store, stop, host=host, port=port)


def register(cli: click.Group) -> None:
    """Attach `serve`."""
    cli.add_command(serve)
