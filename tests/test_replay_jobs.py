"""Tests for the parallel backtest reader: same papers, matches and output as the serial one."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import signal
import threading
from pathlib import Path

import pytest

from arxivwatch.catalog import Catalog
from arxivwatch.errors import ArxivWatchError
from arxivwatch.models import Hit, Paper, Topic
from arxivwatch.query import parse
from arxivwatch.ranking import default_scorer
from arxivwatch.ranking.base import DocLike, Scored
from arxivwatch.replay import jobs as replay_jobs
from arxivwatch.replay import snapshot
from arxivwatch.replay.days import Replay, in_range
from arxivwatch.replay.jobs import SMALL_INPUT, can_fork, default_jobs, replay_papers, work
from arxivwatch.replay.snapshot import (
    SnapshotError,
    SnapshotStats,
    read_snapshot,
    write_snapshot_line,
)

CATALOG = Catalog.parse("""\
## Training
### Techniques
- [LoRA: Low-Rank Adaptation of Large Language Models](https://arxiv.org/abs/2106.09685). Low rank adapters.
## Compression
### Low-rank
- [SVD-LLM: Truncation-aware SVD](https://arxiv.org/abs/2403.07378). Whitening before SVD compression.
""")
TOPICS = (
    Topic("lora", "Training > Techniques", parse('LoRA OR "low-rank adaptation"'),
          'LoRA OR "low-rank adaptation"', (), None),
    Topic("lowrank", "Compression > Low-rank", parse("SVD AND compress*"), "SVD AND compress*",
          (), 0.2),
)
DAY0 = dt.date(2024, 5, 1)
TITLES = ["LoRA for tiny models", "Whitened SVD compression of LLMs", "Graph networks",
          "Low-rank adaptation, revisited", "Protein folding", "SVD and LoRA compression"]

needs_fork = pytest.mark.skipif(not can_fork(), reason="workers are forked")


def papers(n: int) -> list[Paper]:
    """n papers over a few days, a third of them matching a topic."""
    return [Paper(f"2405.{i:05d}", f"{TITLES[i % len(TITLES)]} #{i}",
                  f"Abstract {i} about {TITLES[(i * 7) % len(TITLES)].lower()}.",
                  categories=("cs.LG",), day=DAY0 + dt.timedelta(days=i // 40), version=1)
            for i in range(n)]


def write(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def replay_out(path: Path, jobs: int | None, start: dt.date | None = None,
               end: dt.date | None = None) -> tuple[str, Replay, SnapshotStats]:
    """The --out text, replay and read counts, serial (jobs None) or with `jobs` workers."""
    out = io.StringIO()
    replay = Replay(TOPICS, default_scorer(CATALOG.sections), known=CATALOG.index().knows,
                    cap=3, out=out)
    stats = SnapshotStats()
    read = (read_snapshot(path, keep=replay.keep, stats=stats) if jobs is None
            else replay_papers(path, replay, jobs=jobs, stats=stats, start=start, end=end))
    replay.run(in_range(read, start, end))
    return out.getvalue(), replay, stats


@needs_fork
@pytest.mark.parametrize("chunk", [200, 1 << 20])
def test_workers_give_the_serial_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        chunk: int) -> None:
    """Two workers, one block or many: the same JSON lines and figures as one process."""
    monkeypatch.setattr(snapshot, "CHUNK", chunk)
    lines = [write_snapshot_line(p) for p in papers(300)]
    lines[5:5] = ["not json", "", '{"id": "2405.99999"}']
    path = write(tmp_path / "snap.jsonl", lines)
    serial, one, read_one = replay_out(path, None)
    parallel, two, read_two = replay_out(path, 2)
    assert serial.count("\n") > 50
    assert parallel == serial
    assert dataclasses.asdict(two.stats) == dataclasses.asdict(one.stats)
    assert read_two == read_one
    assert read_one.skipped == 2
    assert two.topic_stats == one.topic_stats
    assert not two.selector._ready   # every remembered match was used


@needs_fork
def test_blocks_too_large_for_a_slot_go_by_the_pipe(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of one line (294 to 334 bytes), slots of 314: some go through shared memory,
    some by the pipe, and the output is the serial one."""
    monkeypatch.setattr(snapshot, "CHUNK", 200)
    monkeypatch.setattr(replay_jobs, "SLOT_BYTES", 314)
    sent: list[str] = []
    submit = replay_jobs.ProcessPoolExecutor.submit
    monkeypatch.setattr(replay_jobs.ProcessPoolExecutor, "submit", lambda pool, fn, *args: (
        sent.append(fn.__name__) or submit(pool, fn, *args)))
    path = write(tmp_path / "snap.jsonl", [write_snapshot_line(p) for p in papers(300)])
    serial, *_ = replay_out(path, None)
    parallel, replay, _ = replay_out(path, 2)
    assert parallel == serial
    assert {"work", "work_shared"} <= set(sent)
    assert not replay.selector._ready
    assert replay_jobs._slots is None


def test_slots_give_back_what_was_put_and_are_reused() -> None:
    """A block that fits is written to a free slot and read back; too large, or no slot free:
    None (the caller pipes it); a released slot is used again."""
    slots = replay_jobs.Slots(2, 8)
    first, second = slots.put(b"abcdefgh"), slots.put(b"xyz")
    assert first is not None
    assert second is not None
    assert {first, second} == {0, 8}
    assert slots.read(first, 8) == b"abcdefgh"
    assert slots.read(second, 3) == b"xyz"
    assert slots.put(b"no room") is None
    slots.release(first)
    assert slots.put(b"123456789") is None   # larger than a slot
    assert slots.put(b"again") == first
    assert slots.read(first, 5) == b"again"
    slots.release(None)   # a piped block: nothing to free


@needs_fork
def test_workers_end_even_when_the_parent_ignores_sigterm(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGTERM handler in the parent (as `run` installs) does not keep the pool alive."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        monkeypatch.setattr(snapshot, "CHUNK", 200)
        path = write(tmp_path / "snap.jsonl", [write_snapshot_line(p) for p in papers(300)])
        serial, *_ = replay_out(path, None)
        # without the workers' own handlers this hung within a few runs (pool.terminate)
        runs = [replay_out(path, 2)[0] for _ in range(5)]
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert runs == [serial] * 5


@needs_fork
def test_workers_respect_the_date_range(tmp_path: Path) -> None:
    """--from/--to: the same lines as serially, and no match is left waiting for its day."""
    path = write(tmp_path / "snap.jsonl", [write_snapshot_line(p) for p in papers(300)])
    start, end = DAY0 + dt.timedelta(days=2), DAY0 + dt.timedelta(days=4)
    serial, *_ = replay_out(path, None, start, end)
    parallel, replay, _ = replay_out(path, 2, start, end)
    assert parallel == serial
    assert '"day": "2024-05-02"' not in parallel
    assert not replay.selector._ready


@needs_fork
def test_undated_papers_leave_no_match_waiting(tmp_path: Path) -> None:
    """A paper with no day is never replayed, so its matches are not kept for it."""
    undated = [dataclasses.replace(p, id=f"2405.{90000 + i}", day=None, version=0)
               for i, p in enumerate(papers(60))]
    path = write(tmp_path / "snap.jsonl", [write_snapshot_line(p) for p in papers(60) + undated])
    serial, one, _ = replay_out(path, None)
    parallel, two, _ = replay_out(path, 2)
    assert parallel == serial
    assert two.stats.undated == one.stats.undated == 60
    assert not two.selector._ready


@needs_fork
@pytest.mark.parametrize("relative", [False, True])
def test_a_file_of_bad_lines_is_the_same_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                               relative: bool) -> None:
    """A file that is not a snapshot raises the serial reader's error, path and lines included."""
    path = write(tmp_path / "notes.txt", ["", "hello", "{}"])
    if relative:
        monkeypatch.chdir(tmp_path)
        path = Path("notes.txt")
    with pytest.raises(SnapshotError) as serial:
        replay_out(path, None)
    with pytest.raises(SnapshotError) as parallel:
        replay_out(path, 2)
    assert str(parallel.value) == str(serial.value)
    assert "line 2" in str(parallel.value)
    assert str(tmp_path / "notes.txt") in str(parallel.value)


class KillerScorer:
    """Kills the worker process that scores paper #102 (as the OOM killer might)."""

    def __init__(self) -> None:
        self.parent = os.getpid()

    def score(self, doc: DocLike, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        if doc.paper.id == "2405.00102" and os.getpid() != self.parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return Scored(0.5)


@needs_fork
def test_a_killed_worker_is_an_error_not_a_hang(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker killed mid-block (out of memory, say): a clear error, not a wait forever."""
    monkeypatch.setattr(snapshot, "CHUNK", 200)
    path = write(tmp_path / "snap.jsonl", [write_snapshot_line(p) for p in papers(300)])
    replay = Replay(TOPICS, KillerScorer(), known=None, cap=3)
    caught: list[BaseException] = []

    def run() -> None:
        try:
            replay.run(replay_papers(path, replay, jobs=2))
        except BaseException as exc:
            caught.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(60)   # the fix answers in well under a second; before it, this hung forever
    assert not thread.is_alive(), "the backtest hangs on a dead worker"
    (error,) = caught
    assert isinstance(error, ArxivWatchError)
    assert "--jobs" in str(error)


def test_workers_that_cannot_start_mean_one_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """No semaphores (a container without /dev/shm): a warning, then the serial output."""
    def no_pool(*args: object, **kwargs: object) -> None:
        raise OSError(38, "Function not implemented")

    made: list[replay_jobs.Slots] = []
    real_slots = replay_jobs.Slots

    def slots(count: int, size: int) -> replay_jobs.Slots:
        made.append(real_slots(count, size))
        return made[-1]

    path = write(tmp_path / "snap.jsonl", [write_snapshot_line(p) for p in papers(50)])
    serial = replay_out(path, None)
    monkeypatch.setattr(replay_jobs, "ProcessPoolExecutor", no_pool)
    monkeypatch.setattr(replay_jobs, "Slots", slots)
    with caplog.at_level("WARNING"):
        parallel = replay_out(path, 2)
    assert parallel[0] == serial[0]
    assert "cannot start 2 worker processes" in caplog.text
    assert replay_jobs._replay is None
    assert [s.memory.closed for s in made] == [True]   # its shared memory is let go


def test_one_job_reads_serially(tmp_path: Path) -> None:
    """jobs=1 is the serial reader (no worker): same papers as read_snapshot with keep."""
    path = write(tmp_path / "snap.jsonl", [write_snapshot_line(p) for p in papers(50)])
    replay = Replay(TOPICS, default_scorer(CATALOG.sections), known=None, cap=3)
    got = list(replay_papers(path, replay, jobs=1))
    assert got == list(read_snapshot(path, keep=replay.keep))
    assert not replay.selector._ready


def test_work_outside_a_worker_is_an_error() -> None:
    """`work` needs the replay a forked worker inherits."""
    with pytest.raises(RuntimeError, match="forked by replay_papers"):
        work(b"{}")
    with pytest.raises(RuntimeError, match="forked by replay_papers"):
        replay_jobs.work_shared(0, 2)


def test_default_jobs_is_at_least_one() -> None:
    """The automatic job count is a positive number of CPUs."""
    assert default_jobs() >= 1


def test_a_small_input_is_read_serially(tmp_path: Path) -> None:
    """Automatic jobs: 1 under SMALL_INPUT bytes, the CPU count from there on."""
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_bytes(b"x" * (SMALL_INPUT - 1))
    large.write_bytes(b"x" * SMALL_INPUT)
    assert default_jobs(small) == 1
    assert default_jobs(large) == default_jobs()
    assert default_jobs(tmp_path / "missing.jsonl") == default_jobs()
    assert default_jobs(large, platform="darwin") == 1    # Python does not fork there by default
    assert default_jobs(large, platform="linux") == default_jobs(platform="linux")


def test_remembered_matches_are_used_for_that_paper_only() -> None:
    """`Selector.remember` answers for that very object; an equal-id copy is matched anew."""
    replay = Replay(TOPICS, default_scorer(CATALOG.sections), known=None, cap=3)
    selector = replay.selector
    lora = Paper("2405.00001", "LoRA for tiny models", day=DAY0)
    selector.remember(lora, [(1, (), 0.123, ("made up",))])
    (cand,) = selector.select([lora], cap=3, day=DAY0)
    assert (cand.topic, cand.score, cand.reasons) == ("lowrank", 0.123, ("made up",))
    selector.remember(lora, [(1, (), 0.123, ())])
    copy = dataclasses.replace(lora)
    (cand,) = selector.select([copy], cap=3, day=DAY0)
    assert cand.topic == "lora"
    assert cand.score != 0.123
    selector.remember(lora, [])
    assert selector.select([lora], cap=3, day=DAY0) == []


def test_keep_memory_is_a_no_op_without_mallopt(monkeypatch: pytest.MonkeyPatch) -> None:
    """glibc: malloc's thresholds are set; a C library without `mallopt` is left alone."""
    replay_jobs.keep_memory()   # this process's malloc, as a backtest's: it runs without error

    class NoMallopt:
        def __init__(self, _name: object) -> None:
            pass

    monkeypatch.setattr(replay_jobs.ctypes, "CDLL", NoMallopt)
    replay_jobs.keep_memory()
