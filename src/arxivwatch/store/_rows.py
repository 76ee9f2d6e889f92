"""Conversions between models.* values and SQLite rows (JSON for lists, ISO text for times)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from typing import Any, cast

from arxivwatch.models import (
    Action,
    AnnounceType,
    Candidate,
    Decision,
    Hit,
    Paper,
    Status,
    Summary,
)

PAPER_COLUMNS = ("id, title, abstract, authors, categories, comments, journal_ref, doi, "
                 "version, day, announce_type")
CANDIDATE_COLUMNS = ("c.paper_id, c.topic, c.section, c.score, c.day, c.rank, c.posted, c.hits, "
                     "c.reasons, c.alternatives, c.status, c.slack_channel, c.slack_ts, "
                     "c.created_at, c.updated_at, c.posted_at, c.summary, c.summary_by, c.unsure")
DECISION_COLUMNS = "paper_id, action, user, at, section, summary, topic"


@dataclass(frozen=True, slots=True)
class StoredCandidate:
    """A candidate as the store holds it: the proposal, its status, Slack message and decision."""

    candidate: Candidate                # as the poll proposed it (posted=False: made by a
                                        # decision, never offered)
    status: Status = "pending"
    slack_channel: str | None = None
    slack_ts: str | None = None
    decision: Decision | None = None
    created_at: dt.datetime | None = None
    updated_at: dt.datetime | None = None
    posted_at: dt.datetime | None = None   # when mark_posted recorded its Slack message

    @property
    def id(self) -> str:
        """The paper's id: the store keys candidates by it."""
        return self.candidate.paper.id

    @property
    def where(self) -> tuple[str, str] | None:
        """(channel id, ts) of the digest message that shows the paper, once posted."""
        return (self.slack_channel, self.slack_ts) if self.slack_channel and self.slack_ts \
            else None


@dataclass(frozen=True, slots=True)
class RunRecord:
    """One poll, backfill or backtest run."""

    id: int
    source: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    outcome: str                          # running | ok | failed | no-announcement ...
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


def iso(t: dt.datetime) -> str:
    """UTC ISO text; a naive datetime is refused, since it would be silently misread later."""
    if t.tzinfo is None:
        raise ValueError(f"naive datetime {t!r}: pass a tz-aware UTC datetime")
    return t.astimezone(dt.UTC).isoformat()


def from_iso(text: str | None) -> dt.datetime | None:
    """A stored ISO timestamp as a datetime; None stays None."""
    return dt.datetime.fromisoformat(text) if text else None


def from_day(text: str | None) -> dt.date | None:
    """A stored ISO day as a date; None stays None."""
    return dt.date.fromisoformat(text) if text else None


def paper_params(p: Paper, source: str | None, now: str) -> tuple[Any, ...]:
    """The INSERT parameters of a paper row, in PAPER_COLUMNS order then source, seen times."""
    return (p.id, p.title, p.abstract, json.dumps(p.authors), json.dumps(p.categories),
            p.comments, p.journal_ref, p.doi, p.version,
            p.day.isoformat() if p.day else None, p.announce_type, source, now, now)


def paper_from_row(r: sqlite3.Row | tuple[Any, ...]) -> Paper:
    """A Paper from the PAPER_COLUMNS of a row."""
    return Paper(r[0], r[1], r[2], tuple(json.loads(r[3])), tuple(json.loads(r[4])), r[5], r[6],
                 r[7], r[8], from_day(r[9]), cast(AnnounceType | None, r[10]))


def candidate_params(c: Candidate, now: str) -> tuple[Any, ...]:
    """INSERT parameters for paper_id..alternatives, summary, summary_by, unsure, created_at,
    updated_at."""
    return (c.paper.id, c.topic, c.section, c.score, c.day.isoformat(), c.rank, int(c.posted),
            json.dumps([[h.term, h.field] for h in c.hits]), json.dumps(c.reasons),
            json.dumps(c.alternatives), c.summary.text if c.summary else None,
            c.summary.by if c.summary else None, int(c.unsure), now, now)


def decision_params(d: Decision) -> tuple[Any, ...]:
    """The row values of a decision, in DECISION_COLUMNS order."""
    return (d.paper_id, d.action, d.user, iso(d.at), d.section, d.summary, d.topic)


def decision_from_row(r: sqlite3.Row | tuple[Any, ...]) -> Decision:
    """A Decision from a row in DECISION_COLUMNS order."""
    at = from_iso(r[3])
    assert at is not None   # NOT NULL column
    return Decision(r[0], cast(Action, r[1]), r[2], at, r[4], r[5], r[6])


def stored_from_row(
    r: tuple[Any, ...], paper: Paper, decision: Decision | None,
) -> StoredCandidate:
    """A StoredCandidate from the CANDIDATE_COLUMNS of a row."""
    day = from_day(r[4])
    assert day is not None   # NOT NULL column
    summary = Summary(r[16], r[17] or "built-in") if r[16] is not None else None
    candidate = Candidate(
        paper, r[1], r[2], r[3], day, tuple(Hit(t, f) for t, f in json.loads(r[7])),
        tuple(json.loads(r[8])), tuple(json.loads(r[9])), r[5], bool(r[6]), summary,
        bool(r[18]))
    return StoredCandidate(candidate, cast(Status, r[10]), r[11], r[12], decision,
                           from_iso(r[13]), from_iso(r[14]), from_iso(r[15]))


def run_from_row(r: tuple[Any, ...]) -> RunRecord:
    """A RunRecord from a runs row (id, source, started, finished, outcome, counts, error)."""
    started = from_iso(r[2])
    assert started is not None   # NOT NULL column
    return RunRecord(r[0], r[1], started, from_iso(r[3]), r[4], json.loads(r[5]), r[6])
