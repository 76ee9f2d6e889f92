"""The catalog on disk: read it, and file an entry atomically under an exclusive lock.

Two approvals at once must both land and the file must never be seen half-written: every
read-modify-write holds `flock` on a sidecar `<catalog>.lock` (the catalog itself is replaced, so
locking it would lock a file that is about to vanish), and the new text goes to a temporary file
in the same folder that is fsynced and then `os.replace`d over the catalog.

The lock binds arxivwatch only: a person's editor or script never takes it, so a write must not
lose their change. Just before the replace, the catalog must still be the file that was read
(same inode, same bytes). Lines appended to it meanwhile are appended to the new text too; any
other change means reading it again and re-applying the entry. After the replace, what a writer
still appended to the replaced file is carried over the same way. What is left, and why it is
safe: docs/catalog-writes.md.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from arxivwatch.catalog import Catalog, insert_entry
from arxivwatch.errors import CatalogError

ATTEMPTS = 8      # re-reads (and catch-ups with appended lines) before giving up
SETTLE = 0.005    # seconds a writer that opened the catalog just before a replace has to finish


def lock_path(path: Path) -> Path:
    """The sidecar lock file next to the catalog: `README.md` -> `README.md.lock`."""
    return path.with_name(path.name + ".lock")


def read_text(path: Path) -> str:
    """Reads the catalog exactly (no newline translation); errors name the absolute path."""
    with _Read.open(path) as seen:
        return _decode(path, seen.data)


def load_catalog(path: Path) -> Catalog:
    """Reads and parses the catalog file."""
    return Catalog.parse(read_text(path))


def add_to_catalog(
    path: Path, section_path: str, line: str, where: Literal["top", "bottom"] = "top",
) -> bool:
    """Files `line` under the section; True when the file changed, False when already there.

    A change another program makes to the file meanwhile is kept (see the module docstring).
    """
    def apply(text: str) -> str:
        try:
            return insert_entry(text, section_path, line, where)
        except CatalogError as exc:
            raise CatalogError(f"{path.resolve()}: {exc.message}",
                               close_matches=exc.close_matches) from None

    with _locked(path):
        remove_stale_temps(path)
        return _rewrite(path, apply)


def check_writable(path: Path) -> None:
    """Raises CatalogError now when the lock file or a temporary file cannot be created."""
    with _locked(path):
        pass
    folder = path.resolve().parent
    if not os.access(folder, os.W_OK):
        raise CatalogError(f"cannot write next to catalog file {path.resolve()}: the folder "
                           f"{folder} is not writable")


def remove_stale_temps(path: Path) -> list[Path]:
    """Removes temporary files a killed write left beside the catalog; call it under the lock.

    Every write makes its temporary file while holding the lock, so under the lock none is in use.
    """
    where = path.resolve()
    stale = sorted(where.parent.glob(f".{glob.escape(where.name)}.*.tmp"))
    for tmp in stale:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return stale


def write_atomic(path: Path, text: str) -> None:
    """Replaces the file's content in one step, keeping its permission bits."""
    where = path.resolve()
    mode = stat.S_IMODE(path.stat().st_mode) if path.exists() else 0o644
    with _temp_beside(where) as (out, tmp):
        _append_synced(out, text.encode("utf-8"))
        os.chmod(tmp, mode)
        os.replace(tmp, where)
    _fsync_dir(where.parent)


# -- the read-modify-write -------------------------------------------------------------------


def _rewrite(path: Path, apply: Callable[[str], str]) -> bool:
    """Replaces the file with `apply(its text)`, never over a change made by someone else."""
    changed, carried = False, b""   # carried: appended to a replaced file, not in the new one
    for _ in range(ATTEMPTS):
        with _Read.open(path) as seen:
            new = apply(_decode(path, seen.data + carried)).encode("utf-8")
            if new == seen.data:
                return changed
            replaced = _replace(path, new, seen)
            if replaced is None:
                continue                      # rewritten before our replace: read it again
            changed, now = True, seen.settled()
            if not now.startswith(replaced):
                raise _displaced(path, now, "rewrote the catalog file while arxivwatch "
                                 "replaced it; arxivwatch's line is in the file")
            carried = now[len(replaced):]
            if not carried:
                return True
    if carried:
        raise _displaced(path, carried, "kept appending to the catalog file while arxivwatch "
                         "replaced it")
    raise CatalogError(f"catalog file {path.resolve()} kept changing while arxivwatch wrote "
                       f"it ({ATTEMPTS} tries); nothing was written, try again")


