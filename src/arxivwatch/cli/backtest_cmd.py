"""`arxivwatch backtest`: replay past papers through the daily selection and measure it."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from arxivwatch.cli import Context

if TYPE_CHECKING:
    from arxivwatch.replay.snapshot import Progress, SnapshotStats


def _day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD") from None


def _label_map(_ctx: click.Context, _param: click.Parameter,
               values: tuple[str, ...]) -> dict[str, list[str]]:
    return parse_label_map(values)


def parse_label_map(values: Sequence[str]) -> dict[str, list[str]]:
    """`lora=LLM Training > Techniques` (repeatable; several sections per label accumulate)."""
    mapping: dict[str, list[str]] = {}
    for value in values:
        name, sep, section = value.partition("=")
        if not sep or not name.strip() or not section.strip():
            raise click.BadParameter(f"{value!r}: write LABEL=Section > Sub",
                                     param_hint="--label-map")
        mapping.setdefault(name.strip(), []).append(section.strip())
    return mapping


@contextmanager
def _progress_bar(label: str) -> Iterator[Progress | None]:
    """A byte-progress callback drawing a bar on stderr, or None when stderr is no terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    with click.progressbar(length=1, label=label, file=sys.stderr) as bar:
        done = [0]

        def update(position: int, total: int) -> None:
            bar.length = max(total, position, 1)
            bar.update(position - done[0])
            done[0] = position

        yield update


@click.command("backtest")
@click.option("--papers", "papers_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="arXiv metadata snapshot: one JSON object a line, .gz too.")
@click.option("--from", "start", callback=_day, metavar="YYYY-MM-DD",
              help="First announcement day replayed.")
@click.option("--to", "end", callback=_day, metavar="YYYY-MM-DD",
              help="Last announcement day replayed.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Write one JSON line per match: id day topic section score rank posted "
                   "matched title.")
@click.option("--labels", "labels_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="TSV with arxiv_id and topic (or section) columns: adds recall, precision "
                   "and ROC AUC.")
@click.option("--label-map", "label_map", multiple=True, metavar="LABEL=SECTION",
              callback=_label_map,
              help="Where a label counts as found (repeatable); topic names and the labels of "
                   "labels-dev.tsv are known already.")
@click.option("--catalog-papers", "catalog_files", multiple=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Snapshot file with the catalog papers' abstracts (default: the store's).")
@click.option("--curator", "curator_path",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Simulated curator (TSV like --labels): approve each posted candidate listed "
                   "for its section, reject the rest; the learned ranking trains on these "
                   "decisions day by day. Also the --labels when none are given.")
@click.option("--jobs", "jobs", type=click.IntRange(min=0), default=0, show_default=True,
              help="Processes reading, matching and scoring the input; 0: one per CPU for "
                   "inputs of 4 MB or more (one process on macOS), 1: one process (the same output "
                   "either way; --labels and --curator read serially).")
@click.pass_obj
def backtest(ctx: Context, papers_path: Path, start: dt.date | None, end: dt.date | None,
             out_path: Path | None, labels_path: Path | None, label_map: dict[str, list[str]],
             catalog_files: tuple[Path, ...], curator_path: Path | None, jobs: int) -> None:
    """Replay past papers day by day through the poll's selection; print per-topic figures.

    \b
    Examples:
      arxivwatch backtest --papers arxiv-sample.jsonl.gz --out replay.jsonl
      arxivwatch backtest --papers snapshot.json --from 2024-01-01 --labels labels.tsv
      arxivwatch backtest --papers arxiv-sample.jsonl.gz --curator labels.tsv
    """
    from arxivwatch.catalog_file import load_catalog
    from arxivwatch.replay.build import build_replay, run_backtest
    from arxivwatch.replay.labels import parse_labels
    from arxivwatch.replay.report import format_report
    from arxivwatch.replay.snapshot import SnapshotStats

    settings = ctx.settings
    catalog = load_catalog(settings.catalog.path)
    read = SnapshotStats()
    labels = None
    if labels_path is not None:
        labels = parse_labels(_read_text(labels_path), topics=settings.topics,
                              label_map=label_map, where=str(labels_path))
    curator = None
    if curator_path is not None:
        curator = parse_labels(_read_text(curator_path), topics=settings.topics,
                               label_map=label_map, where=str(curator_path))
        labels = labels or curator
    replay = build_replay(settings, catalog, catalog_files, labels=labels, curator=curator)
    with ExitStack() as stack:
        if out_path is not None:
            replay.out = stack.enter_context(_open_out(out_path))
        progress = stack.enter_context(_progress_bar("replaying"))
        run_backtest(replay, papers_path, jobs=jobs, progress=progress, stats=read, start=start,
                     end=end)
    _report_skipped(read, papers_path)
    click.echo(format_report(replay))
    note = replay.summary()
    if note is not None:
        click.echo(note)


def _report_skipped(stats: SnapshotStats, path: Path) -> None:
    """Says on stderr how many snapshot lines were not papers, so none is dropped silently."""
    from arxivwatch.replay.report import skipped_warning

    warning = skipped_warning(stats, path)
    if warning is not None:
        click.echo(warning, err=True)


def _read_text(path: Path) -> str:
    """A UTF-8 text file given on the command line; one clear error when it cannot be read."""
    from arxivwatch.errors import ArxivWatchError

    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise ArxivWatchError(f"cannot read {path}: not UTF-8 (byte {e.start}); save it as "
                              "UTF-8") from None
    except OSError as e:
        raise ArxivWatchError(f"cannot read {path}: {e.strerror}") from None


def _open_out(path: Path) -> IO[str]:
    """The --out file, opened for writing; one clear error when its folder is missing or locked."""
    from arxivwatch.errors import ArxivWatchError

    try:
        return path.open("w", encoding="utf-8")
    except OSError as e:
        raise ArxivWatchError(f"cannot write {path}: {e.strerror}; check that its folder "
                              "exists and is writable") from None


def register(cli: click.Group) -> None:
    """Attach `backtest` to the command line."""
    cli.add_command(backtest)
