"""The port behind the slash command and the "File in catalog" shortcut, and the values it gives.

`Workbench` is what `/arxivwatch` and the shortcut need from the app (the wiring implements it in
`arxivwatch.workbench`), so this package imports no wiring. Its methods raise `ArxivWatchError`
with a message meant for the person who typed or clicked: an unknown topic, a query that does
not parse (with its caret), a paper arXiv does not know, a user outside `slack.approvers`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from arxivwatch.slack.decider import Blocks


@dataclass(frozen=True, slots=True)
class TuneReport:
    """What `tune` printed, part by part (the CLI's own text), and what can be saved."""

    topic: str
    section: str
    query: str | None                 # the query tried instead of the saved one, if any
    parts: tuple[str, ...]            # summary(ies), histogram, best titles, coverage, diff
    saveable: bool = False            # the tried query parses and differs from the saved one


@dataclass(frozen=True, slots=True)
class Card:
    """A paper's digest card (the same blocks and buttons as in a digest), and a note above."""

    note: str
    blocks: Blocks


@dataclass(frozen=True, slots=True)
class Filing:
    """What the "File in catalog" modal shows for one paper of a message."""

    paper_id: str
    title: str
    url: str
    authors: str
    sections: list[str]
    section: str | None               # suggested: the section of the topic it matches best
    summary: str                      # prefilled from the abstract
    choices: tuple[tuple[str, str], ...] = field(default=())   # (id, label) when several
    already: str | None = None        # "already in the catalog under ..." (nothing to file)


class Workbench(Protocol):
    """What Slack's slash command and shortcut need from the app."""

    def allowed(self, user: str) -> bool:
        """Whether `user` may change things (`slack.approvers`; empty = anyone)."""
        ...

    def status(self) -> list[str]:
        """The lines of `arxivwatch status`, with the config version in force."""
        ...

    def pending(self) -> list[str]:
        """The lines of `arxivwatch pending`."""
        ...

    def tune(self, topic: str, query: str | None) -> TuneReport:
        """`arxivwatch tune TOPIC [--query QUERY]` over the stored papers."""
        ...

    def save_query(self, topic: str, query: str, user: str) -> str:
        """Write `query` into topics.yaml for `topic` (approvers only); what happened."""
        ...

    def add(self, ref: str, section: str | None, user: str) -> Card:
        """Look a paper up, make it a candidate (approvers only) and give its card."""
        ...

    def filing(self, ids: list[str], paper_id: str | None = None) -> Filing:
        """The modal's content for `paper_id` (default: the first of `ids`)."""
        ...

    def propose(self, paper_id: str, section: str, user: str) -> None:
        """Make a looked-up paper a candidate for `section` so it can be approved (approvers
        only, a real section; nothing is written otherwise)."""
        ...
