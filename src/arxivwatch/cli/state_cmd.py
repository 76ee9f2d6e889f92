"""`arxivwatch state backup`: a consistent copy of the state database, safe while `run` runs."""

from __future__ import annotations

from pathlib import Path

import click

from arxivwatch.cli import Context


@click.group("state")
def state() -> None:
    """Look after the state database named by state.url.

    \b
    Example:
      arxivwatch state backup backups/arxivwatch-$(date +%F).db
    """


@state.command("backup")
@click.argument("path", type=click.Path(path_type=Path))
@click.pass_obj
def backup(ctx: Context, path: Path) -> None:
    """Copy the state database to PATH, consistently, even while `arxivwatch run` writes to it.

    Uses SQLite's online backup: the copy is one snapshot of the database, written beside PATH
    and renamed into place, so PATH is always a whole backup (an existing one is replaced). The
    state is checked first; a damaged one is refused. To restore, see "Backups and restore" in
    the README.

    \b
    Examples:
      arxivwatch state backup /srv/backups/arxivwatch.db
      arxivwatch state backup backups/arxivwatch-$(date +%F).db
    """
    from arxivwatch.store import backup_state, describe_backup

    result = backup_state(ctx.settings.state.url, path)
    click.echo(f"backed up {result.source} to {result.path} ({describe_backup(result)})")


def register(cli: click.Group) -> None:
    """Attach the `state` group."""
    cli.add_command(state)
