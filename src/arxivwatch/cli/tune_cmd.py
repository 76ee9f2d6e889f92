"""`arxivwatch tune TOPIC`: replay one topic over past papers before editing topics.yaml."""

from __future__ import annotations

import dataclasses
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
    from arxivwatch.query import parse
    from arxivwatch.ranking import default_scorer
    from arxivwatch.replay import tune as t
    from arxivwatch.replay.build import catalog_papers, stored_papers
    from arxivwatch.replay.report import skipped_warning
    from arxivwatch.replay.snapshot import SnapshotStats, read_snapshot

    settings = ctx.settings
    topic = settings.topic(topic_name)
    variants = [topic]
    if query_text is not None:
        variants.append(dataclasses.replace(topic, query=parse(query_text),
                                            query_text=query_text))
    catalog = load_catalog(settings.catalog.path)
    known_papers = catalog_papers(settings, catalog, catalog_files)
    scorer = default_scorer(catalog.sections, known_papers)
    read = SnapshotStats()
    papers = read_snapshot(papers_path, stats=read) if papers_path else stored_papers(settings)
    known = catalog.index().knows
    runs, days = t.replay_topic(papers, variants, scorer, known, settings.topics)
    warning = skipped_warning(read, papers_path) if papers_path else None
    if warning is not None:
        click.echo(warning, err=True)
    bold = sys.stdout.isatty()
    cap = settings.digest.max_per_topic
    click.echo(f"topic {topic.name} -> {topic.section}")
    for variant, run in zip(variants, runs, strict=True):
        click.echo(t.summary(variant, run, days, cap))
    run = runs[-1]
    click.echo(t.histogram(run, days))
    click.echo(t.sample(variants[-1], run, sample, bold))
    click.echo(t.coverage(catalog, variants, known_papers))
    if query_text is not None:
        click.echo(t.diff(variants[-1], runs[0], runs[1], sample, bold))
    if suggest:
        from arxivwatch.replay.suggest import suggestions_report  # sklearn: only when asked

        click.echo(suggestions_report(settings.state.url, catalog.sections, settings.topics,
                                      topic, known=known))


def register(cli: click.Group) -> None:
    """Attach `tune` to the command line."""
    cli.add_command(tune)
