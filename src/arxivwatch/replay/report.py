"""The text a backtest prints: the per-topic table, the label table, skipped input lines."""

from __future__ import annotations

from pathlib import Path

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
    return "\n".join(lines)


def skipped_warning(stats: SnapshotStats, path: Path) -> str | None:
    """How many snapshot lines were not papers, so none is dropped silently; None if none."""
    if not stats.skipped:
        return None
    return f"warning: skipped {stats.skipped} bad lines of {path} (first: {stats.errors[0]})"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