def _replace(path: Path, new: bytes, seen: _Read) -> bytes | None:
    """Replaces the file `seen` with `new`, plus any lines appended to it in the meantime.

    Returns what the replaced file held at that moment, or None (and nothing is written) when
    it was rewritten or replaced by someone else.
    """
    where, known = path.resolve(), seen.data
    appendable = _last_line(new) == _last_line(known)   # text appended to both ends the same
    with _temp_beside(where) as (out, tmp):
        _append_synced(out, new)      # the entry is on disk before it can replace the catalog
        os.chmod(tmp, stat.S_IMODE(os.fstat(seen.fd).st_mode))
        for _ in range(ATTEMPTS):
            now = seen.now_at(where)
            if now == known:
                os.replace(tmp, where)
                break
            if now is None or not appendable or not now.startswith(known):
                return None
            out.write(now[len(known):])   # appended meanwhile (and never synced by its writer)
            out.flush()
            known = now
        else:
            return None
        os.fsync(out.fileno())
    _fsync_dir(where.parent)
    return known


def _last_line(data: bytes) -> bytes:
    """The unterminated end of the text (b"" when it ends with a newline)."""
    return data[data.rfind(b"\n") + 1:]


def _displaced(path: Path, data: bytes, what: str) -> CatalogError:
    """Keeps another program's text, displaced by a replace, in a file beside the catalog.

    That text is in no other file now: where the catalog's folder cannot take it (a full disk,
    say), it goes to the system's temporary folder; where that fails too, the error carries it.
    """
    where = path.resolve()
    name = f"{where.name}.{time.time_ns()}.kept"
    failures: list[str] = []
    for folder in (where.parent, Path(tempfile.gettempdir())):
        kept = folder / name
        try:
            kept.write_bytes(data)
        except OSError as exc:
            failures.append(f"{kept}: {exc.strerror or exc}")
            with contextlib.suppress(OSError):
                kept.unlink()   # a partial copy would pass for the whole text
            continue
        return CatalogError(f"another program {what}; its text is kept in {kept}: merge it "
                            f"into {where} by hand")
    text = data.decode("utf-8", errors="replace")
    return CatalogError(f"another program {what}; its text could not be saved ("
                        f"{'; '.join(failures)}); here it is, to merge into {where} by hand:"
                        f"\n{text}")


@dataclass(frozen=True, slots=True)
class _Read:
    """The catalog as read, with the open file it came from (which a replace unlinks)."""

    fd: int
    data: bytes
    inode: tuple[int, int]

    @classmethod
    @contextlib.contextmanager
    def open(cls, path: Path) -> Iterator[_Read]:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise _read_error(path, exc) from None
        try:
            try:
                info, data = os.fstat(fd), _read_all(fd)
            except OSError as exc:
                raise _read_error(path, exc) from None
            yield cls(fd, data, (info.st_dev, info.st_ino))
        finally:
            os.close(fd)

    def now_at(self, path: Path) -> bytes | None:
        """This file's bytes now if `path` still names it, else None."""
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return None
        return _read_all(self.fd) if (info.st_dev, info.st_ino) == self.inode else None

    def settled(self) -> bytes:
        """This file's bytes once a writer that opened it before a replace has had time to end."""
        time.sleep(SETTLE)
        return _read_all(self.fd)


def _read_error(path: Path, exc: OSError) -> CatalogError:
    if isinstance(exc, FileNotFoundError):
        return CatalogError(f"catalog file {path.resolve()} does not exist; check catalog.path")
    return CatalogError(f"cannot read catalog file {path.resolve()}: {exc.strerror}")


def _read_all(fd: int) -> bytes:
    """The whole file behind `fd`, from its start."""
    data = b""
    while chunk := os.pread(fd, 1 << 20, len(data)):
        data += chunk
    return data


def _decode(path: Path, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"catalog file {path.resolve()} is not UTF-8 (byte {exc.start}); "
                           "save it as UTF-8") from None


# -- files -------------------------------------------------------------------------------------


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


@contextlib.contextmanager
def _temp_beside(where: Path) -> Iterator[tuple[BinaryIO, str]]:
    """A temporary file in the catalog's folder, removed unless it was renamed (also on Ctrl-C)."""
    try:
        fd, tmp = tempfile.mkstemp(dir=where.parent, prefix=f".{where.name}.", suffix=".tmp")
    except OSError as exc:
        raise CatalogError(f"cannot write next to catalog file {where}: {exc.strerror}; the "
                           "folder must be writable") from None
    try:
        with os.fdopen(fd, "wb") as out:
            yield out, tmp
    except OSError as exc:
        raise CatalogError(f"cannot write catalog file {where}: {exc.strerror}") from None
    finally:   # Ctrl-C or SIGTERM (cli.Terminated) too: no stray temp
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def _append_synced(out: BinaryIO, data: bytes) -> None:
    out.write(data)
    out.flush()
    os.fsync(out.fileno())


def _fsync_dir(folder: Path) -> None:
    # The rename is durable only once the directory entry is on disk.
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
