"""The Store: arxivwatch's durable state in one SQLite file.

Concurrency: a Store holds ONE connection guarded by a re-entrant lock, so the scheduler thread
and HTTP handler threads can share it; every statement is short, and SQLite serialises writers
anyway. Other processes (`arxivwatch approve` beside `arxivwatch run`) are handled by WAL mode,
`busy_timeout`, and write transactions that start with `BEGIN IMMEDIATE`, which takes the write
lock up front so a read-then-write (the decision compare-and-set) cannot interleave with another
process. Every multi-row change is one transaction, so a kill -9 leaves the file consistent.
"""

# ruff: noqa: S608 - SQL here is built only from module constants; values are always bound

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from arxivwatch.clock import Clock, utcnow
from arxivwatch.errors import StoreError
from arxivwatch.models import Candidate, Decision, DecisionOutcome, Paper
from arxivwatch.store import _file
from arxivwatch.store import _rows as rows
from arxivwatch.store import _sql as sql
from arxivwatch.store._db import MEMORY, connect, errors, parse_url, use_wal
from arxivwatch.store._lock import InstanceLock
from arxivwatch.store._rows import RunRecord, StoredCandidate
from arxivwatch.store._schema import migrate
from arxivwatch.store._stats import DigestStats, topic_stats

PAGE = 1000                # rows per page when streaming papers
class Store:
    """Papers, candidates, decisions, runs and small metadata, in SQLite."""

    def __init__(self, conn: sqlite3.Connection, path: Path | None, clock: Clock, *,
                 where: str | None = None) -> None:
        self._conn, self.path, self._clock = conn, path, clock
        self._where = where or (str(path) if path else MEMORY)   # how errors name the state
        self._lock = threading.RLock()

    @classmethod
    def open(cls, url: str, *, clock: Clock | None = None) -> Store:
        """Open the store at a `sqlite:///...` URL, checked, created when missing, migrated.

        A damaged file, an empty one, or one that holds no arxivwatch state is refused before
        anything is written to it (see `_file`); only a missing file starts a fresh state.
        """
        path = parse_url(url)
        if path is not None and not _file.check_file(path):
            _file.create(path)
        where = str(path) if path else MEMORY
        conn = connect(path, where)
        try:
            if path is not None:
                _file.check_database(conn, where)
            use_wal(conn, where)
            migrate(conn, where)
        except sqlite3.Error as e:
            conn.close()
            raise StoreError(f"state database {where} is unusable: {e}") from e
        except BaseException:
            conn.close()
            raise
        return cls(conn, path, clock or utcnow)

    @classmethod
    def open_copy(cls, url: str, *, clock: Clock | None = None) -> Store:
        """An in-memory copy of the store at `url` (empty when there is no file yet).

        For `--dry-run` and read-only commands: whatever they do, nothing on disk changes.
        The file is checked as `open` checks it, and errors name it, not the copy.
        """
        path = parse_url(url)
        if path is None or not _file.check_file(path):
            return cls.open("sqlite:///:memory:", clock=clock)
        where = str(path)
        conn = connect(None, where)
        try:
            # A plain connection that only reads: the last one to close removes the WAL files.
            source = connect(path, where)
            try:
                _file.check_database(source, where)
                with errors(where):
                    source.backup(conn)
            finally:
                source.close()
            migrate(conn, where)
        except BaseException:
            conn.close()
            raise
        return cls(conn, None, clock or utcnow, where=where)

    def close(self) -> None:
        """Close the connection; the Store cannot be used afterwards."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- plumbing -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One IMMEDIATE transaction: committed on success, rolled back on any exception."""
        with self._lock, errors(self._where):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                if self._conn.in_transaction:   # SQLite may have rolled back already (disk full)
                    self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, errors(self._where):
            return self._conn.execute(sql, params).fetchall()

    def _now(self) -> str:
        return rows.iso(self._clock())

    # -- papers -------------------------------------------------------------------------------

    def upsert_papers(self, papers: Iterable[Paper], *, source: str | None = None) -> int:
        """Insert or refresh papers (never erasing known fields); return how many were new."""
        batch = {p.id: p for p in papers}
        now = self._now()
        with self._write() as db:
            old = db.execute(f"SELECT count(*) FROM papers WHERE id {sql.IN_IDS}",
                             (json.dumps(list(batch)),)).fetchone()[0]
            db.executemany(sql.UPSERT_PAPER, (rows.paper_params(p, source, now)
                                           for p in batch.values()))
        return len(batch) - int(old)

    def get_paper(self, paper_id: str) -> Paper | None:
        """The stored paper with this id; None also for a paper known only from a decision."""
        found = self._read(f"SELECT {rows.PAPER_COLUMNS} FROM papers WHERE id = ? "
                           "AND title != ''", (paper_id,))
        return rows.paper_from_row(found[0]) if found else None

    def iter_papers(self, since: dt.date | None = None) -> Iterator[Paper]:
        """Stored papers with metadata (`day` >= since when given), in id order, page by page."""
        after, day = "", since.isoformat() if since else None
        while True:
            page = self._read(
                f"SELECT {rows.PAPER_COLUMNS} FROM papers WHERE id > ?1 "
                "AND title != '' AND (?2 IS NULL OR day >= ?2) ORDER BY id LIMIT ?3",
                (after, day, PAGE))
            yield from map(rows.paper_from_row, page)
            if len(page) < PAGE:
                return
            after = page[-1][0]

    def seen_papers(self, ids: Iterable[str], *, before: dt.date | None = None) -> set[str]:
        """Which of these papers are stored with metadata (listed before `before`, when given)."""
        day = before.isoformat() if before else None
        found = self._read(
            f"SELECT id FROM papers WHERE id {sql.IN_IDS} AND title != '' "
            "AND (?2 IS NULL OR (day IS NOT NULL AND day < ?2))", (json.dumps(list(ids)), day))
        return {r[0] for r in found}

    def known_ids(self, ids: Iterable[str]) -> set[str]:
        """Which of these paper ids already have a candidate or a decision."""
        found = self._read(
            f"SELECT paper_id FROM candidates WHERE paper_id {sql.IN_IDS} "
            f"UNION SELECT paper_id FROM decisions WHERE paper_id {sql.IN_IDS}",
            (json.dumps(list(ids)),) * 2)
        return {r[0] for r in found}

    # -- candidates ---------------------------------------------------------------------------

    def add_candidates(self, cands: Sequence[Candidate]) -> list[str]:
        """Store the new posted candidates (and their papers) at once; return the ids inserted.

        Candidates with `posted=False` (over the daily cap or below min_score) are not stored,
        and a paper that already has a candidate keeps it: re-running a poll adds nothing.
        """
        return self.record_poll((), cands, last_announcement=None, meta={})

    def record_poll(
        self, papers: Iterable[Paper], cands: Sequence[Candidate], *,
        last_announcement: dt.date | None, meta: dict[str, str],
    ) -> list[str]:
        """Everything one poll produced, in ONE transaction: papers, candidates, markers.

        A poll killed before this commit leaves the store as it was; after it, the day is done.
        Returns the ids of the candidates actually inserted.
        """
        now = self._now()
        inserted: list[str] = []
        with self._write() as db:
            db.executemany(sql.UPSERT_PAPER, (rows.paper_params(p, None, now)
                                           for p in {p.id: p for p in papers}.values()))
            for c in cands:
                if not c.posted:
                    continue
                db.execute(sql.UPSERT_PAPER, rows.paper_params(c.paper, None, now))
                cur = db.execute(sql.INSERT_CANDIDATE, (*rows.candidate_params(c, now), "pending"))
                if cur.rowcount == 1:
                    inserted.append(c.paper.id)
            items = dict(meta)
            if last_announcement is not None:
                items["last_announcement"] = last_announcement.isoformat()
            db.executemany("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) "
                           "DO UPDATE SET value = excluded.value", items.items())
        return inserted

    def get_candidate(self, paper_id: str) -> StoredCandidate | None:
        """The candidate for this paper, with its paper and decision, if any."""
        found = self._read(f"{sql.SELECT_CANDIDATES} WHERE c.paper_id = ?", (paper_id,))
        return _stored(found[0]) if found else None

    def candidates(
        self, status: str | None = None, topic: str | None = None, since: dt.date | None = None,
    ) -> list[StoredCandidate]:
        """Candidates filtered by status, topic and day (>= since), by day, section and rank."""
        day = since.isoformat() if since else None
        found = self._read(
            f"{sql.SELECT_CANDIDATES} WHERE (?1 IS NULL OR c.status = ?1) "
            "AND (?2 IS NULL OR c.topic = ?2) AND (?3 IS NULL OR c.day >= ?3) "
            "ORDER BY c.day, c.section, c.rank, c.paper_id", (status, topic, day))
        return [_stored(r) for r in found]

    def unposted(self) -> list[StoredCandidate]:
        """Pending candidates with no Slack message yet, by section, day and rank."""
        found = self._read(
            f"{sql.SELECT_CANDIDATES} WHERE c.status = 'pending' AND c.posted = 1 "
            "AND c.slack_ts IS NULL ORDER BY c.section, c.day, c.rank, c.paper_id")
        return [_stored(r) for r in found]

    def mark_posted(self, paper_ids: Iterable[str], channel: str, ts: str) -> int:
        """Record the Slack message of these candidates (one transaction); return rows changed.

        A candidate decided before its message went out keeps its decision's status.
        """
        now = self._now()
        with self._write() as db:
            cur = db.execute(
                "UPDATE candidates SET slack_channel = ?, slack_ts = ?, updated_at = ?, "
                "posted_at = COALESCE(posted_at, ?), "
                "status = CASE status WHEN 'pending' THEN 'posted' ELSE status END "
                f"WHERE paper_id {sql.IN_IDS}",
                (channel, ts, now, now, json.dumps(list(paper_ids))))
            return cur.rowcount

    def counts_by_status(self) -> dict[str, int]:
        """Number of candidates in each status (every status present, zero included)."""
        counts = dict.fromkeys(("pending", "posted", "approved", "rejected"), 0)
        counts.update(self._read("SELECT status, count(*) FROM candidates GROUP BY status"))
        return counts

    # -- decisions ----------------------------------------------------------------------------

    def decide(self, decision: Decision) -> DecisionOutcome:
        """Record a decision unless one already stands (atomic compare-and-set).

        The first decision for a paper wins and moves its candidate to approved/rejected; a later
        one is not applied and the standing decision is returned. A paper with no candidate (a
        decision by hand) gets a candidate row marked as never offered.
        """
        now, status = self._now(), _STATUS[decision.action]
        with self._write() as db:
            standing = db.execute(f"SELECT {rows.DECISION_COLUMNS} FROM decisions "
                                  "WHERE paper_id = ?", (decision.paper_id,)).fetchone()
            if standing is not None:
                return DecisionOutcome(False, rows.decision_from_row(standing))
            _ensure_candidate(db, decision, now)
            db.execute("UPDATE candidates SET status = ?, updated_at = ? WHERE paper_id = ?",
                       (status, now, decision.paper_id))
            db.execute(f"INSERT INTO decisions ({rows.DECISION_COLUMNS}) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?)", rows.decision_params(decision))
        return DecisionOutcome(True, decision)

    def decisions(self, since: dt.date | dt.datetime | None = None) -> list[Decision]:
        """Every decision taken at or after `since` (a UTC day or instant), oldest first."""
        start = None if since is None else (
            rows.iso(since) if isinstance(since, dt.datetime) else since.isoformat())
        found = self._read(f"SELECT {rows.DECISION_COLUMNS} FROM decisions "
                           "WHERE ?1 IS NULL OR at >= ?1 ORDER BY at, id", (start,))
        return [rows.decision_from_row(r) for r in found]

    def stats(self, since: dt.date | None = None, until: dt.date | None = None,
              ) -> list[DigestStats]:
        """Per-topic digest figures for candidates offered on days in [since, until]."""
        found = self._read(
            "SELECT c.topic, c.status, COALESCE(c.posted_at, c.created_at), d.at "
            "FROM candidates c LEFT JOIN decisions d ON d.paper_id = c.paper_id "
            "WHERE c.posted = 1 AND (?1 IS NULL OR c.day >= ?1) AND (?2 IS NULL OR c.day <= ?2)",
            (since.isoformat() if since else None, until.isoformat() if until else None))
        return topic_stats(found)

    # -- runs ---------------------------------------------------------------------------------

    def start_run(self, source: str) -> int:
        """Record the start of a run ('feed', 'api', 'backtest', ...); return its id."""
        with self._write() as db:
            cur = db.execute("INSERT INTO runs (source, started_at) VALUES (?, ?)",
                             (source, self._now()))
            assert cur.lastrowid is not None
            return cur.lastrowid

    def finish_run(self, run_id: int, outcome: str, counts: dict[str, int] | None = None,
                   error: str | None = None) -> None:
        """Record how a run ended: 'ok', 'failed', 'no-announcement'..., its counts and error."""
        with self._write() as db:
            cur = db.execute(
                "UPDATE runs SET finished_at = ?, outcome = ?, counts = ?, error = ? WHERE id = ?",
                (self._now(), outcome, json.dumps(counts or {}), error, run_id))
            if cur.rowcount != 1:
                raise StoreError(f"no run {run_id} in {self._where} to finish")

    def runs(self, limit: int = 10, *, source: str | None = None) -> list[RunRecord]:
        """The latest runs (of one source when given), newest first."""
        found = self._read(
            "SELECT id, source, started_at, finished_at, outcome, counts, error FROM runs "
            "WHERE ?1 IS NULL OR source = ?1 ORDER BY id DESC LIMIT ?2", (source, limit))
        return [rows.run_from_row(r) for r in found]

    def last_run(self, *, source: str | None = None) -> RunRecord | None:
        """The most recent run (of one source when given), if any."""
        latest = self.runs(1, source=source)
        return latest[0] if latest else None

    def abandon_running_runs(self, error: str = "interrupted (process ended mid-run)") -> int:
        """Mark runs left 'running' by a dead process as 'interrupted'; return how many.

        Call it only while holding the instance lock, or a live run elsewhere would be marked.
        """
        with self._write() as db:
            return db.execute(
                "UPDATE runs SET outcome = 'interrupted', finished_at = ?, error = ? "
                "WHERE outcome = 'running'", (self._now(), error)).rowcount

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str) -> str | None:
        """A small named value (feed ETag, last failure reported, ...), or None."""
        found = self._read("SELECT value FROM meta WHERE key = ?", (key,))
        return str(found[0][0]) if found else None

    def set_meta(self, key: str, value: str | None) -> None:
        """Set a named value; None deletes it."""
        with self._write() as db:
            if value is None:
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) "
                           "DO UPDATE SET value = excluded.value", (key, value))

    def last_announcement(self) -> dt.date | None:
        """The last announcement day processed successfully."""
        return rows.from_day(self.get_meta("last_announcement"))

    def set_last_announcement(self, day: dt.date) -> None:
        """Record the last announcement day processed successfully."""
        self.set_meta("last_announcement", day.isoformat())

    def acquire_instance_lock(self) -> InstanceLock:
        """Take the one-instance-per-database lock, or raise StoreError naming the holder."""
        if self.path is None:
            return InstanceLock(None)
        return InstanceLock(self.path.with_name(self.path.name + ".instance.lock"))


