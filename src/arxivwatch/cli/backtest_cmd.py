"""`arxivwatch backtest`: replay past papers through the daily selection and measure it."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Generator, Iterator, Sequence
from contextlib import ExitStack, closing, contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from arxivwatch.cli import Context

if TYPE_CHECKING:
    from arxivwatch.backtest import Replay
    from arxivwatch.catalog import Catalog
    from arxivwatch.config import Settings
    from arxivwatch.models import Paper
    from arxivwatch.ranking import Scorer
    from arxivwatch.snapshot import SnapshotStats

Progress = Callable[[int, int], None]


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


def load_catalog(settings: Settings) -> Catalog:
    """The catalog named by the config."""
    from arxivwatch.catalog import Catalog
    from arxivwatch.errors import CatalogError

    try:
        return Catalog.parse(settings.catalog.path.read_text(encoding="utf-8"))
    except OSError as e:
        raise CatalogError(f"cannot read catalog {settings.catalog.path}: {e.strerror}") from e


def catalog_papers(settings: Settings, catalog: Catalog, files: Sequence[Path]) -> dict[str, Paper]:
    """Metadata of the catalog's papers: from --catalog-papers files, else the state store."""
    from arxivwatch.snapshot import read_snapshot

    ids = catalog.index().ids
    found = {p.id: p for f in files for p in read_snapshot(f) if p.id in ids}
    return found | {p.id: p for p in _stored_papers(settings, ids - found.keys())}


def _stored_papers(settings: Settings, ids: frozenset[str] | set[str]) -> list[Paper]:
    """Papers the store already holds; no store file means none (a replay creates nothing)."""
    from arxivwatch.store import Store

    url = settings.state.url
    path = url.removeprefix("sqlite:///")
    if not ids or not url.startswith("sqlite:///") or not Path(path).exists():
        return []
    with Store.open(url) as store:
        return [p for p in map(store.get_paper, sorted(ids)) if p is not None]


def build_scorer(settings: Settings, catalog: Catalog, files: Sequence[Path]) -> Scorer:
    """The shipped ranking, fed with the catalog and whatever abstracts of it are known."""
    from arxivwatch.ranking import default_scorer

    return default_scorer(catalog.sections, catalog_papers(settings, catalog, files))


@contextmanager
def progress_bar(label: str) -> Iterator[Progress | None]:
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
    from arxivwatch.backtest import Replay, in_range, parse_labels
    from arxivwatch.ranking import catalog_known
    from arxivwatch.snapshot import SnapshotStats

    settings = ctx.settings
    catalog = load_catalog(settings)
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
    scorer = build_scorer(settings, catalog, catalog_files)
    with ExitStack() as stack:
        out: IO[str] | None = None
        if out_path is not None:
            out = stack.enter_context(_open_out(out_path))
        progress = stack.enter_context(progress_bar("replaying"))
        known, cap = catalog_known(catalog.sections), settings.digest.max_per_topic
        curated = None
        if curator is None:
            replay = Replay(settings.topics, scorer, known=known, cap=cap, labels=labels, out=out)
        else:
            from arxivwatch.learning.curator import curated_replay

            replay = curated = curated_replay(
                settings.topics, scorer, curator, catalog.sections,
                catalog_papers(settings, catalog, catalog_files), known=known, cap=cap,
                labels=labels, out=out)
        # closed by the stack, also on an error: worker processes end with the command
        papers = stack.enter_context(closing(_papers(
            papers_path, replay, jobs=jobs, progress=progress, stats=read, start=start,
            end=end, serial=curator is not None)))
        replay.run(in_range(papers, start, end))
    report_skipped(read, papers_path)
    click.echo(format_report(replay))
    if curated is not None:
        click.echo(curated.summary())


def _papers(path: Path, replay: Replay, *, jobs: int, progress: Progress | None,
            stats: SnapshotStats, start: dt.date | None, end: dt.date | None, serial: bool,
            ) -> Generator[Paper, None, None]:
    """The input papers: in worker processes when the replay allows it, else serially."""
    from arxivwatch.backtest_jobs import default_jobs, replay_papers
    from arxivwatch.snapshot import read_snapshot

    if replay.labels is not None:   # labelled papers are read in full, for the catalog lookup
        yield from read_snapshot(path, progress=progress, stats=stats)
    # without labels, papers no topic can match are read as ids and days only
    elif serial:   # a curator's scorer learns as the days go: no worker could score ahead
        yield from read_snapshot(path, progress=progress, stats=stats, keep=replay.keep)
    else:
        yield from replay_papers(path, replay, jobs=jobs or default_jobs(path),
                                 progress=progress, stats=stats, start=start, end=end)


def report_skipped(stats: SnapshotStats, path: Path) -> None:
    """Says on stderr how many snapshot lines were not papers, so none is dropped silently."""
    if stats.skipped:
        click.echo(f"warning: skipped {stats.skipped} bad lines of {path} (first: "
                   f"{stats.errors[0]})", err=True)


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


def format_report(replay: Replay) -> str:
    """The per-topic table, and the label table when labels were given."""
    stats = replay.stats
    lines = [f"{stats.papers} papers, {stats.days} announcement days"
             + (f", {stats.undated} without a date (skipped)" if stats.undated else "")
             + (f", {stats.late_batches} late batches (input out of day order)"
                if stats.late_batches else ""), ""]
    lines.append(f"{'TOPIC':<22} {'MATCHES':>8} {'POSTED':>7} {'/DAY':>6} {'MAX':>4}  SECTION")
    for name, ts in replay.topic_stats.items():
        lines.append(f"{name:<22} {ts.matches:>8} {ts.posted:>7} {replay.per_day_mean(name):>6.2f}"
                     f" {ts.max_per_day:>4}  {ts.section}")
    if replay.label_stats:
        lines += ["", f"{'LABEL':<22} {'LABELLED':>8} {'FOUND':>6} {'RECALL':>7} {'POSTED':>7}"
                      f" {'PRECISION':>9} {'AUC':>6}  SECTIONS"]
        for ls in replay.label_stats:
            base = ls.labelled - ls.in_catalog
            lines.append(f"{ls.name:<22} {base:>8} {ls.found:>6} {_pct(ls.recall):>7}"
                         f" {ls.posted:>7} {_pct(ls.precision):>9} {_num(ls.auc):>6}  "
                         + " | ".join(ls.sections))
        lines.append("(labelled: labelled papers in the replayed input, minus those already in "
                     "the catalog; precision counts labelled papers only, so it is a lower bound)")
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def register(cli: click.Group) -> None:
    """Attach `backtest` to the command line."""
    cli.add_command(backtest)
