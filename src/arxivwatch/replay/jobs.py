"""Parallel reading for the backtest: workers parse, prefilter, match and score snapshot lines.

The parent decompresses the file and hands out blocks of whole lines (one decompressed chunk
each, as bytes), written to memory it shares with its workers (see `Slots`).
Each worker, a fork of the parent holding the same `Replay`, turns its lines into the
outcomes `snapshot.outcome` gives (papers, skeletons, reasons for bad lines) and matches and
scores every paper the prefilter keeps. The parent takes the blocks back in order, counts bad
lines as `read_snapshot` does and gives each paper's matches to the selection
(`Selector.remember`), so the per-day selection, the cap and the report are the serial code's:
the output is the same as with one process.

At most `2 * jobs` blocks are in flight, so memory stays bounded whatever the input size. Only
for a replay whose scorer does not change as it goes (no curator) and without labels (kept
papers only are shipped whole); `jobs` below 2, or no `fork`, means the serial reader.
"""

from __future__ import annotations

import ctypes
import dataclasses
import datetime as dt
import gc
import logging
import mmap
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from arxivwatch.errors import BacktestError
from arxivwatch.models import Hit, Paper
from arxivwatch.ranking.select import MatchRow
from arxivwatch.replay.days import Replay
from arxivwatch.replay.snapshot import (
    Outcome,
    Progress,
    SnapshotStats,
    display_name,
    open_blocks,
    outcome_of,
    papers_of,
    read_snapshot,
    split_block,
)

log = logging.getLogger(__name__)
IN_FLIGHT = 2       # blocks queued per worker: enough to keep every worker busy
Skeleton = tuple[str, dt.date | None]   # a paper no topic can match: id and day
# A matched paper and its matches as plain values (see `_plain`): the Paper's init fields, and
# each match's topic position, hits as their fields' values, score and reasons.
PlainMatch = tuple[int, tuple[tuple[Any, ...], ...], float, tuple[str, ...]]
Matched = tuple[tuple[Any, ...], list[PlainMatch]]
Row = Matched | Skeleton | str | None
_PAPER_FIELDS = tuple(f.name for f in dataclasses.fields(Paper) if f.init)
_HIT_FIELDS = tuple(f.name for f in dataclasses.fields(Hit) if f.init)

# The replay the workers use and the memory their blocks come in: set in the parent just
# before the pool forks, never pickled.
_replay: Replay | None = None
_slots: Slots | None = None


SMALL_INPUT = 4 << 20   # bytes on disk: below this, starting workers costs more than it saves


def default_jobs(path: Path | str | None = None, *, platform: str = sys.platform) -> int:
    """The CPUs this process may run on; 1 for an input under SMALL_INPUT bytes, and on macOS.

    macOS: Python no longer forks there by default (system frameworks that numpy may use are
    not fork-safe), so automatic jobs stay in one process; `--jobs N` still asks for workers.
    """
    if platform == "darwin":
        return 1
    if path is not None:
        try:
            if os.path.getsize(path) < SMALL_INPUT:
                return 1
        except OSError:
            pass   # the reader reports it
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:   # not on Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    """Whether workers can be forked (they inherit the replay instead of unpickling it)."""
    return "fork" in multiprocessing.get_all_start_methods()