_STATUS = {"approve": "approved", "reject": "rejected"}


def _ensure_candidate(db: sqlite3.Connection, d: Decision, now: str) -> None:
    """Give a paper decided by hand a placeholder paper row and a never-offered candidate."""
    db.execute("INSERT INTO papers (id, title, source, first_seen, last_seen) "
               "VALUES (?, '', 'decision', ?, ?) ON CONFLICT(id) DO NOTHING",
               (d.paper_id, now, now))
    db.execute(sql.INSERT_CANDIDATE, (
        d.paper_id, d.topic or "", d.section or "", 0.0, d.at.astimezone(dt.UTC).date()
        .isoformat(), 0, 0, "[]", "[]", "[]", None, None, 0, now, now, "pending"))


def _stored(r: tuple[Any, ...]) -> StoredCandidate:
    """A StoredCandidate from a sql.SELECT_CANDIDATES row (candidate, paper, decision columns)."""
    n, p = _CANDIDATE_WIDTH, _PAPER_WIDTH
    decision = rows.decision_from_row(r[n + p:]) if r[n + p] is not None else None
    return rows.stored_from_row(r[:n], rows.paper_from_row(r[n:n + p]), decision)


_CANDIDATE_WIDTH = len(rows.CANDIDATE_COLUMNS.split(","))
_PAPER_WIDTH = len(rows.PAPER_COLUMNS.split(","))
