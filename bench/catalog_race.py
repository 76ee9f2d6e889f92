"""A person editing the catalog while arxivwatch files approvals into it (issue 17).

Two measurements on a throwaway copy of the shipped catalog:

- **appends**: another process appends one line to the catalog every `--interval` seconds
  (open, append, close: what a script or `echo >>` does) while this process files `--approvals`
  papers one by one through `catalog_file.add_to_catalog`, the approval's own write. Afterwards
  every appended line and every approved line must be in the file; the lost ones are counted.
- **kills**: a child process files papers in a loop and is killed with SIGKILL in the middle of a
  write (as soon as its temporary file appears, after a random delay), `--kills` times; the
  catalog must parse whole each time, and the temporary files left beside it are counted before
  and after one more (normal) write.

    .venv/bin/python bench/catalog_race.py [--approvals 30] [--interval 0.001] [--kills 6]

Prints one line per measurement; exit status 1 when anything was lost or left behind.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

from arxivwatch.catalog import Catalog
from arxivwatch.catalog_file import add_to_catalog

ROOT = Path(__file__).resolve().parents[1]
SECTION = "LLM Training > Techniques"


def approved(n: int) -> str:
    return f"- [Arxiv 2026] [Approved paper {n}](https://arxiv.org/abs/2611.{n:05d}). Summary {n}."


def appended(n: int) -> str:
    return f"appended by a person, line {n}"


def appender(path: str, interval: float, stop: multiprocessing.synchronize.Event) -> None:
    """Append numbered lines until told to stop; print how many."""
    n = 0
    while not stop.is_set():
        with open(path, "a", encoding="utf-8") as out:
            out.write(appended(n) + "\n")
        n += 1
        time.sleep(interval)
    print(n, flush=True)


def measure_appends(folder: Path, approvals: int, interval: float) -> bool:
    path = folder / "README.md"
    path.write_bytes((ROOT / "catalog" / "README.md").read_bytes())
    ctx = multiprocessing.get_context("fork")
    stop = ctx.Event()
    reader, writer = os.pipe()
    child = ctx.Process(target=_appender_to, args=(writer, str(path), interval, stop))
    child.start()
    time.sleep(0.2)
    for n in range(approvals):
        add_to_catalog(path, SECTION, approved(n), "top")
        time.sleep(0.05)
    stop.set()
    child.join()
    count = int(os.read(reader, 64).decode())
    text = path.read_text(encoding="utf-8")
    lines = set(text.splitlines())
    lost = [n for n in range(count) if appended(n) not in lines]
    missing = [n for n in range(approvals) if approved(n) not in lines]
    print(f"appends: {count} lines appended beside {approvals} approvals: {len(lost)} lost, "
          f"{len(missing)} approvals missing")
    return not lost and not missing


def _appender_to(fd: int, path: str, interval: float,
                 stop: multiprocessing.synchronize.Event) -> None:
    os.dup2(fd, sys.stdout.fileno())
    appender(path, interval, stop)


def filer(path: str, start: int) -> None:
    """File papers forever (until killed)."""
    for n in range(start, start + 1_000_000):
        add_to_catalog(Path(path), SECTION, approved(n), "top")


def measure_kills(folder: Path, kills: int) -> bool:
    path = folder / "README.md"
    big = (ROOT / "catalog" / "README.md").read_text(encoding="utf-8")
    path.write_text(big + "".join(f"{appended(n)}\n" for n in range(20_000)), encoding="utf-8")
    ctx = multiprocessing.get_context("fork")
    rng = random.Random(17)
    whole = True
    for k in range(kills):
        child = ctx.Process(target=filer, args=(str(path), 10_000 * (k + 1)))
        child.start()
        time.sleep(rng.random() * 0.3)
        _wait_for_a_temp(path, before=_temps(path))
        os.kill(child.pid or 0, signal.SIGKILL)
        child.join()
        whole = whole and bool(Catalog.parse(path.read_text(encoding="utf-8")).sections)
    before = _temps(path)
    add_to_catalog(path, SECTION, approved(1), "top")
    after = _temps(path)
    print(f"kills: {kills} kills mid-write, catalog whole every time: {whole}; temporary files "
          f"left: {before} before the next write, {after} after it")
    return whole and after == 0


def _wait_for_a_temp(path: Path, *, before: int, limit: float = 10.0) -> None:
    """Returns as soon as the child has a temporary file open: it is in the middle of a write."""
    deadline = time.monotonic() + limit
    while _temps(path) == before and time.monotonic() < deadline:
        pass


def _temps(path: Path) -> int:
    return sum(1 for p in path.parent.iterdir() if p.name.endswith(".tmp"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--approvals", type=int, default=30)
    parser.add_argument("--interval", type=float, default=0.001)
    parser.add_argument("--kills", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        ok = measure_appends(Path(a), args.approvals, args.interval)
        ok = measure_kills(Path(b), args.kills) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
