"""Quality of the shipped topics and ranking on the real sample (issue 3, "Quality").

Runs the backtest exactly as `arxivwatch backtest` does (default config, the catalog papers'
abstracts known) over ../shared/data/arxiv-sample.jsonl.gz with labels-dev.tsv, and prints:
the per-topic table, per label section recall / AUC / posts per day against the targets, and the
precision measured by reading: bench/precision-sample-<label>.tsv holds a random sample of
posted candidates judged by hand against ../shared/docs/sections.md (id, verdict, reason).

    .venv/bin/python bench/quality.py                 # figures
    .venv/bin/python bench/quality.py --draw 50       # (re)draw samples to judge: prints them

Drawing writes the sample files with an empty verdict column; fill it with `in` or `out`.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import textwrap
from collections import Counter
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

from arxivwatch.catalog_file import load_catalog
from arxivwatch.config import load
from arxivwatch.ranking import section_key
from arxivwatch.replay.build import build_scorer
from arxivwatch.replay.days import Replay
from arxivwatch.replay.labels import LABEL_SECTIONS, parse_labels
from arxivwatch.replay.report import format_report
from arxivwatch.replay.snapshot import read_snapshot

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
BENCH = ROOT / "bench"
TARGETS = {"recall": 0.95, "precision": 0.70, "per_day": 1.5, "auc": 0.85}
SEED = 4
SWEEP = (0.6, 0.55, 0.5, 0.45, 0.4, 0.3, 0.2, 0.0)


def main() -> None:
    args = _args()
    settings = load(args.config, {})
    catalog = load_catalog(settings.catalog.path)
    labels = parse_labels(args.labels.read_text(encoding="utf-8"), topics=settings.topics)
    scorer = build_scorer(settings, catalog, [args.catalog_papers])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        replay = Replay(settings.topics, scorer, known=catalog.index().knows,
                        cap=settings.digest.max_per_topic, labels=labels, out=out)
        replay.run(read_snapshot(args.papers))
    print(format_report(replay), "\n")
    rows = [json.loads(line) for line in args.out.read_text(encoding="utf-8").splitlines()]
    for ls in replay.label_stats:
        if ls.name not in LABEL_SECTIONS:
            continue
        keys = {section_key(s) for s in ls.sections}
        posted = [r for r in rows if r["posted"] and section_key(r["section"]) in keys]
        topics = sorted({t.name for t in settings.topics if section_key(t.section) in keys})
        worst = max(replay.per_day_mean(t) for t in topics)
        print(f"== {ls.name} ({', '.join(topics)})")
        _line("recall of labelled papers", ls.recall, TARGETS["recall"],
              f"{ls.found}/{ls.labelled - ls.in_catalog}")
        _line("ROC AUC of score", ls.auc, TARGETS["auc"])
        _line("posts per day, worst topic", worst, TARGETS["per_day"], higher=False)
        _precision(ls.name, posted, args.draw, args.papers)
        _ceiling([r for r in rows if section_key(r["section"]) in keys], labels.by_id, ls.name,
                 ls.labelled - ls.in_catalog, topics, replay.stats.days,
                 settings.digest.max_per_topic)
        print()


def _line(what: str, value: float | None, target: float, detail: str = "", *,
          higher: bool = True) -> None:
    ok = value is not None and (value >= target if higher else value <= target)
    shown = "-" if value is None else f"{value:.3f}"
    print(f"  {what:<30} {shown:>7}  target {'>=' if higher else '<='} {target}"
          f"  {'ok' if ok else 'MISSED'}  {detail}")


def _precision(label: str, posted: list[dict[str, object]], draw: int, papers: Path) -> None:
    path = BENCH / f"precision-sample-{label}.tsv"
    if draw:
        _draw(path, posted, draw, papers)
    if not path.exists():
        print(f"  precision: no judged sample ({path.name}); run with --draw 50")
        return
    judged = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    still = {str(r["id"]) for r in posted}
    # A random sample of a larger posted set, restricted to what is still posted, is a random
    # sample of what is posted now: a higher min_score keeps the measure honest.
    verdicts = [v for i, v, *_ in judged if v in ("in", "out") and i in still]
    gone = [i for i, *_ in judged if i not in still]
    value = verdicts.count("in") / len(verdicts) if verdicts else None
    _line("precision (read sample)", value, TARGETS["precision"],
          f"{verdicts.count('in')}/{len(verdicts)} judged in, of {len(posted)} posted"
          + (f"; {len(gone)} sampled ids no longer posted, left out" if gone else ""))


def _ceiling(rows: list[dict[str, Any]], labels: Mapping[str, Set[str]], label: str,
             labelled: int, topics: list[str], days: int, cap: int) -> None:
    """Recall and posts/day if every topic of the section posted down to a lower min_score.

    The matches are the query's: no min_score reaches a labelled paper the queries do not give
    to these topics (one they miss, or one another topic scores higher), so the last row is the
    most any threshold can find.
    """
    mine = {i for i, names in labels.items() if label in names}
    print(f"  recall and posts/day by min_score (all {len(topics)} topics of the section "
          f"at once; cap {cap}):")
    for floor in SWEEP:
        posted = [r for r in rows if r["score"] >= floor and r["rank"] <= cap]
        per_topic = Counter(str(r["topic"]) for r in posted)
        found = len(mine & {str(r["id"]) for r in posted})
        worst = max((per_topic[t] for t in topics), default=0) / max(days, 1)
        print(f"    >= {floor:.2f}  recall {found / max(labelled, 1):.3f} ({found}/{labelled})"
              f"  posted {len(posted):>5}  worst topic {worst:.2f}/day")


def _draw(path: Path, posted: list[dict[str, object]], size: int, papers: Path) -> None:
    """Write a random sample of posted candidates to judge, and print them to read."""
    sample = random.Random(SEED).sample(posted, min(size, len(posted)))
    sample.sort(key=lambda r: str(r["id"]))
    ids = {str(r["id"]) for r in sample}
    abstracts = {p.id: p.abstract for p in read_snapshot(papers) if p.id in ids}
    path.write_text("id\tverdict\treason\n" + "".join(f"{r['id']}\t\t\n" for r in sample),
                    encoding="utf-8")
    for r in sample:
        print(f"\n## {r['id']}  {r['topic']}  score {r['score']}\n{r['title']}")
        print(textwrap.fill(abstracts.get(str(r["id"]), ""), 110))


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "topics.yaml")
    parser.add_argument("--papers", type=Path, default=DATA / "arxiv-sample.jsonl.gz")
    parser.add_argument("--labels", type=Path, default=DATA / "labels-dev.tsv")
    parser.add_argument("--catalog-papers", type=Path, default=DATA / "catalog-papers.jsonl")
    parser.add_argument("--out", type=Path,
                        default=Path(tempfile.gettempdir()) / "arxivwatch-quality-replay.jsonl",
                        help="where the replay's JSON lines go")
    parser.add_argument("--draw", type=int, default=0, metavar="N",
                        help="draw N posted candidates per label section to judge by hand")
    return parser.parse_args()


if __name__ == "__main__":
    main()