def replay_papers(path: Path | str, replay: Replay, *, jobs: int,
                  progress: Progress | None = None, stats: SnapshotStats | None = None,
                  start: dt.date | None = None, end: dt.date | None = None) -> Iterator[Paper]:
    """The papers of a snapshot for `replay`, read by `jobs` workers (serially below 2).

    Each paper a worker matched within [start, end] comes with its matches, handed to
    `replay.selector`; the papers (and `stats`) are what `read_snapshot(path,
    keep=replay.keep)` gives.
    """
    global _replay, _slots
    parallel = jobs >= 2 and can_fork()
    slots = Slots(jobs * IN_FLIGHT, SLOT_BYTES) if parallel else None
    _replay, _slots = replay, slots   # before the pool: its workers are forked when it starts
    pool = _pool(jobs) if parallel else None
    if pool is None or slots is None:
        _replay, _slots = None, None
        if slots is not None:   # no workers after all: the shared memory is not needed
            slots.memory.close()
        yield from read_snapshot(path, progress=progress, stats=stats, keep=replay.keep)
        return
    # The objects made so far (the replay, its regexes, the catalog) are long-lived: out of
    # the collector's sight, no collection walks them, in the parent or in a worker (where
    # walking them would also copy their pages).
    gc.freeze()
    keep_memory()   # for the parent and (inherited) its workers
    try:
        rows = _rows(pool, open_blocks(path, progress), jobs * IN_FLIGHT, slots)
        yield from papers_of(_outcomes(rows, replay, start, end), display_name(path), stats)
    except BrokenProcessPool:
        raise BacktestError(f"a backtest worker process died reading {path} (killed: out of "
                            "memory?); rerun with fewer --jobs, or --jobs 1") from None
    finally:
        pool.shutdown(wait=True, cancel_futures=True)   # blocks in flight end: one block each
        _replay, _slots = None, None
        slots.memory.close()
        gc.unfreeze()


def _pool(jobs: int) -> ProcessPoolExecutor | None:
    """`jobs` forked workers, or None where the system cannot give them (no semaphores, say).

    An executor, not a `multiprocessing.Pool`: a worker that dies (the OOM killer) breaks it
    with an error, where a Pool would wait forever for the lost block.
    """
    try:
        return ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_init_worker)
    except (OSError, ImportError, NotImplementedError) as exc:   # e.g. no /dev/shm
        log.warning("backtest: cannot start %d worker processes (%s); reading in one", jobs, exc)
        return None


