"""The single-instance lock: one `arxivwatch run` per state database.

An `flock` on `<db path>.instance.lock` is released by the kernel when the process dies, even by
kill -9, so a crash never leaves a stale lock behind; the pid written into the file is only for
the message.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from arxivwatch.errors import StoreError
from arxivwatch.store._db import free_space


class InstanceLock:
    """A held (or, for an in-memory store, no-op) instance lock; a context manager."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._fd: int | None = None
        if path is not None:
            self._fd = _acquire(path)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Release the lock (idempotent)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def __enter__(self) -> InstanceLock:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def _acquire(path: Path) -> int:
    """Lock `path` without waiting and write our pid into it; StoreError when another holds it."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise _cannot(path, e) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip() or "unknown"
        os.close(fd)
        db = path.with_name(path.name.removesuffix(".instance.lock"))
        raise StoreError(
            f"another arxivwatch is already running on {db} (pid {holder}); stop it first, "
            f"or give this one its own state.url") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    except OSError as e:
        os.close(fd)
        raise _cannot(path, e) from None
    return fd


def _cannot(path: Path, e: OSError) -> StoreError:
    return StoreError(f"cannot write the instance lock {path}: {e.strerror}; "
                      f"{free_space(str(path))}")
