"""What checking the state file costs when a process opens it for writing (issue 17).

Builds a state with `--candidates` candidates (each with its paper: a 1,000-character abstract,
five authors, comments; about 1.5 KiB a row, as a real poll stores them), then times, best of
`--repeat`, with the file in the page cache:

- `PRAGMA quick_check` alone, and `PRAGMA integrity_check` for comparison;
- `Store.open` (file checks + quick_check + WAL + migration check) and `Store.open_copy`.

    .venv/bin/python bench/state_check.py [--candidates 100000] [--repeat 5] [--keep state.db]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from arxivwatch.models import Candidate, Hit, Paper
from arxivwatch.store import Store

DAY = dt.date(2026, 11, 24)
ABSTRACT = ("We study low-rank adaptation of large language models and mixture-of-experts "
            "layers under a fixed memory budget. ") * 9


def candidate(n: int) -> Candidate:
    paper = Paper(id=f"{2000 + n // 90000}.{n % 90000 + 10000:05d}", version=1,
                  title=f"Paper {n}: Low-Rank Adaptation at Scale", abstract=ABSTRACT[:1000],
                  authors=tuple(f"Author {n}-{k}" for k in range(5)),
                  categories=("cs.LG", "cs.CL"), comments="12 pages, 4 figures", day=DAY)
    return Candidate(paper, "lora", "LLM Training > Techniques", 1.5, DAY,
                     hits=(Hit("LoRA", "ti"),), reasons=("title: LoRA",), rank=n % 10 + 1)


def build(path: Path, count: int) -> None:
    with Store.open(f"sqlite:///{path}") as store:
        for start in range(0, count, 5000):
            store.add_candidates([candidate(n) for n in range(start, min(start + 5000, count))])


def best(repeat: int, action: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def pragma(path: Path, name: str) -> Callable[[], object]:
    def run() -> object:
        conn = sqlite3.connect(path)
        try:
            return conn.execute(f"PRAGMA {name}").fetchall()
        finally:
            conn.close()
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="build the state here and keep it")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = args.keep or Path(folder) / "state.db"
        if not path.exists():
            start = time.perf_counter()
            build(path, args.candidates)
            print(f"built {path} in {time.perf_counter() - start:.1f} s")
        url = f"sqlite:///{path}"
        pragma(path, "quick_check")()   # into the page cache
        print(f"state: {args.candidates} candidates, {path.stat().st_size / 2**20:.1f} MiB")
        for label, action in [
            ("PRAGMA quick_check", pragma(path, "quick_check")),
            ("PRAGMA integrity_check", pragma(path, "integrity_check")),
            ("Store.open (checked)", lambda: Store.open(url).close()),
            ("Store.open_copy (checked)", lambda: Store.open_copy(url).close()),
        ]:
            print(f"{label:<28} {best(args.repeat, action) * 1000:8.0f} ms")


if __name__ == "__main__":
    main()
