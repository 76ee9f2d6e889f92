"""Opening the SQLite file: URL parsing, connection settings, and user-facing errors."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from arxivwatch.errors import StoreError

BUSY_TIMEOUT_MS = 10_000   # how long a writer waits for another process's transaction
MEMORY = ":memory:"
_SUPPORTED = "sqlite:///relative/path.db, sqlite:////absolute/path.db or sqlite:///:memory:"


def parse_url(url: str) -> Path | None:
    """The database path of a sqlite URL (None for :memory:); StoreError for anything else."""
    rest = url.removeprefix("sqlite:///")
    if rest == url or not rest:
        raise StoreError(f"unsupported state.url {url!r}: use {_SUPPORTED}")
    if rest == MEMORY:
        return None
    return Path(rest).absolute()


def connect(path: Path | None, where: str) -> sqlite3.Connection:
    """A connection in autocommit mode with WAL, busy_timeout and foreign keys on."""
    try:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path) if path else MEMORY, isolation_level=None,
                               check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000)
        with errors(where):
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = FULL")
    except (OSError, sqlite3.Error) as e:
        raise StoreError(f"cannot open state database {where}: {e}") from e
    return conn


@contextlib.contextmanager
def errors(where: str) -> Iterator[None]:
    """Turn SQLite failures a user can act on (busy, read-only, full, corrupt) into StoreError."""
    try:
        yield
    except sqlite3.OperationalError as e:
        text = str(e)
        if "locked" in text or "busy" in text:
            raise StoreError(f"state database {where} is busy (another process holds a write "
                             f"transaction for over {BUSY_TIMEOUT_MS // 1000}s): {e}") from e
        if "readonly" in text or "disk" in text or "unable to open" in text:
            raise StoreError(f"state database {where}: {e}; check the file, its directory "
                             "and free space") from e
        raise
    except sqlite3.DatabaseError as e:
        if type(e) is sqlite3.DatabaseError:   # "file is not a database", "malformed"
            raise StoreError(f"state database {where} is unusable: {e}") from e
        raise
