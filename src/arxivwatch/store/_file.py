"""The state file itself: is it there, whole and arxivwatch's; a fresh one; an online backup.

Only a missing file starts a fresh state, and a fresh file appears complete or not at all: it is
built beside its final name and hard-linked into place. An existing file must be a regular,
non-empty SQLite file that passes `PRAGMA quick_check` and holds arxivwatch's tables; anything
else is refused with one message that names the file and says what to do, before anything is
written to it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from arxivwatch.errors import StoreError
from arxivwatch.store._db import connect, errors, human_size, parse_url
from arxivwatch.store._schema import TABLES, VERSION, migrate, refuse_newer, tables, user_version

_MAGIC = b"SQLite format 3\x00"
RESTORE = ("restore the latest backup (see \"Backups and restore\" in the README), or move the "
           "file aside to start afresh")


def location_problem(path: Path) -> str | None:
    """Why no state file can be created at `path`, or None when one can."""
    folder = next(p for p in path.parents if p.exists())
    if not folder.is_dir():
        return f"{folder} is a file, not a folder"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"the folder {folder} is not writable"
    return None


def check_file(path: Path) -> bool:
    """True for a state file that may be opened; False when there is none yet; else StoreError."""
    try:
        info = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        problem = location_problem(path)
        if problem:
            raise StoreError(f"cannot create state database {path}: {problem}; point state.url "
                             "at a file in a folder arxivwatch may write") from None
        return False
    except OSError as e:
        raise StoreError(f"cannot open state database {path}: {e.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise StoreError(f"state database {path} is not a file; point state.url at a file")
    if info.st_size == 0:
        raise StoreError(f"state database {path} is empty (0 bytes); arxivwatch starts afresh "
                         f"only where there is no file: {RESTORE}")
    _check_header(path, info.st_size)
    return True


def _check_header(path: Path, size: int) -> None:
    """Refuses a file that is not SQLite, or shorter than its header says (a cut-off copy)."""
    with path.open("rb") as f:
        head = f.read(100)
    if not head.startswith(_MAGIC):
        raise StoreError(f"state database {path} is not an SQLite database (it starts with "
                         f"{head[:16]!r}): a damaged file, or state.url names the wrong one; "
                         f"{RESTORE}")
    if len(head) < 100:
        raise StoreError(f"state database {path} is damaged: {size} bytes, shorter than an "
                         f"SQLite header; {RESTORE}")
    page = int.from_bytes(head[16:18], "big")
    page = 65536 if page == 1 else page
    pages, valid = int.from_bytes(head[28:32], "big"), head[24:28] == head[92:96]
    if valid and size < pages * page:
        raise StoreError(f"state database {path} is damaged: truncated, {size} of the "
                         f"{pages * page} bytes its header promises (a cut-off copy?); "
                         f"arxivwatch wrote nothing to it: {RESTORE}")


def check_database(conn: sqlite3.Connection, where: str) -> None:
    """Refuses a damaged database or one that holds no arxivwatch state; only reads."""
    with errors(where):
        try:
            found = [str(r[0]) for r in conn.execute("PRAGMA quick_check(3)")]
        except sqlite3.DatabaseError as e:
            if type(e) is not sqlite3.DatabaseError:   # busy, I/O: not a verdict on the file
                raise
            found = [str(e)]
        if found != ["ok"]:
            raise StoreError(f"state database {where} is damaged (quick_check: "
                             f"{'; '.join(found)}); arxivwatch wrote nothing to it: {RESTORE}")
        version, names = user_version(conn), tables(conn)
    refuse_newer(version, where)
    if version == 0 or not TABLES.issubset(names):
        shown = ", ".join(sorted(names)[:5]) or "none"
        raise StoreError(f"{where} is an SQLite database but holds no arxivwatch state (its "
                         f"tables: {shown}); arxivwatch will not write into it: point "
                         "state.url at another file")


def create(path: Path) -> None:
    """A fresh, migrated state at `path` (a missing file); another process's wins a race."""
    where = str(path)
    tmp = _empty_beside(path, ".new", "create state database", folders=True)
    try:
        conn = connect(tmp, where)
        try:
            migrate(conn, where)
        finally:
            conn.close()
        _link(tmp, path)
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + "-journal")):
            leftover.unlink(missing_ok=True)


