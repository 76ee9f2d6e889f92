"""The `arxivwatch` command line: a thin shell over the library.

Each command group lives in its own module and is registered here. Commands build the objects
they need from `Context.settings`, and every ArxivWatchError becomes one clear line on stderr and
exit status 1 (2 for usage errors, as click does; 130 for Ctrl-C, 143 for SIGTERM). Anything else is
a bug and keeps its traceback.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from arxivwatch import __version__
from arxivwatch.errors import ArxivWatchError

if TYPE_CHECKING:
    from arxivwatch.config import Settings

DEFAULT_CONFIG = "config/topics.yaml"


@dataclass
class Context:
    """What every command gets: where the config is and the environment it was started with."""

    config_path: Path
    env: Mapping[str, str] = field(default_factory=dict)

    @cached_property
    def settings(self) -> Settings:
        from arxivwatch.config import load

        return load(self.config_path, self.env)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread so cleanup runs (worker pools end, runs are recorded)."""


def _terminate(signum: int, frame: object) -> None:
    """The SIGTERM handler of the short commands; `run` and `serve` install their own."""
    raise Terminated


class _Group(click.Group):
    """Turns the package's own errors into one line and exit 1, Ctrl-C and SIGTERM into 130/143."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArxivWatchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt as exc:
            click.echo("\ninterrupted", err=True)
            sys.exit(143 if isinstance(exc, Terminated) else 130)  # 128 + signal, as shells say


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="arxivwatch")
@click.option(
    "--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
    envvar="ARXIVWATCH_CONFIG", default=DEFAULT_CONFIG, show_default=True, show_envvar=True,
    help="The topics.yaml that describes catalog, arXiv, Slack, state, schedule and topics.",
)
@click.pass_context
def cli(ctx: click.Context, config_path: Path) -> None:
    """Watch arXiv for papers that belong in your catalog, post them to Slack, file approvals.

    \b
    Typical use:
      arxivwatch check              validate config, templates and catalog
      arxivwatch poll --dry-run     show what today's announcement would bring
      arxivwatch poll               store today's candidates and post the digest
      arxivwatch run                poll on schedule and answer Slack clicks, for months

    Secrets come only from the environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET,
    SLACK_APP_TOKEN. Without SLACK_BOT_TOKEN the digest is printed to the terminal.
    """
    ctx.obj = Context(config_path=config_path, env=dict(os.environ))


def _register() -> None:
    """Attach the command modules; each exposes `register(cli)`."""
    from arxivwatch.cli import commands

    for module in commands.modules():
        module.register(cli)


def main() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    _register()
    cli(prog_name="arxivwatch")
