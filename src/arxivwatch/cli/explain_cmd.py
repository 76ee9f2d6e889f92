"""`arxivwatch explain ID`: everything behind a digest item's 160-character Why line."""

from __future__ import annotations

import click

from arxivwatch import wiring
from arxivwatch.cli import Context
from arxivwatch.errors import ArxivWatchError
from arxivwatch.ids import normalize_id
from arxivwatch.render import terminal_line
from arxivwatch.store import StoredCandidate
from arxivwatch.why import why_line


@click.command("explain")
@click.argument("paper_id")
@click.pass_obj
def explain(ctx: Context, paper_id: str) -> None:
    """Show why PAPER_ID was offered, in full: the detail the digest's Why line leaves out.

    The query terms that matched, by field; every reason the ranking gave (query evidence,
    similarity to the catalog, the learned model's state); the other topics that matched; the
    summary and who wrote it (built-in or the language model); and the line approving it would
    add. Reads the state only.

    \b
    Example:
      arxivwatch explain 2611.00001
    """
    settings = ctx.settings
    with wiring.open_store(settings, read_only=True) as store:
        cand = store.get_candidate(normalize_id(paper_id))
    if cand is None or not cand.candidate.posted:
        raise ArxivWatchError(f"{paper_id} was never offered; `arxivwatch pending` lists the "
                              "candidates awaiting a decision")
    for label, value in explanation(cand, wiring.templates(settings).catalog_line(cand.candidate)):
        click.echo(f"{label:<9} {terminal_line(value)}".rstrip() if label or value else "")


def explanation(stored: StoredCandidate, catalog_line: str) -> list[tuple[str, str]]:
    """The (label, value) lines `explain` prints for one stored candidate."""
    c, p = stored.candidate, stored.candidate.paper
    lines = [(p.id, p.title), ("", p.url), ("", ""), ("topic", f"{c.topic} -> {c.section}"),
             ("offered",
              f"{c.day.isoformat()}, rank {c.rank}, score {c.score:.3f}, {stored.status}"),
             ("why", why_line(c.hits, c.reasons)),
             ("matched", ", ".join(f"{h.field}:{h.term}" for h in c.hits) or "-")]
    lines += [("reason", r) for r in c.reasons] or [("reason", "-")]
    lines.append(("also", ", ".join(c.alternatives) or "-"))
    summary = f"{c.summary.text} ({c.summary.by})" if c.summary else "- (built-in, made now)"
    lines += [("summary", summary), ("adds", catalog_line)]
    if stored.decision is not None:
        d = stored.decision
        where = f" into {d.section}" if d.section else ""
        lines.append(("decided", f"{d.action} by {d.user} at {d.at:%Y-%m-%d %H:%M} UTC{where}"))
    return lines


def register(cli: click.Group) -> None:
    """Attach explain."""
    cli.add_command(explain)
