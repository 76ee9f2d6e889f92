"""What `status` and `pending` show, as lines: the terminal prints them, Slack answers with them.

One place computes the figures, so `arxivwatch status` and `/arxivwatch status` can never
disagree. The store is only read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from arxivwatch.config.live import file_version
from arxivwatch.render import terminal_line

if TYPE_CHECKING:
    from arxivwatch.config.live import ConfigVersion
    from arxivwatch.store import Store

OPEN_STATUSES = ("pending", "posted")
CONFIG_KEY = "run.config"      # meta: the config version `arxivwatch run` has in force (JSON)
TITLE_WIDTH = 90


def status_lines(store: Store, *, limit: int = 10, config: Sequence[str] = ()) -> list[str]:
    """The last announcement processed, candidates by status, `config` lines, the last runs."""
    last = store.last_announcement()
    counts = store.counts_by_status()
    lines = [f"last announcement processed: {last.isoformat() if last else 'none yet'}",
             "candidates: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                               or "none"),
             *config]
    runs = store.runs(limit)
    if not runs:
        return [*lines, "no runs yet: try `arxivwatch poll --dry-run`, then `arxivwatch poll`"]
    lines.append(f"{'STARTED (UTC)':<20} {'SOURCE':<8} {'OUTCOME':<16} COUNTS / ERROR")
    for run in runs:
        started = run.started_at.strftime("%Y-%m-%d %H:%M:%S")
        detail = run.error or " ".join(f"{k}={v}" for k, v in run.counts.items())
        lines.append(f"{started:<20} {run.source:<8} {run.outcome:<16} {detail}")
    return lines


def config_lines(store: Store, on_disk: Path | None, *,
                 problem: str | None = None) -> list[str]:
    """Which config version `arxivwatch run` has in force (as it recorded it), and the file's;
    `problem`: why the file on disk does not load, when it does not."""
    recorded = _recorded(store.get_meta(CONFIG_KEY))
    try:
        disk = file_version(on_disk) if on_disk is not None else None
    except OSError as exc:
        return [*recorded[:1], f"config on disk: cannot be read ({exc.strerror or exc})"]
    broken = f", not valid: {problem}" if problem else ""
    if not recorded:
        return [f"config on disk: {disk.describe()}{broken}"] if disk else []
    line = recorded[0]
    if disk is not None and disk.sha256 == recorded[1]:
        line += "; the file on disk is the same"
    elif disk is not None and problem:
        line += f"; the file on disk is {disk.describe()}{broken}, so run keeps the version above"
    elif disk is not None:
        line += (f"; the file on disk is {disk.describe()}, not yet in force (the next poll or "
                 "SIGHUP reloads it)")
    return [line]


def record_config(version: ConfigVersion, *, loaded_at: dt.datetime, pid: int) -> str:
    """The meta value `arxivwatch run` stores when a config version comes into force."""
    return json.dumps({"sha256": version.sha256, "version": version.describe(),
                       "loaded_at": f"{loaded_at:%Y-%m-%d %H:%M:%S} UTC", "pid": pid})


def _recorded(value: str | None) -> list[str]:
    """[line, sha256] of the recorded version, or [] when none was recorded (or it is garbled)."""
    if not value:
        return []
    try:
        data = json.loads(value)
        sha, version, since = str(data["sha256"]), str(data["version"]), data.get("loaded_at")
    except (ValueError, KeyError, TypeError):
        return []
    pid = f" (pid {data['pid']})" if data.get("pid") else ""
    loaded = f", in force since {since}" if since else ""
    return [f"config loaded by arxivwatch run{pid}: {version}{loaded}", sha]


def pending_lines(store: Store) -> list[str]:
    """The candidates awaiting a decision (pending or posted), by topic and score."""
    rows = [s for status in OPEN_STATUSES for s in store.candidates(status=status)]
    if not rows:
        return ["nothing awaits a decision"]
    rows.sort(key=lambda s: (s.candidate.topic, -s.candidate.score, s.candidate.paper.id))
    lines = [f"{'ID':<18} {'TOPIC':<16} {'SCORE':>6}  {'STATUS':<7} TITLE"]
    for stored in rows:
        c = stored.candidate
        title = terminal_line(c.paper.title)
        title = title if len(title) <= TITLE_WIDTH else title[:TITLE_WIDTH - 1] + "…"
        lines.append(f"{c.paper.id:<18} {c.topic:<16} {c.score:>6.2f}  {stored.status:<7} {title}")
    return lines
