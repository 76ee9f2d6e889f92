"""Relevance on read verdicts (issues 11 and 19): the table, both regimes, and the weight fit.

A reviewer judged, against ../shared/docs/sections.md, the papers of the sample that a broad
pattern ties to each section (../shared/data/judged-dev.tsv and judged-other-dev.tsv: one half
of the verdicts; the other half is kept back). This script replays the whole sample through
`arxivwatch backtest`'s own code and prints, per verdict section: judged precision and recall of
what was posted, precision at judged recall 0.85 and 0.95 by score, the AUC, and the busiest
topic's posts per sample day, against the targets, for

- cold start: the shipped config, the catalog only, no decisions, the whole sample;
- the simulated curator (`backtest --curator` with the verdicts: 1 approves, 0 rejects, an
  unjudged paper gets no decision), measured from 2025-01-01 on.

    .venv/bin/python bench/relevance.py                 # both regimes (about 2 minutes)
    .venv/bin/python bench/relevance.py --cold          # cold start only (about 15 s)
    .venv/bin/python bench/relevance.py --fit           # refit the ranking's weights per kind

`--fit` computes the ranking's features (`ranking.Ranker.features`) of every judged (paper,
topic) match, fits one logistic regression per kind of section over the features `FIT` names,
prints the weights to paste into `ranking/ranker.py` (KIND_WEIGHTS), and prints out-of-fold
figures (5 folds by paper): what the fit should do on papers it has not seen.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from arxivwatch.catalog_file import load_catalog
from arxivwatch.config import Settings, load
from arxivwatch.query import Doc
from arxivwatch.ranking import Ranker, Selector, section_key
from arxivwatch.replay.build import build_replay, catalog_papers
from arxivwatch.replay.days import Replay
from arxivwatch.replay.labels import Labels, parse_labels
from arxivwatch.replay.report import format_report
from arxivwatch.replay.snapshot import read_snapshot
from arxivwatch.replay.verdicts import VerdictStats

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
CURATOR_FROM = dt.date(2025, 1, 1)
# Targets per regime: (recall >=, precision >=) per section; posts per sample day <= PER_DAY.
TARGETS = {
    "cold": {"lora": (0.90, 0.65), "lowrank_compression": (0.90, 0.65),
             "moe_systems": (0.90, 0.65), "pruning": (0.85, 0.75),
             "instruction_datasets": (0.85, 0.75), "compression_survey": (0.85, 0.75),
             "llm_evaluation": (0.25, 0.85)},
    "curator": {"lora": (0.92, 0.80), "lowrank_compression": (0.92, 0.80),
                "moe_systems": (0.92, 0.80)},
}
PER_DAY = 1.5
INTERCEPT = 10.0    # intercept columns' value: their weights are barely regularised
# The features each kind's model weighs (chosen by forward selection on out-of-fold AUC and
# precision at recall 0.85; a feature that did not help is left out rather than fitted).
FIT: Mapping[str, tuple[str, ...]] = {
    "method": ("evidence", "similarity", "focus", "subject_title", "subject_contribution",
               "subject_spread", "against_title", "against_contribution", "other_kind"),
    "system": ("evidence", "similarity", "focus", "kind", "other_kind"),
    "survey": ("subject_title", "subject_contribution", "against_title", "against_contribution"),
    "dataset": ("focus", "subject_spread", "kind", "other_kind", "against_title"),
    "benchmark": ("evidence", "similarity", "focus", "subject_title", "subject_contribution",
                  "subject_spread", "against_title", "against_contribution", "kind",
                  "other_kind", "language_model"),
}


def main() -> None:
    args = _args()
    settings = load(args.config, {})
    labels_text = "".join(_verdict_lines(args.verdicts))
    labels = parse_labels(labels_text, topics=settings.topics, where="verdicts")
    if args.fit:
        fit(settings, labels, args)
        return
    cold = replay(settings, labels, args)
    print("== cold start: shipped config, catalog only, no decisions, whole sample\n")
    print(format_report(cold), "\n")
    _targets(cold, "cold")
    if args.cold:
        return
    learned = replay(settings, labels, args, curator=labels, start=CURATOR_FROM)
    print(f"\n== simulated curator (--curator {', '.join(p.name for p in args.verdicts)}), "
          f"measured from {CURATOR_FROM}\n")
    print(format_report(learned))
    summary = learned.summary()
    if summary:
        print(summary)
    print()
    _targets(learned, "curator", cold_from=replay(settings, labels, args, start=CURATOR_FROM))


def replay(settings: Settings, labels: Labels, args: argparse.Namespace, *,
           curator: Labels | None = None, start: dt.date | None = None) -> Replay:
    """One replay of the sample with the verdicts; with `start`, measured from that day on.

    The curator decides every day of the input (it learns from 2024 too); the verdict figures
    count only the days from `start` on.
    """
    catalog = load_catalog(settings.catalog.path)
    run = build_replay(settings, catalog, [args.catalog_papers], labels=labels, curator=curator)
    if start is not None:
        _measure_from(run, start)
    run.run(read_snapshot(args.papers))
    return run


def _measure_from(run: Replay, start: dt.date) -> None:
    """Make `run` account for labels only on days from `start` on (it still decides before)."""
    day = run.day

    def counted(when: dt.date, batch: list[Any]) -> Any:
        keep = run.labels
        if when < start:
            run.labels = None
        try:
            return day(when, batch)
        finally:
            run.labels = keep

    run.day = counted  # type: ignore[method-assign]


def _targets(run: Replay, regime: str, *, cold_from: Replay | None = None) -> None:
    """One line per verdict section with a target: ok or MISSED, against the cold start."""
    per_section = {vs.name: vs for vs in run.verdict_stats}
    before = {vs.name: vs for vs in cold_from.verdict_stats} if cold_from else {}
    for name, (recall, precision) in TARGETS[regime].items():
        vs = per_section.get(name)
        if vs is None:
            continue
        worst = _busiest(run, vs)
        ok = [_ge(vs.recall, recall), _ge(vs.precision, precision), worst <= PER_DAY]
        line = (f"  {name:<22} recall {_f(vs.recall)} (>= {recall})  precision "
                f"{_f(vs.precision)} (>= {precision})  {worst:.2f}/day (<= {PER_DAY})  "
                f"P@R.85 {_f(vs.precision_at(0.85))}  AUC {_f(vs.auc)}  "
                f"{'ok' if all(ok) else 'MISSED'}")
        if name in before:
            b = before[name]
            line += f"   [cold start, same days: recall {_f(b.recall)} precision {_f(b.precision)}]"
        print(line)


def _busiest(run: Replay, vs: VerdictStats) -> float:
    keys = {section_key(s) for s in vs.sections}
    return max((run.per_day_mean(t.name) for t in run.topics if section_key(t.section) in keys),
               default=0.0)


def fit(settings: Settings, labels: Labels, args: argparse.Namespace) -> None:
    """Fit the per-kind weights on the judged matches; print them and out-of-fold figures."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    rows = _judged_features(settings, labels, args)
    by_kind: dict[str, list[tuple[str, str, dict[str, float], int]]] = defaultdict(list)
    for row in rows:
        by_kind[row[1]].append((row[0], row[2], row[3], row[4]))
    print("# fitted by bench/relevance.py --fit on "
          f"{', '.join(p.name for p in args.verdicts)}: {len(rows)} judged matches")
    print("KIND_WEIGHTS: Mapping[str, Weights] = {")
    oof: dict[tuple[str, str], float] = {}
    for kind, items in sorted(by_kind.items()):
        names = FIT[kind]
        topics = sorted({t for _, t, _, _ in items})
        # One intercept per topic: topics differ in how many of their matches belong, which
        # must not leak into the features' weights. The shipped bias is their mean; each
        # topic's min_score absorbs the rest.
        x = np.array([[f[n] for n in names] + [INTERCEPT * (t == u) for u in topics]
                      for _, t, f, _ in items])
        y = np.array([v for *_, v in items])
        model = LogisticRegression(C=args.c, max_iter=5000, fit_intercept=False).fit(x, y)
        coef = model.coef_[0]
        bias = float(np.mean(coef[len(names):])) * INTERCEPT
        weights = ", ".join(f'"{n}": {w:.2f}' for n, w in zip(names, coef, strict=False))
        print(f'    "{kind}": Weights({bias:.2f}, {{{weights}}}),')
        for (paper, topic, _, _), p in zip(items, _out_of_fold(x, y, items, args.c), strict=True):
            oof[(paper, topic)] = p
    print("}\n\nout of fold (5 folds by paper): AUC and precision at judged recall 0.85 / 0.95")
    for name in sorted(labels.sections):
        stats = VerdictStats(name, labels.sections[name])
        keys = {section_key(s) for s in stats.sections}
        best: dict[str, float] = {}
        for paper, _, topic, *_ in rows:
            if section_key(_section(settings, topic)) in keys and (paper, topic) in oof:
                best[paper] = max(best.get(paper, 0.0), oof[(paper, topic)])
        assert labels.verdicts is not None
        for paper, verdicts in labels.verdicts.items():
            if name in verdicts:
                stats.relevant += verdicts[name]
                if paper in best:
                    stats.scored.append((best[paper], verdicts[name]))
        print(f"  {name:<22} AUC {_f(stats.auc)}  P@R.85 {_f(stats.precision_at(0.85))}  "
              f"P@R.95 {_f(stats.precision_at(0.95))}")


