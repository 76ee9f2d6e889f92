"""`arxivwatch poll` and `arxivwatch status`: the main job, and what it has done."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import click

from arxivwatch import logs, wiring
from arxivwatch.cli import Context
from arxivwatch.clock import utcnow
from arxivwatch.pipeline import PollReport
from arxivwatch.store import Store
from arxivwatch.template_check import require_templates


@click.command("poll")
@click.option("--dry-run", is_flag=True,
              help="Fetch, match and print the digest to the terminal; store and post nothing.")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None, metavar="YYYY-MM-DD",
              help="Backfill through the arXiv API: everything the topics would have matched "
                   "since that day (submission date, UTC).")
@click.option("-v", "--verbose", is_flag=True, help="Log each arXiv request and its timing.")
@click.pass_obj
def poll(ctx: Context, dry_run: bool, since: dt.datetime | None, verbose: bool) -> None:
    """Turn today's arXiv announcement into ranked candidates and deliver the digest.

    Fetches the announcement feed of `arxiv.categories` once, drops what the catalog or the
    state already holds, matches and ranks the topics, stores the candidates and posts them to
    Slack (or prints them, without SLACK_BOT_TOKEN). Days missed while arxivwatch was not
    running are backfilled through the API. Re-running adds nothing.

    \b
    Examples:
      arxivwatch poll --dry-run           preview today's digest, change nothing
      arxivwatch poll                     store and deliver today's candidates
      arxivwatch poll --since 2026-11-01  fetch what the topics would have matched since then
    """
    logs.setup(level=logging.INFO if verbose else logging.WARNING)
    if since is not None and since.date() > utcnow().date():
        raise click.BadParameter(f"{since.date()} is in the future; give a past day (UTC)",
                                 param_hint="--since")
    settings = ctx.settings
    require_templates(settings.templates_dir)
    with wiring.open_store(settings, read_only=dry_run) as store, _one_instance(store, dry_run):
        poller = wiring.make_poller(settings, store, dry_run=dry_run)
        report = poller.poll(since=since.date() if since else None)
    _print_report(report, dry_run=dry_run)


@contextmanager
def _one_instance(store: Store, dry_run: bool) -> Iterator[None]:
    """A real poll beside a running `arxivwatch run` could double-post: refuse it."""
    if dry_run:
        yield
        return
    with store.acquire_instance_lock():
        store.abandon_running_runs()
        yield


def _print_report(report: PollReport, *, dry_run: bool) -> None:
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    prefix = "dry run, nothing stored: " if dry_run else ""
    click.echo(prefix + report.summary(), err=True)


@click.command("status")
@click.option("--runs", "limit", default=10, show_default=True, help="How many recent runs.")
@click.pass_obj
def status(ctx: Context, limit: int) -> None:
    """Show the last runs, candidates by status, the last announcement and the config version.

    The config line says which version of topics.yaml (hash and modification time) the
    running `arxivwatch run` has in force, and whether the file on disk is that one.

    \b
    Example:
      arxivwatch status --runs 5
    """
    from arxivwatch.config import load_state_settings
    from arxivwatch.config.live import one_line, problems_of
    from arxivwatch.errors import ConfigError
    from arxivwatch.reports import config_lines, status_lines

    try:   # a broken config must not hide which version `run` keeps in force
        url, problem = ctx.settings.state.url, None
    except ConfigError as exc:
        found = problems_of(exc)
        url = load_state_settings(ctx.config_path).url
        more = f" (and {len(found) - 1} more: `arxivwatch check`)" if len(found) > 1 else ""
        problem = one_line(found[0]) + more
    with Store.open_copy(url) as store:
        config = config_lines(store, ctx.config_path, problem=problem)
        lines = status_lines(store, limit=limit, config=config)
    for line in lines:
        click.echo(line)


def register(cli: click.Group) -> None:
    """Attach poll and status."""
    cli.add_command(poll)
    cli.add_command(status)