def _empty_beside(path: Path, suffix: str, doing: str, *, folders: bool = False) -> Path:
    """A new empty file in `path`'s folder (made first when `folders`), to be renamed later."""
    try:
        if folders:
            path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=suffix)
        os.close(fd)
    except OSError as e:
        raise StoreError(f"cannot {doing} {path}: {e.strerror}") from None
    return Path(name)


def _link(tmp: Path, path: Path) -> None:
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass                      # another process created it first: use theirs
    except OSError:               # a filesystem without hard links
        if not path.exists():
            os.replace(tmp, path)


def inspect(url: str) -> str:
    """What `check` says about the state at `url`, reading it only; StoreError if unusable."""
    path = parse_url(url)
    if path is None:
        return "in memory: nothing is kept between runs"
    if not check_file(path):
        return f"{path} (none yet: the first poll creates it)"
    conn = connect(path, str(path), read_only=True)
    try:
        check_database(conn, str(path))
        with errors(str(path)):
            version = user_version(conn)
            count = conn.execute("SELECT count(*) FROM candidates").fetchone()[0]
    finally:
        conn.close()
    later = f"; migrated to {VERSION} at the next write" if version < VERSION else ""
    return f"{path} ({count} candidates, schema {version}{later})"


@dataclass(frozen=True, slots=True)
class Backup:
    """A finished backup: of which file, where it is, its size and what it holds."""

    source: Path
    path: Path
    size: int
    candidates: int
    decisions: int


def backup(url: str, dest: Path) -> Backup:
    """Copies the state at `url` to `dest` in one consistent step, even while `run` writes.

    SQLite's online backup reads one snapshot of the database (WAL readers never block the
    writer); the copy is written beside `dest`, synced, and renamed into place.
    """
    path = parse_url(url)
    if path is None:
        raise StoreError("state.url is sqlite:///:memory:: there is no state file to back up")
    where = str(path)
    if not check_file(path):
        raise StoreError(f"no state database at {path} yet: nothing to back up")
    dest = dest.absolute()
    if dest.is_dir():
        raise StoreError(f"{dest} is a folder; give the backup a file name, such as "
                         f"{dest / 'state-backup.db'}")
    if dest.exists() and dest.samefile(path):
        raise StoreError(f"{dest} is the state database itself; back it up to another file")
    source = connect(path, where, read_only=True)
    try:
        check_database(source, where)
        return _copy(source, path, dest)
    finally:
        source.close()


def _copy(source: sqlite3.Connection, path: Path, dest: Path) -> Backup:
    tmp = _empty_beside(dest, ".tmp", "write the backup")
    try:
        copy = sqlite3.connect(tmp, isolation_level=None)
        try:
            with errors(str(path)):
                source.backup(copy)
            with errors(str(dest)):
                copy.execute("PRAGMA journal_mode = DELETE")   # one self-contained file
                counts = [copy.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                          for t in ("candidates", "decisions")]
        finally:
            copy.close()
        with tmp.open("rb+") as f:
            os.fsync(f.fileno())
        os.replace(tmp, dest)
    except OSError as e:
        raise StoreError(f"cannot write the backup {dest}: {e.strerror}") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return Backup(path, dest, dest.stat().st_size, counts[0], counts[1])


def describe(result: Backup) -> str:
    """`12.3 MiB, 812 candidates, 97 decisions`."""
    return (f"{human_size(result.size)}, {result.candidates} candidates, "
            f"{result.decisions} decisions")
