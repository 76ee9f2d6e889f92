"""The text a backtest prints: the per-topic table, the label table, skipped input lines."""

from __future__ import annotations

from pathlib import Path

from arxivwatch.catalog import section_key
from arxivwatch.replay.days import Replay
from arxivwatch.replay.snapshot import SnapshotStats


def format_report(replay: Replay) -> str:
    """The per-topic table, and the label table when labels were given."""
    stats = replay.stats
    lines = [f"{stats.papers} papers, {stats.days} announcement days"
             + (f", {stats.undated} without a date (skipped)" if stats.undated else "")
             + (f", {stats.late_batches} late batches (input out of day order)"
                if stats.late_batches else ""), ""]
    lines.append(f"{'TOPIC':<22} {'MATCHES':>8} {'POSTED':>7} {'/DAY':>6} {'MAX':>4}  SECTION")
    for name, ts in replay.topic_stats.items():
        lines.append(f"{name:<22} {ts.matches:>8} {ts.posted:>7} {replay.per_day_mean(name):>6.2f}"
                     f" {ts.max_per_day:>4}  {ts.section}")
    if replay.label_stats:
        lines += ["", f"{'LABEL':<22} {'LABELLED':>8} {'FOUND':>6} {'RECALL':>7} {'POSTED':>7}"
                      f" {'PRECISION':>9} {'AUC':>6}  SECTIONS"]
        for ls in replay.label_stats:
            base = ls.labelled - ls.in_catalog
            lines.append(f"{ls.name:<22} {base:>8} {ls.found:>6} {_pct(ls.recall):>7}"
                         f" {ls.posted:>7} {_pct(ls.precision):>9} {_num(ls.auc):>6}  "
                         + " | ".join(ls.sections))
        lines.append("(labelled: labelled papers in the replayed input, minus those already in "
                     "the catalog; precision counts labelled papers only, so it is a lower bound)")
    if replay.verdict_stats:
        lines += ["", *verdict_table(replay)]
    return "\n".join(lines)


def verdict_table(replay: Replay) -> list[str]:
    """Per verdict section: judged precision and recall of the posted, P@R, AUC, volume."""
    lines = [f"{'VERDICTS':<22} {'JUDGED':>6} {'BELONG':>6} {'POSTED':>6} {'PRECISION':>9}"
             f" {'RECALL':>7} {'P@R.85':>6} {'P@R.95':>6} {'AUC':>6} {'/DAY':>5}  SECTIONS"]
    for vs in replay.verdict_stats:
        keys = {section_key(s) for s in vs.sections}
        per_day = max((replay.per_day_mean(t.name) for t in replay.topics
                       if section_key(t.section) in keys), default=0.0)
        lines.append(
            f"{vs.name:<22} {vs.judged:>6} {vs.relevant - vs.in_catalog:>6} {vs.posted_judged:>6}"
            f" {_num(vs.precision):>9} {_num(vs.recall):>7} {_num(vs.precision_at(0.85), 2):>6}"
            f" {_num(vs.precision_at(0.95), 2):>6} {_num(vs.auc):>6} {per_day:>5.2f}  "
            + " | ".join(vs.sections))
    lines.append("(belong: judged 1 and not already in the catalog; posted: judged papers posted "
                 "under the sections; P@R: precision posting by score alone until that judged "
                 "recall, '-' where the matches never reach it; /day: the busiest topic's posts)")
    return lines


def skipped_warning(stats: SnapshotStats, path: Path) -> str | None:
    """How many snapshot lines were not papers, so none is dropped silently; None if none."""
    if not stats.skipped:
        return None
    return f"warning: skipped {stats.skipped} bad lines of {path} (first: {stats.errors[0]})"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"
