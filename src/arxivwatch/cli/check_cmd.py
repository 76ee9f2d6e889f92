"""`arxivwatch check`: config, templates, catalog and state checked together, every problem listed.

Run it after editing topics.yaml, a template or the catalog by hand: exit status 0 means the bot
can start; 1 lists what to fix, one problem per line (file:line: key: message).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from arxivwatch.cli import Context
from arxivwatch.clock import utcnow
from arxivwatch.errors import ArxivWatchError, ConfigError
from arxivwatch.template_check import template_problems

if TYPE_CHECKING:
    from arxivwatch.config import Settings


def config_problems(ctx: Context) -> tuple[Settings | None, list[str]]:
    """The settings, or None and one line per config problem."""
    from arxivwatch.config import ConfigErrors

    try:
        return ctx.settings, []
    except ConfigErrors as exc:
        return None, [str(p) for p in exc.problems]
    except ConfigError as exc:
        return None, [str(exc)]


def catalog_problems(path: Path) -> tuple[list[str], list[str], int, int]:
    """(errors, warnings, sections, entries) of the catalog file."""
    from arxivwatch.catalog import check_catalog
    from arxivwatch.catalog_file import load_catalog

    try:
        catalog = load_catalog(path)
    except ArxivWatchError as exc:
        return [str(exc)], [], 0, 0
    found = check_catalog(catalog)
    errors = [f"{path}:{p.line_no}: {p.message}" for p in found if p.severity == "error"]
    entries = sum(len(s.entries) for s in catalog.sections)
    return errors, [str(p) for p in found if p.severity != "error"], len(catalog.sections), entries


def state_problems(url: str) -> tuple[str, list[str]]:
    """What the state at `url` holds, read only, or one problem line when it cannot be used."""
    from arxivwatch.errors import StoreError
    from arxivwatch.store import inspect_state

    try:
        return inspect_state(url), []
    except StoreError as exc:
        return "", [f"state.url: {exc}"]


def _fallback_files(ctx: Context) -> tuple[Path | None, Path | None]:
    """Catalog path and templates dir when the full config failed: from its catalog part."""
    from arxivwatch.config import load_catalog_settings

    try:
        catalog, templates = load_catalog_settings(ctx.config_path)
    except ConfigError:
        return None, None
    return catalog.path, templates


@click.command("check")
@click.pass_obj
def check(ctx: Context) -> None:
    """Validate config, templates, catalog and state together; list every problem found.

    Exits 0 with a short summary when all is well, 1 with one line per problem otherwise
    (file:line: key path: what is wrong and how to fix it).

    \b
    Examples:
      arxivwatch check
      arxivwatch --config ~/papers/config/topics.yaml check
    """
    settings, problems = config_problems(ctx)
    catalog_path, templates = (settings.catalog.path, settings.templates_dir) if settings \
        else _fallback_files(ctx)
    found, checked = template_problems(templates)
    problems += found
    # A missing catalog file is already a config problem (catalog.path).
    exists = catalog_path is not None and catalog_path.is_file()
    errors, warnings, sections, entries = catalog_problems(catalog_path) if exists \
        and catalog_path is not None else ([], [], 0, 0)
    problems += errors
    state, found = state_problems(settings.state.url) if settings else ("", [])
    problems += found
    if problems:
        for p in problems:
            click.echo(p.replace("\n", "\n    "))
        click.echo(f"check failed: {len(problems)} problem{'s' * (len(problems) != 1)}", err=True)
        raise SystemExit(1)
    assert settings is not None
    _summary(settings, checked, sections, entries, len(warnings), state)
    for line in cue_warnings(settings):
        click.echo(line)


def cue_warnings(settings: Settings) -> list[str]:
    """One line per topic key that its kind of ranking does not read (harmless, but dead)."""
    from arxivwatch.ranking.ranker import unused_cues

    return [f"  warning:   topics.{t.name}.{key}: a {t.kind} topic's ranking does not weigh "
            f"{key}; it changes no score (remove it, or change kind)"
            for t in settings.topics for key in unused_cues(t)]


def _summary(settings: Settings, templates: int, sections: int, entries: int,
             warnings: int, state: str) -> None:
    topics = settings.topics
    click.echo(f"ok: {settings.config_path}")
    click.echo(f"  topics:    {len(topics)} ({', '.join(t.name for t in topics)}) feeding "
               f"{len({t.section for t in topics})} sections")
    note = f"; {warnings} warnings, see `arxivwatch catalog check`" if warnings else ""
    click.echo(f"  catalog:   {settings.catalog.path}: {sections} sections, {entries} entries"
               f"{note}")
    where = settings.templates_dir or "shipped defaults"
    click.echo(f"  templates: {templates} rendered on a sample paper ({where})")
    click.echo(f"  state:     {state}")
    click.echo(f"  slack:     {_slack_line(settings)}")
    click.echo(f"  summaries: {_summaries_line(settings)}")
    now = utcnow()
    fire = settings.schedule.trigger().get_next_fire_time(None, now)
    click.echo(f"  schedule:  {settings.schedule.cron!r} {settings.schedule.timezone}, next poll "
               f"{fire:%a %Y-%m-%d %H:%M %Z}")


def _summaries_line(settings: Settings) -> str:
    llm = settings.summaries.llm
    if llm is None:
        return "built-in (set summaries.llm to have a language model write them)"
    key = "ARXIVWATCH_LLM_API_KEY set" if llm.api_key else "no key"
    return (f"{llm.model} at {llm.base_url} ({key}; timeout {llm.timeout:g} s), the built-in "
            "summary where it fails")


def _slack_line(settings: Settings) -> str:
    slack = settings.slack
    if not slack.configured:
        return "not configured (SLACK_BOT_TOKEN unset): digests print to the terminal"
    mode = "Socket Mode" if slack.app_token else (
        "HTTP (SLACK_SIGNING_SECRET set)" if slack.signing_secret else
        "posting only: set SLACK_APP_TOKEN or SLACK_SIGNING_SECRET to receive clicks")
    who = f"{len(slack.approvers)} approvers" if slack.approvers else "anyone in the channel"
    return f"posting to {slack.channel}; clicks via {mode}; decided by {who}"


def register(cli: click.Group) -> None:
    """Attach `check` to the root command."""
    cli.add_command(check)
