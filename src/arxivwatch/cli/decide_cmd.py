"""`arxivwatch pending | approve | reject`: the Slack buttons, from the terminal."""

from __future__ import annotations

import getpass
import logging
from collections.abc import Callable

import click

from arxivwatch import wiring
from arxivwatch.cli import Context
from arxivwatch.clock import utcnow
from arxivwatch.decisions import DecisionService
from arxivwatch.serving import web_client
from arxivwatch.slack.decider import Shown, SlackDecider

log = logging.getLogger(__name__)

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
    from arxivwatch.reports import pending_lines

    with wiring.open_store(ctx.settings, read_only=True) as store:
        lines = pending_lines(store)
    for line in lines:
        click.echo(line)


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
    user = cli_user(ctx)
    _decide(ctx, lambda d: d.approve(paper_id, user, section=section, summary=summary))


@click.command("reject")
@click.argument("paper_id")
@click.pass_obj
def reject(ctx: Context, paper_id: str) -> None:
    """Reject PAPER_ID; it is never offered again.

    \b
    Example:
      arxivwatch reject https://arxiv.org/abs/2611.00002
    """
    user = cli_user(ctx)
    _decide(ctx, lambda d: d.reject(paper_id, user))


def _decide(ctx: Context, act: Callable[[SlackDecider], Shown]) -> None:
    """Decide through the same path as the Slack buttons, then say what happened."""
    with wiring.open_store(ctx.settings) as store:
        envs = wiring.templates(ctx.settings)   # the user's line and "decided" note templates
        service = DecisionService(store, ctx.settings, clock=utcnow, markdown_env=envs.markdown)
        slack = ctx.settings.slack
        client = web_client(slack) if slack.bot_token else None
        shown = act(SlackDecider(service, client, decided=envs.decided_blocks()))
    click.echo(shown.outcome.message)
    if shown.outcome.catalog_line:
        click.echo(shown.outcome.catalog_line)
    if shown.where is None:
        return
    channel, ts = shown.where
    if shown.error:
        click.echo(f"warning: the decision stands, but the Slack message {channel}/{ts} was not "
                   f"updated: {shown.error}", err=True)
    else:
        click.echo(f"updated the Slack message {channel}/{ts}")


def register(cli: click.Group) -> None:
    """Attach pending, approve and reject."""
    for command in (pending, approve, reject):
        cli.add_command(command)
