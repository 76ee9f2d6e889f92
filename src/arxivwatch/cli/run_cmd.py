"""`arxivwatch run`: poll on schedule and answer Slack clicks, in one long-running process."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Any

import click
from apscheduler.triggers.base import BaseTrigger  # type: ignore[import-untyped]

from arxivwatch import logs, serving, wiring
from arxivwatch.cli import Context
from arxivwatch.clock import Clock, utcnow
from arxivwatch.config.live import ConfigVersion, LiveConfig, secret_env
from arxivwatch.pipeline import PollReport
from arxivwatch.reports import CONFIG_KEY, record_config
from arxivwatch.scheduler import Daemon, slack_notifier
from arxivwatch.template_check import require_templates

log = logging.getLogger("arxivwatch.run")

DEFAULT_STOP_TIMEOUT = 600.0     # seconds a running poll may take to finish after SIGTERM


def run_until(settings: Any, store: Any, stop: threading.Event, *, poll_now: bool = False,
              host: str = "127.0.0.1", port: int = 3000,
              stop_timeout: float = DEFAULT_STOP_TIMEOUT,
              clock: Clock = utcnow,
              reload: threading.Event | None = None, trigger: BaseTrigger | None = None,
              env: Mapping[str, str] | None = None) -> int:
    """Poll on schedule and serve until `stop` is set; 0 when every poll finished in time.

    The caller holds the store's instance lock, so a run still marked running was left by a
    dead process: it is marked interrupted (and caught up), not reported as in progress.
    topics.yaml is read again before each poll and whenever `reload` is set (SIGHUP), with
    `env` (the process's environment: the secrets; default: those `settings` were loaded with).
    `trigger` replaces the config's cron (tests).
    """
    store.abandon_running_runs()
    live = LiveConfig(settings, env if env is not None else secret_env(settings.slack),
                      warn=serving.post_to_channel,
                      on_change=lambda _s, version: _record(store, live, version))
    _record(store, live, live.version)
    daemon: Daemon

    def poll() -> PollReport:
        current = live.refresh("before the poll")
        daemon.reschedule(current.schedule)
        with wiring.polite_session(current.arxiv) as session:
            return wiring.make_poller(current, store, session=session).poll()

    def notify(text: str) -> None:
        serving.post_to_channel(live.settings, text)

    daemon = Daemon(settings.schedule, poll, store, now=clock, trigger=trigger,
                    notify=notify if slack_notifier(settings) else None)

    def health() -> dict[str, Any]:
        return {**daemon.health()[1], "config": live.describe()}

    def on_reload() -> None:
        daemon.reschedule(live.refresh("SIGHUP").schedule)

    with serving.listening(live, store, health, host=host, port=port, clock=clock,
                           echo=log.info, polls=True):
        daemon.start(poll_now=poll_now)
        serving.wait_for_stop(stop, reload, on_reload)
        log.info("stopping: no new polls; a running poll has %s s to finish", stop_timeout)
        finished = daemon.stop(stop_timeout)
    log.info("stopped" if finished else "stopped with a poll still running")
    return 0 if finished else 1


def _record(store: Any, live: LiveConfig, version: ConfigVersion) -> None:
    """Note in the store which config version is in force, for `arxivwatch status`."""
    store.set_meta(CONFIG_KEY, record_config(version, loaded_at=live.loaded_at,
                                             pid=os.getpid()))


@click.command("run")
@click.option("--now", "poll_now", is_flag=True,
              help="Poll once at start, whatever the schedule says, then follow it.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address for /healthz and, in HTTP mode, /slack/events.")
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535),
              help="Port for /healthz and /slack/events; 0 picks a free one (it is logged).")
@click.option("--log-format", type=click.Choice(logs.FORMATS), default="text",
              show_default=True, help="Log lines on stderr: text, or json for log collectors.")
@click.option("--stop-timeout", type=click.FloatRange(0), default=DEFAULT_STOP_TIMEOUT,
              show_default=True, metavar="SECONDS",
              help="On SIGTERM/SIGINT, how long a running poll may take to finish.")
@click.pass_obj
def run(ctx: Context, poll_now: bool, host: str, port: int, log_format: logs.LogFormat,
        stop_timeout: float) -> None:
    """Poll arXiv on `schedule.cron` and answer Slack clicks, in one process, for months.

    On start it polls at once when an announcement was missed while it was down (or with
    --now). Slack clicks arrive over Socket Mode when SLACK_APP_TOKEN is set, else as HTTP
    POSTs to /slack/events; GET /healthz reports the last and next poll (503 after a failed
    poll). Without Slack tokens it polls and prints digests to stdout. One instance per
    state database: a second `run` refuses to start. SIGTERM or Ctrl-C lets a running poll
    finish, then exits 0; a second signal exits at once (status 128 + signal number).

    topics.yaml is read again before each poll and on SIGHUP: a valid edit (topics, queries,
    thresholds, channel, approvers, schedule) takes effect without a restart; a broken one is
    logged, said once in the channel, and the last good version stays in force. /healthz and
    `arxivwatch status` show the version in force (hash and file time).

    \b
    Examples:
      arxivwatch run                     poll on schedule, serve Slack clicks
      arxivwatch run --now --port 8080   poll right away too; health on :8080/healthz
      arxivwatch run --log-format json   JSON log lines for a log collector
    """
    logs.setup(log_format)
    settings = ctx.settings
    require_templates(settings.templates_dir)   # not at the first poll, hours from now
    if settings.slack.bot_token:
        serving.check_secrets(settings.slack)   # digests with buttons nobody can click help no one
    with wiring.open_store(settings) as store, store.acquire_instance_lock():
        signals = serving.Signals().install()
        log.info("arxivwatch run: pid %d, state %s", os.getpid(), settings.state.url)
        code = run_until(settings, store, signals.stop, poll_now=poll_now, host=host,
                         port=port, stop_timeout=stop_timeout, reload=signals.reload,
                         env=ctx.env)
        if code:
            serving.flush()
            os._exit(code)   # the stuck poll's thread would keep a normal exit waiting


def register(cli: click.Group) -> None:
    """Attach `run`."""
    cli.add_command(run)