def _init_worker() -> None:
    """Default signal handling in a worker: a handler inherited from the parent (`run` sets
    one for SIGTERM) would keep it from ending with the parent; Ctrl-C is the parent's."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3   # glibc's mallopt parameters (malloc.h)


def keep_memory() -> None:
    """Have glibc's malloc serve allocations of up to 16 MB from its heap, and keep up to 32 MB
    free there rather than give it back to the system.

    A block's large buffers (decompressed, sent, received, decoded) were each a fresh mmap,
    touched page by page: ~75,000 page faults per worker on the sample, 0.1 s of its CPU.
    Kept, the next block reuses the pages (a worker's peak memory grows by a few MB). Nothing
    where the C library has no `mallopt` (macOS, musl).
    """
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, 16 << 20)
    mallopt(_M_TRIM_THRESHOLD, 32 << 20)


SLOT_BYTES = 8 << 20   # a block up to this size goes through shared memory (most are ~3.4 MB)


class Slots:
    """Memory shared with the workers (an anonymous shared mapping, inherited when they fork),
    `count` slots of `size` bytes: the parent writes a block to a free slot, the worker reads
    it from there, and the slot is free again once the block's rows are back.

    Piped, a block was copied five times on its way (pickled, written, read, joined,
    unpickled): 0.3 s of CPU in all for the sample's 141 MB alone, 0.08 s this way. A block
    larger than a slot goes by the pipe.
    """

    def __init__(self, count: int, size: int) -> None:
        self.size = size
        self.memory = mmap.mmap(-1, count * size)   # MAP_SHARED: a fork writes and reads it too
        self.free = list(range(count))

    def put(self, block: bytes) -> int | None:
        """The offset `block` is written at, or None when it does not fit (or no slot is free)."""
        if len(block) > self.size or not self.free:
            return None
        start = self.free.pop() * self.size
        self.memory[start:start + len(block)] = block
        return start

    def read(self, start: int, length: int) -> bytes:
        """The block written at `start` (in a worker)."""
        return self.memory[start:start + length]

    def release(self, start: int | None) -> None:
        """The slot at `start` is free again (None: the block went by the pipe)."""
        if start is not None:
            self.free.append(start // self.size)


def _rows(pool: ProcessPoolExecutor, blocks: Iterator[tuple[bytes, str]], limit: int,
          slots: Slots) -> Iterator[Row]:
    """The workers' rows, block after block in input order, with at most `limit` in flight
    (with `limit` slots, a block that fits always finds one free)."""
    pending: deque[tuple[Future[list[Row]], int | None]] = deque()
    for block, _name in blocks:
        start = slots.put(block)
        pending.append((pool.submit(work, block) if start is None else
                        pool.submit(work_shared, start, len(block)), start))
        if len(pending) >= limit:
            yield from _taken(pending.popleft(), slots)
    while pending:
        yield from _taken(pending.popleft(), slots)


def _taken(sent: tuple[Future[list[Row]], int | None], slots: Slots) -> list[Row]:
    """A block's rows, its slot freed."""
    future, start = sent
    rows = future.result()
    slots.release(start)
    return rows


def _outcomes(rows: Iterator[Row], replay: Replay, start: dt.date | None,
              end: dt.date | None) -> Iterator[Outcome]:
    """Rows back to `snapshot.outcome`s; matches of dated papers in [start, end] go to the
    selector (an undated paper is never replayed: its matches would wait forever)."""
    remember = replay.selector.remember
    hits: dict[tuple[Any, ...], Hit] = {}   # one Hit object per distinct hit (they are values)
    for row in rows:
        if not isinstance(row, tuple):
            yield row   # a reason or None
        elif isinstance(row[0], str):
            yield Paper(row[0], "", day=row[1])   # a Skeleton
        else:
            values, plain = row
            paper = Paper(**dict(zip(_PAPER_FIELDS, values, strict=True)))
            day = paper.day
            if day is not None and not ((start and day < start) or (end and day > end)):
                remember(paper, [(order, tuple(hits.get(h) or hits.setdefault(h, _hit(h))
                                               for h in found), score, reasons)
                                 for order, found, score, reasons in plain])
            yield paper


def _plain(paper: Paper, matches: list[MatchRow]) -> Matched:
    """A matched paper as plain values: dataclasses unpickle field by field in Python (the
    parent's largest cost in taking rows back), tuples of values in C."""
    return (tuple([getattr(paper, name) for name in _PAPER_FIELDS]),
            [(order, tuple(tuple([getattr(h, name) for name in _HIT_FIELDS]) for h in hits),
              score, reasons) for order, hits, score, reasons in matches])


def _hit(values: tuple[Any, ...]) -> Hit:
    return Hit(**dict(zip(_HIT_FIELDS, values, strict=True)))


def work(block: bytes) -> list[Row]:
    """In a worker: each line's outcome; a paper with its matches, else (id, day) only.

    A paper that matches no topic goes back as a skeleton (its id and day): the selection
    drops it unread either way, so only matched papers are shipped whole.

    The block is raw bytes (see `snapshot.byte_blocks`): decoding and splitting happen here,
    not in the parent, which only decompresses.
    """
    replay = _replay
    if replay is None:
        raise RuntimeError("replay.jobs.work runs in a worker forked by replay_papers")
    keep, match_rows = replay.keep, replay.selector.match_rows
    days: dict[str, dt.date | None] = {}
    rows: list[Row] = []
    for line in split_block(block):
        out = outcome_of(line, days, keep, _as_row)   # a skeleton comes as (id, day)
        if not isinstance(out, Paper):
            rows.append(out)
        elif out.title and (matches := match_rows(out)):
            rows.append(_plain(out, matches))
        else:   # a kept paper that matches nothing: select would drop it unread, as a skeleton
            rows.append((out.id, out.day))
    return rows


def work_shared(start: int, length: int) -> list[Row]:
    """`work` for a block the parent wrote to the shared slots (see `Slots`)."""
    if _slots is None:
        raise RuntimeError("replay.jobs.work_shared runs in a worker forked by replay_papers")
    return work(_slots.read(start, length))


def _as_row(pid: str, day: dt.date | None) -> Skeleton:
    return pid, day
