"""The state file: refused when damaged, empty or foreign (and left unwritten), created whole."""

from __future__ import annotations

import hashlib
import os
import random
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from arxivwatch.errors import StoreError
from arxivwatch.store import SCHEMA_VERSION, Store
from tests.test_store import cand


def make_state(path: Path, count: int = 400) -> Path:
    """A real state file with `count` candidates (a few dozen pages)."""
    with Store.open(f"sqlite:///{path}") as store:
        store.add_candidates([cand(n) for n in range(count)])
    return path


def garble_the_middle(path: Path) -> None:
    """8 KiB of garbage written into the middle of the file, as a bad disk or copy would."""
    size = path.stat().st_size
    with path.open("r+b") as f:
        f.seek(size // 2 - size // 2 % 4096)
        f.write(random.Random(17).randbytes(8192))


def fingerprint(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def foreign_database(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (text TEXT)")
    conn.execute("INSERT INTO notes VALUES ('my own data')")
    conn.commit()
    conn.close()


def truncate(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 3)


DAMAGE = {
    "garbage in the middle": (garble_the_middle, r"is damaged \(quick_check: .+\); arxivwatch "
                              r"wrote nothing to it: restore the latest backup"),
    "empty": (lambda p: os.truncate(p, 0), r"is empty \(0 bytes\); arxivwatch starts afresh "
              r"only where there is no file: restore the latest backup"),
    "truncated": (truncate, r"is damaged: truncated, \d+ of the \d+ bytes its header promises"),
    "not sqlite": (lambda p: p.write_bytes(b"<html>oops</html>" * 300),
                   r"is not an SQLite database \(it starts with b'<html>oops</html'\)"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("read_only", [False, True], ids=["open", "open_copy"])
def test_a_damaged_state_is_refused_naming_it_and_left_unwritten(
        tmp_path: Path, damage: str, read_only: bool) -> None:
    """Damage of each kind: one StoreError naming the file and what to do; no byte written."""
    path = make_state(tmp_path / "state.db")
    harm, message = DAMAGE[damage]
    harm(path)
    before = fingerprint(path)
    opener = Store.open_copy if read_only else Store.open
    with pytest.raises(StoreError, match=message) as err:
        opener(f"sqlite:///{path}")
    assert str(err.value).startswith(f"state database {path} ")
    assert fingerprint(path) == before


def test_garbage_in_the_middle_is_caught_although_the_header_reads_fine(tmp_path: Path) -> None:
    """The case today's reads miss: the runs table still reads, the file is damaged."""
    path = make_state(tmp_path / "state.db")
    garble_the_middle(path)
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM runs").fetchone() == (0,)   # looks usable
    conn.close()
    with pytest.raises(StoreError, match="is damaged"):
        Store.open(f"sqlite:///{path}")


@pytest.mark.parametrize("read_only", [False, True], ids=["open", "open_copy"])
def test_a_database_that_is_not_arxivwatch_state_is_refused_untouched(
        tmp_path: Path, read_only: bool) -> None:
    """Someone else's SQLite file is neither migrated into nor used."""
    path = tmp_path / "notes.db"
    foreign_database(path)
    before = fingerprint(path)
    opener = Store.open_copy if read_only else Store.open
    with pytest.raises(StoreError, match=rf"^{path} is an SQLite database but holds no "
                       r"arxivwatch state \(its tables: notes\); arxivwatch will not write"):
        opener(f"sqlite:///{path}")
    assert fingerprint(path) == before
    conn = sqlite3.connect(path)
    assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["notes"]


def test_only_a_missing_file_starts_fresh_and_it_appears_whole(tmp_path: Path) -> None:
    """A missing file is created migrated, with no temporary file left beside it."""
    path = tmp_path / "new" / "state.db"
    with Store.open(f"sqlite:///{path}") as store:
        assert store.candidates() == []
    assert sorted(p.name for p in path.parent.iterdir()) == ["state.db"]
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_copy_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    """Read-only commands on a fresh install see an empty state and leave no file."""
    with Store.open_copy(f"sqlite:///{tmp_path / 'state.db'}") as store:
        assert store.candidates() == []
    assert list(tmp_path.iterdir()) == []


def test_read_errors_of_a_copy_name_the_file_not_memory(tmp_path: Path) -> None:
    """A copy that fails later still names the state file in its errors."""
    path = make_state(tmp_path / "state.db", count=3)
    with Store.open_copy(f"sqlite:///{path}") as store, pytest.raises(StoreError) as err:
        store.finish_run(999, "ok")
    assert str(path) in str(err.value)
    assert ":memory:" not in str(err.value)


def test_a_state_location_under_a_regular_file_is_named(tmp_path: Path) -> None:
    """state.url below a file: the message says which part is a file, not `File exists`."""
    (tmp_path / "README.md").write_text("a catalog", encoding="utf-8")
    path = tmp_path / "README.md" / "state.db"
    with pytest.raises(StoreError, match=rf"cannot create state database {path}: "
                       rf"{tmp_path / 'README.md'} is a file, not a folder"):
        Store.open(f"sqlite:///{path}")


_FULL_DISK = """
    import resource, signal, sys
    from arxivwatch.errors import StoreError
    from arxivwatch.store import Store

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)      # a write past the limit fails instead
    resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
    try:
        Store.open(sys.argv[1]).close()
    except StoreError as exc:
        print(exc)
"""


@pytest.mark.parametrize("limit", [1000, 40_000])
def test_a_write_that_fails_while_migrating_names_its_cause(tmp_path: Path, limit: int) -> None:
    """SQLite's own error and the free space, not the failed rollback after it rolled back."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_FULL_DISK), f"sqlite:///{tmp_path / 's.db'}",
         str(limit)], capture_output=True, text=True, timeout=60, check=True).stdout
    assert out.startswith(f"state database {tmp_path / 's.db'}: disk I/O error "
                          "(SQLITE_IOERR_WRITE); ")   # a file-size limit is EFBIG, not ENOSPC
    assert "free on its filesystem" in out
    assert "rollback" not in out


_LOCK_ON_A_FULL_DISK = """
    import resource, signal, sys
    from arxivwatch.errors import StoreError
    from arxivwatch.store import Store

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    with Store.open(sys.argv[1]) as store:
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
        try:
            store.acquire_instance_lock()
        except StoreError as exc:
            print(exc)
"""


def test_an_instance_lock_that_cannot_be_written_is_one_error(tmp_path: Path) -> None:
    """No room to write the pid: a StoreError naming the lock file, not an OSError traceback."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(_LOCK_ON_A_FULL_DISK),
         f"sqlite:///{tmp_path / 's.db'}"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"cannot write the instance lock {tmp_path / 's.db.instance.lock'}")
