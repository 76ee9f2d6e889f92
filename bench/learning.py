"""Benchmark: does the learned ranking beat the query-only ranking as decisions accumulate?

Replays `arxiv-sample.jsonl.gz` day by day twice with the shipped config: once with the default
(query + catalog) ranking, once with the learned part blended in and a simulated curator who
approves a posted candidate when labels-dev.tsv files it in that section and rejects it
otherwise (`backtest --curator`). Reports, per labelled section and per quarter: recall of the
labelled papers among the posted ones, ROC AUC of the score over the section's matches, digest
size and the labelled share of the digest; writes bench/auc_over_time.png.

    .venv/bin/python bench/learning.py [--data ../shared/data] [--weight 2] [--misses]
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from arxivwatch import catalog_file, config
from arxivwatch.learning.model import Policy
from arxivwatch.learning.scorer import DEAD_ZONE, WEIGHT
from arxivwatch.models import Candidate, Paper
from arxivwatch.ranking import SectionLike, default_scorer, either, section_key
from arxivwatch.ranking.select import Known
from arxivwatch.replay.curator import CuratedReplay, Curator, LearningLoop
from arxivwatch.replay.days import Replay, group_days
from arxivwatch.replay.labels import Labels, parse_labels
from arxivwatch.replay.snapshot import read_snapshot
from arxivwatch.store import Store

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Cell:
    """One label's figures over one period."""

    labelled: int = 0
    found: int = 0
    posted: int = 0
    posted_labelled: int = 0
    scores: list[tuple[float, bool]] = field(default_factory=list)

    def recall(self) -> float | None:
        return self.found / self.labelled if self.labelled else None

    def auc(self) -> float | None:
        return auc([s for s, y in self.scores if y], [s for s, y in self.scores if not y])

    def add(self, other: Cell) -> None:
        self.labelled += other.labelled
        self.found += other.found
        self.posted += other.posted
        self.posted_labelled += other.posted_labelled
        self.scores += other.scores


def auc(pos: Sequence[float], neg: Sequence[float]) -> float | None:
    """Mann-Whitney ROC AUC, ties counted half."""
    if not pos or not neg:
        return None
    ranked = sorted([(s, 1) for s in pos] + [(s, 0) for s in neg])
    wins, i = 0.0, 0
    negs_below = 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        p = sum(y for _, y in ranked[i:j])
        n = (j - i) - p
        wins += p * (negs_below + n / 2)
        negs_below += n
        i = j
    return wins / (len(pos) * len(neg))


