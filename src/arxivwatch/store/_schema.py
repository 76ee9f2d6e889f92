"""The SQLite schema as an ordered list of migrations, applied under `PRAGMA user_version`.

Migration N brings a database from version N-1 to N. Each is applied in its own IMMEDIATE
transaction together with the version bump, so a crash leaves either the old or the new schema,
and two processes opening the same file at once migrate it once. Never edit a shipped migration:
append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from arxivwatch.errors import StoreError
from arxivwatch.store._db import errors

_V1 = (
    """CREATE TABLE papers (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        abstract TEXT NOT NULL DEFAULT '',
        authors TEXT NOT NULL DEFAULT '[]',        -- JSON list
        categories TEXT NOT NULL DEFAULT '[]',     -- JSON list, primary first
        comments TEXT, journal_ref TEXT, doi TEXT,
        version INTEGER, day TEXT, announce_type TEXT,
        source TEXT,                               -- feed | api | snapshot | decision ...
        first_seen TEXT NOT NULL, last_seen TEXT NOT NULL
    )""",
    """CREATE TABLE candidates (
        paper_id TEXT PRIMARY KEY REFERENCES papers(id),
        topic TEXT NOT NULL, section TEXT NOT NULL,
        score REAL NOT NULL, day TEXT NOT NULL, rank INTEGER NOT NULL DEFAULT 0,
        posted INTEGER NOT NULL DEFAULT 1,         -- 0: a row made by a decision, never offered
        hits TEXT NOT NULL DEFAULT '[]', reasons TEXT NOT NULL DEFAULT '[]',
        alternatives TEXT NOT NULL DEFAULT '[]',
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'posted', 'approved', 'rejected')),
        slack_channel TEXT, slack_ts TEXT,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
    )""",
    """CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        paper_id TEXT NOT NULL UNIQUE REFERENCES papers(id),   -- one decision stands
        action TEXT NOT NULL CHECK (action IN ('approve', 'reject')),
        user TEXT NOT NULL, at TEXT NOT NULL,
        section TEXT, summary TEXT, topic TEXT
    )""",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT,
        outcome TEXT NOT NULL DEFAULT 'running',
        counts TEXT NOT NULL DEFAULT '{}',         -- JSON object
        error TEXT
    )""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)

# v2: when a candidate reached Slack (for time-to-decision) and the indexes stats and digests use.
_V2 = (
    "ALTER TABLE candidates ADD COLUMN posted_at TEXT",
    "CREATE INDEX candidates_status ON candidates(status, section, day, rank)",
    "CREATE INDEX candidates_topic_day ON candidates(topic, day)",
    "CREATE INDEX decisions_at ON decisions(at)",
    "CREATE INDEX runs_source ON runs(source, id)",
)

# v3: each candidate's summary, made once at the poll (built-in or by a language model), so the
# preview, a later Slack update and the approval all show the same line (issue 18).
_V3 = (
    "ALTER TABLE candidates ADD COLUMN summary TEXT",
    "ALTER TABLE candidates ADD COLUMN summary_by TEXT",   # "built-in" | "llm:<model>"
)

# v4: a candidate posted as a question, just under its topic's min_score (issue 11: the curator's
# answer there teaches the learned ranking where the boundary lies).
_V4 = ("ALTER TABLE candidates ADD COLUMN unsure INTEGER NOT NULL DEFAULT 0",)

MIGRATIONS: tuple[Sequence[str], ...] = (_V1, _V2, _V3, _V4)
VERSION = len(MIGRATIONS)
TABLES = frozenset({"papers", "candidates", "decisions", "runs", "meta"})   # in every version


def user_version(conn: sqlite3.Connection) -> int:
    """The schema version recorded in the database file (0 for a new one)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def tables(conn: sqlite3.Connection) -> set[str]:
    """The names of the tables in the database."""
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def refuse_newer(version: int, where: str) -> None:
    """StoreError for a database written by a newer arxivwatch than this one."""
    if version > VERSION:
        raise StoreError(
            f"state database {where} has schema version {version}, newer than this arxivwatch "
            f"understands ({VERSION}); upgrade arxivwatch, or point state.url at another file")


def migrate(conn: sqlite3.Connection, where: str, *, target: int = VERSION) -> int:
    """Bring the database at `conn` (autocommit mode) up to `target`; return the version reached."""
    with errors(where):
        current = user_version(conn)
        refuse_newer(current, where)
        while current < target:
            current = _apply(conn, current + 1)
    return current


def _apply(conn: sqlite3.Connection, version: int) -> int:
    """Apply migration `version` unless another process got there first; return the new version."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if user_version(conn) >= version:   # migrated meanwhile by another process
            conn.execute("ROLLBACK")
            return user_version(conn)
        for statement in MIGRATIONS[version - 1]:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {version:d}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:   # SQLite rolls back by itself after some errors (disk full)
            conn.execute("ROLLBACK")
        raise
    return version
