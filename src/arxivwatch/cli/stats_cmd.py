"""`arxivwatch stats`: how each topic's digest fared over a window of announcement days."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import click

from arxivwatch.cli import Context
from arxivwatch.store import DigestStats

HEADER = ("TOPIC", "POSTED", "APPROVED", "REJECTED", "PENDING", "PRECISION", "MEDIAN TO DECIDE")


def _day(_ctx: click.Context, param: click.Parameter, value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date; write YYYY-MM-DD", param=param
                                 ) from None


def duration(hours: float | None) -> str:
    """`3.5 h`, `2.1 d`, or `-` when nothing was decided."""
    if hours is None:
        return "-"
    if hours < 1:
        return f"{hours * 60:.0f} min"
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} d"


def table(rows: Sequence[DigestStats]) -> list[str]:
    """The stats as aligned text lines, one per topic, and a total line."""
    cells = [HEADER, *(_cells(r) for r in rows)]
    if len(rows) > 1:
        cells.append(_cells(_total(rows)))
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    return ["  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                      for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
            for row in cells]


def _cells(r: DigestStats) -> tuple[str, ...]:
    precision = "-" if r.precision is None else f"{r.precision:.0%}"
    return (r.topic, str(r.posted), str(r.approved), str(r.rejected), str(r.pending),
            precision, duration(r.median_hours_to_decision))


def _total(rows: Sequence[DigestStats]) -> DigestStats:
    approved, rejected = sum(r.approved for r in rows), sum(r.rejected for r in rows)
    decided = approved + rejected
    return DigestStats("(all)", sum(r.posted for r in rows), approved, rejected,
                      sum(r.pending for r in rows), approved / decided if decided else None,
                      None)


@click.command("stats")
@click.option("--since", callback=_day, metavar="YYYY-MM-DD",
              help="First announcement day counted (default: the first one stored).")
@click.option("--until", callback=_day, metavar="YYYY-MM-DD",
              help="Last announcement day counted (default: the last one stored).")
@click.pass_obj
def stats(ctx: Context, since: dt.date | None, until: dt.date | None) -> None:
    """Per topic: candidates posted, approved, rejected, pending, precision, time to decide.

    \b
    Examples:
      arxivwatch stats
      arxivwatch stats --since 2026-10-01 --until 2026-10-31
    """
    if since and until and since > until:
        raise click.BadParameter(f"--since {since} is after --until {until}")
    from arxivwatch.store import Store

    with Store.open_copy(ctx.settings.state.url) as store:
        rows = store.stats(since, until)
    window = f"{since or 'the start'} .. {until or 'now'}"
    if not rows:
        click.echo(f"no candidates posted in {window}")
        return
    click.echo(f"digest figures for announcement days {window}; precision = approved / decided")
    for line in table(rows):
        click.echo(line)


def register(cli: click.Group) -> None:
    """Attach stats."""
    cli.add_command(stats)
