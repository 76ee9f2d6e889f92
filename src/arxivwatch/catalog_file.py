"""The catalog on disk: read it, and file an entry atomically under an exclusive lock.

Two approvals at once must both land and the file must never be seen half-written: every
read-modify-write holds `flock` on a sidecar `<catalog>.lock` (the catalog itself is replaced, so
locking it would lock a file that is about to vanish), and the new text goes to a temporary file
in the same folder that is fsynced and then `os.replace`d over the catalog.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from arxivwatch.catalog import Catalog, insert_entry
from arxivwatch.errors import CatalogError


def lock_path(path: Path) -> Path:
    """The sidecar lock file next to the catalog: `README.md` -> `README.md.lock`."""
    return path.with_name(path.name + ".lock")


def read_text(path: Path) -> str:
    """Reads the catalog exactly (no newline translation); errors name the absolute path."""
    where = path.resolve()
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise CatalogError(f"catalog file {where} does not exist; check catalog.path") from None
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"catalog file {where} is not UTF-8 (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise CatalogError(f"cannot read catalog file {where}: {exc.strerror}") from None


def load_catalog(path: Path) -> Catalog:
    """Reads and parses the catalog file."""
    return Catalog.parse(read_text(path))


def add_to_catalog(
    path: Path, section_path: str, line: str, where: Literal["top", "bottom"] = "top",
) -> bool:
    """Files `line` under the section; True when the file changed, False when already there."""
    with _locked(path):
        text = read_text(path)
        try:
            new = insert_entry(text, section_path, line, where)
        except CatalogError as exc:
            raise CatalogError(f"{path.resolve()}: {exc.message}",
                               close_matches=exc.close_matches) from None
        if new == text:
            return False
        write_atomic(path, new)
        return True


def check_writable(path: Path) -> None:
    """Raises CatalogError now when the lock file or a temporary file cannot be created."""
    with _locked(path):
        pass
    folder = path.resolve().parent
    if not os.access(folder, os.W_OK):
        raise CatalogError(f"cannot write next to catalog file {path.resolve()}: the folder "
                           f"{folder} is not writable")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    lock = lock_path(path)
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise CatalogError(
            f"cannot create lock file {lock.resolve()}: {exc.strerror}; the catalog's folder "
            "must be writable") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def write_atomic(path: Path, text: str) -> None:
    """Replaces the file's content in one step, keeping its permission bits."""
    where = path.resolve()
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    try:
        fd, tmp = tempfile.mkstemp(dir=where.parent, prefix=f".{where.name}.", suffix=".tmp")
    except OSError as exc:
        raise CatalogError(f"cannot write next to catalog file {where}: {exc.strerror}; the "
                           "folder must be writable") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(text.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, where)
    except BaseException as exc:   # Ctrl-C or SIGTERM (cli.Terminated) too: no stray temp
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if not isinstance(exc, OSError):
            raise
        raise CatalogError(f"cannot write catalog file {where}: {exc.strerror}") from None
    _fsync_dir(where.parent)


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