def quarter(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


class Recorder:
    """Per (label, quarter) cells from each replayed day."""

    def __init__(self, labels: Labels, is_known: Callable[[Paper], bool]) -> None:
        self.labels, self.is_known = labels, is_known
        self.keys = {n: {section_key(s) for s in secs} for n, secs in labels.sections.items()}
        self.cells: dict[tuple[str, str], Cell] = defaultdict(Cell)
        self.misses: list[tuple[str, Candidate]] = []
        self.posted: list[tuple[str, Candidate]] = []

    def day(self, day: dt.date, batch: list[Paper], cands: list[Candidate]) -> None:
        q = quarter(day)
        for paper in batch:
            for name in self.labels.by_id.get(paper.id, ()):
                if not self.is_known(paper):
                    self.cells[name, q].labelled += 1
        for cand in cands:
            key = section_key(cand.section)
            for name, keys in self.keys.items():
                if key not in keys:
                    continue
                has = name in self.labels.by_id.get(cand.paper.id, ())
                cell = self.cells[name, q]
                cell.scores.append((cand.score, has))
                if has and not cand.posted:
                    self.misses.append((name, cand))
                if cand.posted:
                    self.posted.append((name, cand))
                    cell.posted += 1
                    cell.posted_labelled += has
                    cell.found += has

    def total(self, name: str, since: str = "") -> Cell:
        out = Cell()
        for (n, q), cell in self.cells.items():
            if n == name and q >= since:
                out.add(cell)
        return out


def replay(days: list[tuple[dt.date, list[Paper]]], settings: config.Settings,
           sections: Sequence[SectionLike], papers: dict[str, Paper], index: Known,
           labels: Labels,
           learn: bool, weight: float, policy: Policy, retrain_every: int,
           dead_zone: float) -> Recorder:
    base = default_scorer(sections, papers)
    rec = Recorder(labels, either(index))
    cap = settings.digest.max_per_topic
    if learn:   # exactly what `backtest --curator` runs
        store = Store.open("sqlite:///:memory:")
        store.upsert_papers(papers.values(), source="catalog")
        loop = LearningLoop(store, Curator(labels), sections, settings.topics, policy=policy,
                            retrain_every=retrain_every, dead_zone=dead_zone)
        run: Replay = CuratedReplay(settings.topics, base, learning=loop, known=index,
                                             cap=cap, weight=weight)
    else:
        run = Replay(settings.topics, base, known=index, cap=cap)
    for i, (day, batch) in enumerate(days):
        rec.day(day, batch, run.day(day, batch))
        if i % 100 == 0:
            print(f"  {'learned' if learn else 'baseline'}: {day}", file=sys.stderr, flush=True)
    return rec


def fmt(x: float | None) -> str:
    return "  -  " if x is None else f"{x:.3f}"


def report(base: Recorder, learned: Recorder, names: list[str], quarters: list[str],
           warmup: str) -> str:
    lines = []
    for name in names:
        lines.append(f"\n### {name}\n")
        lines.append("| quarter | labelled | recall base | recall learned | AUC base | AUC learned "
                     "| posted base | posted learned | labelled share base | learned |")
        lines.append("|---|---|---|---|---|---|---|---|---|---|")
        for q in [*quarters, f">= {warmup}", "all"]:
            since = warmup if q.startswith(">=") else ""
            if q in quarters:
                b, l_ = base.cells[name, q], learned.cells[name, q]
            else:
                b, l_ = base.total(name, since), learned.total(name, since)
            share_b = b.posted_labelled / b.posted if b.posted else None
            share_l = l_.posted_labelled / l_.posted if l_.posted else None
            lines.append(f"| {q} | {b.labelled} | {fmt(b.recall())} | {fmt(l_.recall())} | "
                         f"{fmt(b.auc())} | {fmt(l_.auc())} | {b.posted} | {l_.posted} | "
                         f"{fmt(share_b)} | {fmt(share_l)} |")
    return "\n".join(lines)


def plot(base: Recorder, learned: Recorder, names: list[str], quarters: list[str],
         out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(names), figsize=(5 * len(names), 4), sharey=True)
    for ax, name in zip(axes, names, strict=True):
        for rec, label, style in ((base, "query + catalog", "--o"), (learned, "learned", "-o")):
            ys = [_cumulative_auc(rec, name, quarters[: i + 1]) for i in range(len(quarters))]
            ax.plot(quarters, [y if y is not None else float("nan") for y in ys], style,
                    label=label)
        ax.set_title(f"{name}: cumulative ROC AUC")
        ax.set_ylim(0.4, 1.0)
        ax.tick_params(axis="x", rotation=60)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("ROC AUC of score (labelled vs other matches)")
    axes[0].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def _cumulative_auc(rec: Recorder, name: str, quarters: list[str]) -> float | None:
    cell = Cell()
    for q in quarters:
        cell.add(rec.cells[name, q])
    return cell.auc()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--config", type=Path, default=ROOT / "config" / "topics.yaml")
    ap.add_argument("--weight", type=float, default=WEIGHT)
    ap.add_argument("--warmup", default="2024Q3", help="first quarter counted after warm-up")
    ap.add_argument("--no-weak", action="store_true")
    ap.add_argument("--min-negatives", type=int, default=Policy().min_negatives)
    ap.add_argument("--min-positives", type=int, default=Policy().min_positives)
    ap.add_argument("--dead-zone", type=float, default=DEAD_ZONE)
    ap.add_argument("--c", type=float, default=Policy().c)
    ap.add_argument("--retrain-every", type=int, default=1, help="days between rebuilds")
    ap.add_argument("--to", type=dt.date.fromisoformat, default=dt.date(2025, 3, 31),
                    help="last day replayed (labels-dev covers papers up to 2025-03)")
    ap.add_argument("--misses", action="store_true", help="list labelled papers not posted")
    ap.add_argument("--dump-posted", type=Path, help="write posted candidates (TSV) to read")
    ap.add_argument("--plot", type=Path, default=ROOT / "bench" / "auc_over_time.png")
    args = ap.parse_args()
    policy = Policy(weak_negatives=not args.no_weak, min_negatives=args.min_negatives, c=args.c,
                    min_positives=args.min_positives)

    settings = config.load(args.config, {})
    catalog = catalog_file.load_catalog(settings.catalog.path)
    sections = list(catalog.sections)
    papers = {p.id: p for p in read_snapshot(args.data / "catalog-papers.jsonl")}
    labels = parse_labels((args.data / "labels-dev.tsv").read_text(),
                                   topics=settings.topics)
    t0 = time.perf_counter()
    sample = read_snapshot(args.data / "arxiv-sample.jsonl.gz")
    days = [(d, b) for d, b in group_days(sample) if d <= args.to]
    t1 = time.perf_counter()
    index = catalog.index().knows
    base = replay(days, settings, sections, papers, index, labels, False, args.weight, policy,
                  args.retrain_every, args.dead_zone)
    t2 = time.perf_counter()
    learned = replay(days, settings, sections, papers, index, labels, True, args.weight, policy,
                  args.retrain_every, args.dead_zone)
    t3 = time.perf_counter()
    names = sorted(labels.sections)
    quarters = sorted({q for _, q in base.cells})
    print(f"days {len(days)}; read {t1 - t0:.1f}s; baseline {t2 - t1:.1f}s; "
          f"learned {t3 - t2:.1f}s; policy {policy}; weight {args.weight}")
    print(report(base, learned, names, quarters, args.warmup))
    plot(base, learned, names, quarters, args.plot)
    if args.dump_posted:
        with args.dump_posted.open("w") as f:
            for which, rec in (("base", base), ("learned", learned)):
                for name, c in rec.posted:
                    f.write(f"{which}\t{name}\t{c.paper.id}\t{c.score:.3f}\t{c.paper.title}\n")
    if args.misses:
        for which, rec in (("base", base), ("learned", learned)):
            for name, cand in rec.misses:
                print(f"missed by {which}: {name} {cand.paper.id} {cand.day} {cand.score:.3f} "
                      f"{cand.topic} {cand.paper.title[:70]} | {'; '.join(cand.reasons)[-90:]}")
    print(f"\nplot: {args.plot}")


if __name__ == "__main__":
    main()
