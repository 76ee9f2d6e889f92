"""`arxivwatch serve`: answer Slack's Approve / Reject clicks (Socket Mode or HTTP)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

import click

from arxivwatch import logs, serving, wiring
from arxivwatch.cli import Context
from arxivwatch.clock import utcnow
from arxivwatch.config.live import LiveConfig, secret_env

log = logging.getLogger("arxivwatch.serve")


def serve_until(settings: Any, store: Any, stop: threading.Event, *, host: str, port: int,
                echo: serving.Echo = log.info, reload: threading.Event | None = None,
                env: Mapping[str, str] | None = None) -> None:
    """Serve Slack interactions until `stop` is set; the testable body of `serve`.

    topics.yaml is read again, with `env` (default: the secrets `settings` were loaded with),
    whenever `reload` is set (SIGHUP) and when a query is saved.
    """
    serving.check_secrets(settings.slack)
    started = utcnow().isoformat(timespec="seconds")
    mode = "socket" if settings.slack.app_token else "http"
    live = LiveConfig(settings, env if env is not None else secret_env(settings.slack),
                      warn=serving.post_to_channel)

    def health() -> Mapping[str, Any]:
        return {"ok": True, "mode": mode, "started": started,
                "now": utcnow().isoformat(timespec="seconds"),
                "config": live.describe()}

    with serving.listening(live, store, health, host=host, port=port, clock=utcnow,
                           echo=echo):
        serving.wait_for_stop(stop, reload, lambda: live.refresh("SIGHUP"))
        echo("stopping: no new clicks; the ones acknowledged are decided first")
    echo("stopped")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address for /healthz and, in HTTP mode, /slack/events (put a TLS proxy "
                   "in front for Slack).")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535),
              help="Port for /healthz and /slack/events; 0 picks a free one (it is logged).")
@click.option("--log-format", type=click.Choice(logs.FORMATS), default="text",
              show_default=True, help="Log lines on stderr: text, or json for log collectors.")
@click.pass_obj
def serve(ctx: Context, host: str, port: int, log_format: logs.LogFormat) -> None:
    """Receive Slack clicks: Socket Mode if SLACK_APP_TOKEN is set, else HTTP POST /slack/events.

    Every HTTP request is verified with SLACK_SIGNING_SECRET; GET /healthz answers in both
    modes. SIGTERM or Ctrl-C takes no new click, decides the ones already acknowledged, then
    exits 0; a second signal exits at once. Use `arxivwatch run` to poll on schedule in the
    same process.

    \b
    Examples:
      SLACK_APP_TOKEN=xapp-... arxivwatch serve     Socket Mode: no public URL needed
      arxivwatch serve --port 3000                  HTTP, behind your TLS proxy
    """
    logs.setup(log_format)
    serving.check_secrets(ctx.settings.slack)
    signals = serving.Signals().install()
    with wiring.open_store(ctx.settings) as store:
        serve_until(ctx.settings, store, signals.stop, host=host, port=port,
                    reload=signals.reload, env=ctx.env)


def register(cli: click.Group) -> None:
    """Attach `serve`."""
    cli.add_command(serve)
