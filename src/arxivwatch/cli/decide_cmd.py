"""`arxivwatch pending | approve | reject`: the Slack buttons, from the terminal."""

from __future__ import annotations

import datetime as dt
import getpass
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import click

from arxivwatch import app
from arxivwatch.cli import Context
from arxivwatch.decisions import DecisionService, Outcome
from arxivwatch.ids import normalize_id
from arxivwatch.render import terminal_line
from arxivwatch.store import Store

log = logging.getLogger(__name__)

OPEN_STATUSES = ("pending", "posted")


def utcnow() -> dt.datetime:
    """The wall clock, tz-aware UTC (the CLI is where the real clock is chosen)."""
    return dt.datetime.now(dt.UTC)


@contextmanager
def open_store(ctx: Context, *, read_only: bool = False) -> Iterator[Store]:
    """The state store named by `state.url`, closed afterwards (an in-memory copy if read-only)."""
    with app.open_store(ctx.settings, read_only=read_only) as store:
        yield store


def cli_user(ctx: Context) -> str:
    """`cli:<login>`: who decided, when it was not a Slack click."""
    login = ctx.env.get("USER") or ctx.env.get("LOGNAME") or getpass.getuser()
    return f"cli:{login}"


@click.command("pending")
@click.pass_obj
def pending(ctx: Context) -> None:
    """List the candidates awaiting a decision (pending or posted to Slack).

    \b
    Example:
      arxivwatch pending
    """
    with open_store(ctx, read_only=True) as store:
        rows = [c for status in OPEN_STATUSES for c in store.candidates(status=status)]
    if not rows:
        click.echo("nothing awaits a decision")
        return
    rows.sort(key=lambda c: (c.topic, -float(getattr(c, "score", 0) or 0), c.paper.id))
    click.echo(f"{'ID':<18} {'TOPIC':<16} {'SCORE':>6}  {'STATUS':<7} TITLE")
    for c in rows:
        score = float(getattr(c, "score", 0) or 0)
        title = terminal_line(c.paper.title)
        title = title if len(title) <= 90 else title[:89] + "…"
        click.echo(f"{c.paper.id:<18} {c.topic:<16} {score:>6.2f}  {c.status:<7} {title}")


@click.command("approve")
@click.argument("paper_id")
@click.option("--section", help="Catalog heading path; default: the candidate's suggested one.")
@click.option("--summary", help="The summary sentence for the catalog line.")
@click.pass_obj
def approve(ctx: Context, paper_id: str, section: str | None, summary: str | None) -> None:
    """Approve PAPER_ID (any arXiv id form) and write its line into the catalog.

    The same path as the Slack button: one decision stands, the line is written once, and the
    Slack message is updated when the paper was posted there and SLACK_BOT_TOKEN is set.

    \b
    Examples:
      arxivwatch approve 2611.00001
      arxivwatch approve arXiv:2611.00001v2 --section "Model Compression > Pruning"
      arxivwatch approve 2611.00001 --summary "Pruning experts by routing statistics."
    """
    with open_store(ctx) as store:
        service = DecisionService(store, ctx.settings, clock=utcnow)
        outcome = service.approve(paper_id, cli_user(ctx), section=section, summary=summary)
        _report(ctx, store, outcome)


@click.command("reject")
@click.argument("paper_id")
@click.pass_obj
def reject(ctx: Context, paper_id: str) -> None:
    """Reject PAPER_ID; it is never offered again.

    \b
    Example:
      arxivwatch reject https://arxiv.org/abs/2611.00002
    """
    with open_store(ctx) as store:
        service = DecisionService(store, ctx.settings, clock=utcnow)
        _report(ctx, store, service.reject(paper_id, cli_user(ctx)))


def _report(ctx: Context, store: Any, outcome: Outcome) -> None:
    click.echo(outcome.message)
    if outcome.catalog_line:
        click.echo(outcome.catalog_line)
    _update_slack(ctx, store, outcome)


def _update_slack(ctx: Context, store: Any, outcome: Outcome) -> None:
    """Show the decision on the Slack message too, when the paper was posted there."""
    slack = ctx.settings.slack
    cand = store.get_candidate(normalize_id(outcome.decision.paper_id))
    channel, ts = getattr(cand, "slack_channel", None), getattr(cand, "slack_ts", None)
    if not (slack.bot_token and channel and ts):
        return
    from slack_sdk.errors import SlackApiError

    from arxivwatch.service import web_client
    from arxivwatch.slack.interactions import MessageUpdater

    try:
        MessageUpdater(web_client(slack)).update(channel, ts, outcome)
    except (SlackApiError, OSError) as exc:
        why = exc.response.get("error") if isinstance(exc, SlackApiError) else str(exc)
        click.echo(f"warning: the decision stands, but the Slack message {channel}/{ts} was not "
                   f"updated: {why}", err=True)
        return
    click.echo(f"updated the Slack message {channel}/{ts}")


def register(cli: click.Group) -> None:
    """Attach pending, approve and reject."""
    for command in (pending, approve, reject):
        cli.add_command(command)