def _judged_features(settings: Settings, labels: Labels, args: argparse.Namespace,
                     ) -> list[tuple[str, str, str, dict[str, float], int]]:
    """(paper, kind, topic, features, verdict) of every judged paper's match of its sections."""
    catalog = load_catalog(settings.catalog.path)
    ranker = Ranker(catalog.sections, catalog_papers(settings, catalog, [args.catalog_papers]))
    selector = Selector(settings.topics, ranker)
    assert labels.verdicts is not None
    rows = []
    for paper in read_snapshot(args.papers):
        judged = labels.verdicts.get(paper.id)
        if not judged or catalog.index().knows(paper):
            continue
        doc = Doc.from_paper(paper)
        for match in selector.match(paper):
            topic = match.topic
            for name, verdict in judged.items():
                if section_key(topic.section) in {section_key(s) for s in labels.sections[name]}:
                    values, _ = ranker.features(doc, topic, match.hits)
                    rows.append((paper.id, topic.kind, topic.name, values, verdict))
    return rows


def _out_of_fold(x: Any, y: Any, items: Sequence[tuple[str, str, Any, int]], c: float) -> Any:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    papers = sorted({p for p, *_ in items})
    random.Random(0).shuffle(papers)
    fold = {p: i % 5 for i, p in enumerate(papers)}
    folds = np.array([fold[p] for p, *_ in items])
    out = np.zeros(len(items))
    for k in range(5):
        train, test = folds != k, folds == k
        if len(set(y[train])) < 2 or not test.any():
            continue
        out[test] = LogisticRegression(C=c, max_iter=5000, fit_intercept=False).fit(
            x[train], y[train]).predict_proba(x[test])[:, 1]
    return out


def _section(settings: Settings, topic: str) -> str:
    return settings.topic(topic).section


def _verdict_lines(paths: Sequence[Path]) -> list[str]:
    """The verdict files as one: the first header, then every data line."""
    lines: list[str] = []
    for i, path in enumerate(paths):
        text = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines += text if i == 0 else text[1:]
    return lines


def _ge(value: float | None, bound: float) -> bool:
    return value is not None and value >= bound


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, default=ROOT / "config" / "topics.yaml")
    parser.add_argument("--papers", type=Path, default=DATA / "arxiv-sample.jsonl.gz")
    parser.add_argument("--verdicts", type=Path, nargs="+",
                        default=[DATA / "judged-dev.tsv", DATA / "judged-other-dev.tsv"])
    parser.add_argument("--catalog-papers", type=Path, default=DATA / "catalog-papers.jsonl")
    parser.add_argument("--cold", action="store_true", help="the cold start only")
    parser.add_argument("--fit", action="store_true", help="refit the weights per kind")
    parser.add_argument("--c", type=float, default=1.0, help="inverse regularisation of the fit")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    return parser.parse_args()


if __name__ == "__main__":
    main()
