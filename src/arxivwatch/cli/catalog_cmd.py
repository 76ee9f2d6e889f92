"""`arxivwatch catalog list | check | add`: read and file into the markdown catalog by hand.

These commands need only the catalog part of the config (a broken topic does not stop them), and
`--catalog PATH` works on any markdown file with no config at all. `catalog add` files a paper
through the same code path approvals use: `catalog.render_entry` + `catalog_file.add_to_catalog`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from arxivwatch.cli import Context
from arxivwatch.errors import ArxivWatchError, CatalogError
from arxivwatch.models import Paper

if TYPE_CHECKING:
    from arxivwatch.catalog import Catalog

IdLookup = Callable[[str], Paper]
_YEAR = re.compile(r"\b(19|20)\d\d\b")


@dataclass(frozen=True)
class CatalogTarget:
    """The catalog file a command works on, its insert default and template folder."""

    path: Path
    insert: Literal["top", "bottom"] = "top"
    templates_dir: Path | None = None


def paper_lookup(ctx: Context) -> IdLookup | None:
    """The arXiv look-up `catalog add --id` uses when no --title is given.

    Uses the config's `arxiv` block when the config loads, else arXiv's defaults (with
    `--catalog PATH` no config is needed).
    """
    from arxivwatch import wiring
    from arxivwatch.config.settings import ArxivSettings
    from arxivwatch.errors import ConfigError

    def lookup(paper_id: str) -> Paper:
        try:
            arxiv = ctx.settings.arxiv
        except ConfigError:
            if ctx.config_path.exists():
                raise
            arxiv = ArxivSettings()
        return wiring.lookup_paper(arxiv, paper_id)

    return lookup


def _target(click_ctx: click.Context) -> CatalogTarget:
    """`--catalog PATH` when given, else the catalog block of the config."""
    explicit: Path | None = click_ctx.meta.get("arxivwatch.catalog")
    if explicit is not None:
        return CatalogTarget(explicit.absolute())
    from arxivwatch.config import load_catalog_settings

    ctx: Context = click_ctx.find_object(Context)  # type: ignore[assignment]
    settings, templates = load_catalog_settings(ctx.config_path)
    insert: Literal["top", "bottom"] = "bottom" if settings.insert == "bottom" else "top"
    return CatalogTarget(settings.path, insert, templates)


@click.group("catalog")
@click.option("--catalog", "catalog_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Work on this markdown file instead of the config's catalog.path "
                   "(no config needed).")
@click.pass_context
def catalog_group(click_ctx: click.Context, catalog_path: Path | None) -> None:
    """Read the markdown catalog and file papers into it by hand.

    \b
    Examples:
      arxivwatch catalog list
      arxivwatch catalog check
      arxivwatch catalog add --section "Model Compression > Pruning" \\
          --id 2306.11695 --title "A Simple and Effective Pruning Approach for LLMs"
      arxivwatch catalog --catalog ~/notes/papers.md list --all
    """
    click_ctx.meta["arxivwatch.catalog"] = catalog_path


@catalog_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include sections that hold no entry.")
@click.pass_context
def list_cmd(click_ctx: click.Context, show_all: bool) -> None:
    """Show the catalog's sections (heading paths) with their entry counts.

    \b
    Example:
      arxivwatch catalog list
         2  LLM Training > Techniques
         3  LLM Training > Datasets
    Section paths are what topics.yaml's `section:` and `catalog add --section` take.
    """
    from arxivwatch.catalog_file import load_catalog

    target = _target(click_ctx)
    catalog = load_catalog(target.path)
    shown = [s for s in catalog.sections if show_all or s.entries]
    for section in shown:
        click.echo(f"{len(section.entries):>4}  {section.path_text}")
    total = sum(len(s.entries) for s in catalog.sections)
    click.echo(f"{total} entries in {len(shown)} sections of {target.path}", err=True)


@catalog_group.command("check")
@click.pass_context
def check_cmd(click_ctx: click.Context) -> None:
    """Report malformed entries, duplicates within a section, and entries not linking to arXiv.

    Malformed entries and duplicates are errors (exit status 1). An entry linking elsewhere (a
    conference page) is a warning only: arxivwatch still knows it, by title.

    \b
    Example:
      arxivwatch catalog check
      catalog/README.md:12: warning: 'SmartMoE: ...' links to https://www.usenix.org/... (not arXiv)
    """
    from arxivwatch.catalog import check_catalog
    from arxivwatch.catalog_file import load_catalog

    target = _target(click_ctx)
    problems = check_catalog(load_catalog(target.path))
    for p in problems:
        click.echo(f"{target.path}:{p.line_no}: {p.severity}: {p.message}")
    errors = sum(p.severity == "error" for p in problems)
    click.echo(f"{errors} errors, {len(problems) - errors} warnings in {target.path}", err=True)
    if errors:
        raise SystemExit(1)


@catalog_group.command("add")
@click.option("--section", required=True, help="Heading path, e.g. 'Model Compression > Pruning'.")
@click.option("--id", "paper_id", required=True, help="arXiv id or URL, e.g. 2402.12354.")
@click.option("--title", help="Paper title (required until arXiv look-ups are wired in).")
@click.option("--year", type=click.IntRange(1991, 2100), help="Year for the venue tag.")
@click.option("--venue", help="Venue tag such as 'NeurIPS 2024' (default: 'Arxiv YEAR').")
@click.option("--summary", help="The entry's short sentence (default: from the abstract).")
@click.option("--code", help="Code URL, shown as [Code](url).")
@click.option("--where", type=click.Choice(["top", "bottom"]),
              help="Where in the section (default: catalog.insert).")
@click.option("--dry-run", is_flag=True, help="Show the line and the outcome; write nothing.")
@click.pass_context
def add_cmd(click_ctx: click.Context, section: str, paper_id: str, title: str | None,
            year: int | None, venue: str | None, summary: str | None, code: str | None,
            where: Literal["top", "bottom"] | None, dry_run: bool) -> None:
    """File one paper into a catalog section, as an approval would.

    Prints the catalog line, then "added" or "already there" (adding twice changes nothing).

    \b
    Example:
      arxivwatch catalog add --section "Model Compression > Low-rank Decomposition" \\
          --id 2403.07378 --title "SVD-LLM: Truncation-aware SVD for LLM Compression" \\
          --summary "Truncation-aware whitening before SVD." \\
          --code https://github.com/AIoT-MLSys-Lab/SVD-LLM
    """
    from arxivwatch.catalog_file import add_to_catalog, load_catalog
    from arxivwatch.ids import normalize_id

    target = _target(click_ctx)
    catalog = load_catalog(target.path)
    section = _section(catalog, section, target.path)   # fail before anything is printed
    lookup = None if title else paper_lookup(click_ctx.find_object(Context))  # type: ignore[arg-type]
    paper = paper_for(normalize_id(paper_id), title, lookup)
    line = _render(paper, target, summary=summary, venue=_venue(venue, year, paper), code=code)
    click.echo(line)
    place = where or target.insert
    if dry_run:
        from arxivwatch.catalog import insert_entry

        would = insert_entry(catalog.text, section, line, place) != catalog.text
        click.echo(f"would add to {section!r}" if would
                   else f"already there in {section!r}: nothing would change")
        return
    changed = add_to_catalog(target.path, section, line, place)
    click.echo(f"added to {section!r} in {target.path}" if changed
               else f"already there in {section!r}: {target.path} unchanged")


def _section(catalog: Catalog, section: str, path: Path) -> str:
    """The section's path as the catalog writes it; CatalogError naming the file otherwise."""
    try:
        return catalog.section(section).path_text
    except CatalogError as exc:
        raise CatalogError(f"{path}: {exc.message}", close_matches=exc.close_matches) from None


def paper_for(paper_id: str, title: str | None, lookup: IdLookup | None) -> Paper:
    """The paper to file: from the options, or looked up on arXiv when only --id is given."""
    if title:
        return Paper(id=paper_id, title=title)
    if lookup is None:
        raise ArxivWatchError(f"give --title for {paper_id}: looking papers up on arXiv by id is "
                              "not available in this version")
    return lookup(paper_id)


def _venue(venue: str | None, year: int | None, paper: Paper) -> str | None:
    """The venue tag: --venue (with --year or the paper's year appended when it has none)."""
    if venue is None:
        return f"Arxiv {year}" if year else None
    if _YEAR.search(venue):
        return venue
    year = year or paper.year
    return f"{venue} {year}" if year else venue


def _render(paper: Paper, target: CatalogTarget, **options: str | None) -> str:
    from arxivwatch.catalog import render_entry
    from arxivwatch.render import make_env

    env = make_env(target.templates_dir, slack=False)
    return render_entry(paper, summary=options["summary"], venue=options["venue"],
                        code=options["code"], env=env)


def register(cli: click.Group) -> None:
    """Attach `catalog` to the root command."""
    cli.add_command(catalog_group)
