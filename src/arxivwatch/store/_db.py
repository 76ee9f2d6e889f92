"""Opening the SQLite file: URL parsing, connection settings, and user-facing errors."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from arxivwatch.errors import StoreError

BUSY_TIMEOUT_MS = 10_000   # how long a writer waits for another process's transaction
MEMORY = ":memory:"
FULL_BELOW = 1 << 20       # free bytes under which a failed write is blamed on a full disk
_SUPPORTED = "sqlite:///relative/path.db, sqlite:////absolute/path.db or sqlite:///:memory:"


def parse_url(url: str) -> Path | None:
    """The database path of a sqlite URL (None for :memory:); StoreError for anything else."""
    rest = url.removeprefix("sqlite:///")
    if rest == url or not rest:
        raise StoreError(f"unsupported state.url {url!r}: use {_SUPPORTED}")
    if rest == MEMORY:
        return None
    return Path(rest).absolute()


def connect(path: Path | None, where: str, *, read_only: bool = False) -> sqlite3.Connection:
    """A connection in autocommit mode with busy_timeout and foreign keys on; writes nothing.

    `read_only` opens an existing file so that SQLite itself refuses to write to it.
    """
    target, uri = (path.as_uri() + "?mode=ro", True) if path and read_only else (
        str(path) if path else MEMORY, False)
    try:
        conn = sqlite3.connect(target, uri=uri, isolation_level=None, check_same_thread=False,
                               timeout=BUSY_TIMEOUT_MS / 1000)
        with errors(where):
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS:d}")
            conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as e:
        raise StoreError(f"cannot open state database {where}: {e}") from e
    return conn


def use_wal(conn: sqlite3.Connection, where: str) -> None:
    """WAL journaling (readers never wait for the writer) with full fsync: a write setting."""
    with errors(where):
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")


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
        if "disk" in text or "full" in text:
            raise StoreError(f"state database {where}: {e}{_code(e)}; {free_space(where)}") from e
        if "readonly" in text or "unable to open" in text:
            raise StoreError(f"state database {where}: {e}{_code(e)}; check the file's and its "
                             "folder's permissions") from e
        raise
    except sqlite3.DatabaseError as e:
        if type(e) is sqlite3.DatabaseError:   # "file is not a database", "malformed"
            raise StoreError(f"state database {where} is unusable: {e}") from e
        raise


def _code(e: sqlite3.Error) -> str:
    """SQLite's extended error name (`SQLITE_IOERR_WRITE`), which says more than its message."""
    name = getattr(e, "sqlite_errorname", None)
    return f" ({name})" if name and name not in {"SQLITE_FULL", "SQLITE_ERROR"} else ""


def free_space(where: str) -> str:
    """How much room is left beside `where`, and what to do, for a message about a failed write."""
    try:
        stats = os.statvfs(Path(where).parent)
    except (OSError, ValueError):
        return "check the disk and its free space"
    free = stats.f_bavail * stats.f_frsize
    if free < FULL_BELOW:
        return f"the disk is full ({human_size(free)} free on its filesystem): free some space"
    return f"{human_size(free)} free on its filesystem: check the disk"


def human_size(size: float) -> str:
    """`512 bytes`, `12 KiB`, `3.4 MiB`, `1.2 GiB`."""
    if size < 1024:
        return f"{int(size)} bytes"
    for unit in ("KiB", "MiB", "GiB"):
        size /= 1024
        if size < 1024 or unit == "GiB":
            break
    return f"{size:.0f} {unit}" if size >= 10 else f"{size:.1f} {unit}"
