"""Speed and memory of `arxivwatch backtest` against just reading the snapshot (issue 3, "Speed").

In one run, each measurement in its own fresh Python process (so peak RSS is its own):
  (a) gzip + json.loads of every line of ../shared/data/arxiv-sample.jsonl.gz (the floor);
  (b) `arxivwatch backtest --papers <sample>` with the shipped config (catalog abstracts from
      catalog-papers.jsonl, as the quality bench), in-process through the command's library
      (`replay.build`: `build_replay`, `run_backtest`) and its report;
  (b1) the same with `--jobs 1` (one process: the algorithmic part alone);
  (c) the same backtest over the sample concatenated 10 times (a multi-member .gz), to show
      that peak memory stays flat as the input grows.

(b) and (c) run with the default `--jobs` (one worker process per CPU). Peak RSS is given for
the measuring process and, separately, for its largest worker.

    .venv/bin/python bench/speed.py [--repeat 3]

Prints wall times (best of --repeat), the ratio (b)/(a), papers per second, peak RSS and the
CPU seconds of that same run (the measuring process and its workers: on a shared machine the
wall time moves with other jobs' load, the CPU time much less).
"""

from __future__ import annotations

import argparse
import gzip
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
SAMPLE = DATA / "arxiv-sample.jsonl.gz"
CATALOG_PAPERS = DATA / "catalog-papers.jsonl"


def child(kind: str, path: str) -> None:
    """Run one measurement in this process; print seconds, lines and peak RSS as JSON."""
    if kind.startswith("backtest"):   # interpreter start and imports are not the replay's cost
        import arxivwatch.catalog_file
        import arxivwatch.config
        import arxivwatch.query
        import arxivwatch.replay.build
        import arxivwatch.replay.report  # noqa: F401
    before = resource.getrusage(resource.RUSAGE_SELF)
    cpu_before = before.ru_utime + before.ru_stime
    start = time.perf_counter()
    jobs = 1 if kind == "backtest-serial" else 0
    lines = _read(path) if kind == "read" else _backtest(path, jobs)
    seconds = time.perf_counter() - start
    own, workers = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                        resource.RUSAGE_CHILDREN))
    cpu = own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime - cpu_before
    print(json.dumps({"seconds": seconds, "lines": lines, "rss_mb": own.ru_maxrss / 1024,
                      "worker_mb": workers.ru_maxrss / 1024, "cpu": cpu}))


def _read(path: str) -> int:
    n = 0
    with gzip.open(path, "rb") as f:
        for line in f:
            json.loads(line)
            n += 1
    return n


def _backtest(path: str, jobs: int) -> int:
    """`arxivwatch backtest --papers path --catalog-papers CATALOG_PAPERS [--jobs 1]`."""
    from arxivwatch.catalog_file import load_catalog
    from arxivwatch.config import load
    from arxivwatch.replay.build import build_replay, run_backtest
    from arxivwatch.replay.report import format_report

    settings = load(ROOT / "config" / "topics.yaml", {})
    replay = build_replay(settings, load_catalog(settings.catalog.path), [CATALOG_PAPERS])
    run_backtest(replay, Path(path), jobs=jobs)
    return int(format_report(replay).split()[0])


def measure(kind: str, path: Path, repeat: int) -> dict[str, float]:
    """Best wall time of `repeat` fresh processes, and the largest peak RSS seen."""
    return measure_all([kind], path, repeat)[kind]


def measure_all(kinds: list[str], path: Path, repeat: int) -> dict[str, dict[str, float]]:
    """`measure` for each kind, the runs interleaved so that a busy moment hits all alike."""
    runs: dict[str, list[dict[str, float]]] = {kind: [] for kind in kinds}
    for _ in range(repeat):
        for kind in kinds:
            out = subprocess.run([sys.executable, __file__, "--child", kind, str(path)],
                                 check=True, capture_output=True, text=True).stdout
            runs[kind].append(json.loads(out.splitlines()[-1]))
    return {kind: {**min(rs, key=lambda r: r["seconds"]),
                   "rss_mb": max(r["rss_mb"] for r in rs),
                   "worker_mb": max(r["worker_mb"] for r in rs)}
            for kind, rs in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    found = measure_all(["read", "backtest", "backtest-serial"], SAMPLE, args.repeat)
    read, replay, serial = found["read"], found["backtest"], found["backtest-serial"]
    with tempfile.TemporaryDirectory() as tmp:
        tenfold = Path(tmp) / "sample-x10.jsonl.gz"
        data = SAMPLE.read_bytes()
        with tenfold.open("wb") as f:   # ten gzip members, one stream
            for _ in range(10):
                f.write(data)
        del data
        big = measure("backtest", tenfold, 1)
    ratio = replay["seconds"] / read["seconds"]
    print(f"(a) gzip + json.loads      {read['seconds']:6.2f} s  {read['lines']} lines  "
          f"{read['lines'] / read['seconds']:8.0f} lines/s  peak RSS {read['rss_mb']:.0f} MB"
          f"  CPU {read['cpu']:.2f} s")
    for label, m in (("(b) backtest, sample      ", replay),
                     ("(b1) same, --jobs 1       ", serial),
                     ("(c) backtest, sample x10  ", big)):
        print(f"{label}{m['seconds']:6.2f} s  {m['lines']} papers  "
              f"{m['lines'] / m['seconds']:8.0f} papers/s  peak RSS {m['rss_mb']:.0f} MB"
              f" (largest worker {m['worker_mb']:.0f} MB)  CPU {m['cpu']:.2f} s")
    print(f"ratio (b)/(a) = {ratio:.2f}  (target <= 3); "
          f"(b1)/(a) = {serial['seconds'] / read['seconds']:.2f}")


if __name__ == "__main__":
    main()
