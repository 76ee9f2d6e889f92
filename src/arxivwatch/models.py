"""Plain, frozen values passed between the core and the adapters.

Nothing here does I/O. Ids are always canonical bare arXiv ids (no version, no prefix): see ids.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from arxivwatch.query import Query  # the query package imports this module

AnnounceType = Literal["new", "cross", "replace", "replace-cross"]
ANNOUNCE_TYPES: tuple[AnnounceType, ...] = get_args(AnnounceType)   # how arXiv announces a paper
Status = Literal["pending", "posted", "approved", "rejected"]
Action = Literal["approve", "reject"]


@dataclass(frozen=True, slots=True)
class Paper:
    """One arXiv paper's metadata, from the feed, the API or a snapshot file."""

    id: str                                   # canonical bare id: 2402.12354, hep-th/0101001
    title: str                                # whitespace collapsed
    abstract: str = ""                        # whitespace collapsed
    authors: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()          # primary first
    comments: str | None = None
    journal_ref: str | None = None
    doi: str | None = None
    version: int | None = None                # latest version seen, when known
    day: dt.date | None = None                # announcement day (feed) or first-version day
    announce_type: AnnounceType | None = None  # feed items only

    @property
    def url(self) -> str:
        return f"https://arxiv.org/abs/{self.id}"

    @property
    def year(self) -> int | None:
        """The year of the first version, from the id for new-style ids, else from `day`."""
        head = self.id.split("/")[-1]
        if "/" not in self.id and len(head) >= 4 and head[:2].isdigit():
            return 2000 + int(head[:2])
        if "/" in self.id and head[:2].isdigit():
            yy = int(head[:2])
            return (1900 if yy >= 91 else 2000) + yy
        return self.day.year if self.day else None


@dataclass(frozen=True, slots=True)
class Topic:
    """One topic of topics.yaml: a parsed query feeding one catalog section."""

    name: str
    section: str                              # heading path, "LLM Training > Techniques"
    query: Query
    query_text: str                           # the query as written in topics.yaml
    categories: tuple[str, ...]               # defaults to arxiv.categories
    min_score: float | None = None            # the least chance of belonging that is posted
    kind: str = "method"                      # what the section's papers contribute (KINDS)
    about: Query | None = None                # the section's subject; None: the query's terms
    against: Query | None = None              # cues that a contribution belongs elsewhere


@dataclass(frozen=True, slots=True)
class Hit:
    """One query term that matched a paper: the term as written and the field it hit."""

    term: str          # e.g. '"low-rank adaptation"' or 'LoRA'
    field: str         # 'ti', 'abs', 'au', 'co', 'cat'


@dataclass(frozen=True, slots=True)
class Summary:
    """The one-sentence summary of a candidate's catalog line, made once and stored."""

    text: str
    by: str                                   # "built-in", or "llm:<model>"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A paper proposed for a catalog section on an announcement day."""

    paper: Paper
    topic: str                                # topic name from topics.yaml
    section: str                              # catalog heading path
    score: float
    day: dt.date                              # announcement day it was proposed on
    hits: tuple[Hit, ...] = ()
    reasons: tuple[str, ...] = ()             # human-readable "why it matched" lines
    alternatives: tuple[str, ...] = ()        # other topics that also matched, best first
    rank: int = 0                             # 1-based within its topic and day
    posted: bool = True                       # within the per-topic daily cap and min_score
    summary: Summary | None = None            # None: not made yet (the built-in one applies)
    unsure: bool = False                      # posted as a question: just under min_score

    @property
    def matched(self) -> list[str]:
        """The distinct matched terms, in the `field:term` form the backtest prints."""
        seen: dict[str, None] = {}
        for h in self.hits:
            seen.setdefault(f"{h.field}:{h.term}", None)
        return list(seen)


@dataclass(frozen=True, slots=True)
class Decision:
    """A curator's approve or reject of one candidate."""

    paper_id: str
    action: Action
    user: str                                 # Slack user id, or "cli:<login>"
    at: dt.datetime                           # tz-aware UTC
    section: str | None = None                # where an approval was filed
    summary: str | None = None                # the summary used in the catalog line
    topic: str | None = None


@dataclass(frozen=True, slots=True)
class DecisionOutcome:
    """What a decision attempt did: `decision` is the one that stands (maybe someone else's).

    The store's compare-and-set (`Store.decide`) says `applied` and `decision`; the decision
    service adds the catalog line, whether the file changed, and the message.
    """

    applied: bool                     # this call's decision was recorded
    decision: Decision                # the decision that stands
    catalog_line: str | None = None   # the line for an approval, None for a rejection
    changed: bool = False             # this call changed the catalog file
    message: str = ""                 # one human line: what happened, for Slack or the terminal


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One `- [Venue Year] [Title](link). Summary. [Code](url)` line of the catalog."""

    line_no: int                              # 1-based line in the file
    raw: str                                  # the line exactly as in the file, no newline
    title: str
    link: str | None = None
    venue: str | None = None                  # e.g. "Arxiv 2024", "ATC 2023"
    summary: str = ""
    code: str | None = None
    arxiv_ids: tuple[str, ...] = field(default=())  # every arXiv id linked from the line
