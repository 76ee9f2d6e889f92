"""Speed and memory of `arxivwatch backtest` against just reading the snapshot (issue 3, "Speed").

In one run, each measurement in its own fresh Python process (so peak RSS is its own):
  (a) gzip + json.loads of every line of ../shared/data/arxiv-sample.jsonl.gz (the floor);
  (b) `arxivwatch backtest --papers <sample>` with the shipped config (catalog abstracts from
      catalog-papers.jsonl, as the quality bench), in-process through the click command;
  (c) the same backtest over the sample concatenated 10 times (a multi-member .gz), to show
      that peak memory stays flat as the input grows.

    .venv/bin/python bench/speed.py [--repeat 3]

Prints wall times (best of --repeat), the ratio (b)/(a), papers per second and peak RSS.
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
    if kind == "backtest":      # interpreter start and imports are not the replay's cost
        import arxivwatch.cli.backtest_cmd
        import arxivwatch.config
        import arxivwatch.query  # noqa: F401
    start = time.perf_counter()
    lines = _read(path) if kind == "read" else _backtest(path)
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "lines": lines, "rss_mb": rss_mb}))


def _read(path: str) -> int:
    n = 0
    with gzip.open(path, "rb") as f:
        for line in f:
            json.loads(line)
            n += 1
    return n


def _backtest(path: str) -> int:
    from click.testing import CliRunner

    from arxivwatch.cli import _register, cli

    _register()
    config = str(ROOT / "config" / "topics.yaml")
    result = CliRunner().invoke(cli, ["--config", config, "backtest", "--papers", path,
                                      "--catalog-papers", str(CATALOG_PAPERS)])
    if result.exit_code != 0:
        raise SystemExit(f"backtest failed: {result.output}")
    return int(result.output.split()[0])


def measure(kind: str, path: Path, repeat: int) -> dict[str, float]:
    """Best wall time of `repeat` fresh processes, and the largest peak RSS seen."""
    runs = []
    for _ in range(repeat):
        out = subprocess.run([sys.executable, __file__, "--child", kind, str(path)],
                             check=True, capture_output=True, text=True).stdout
        runs.append(json.loads(out.splitlines()[-1]))
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "rss_mb": max(r["rss_mb"] for r in runs)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", nargs=2, metavar=("KIND", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    read = measure("read", SAMPLE, args.repeat)
    replay = measure("backtest", SAMPLE, args.repeat)
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
          f"{read['lines'] / read['seconds']:8.0f} lines/s  peak RSS {read['rss_mb']:.0f} MB")
    rate = replay["lines"] / replay["seconds"]
    print(f"(b) backtest, sample       {replay['seconds']:6.2f} s  {replay['lines']} papers  "
          f"{rate:8.0f} papers/s  peak RSS {replay['rss_mb']:.0f} MB")
    print(f"(c) backtest, sample x10   {big['seconds']:6.2f} s  {big['lines']} papers  "
          f"{big['lines'] / big['seconds']:8.0f} papers/s  peak RSS {big['rss_mb']:.0f} MB")
    print(f"ratio (b)/(a) = {ratio:.2f}  (target <= 3)")


if __name__ == "__main__":
    main()
