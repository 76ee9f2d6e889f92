"""`arxivwatch tune TOPIC`: replay one topic over past papers before editing topics.yaml."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from arxivwatch.cli import Context
from arxivwatch.replay.tune import SAMPLE


@click.command("tune")
@click.argument("topic_name", metavar="TOPIC")
@click.option("--query", "query_text", help="A query to try instead of the saved one.")
@click.option("--papers", "papers_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Snapshot file to replay (default: the papers arxivwatch has stored).")
@click.option("--catalog-papers", "catalog_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Snapshot file with the catalog papers' abstracts (default: the store's).")
@click.option("--sample", default=SAMPLE, show_default=True, help="Titles to show.")
@click.option("--suggest", is_flag=True,
              help="Also what the decisions suggest: stored papers the learned model likes but "
                   "the query misses, candidate query terms, candidate ANDNOT terms.")
@click.pass_obj
def tune(ctx: Context, topic_name: str, query_text: str | None, papers_path: Path | None,
         catalog_files: tuple[Path, ...], sample: int, suggest: bool) -> None:
    """Replay one topic over past papers: hits per day, sample titles, catalog coverage.

    \b
    Examples:
      arxivwatch tune lora
      arxivwatch tune lora --query 'ti:LoRA OR abs:"low-rank adaptation"' --papers sample.jsonl
      arxivwatch tune lora --suggest
    """
    from arxivwatch.catalog_file import load_catalog
    from arxivwatch.replay.build import stored_papers
    from arxivwatch.replay.report import skipped_warning
    from arxivwatch.replay.snapshot import SnapshotStats, read_snapshot
    from arxivwatch.replay.tune import tune_parts, variants_of

    settings = ctx.settings
    topic = settings.topic(topic_name)
    catalog = load_catalog(settings.catalog.path)
    read = SnapshotStats()
    papers = read_snapshot(papers_path, stats=read) if papers_path else stored_papers(settings)
    parts = tune_parts(settings, catalog, variants_of(topic, query_text), papers,
                       catalog_files=catalog_files, sample_size=sample,
                       bold=sys.stdout.isatty())
    warning = skipped_warning(read, papers_path) if papers_path else None
    if warning is not None:
        click.echo(warning, err=True)
    click.echo(f"topic {topic.name} -> {topic.section}")
    for part in parts:
        click.echo(part)
    if suggest:
        from arxivwatch.replay.suggest import suggestions_report  # sklearn: only when asked

        click.echo(suggestions_report(settings.state.url, catalog.sections, settings.topics,
                                      topic, known=catalog.index().knows))


def register(cli: click.Group) -> None:
    """Attach `tune` to the command line."""
    cli.add_command(tune)
