"""A replay built from the config: the catalog's papers, the scorer, the replay (with the
simulated curator or not) and its input papers, read in worker processes when it allows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator, Iterator, Sequence
from contextlib import closing
from pathlib import Path

from arxivwatch.catalog import Catalog
from arxivwatch.config import Settings
from arxivwatch.models import Paper
from arxivwatch.ranking import Scorer, default_scorer
from arxivwatch.replay.days import Replay, in_range
from arxivwatch.replay.jobs import default_jobs, replay_papers
from arxivwatch.replay.labels import Labels
from arxivwatch.replay.snapshot import Progress, SnapshotStats, read_snapshot
from arxivwatch.store import Store


def catalog_papers(settings: Settings, catalog: Catalog, files: Sequence[Path]) -> dict[str, Paper]:
    """Metadata of the catalog's papers: from --catalog-papers files, else the state store."""
    ids = catalog.index().ids
    found = {p.id: p for f in files for p in read_snapshot(f) if p.id in ids}
    return found | {p.id: p for p in _stored_papers(settings, ids - found.keys())}


def _stored_papers(settings: Settings, ids: frozenset[str] | set[str]) -> list[Paper]:
    """Papers the store already holds; no store file means none (a replay creates nothing)."""
    url = settings.state.url
    path = url.removeprefix("sqlite:///")
    if not ids or not url.startswith("sqlite:///") or not Path(path).exists():
        return []
    with Store.open(url) as store:
        return [p for p in map(store.get_paper, sorted(ids)) if p is not None]


def stored_papers(settings: Settings) -> Iterator[Paper]:
    """Every paper the state store holds (what `tune` replays without --papers)."""
    with Store.open(settings.state.url) as store:
        yield from store.iter_papers()


def build_scorer(settings: Settings, catalog: Catalog, files: Sequence[Path]) -> Scorer:
    """The shipped ranking, fed with the catalog and whatever abstracts of it are known."""
    return default_scorer(catalog.sections, catalog_papers(settings, catalog, files))


def build_replay(settings: Settings, catalog: Catalog, files: Sequence[Path], *,
                 labels: Labels | None = None, curator: Labels | None = None) -> Replay:
    """The backtest's replay (writing no --out yet); with `curator`, one that learns from it."""
    papers = catalog_papers(settings, catalog, files)
    # a backtest outputs scores, ranks and figures, never reasons: a scorer without them
    scorer = default_scorer(catalog.sections, papers, reasons=False)
    known, cap = catalog.index().knows, settings.digest.max_per_topic
    ask = settings.digest.ask_per_topic
    if curator is None:
        return Replay(settings.topics, scorer, known=known, cap=cap, labels=labels, ask=ask)
    from arxivwatch.replay.curator import curated_replay  # sklearn: only for a curator

    return curated_replay(settings.topics, scorer, curator, catalog.sections, papers,
                          known=known, cap=cap, labels=labels, ask=ask)


def replay_input(path: Path, replay: Replay, *, jobs: int, progress: Progress | None,
                 stats: SnapshotStats, start: dt.date | None, end: dt.date | None,
                 ) -> Generator[Paper, None, None]:
    """The input papers: in worker processes when the replay allows it, else serially.

    `jobs` 0 means `default_jobs(path)`. Close the generator to end the workers (as
    `run_backtest` does, also on an error).
    """
    if replay.labels is not None:   # labelled papers are read in full, for the catalog lookup
        yield from read_snapshot(path, progress=progress, stats=stats)
    # without labels, papers no topic can match are read as ids and days only
    elif replay.learns:   # its scorer changes as the days go: no worker could score ahead
        yield from read_snapshot(path, progress=progress, stats=stats, keep=replay.keep)
    else:
        yield from replay_papers(path, replay, jobs=jobs or default_jobs(path),
                                 progress=progress, stats=stats, start=start, end=end)


def run_backtest(replay: Replay, path: Path, *, jobs: int = 0, progress: Progress | None = None,
                 stats: SnapshotStats | None = None, start: dt.date | None = None,
                 end: dt.date | None = None) -> Replay:
    """Replay the days in [start, end] of the snapshot at `path`; worker processes (see
    `replay_input`) end with it, also on an error. Returns `replay`."""
    stats = stats if stats is not None else SnapshotStats()
    with closing(replay_input(path, replay, jobs=jobs, progress=progress, stats=stats,
                              start=start, end=end)) as papers:
        return replay.run(in_range(papers, start, end))
