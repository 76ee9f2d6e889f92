"""Tests for the locked, atomic write of the catalog file."""

from __future__ import annotations

import errno
import multiprocessing
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from arxivwatch.catalog import Catalog
from arxivwatch.catalog_file import add_to_catalog, load_catalog, lock_path, write_atomic
from arxivwatch.cli import Terminated
from arxivwatch.errors import CatalogError

FIXTURE = Path(__file__).parent / "fixtures" / "catalog.md"
SECTION = "Compression > Low-rank Factorization"


def _line(n: int) -> str:
    return f"- [Arxiv 2024] [Paper {n}](https://arxiv.org/abs/2405.{n:05d}). Summary {n}."


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    path = tmp_path / "README.md"
    path.write_bytes(FIXTURE.read_bytes())
    return path


def test_add_writes_one_line_and_reports_change(catalog_path: Path) -> None:
    """The first add changes the file by exactly one line and returns True."""
    before = catalog_path.read_bytes()
    assert add_to_catalog(catalog_path, SECTION, _line(1), "top") is True
    after = catalog_path.read_bytes()
    assert len(after) == len(before) + len(_line(1)) + 1
    assert _line(1).encode() in after
    assert load_catalog(catalog_path).section(SECTION).entries[0].raw == _line(1)


def test_add_again_leaves_file_untouched(catalog_path: Path) -> None:
    """Adding a paper already in the section returns False and does not rewrite the file."""
    add_to_catalog(catalog_path, SECTION, _line(1), "bottom")
    inode, content = catalog_path.stat().st_ino, catalog_path.read_bytes()
    assert add_to_catalog(catalog_path, SECTION, _line(1), "bottom") is False
    assert catalog_path.stat().st_ino == inode
    assert catalog_path.read_bytes() == content


def test_write_is_a_rename_that_keeps_mode_and_leaves_no_temp(catalog_path: Path) -> None:
    """The file is replaced (new inode), keeps its permission bits, and no temp file remains."""
    os.chmod(catalog_path, 0o640)
    inode = catalog_path.stat().st_ino
    add_to_catalog(catalog_path, SECTION, _line(2), "top")
    assert catalog_path.stat().st_ino != inode
    assert catalog_path.stat().st_mode & 0o777 == 0o640
    assert sorted(p.name for p in catalog_path.parent.iterdir()) == ["README.md", "README.md.lock"]


def test_crlf_file_stays_crlf(tmp_path: Path) -> None:
    """Line endings on disk are preserved byte for byte (no newline translation)."""
    path = tmp_path / "c.md"
    path.write_bytes(FIXTURE.read_bytes().replace(b"\n", b"\r\n"))
    add_to_catalog(path, SECTION, _line(3), "top")
    data = path.read_bytes()
    assert data.count(b"\n") == data.count(b"\r\n")
    assert (_line(3) + "\r\n").encode() in data


@pytest.mark.parametrize(
    ("setup", "section", "message"),
    [
        ("missing", SECTION, "does not exist"),
        ("latin1", SECTION, "is not UTF-8"),
        ("ok", "Compresion", "no section 'Compresion'"),
    ],
)
def test_errors_name_the_absolute_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setup: str, section: str, message: str,
) -> None:
    """Every error says which file, by absolute path, and what is wrong."""
    monkeypatch.chdir(tmp_path)
    path = Path("c.md")
    if setup == "latin1":
        path.write_bytes("## Compression\n### Low-rank Factorization\ncaf\xe9\n".encode("latin-1"))
    elif setup == "ok":
        path.write_bytes(FIXTURE.read_bytes())
    with pytest.raises(CatalogError, match=message) as info:
        add_to_catalog(path, section, _line(1), "top")
    assert str(tmp_path / "c.md") in str(info.value)


def test_failed_write_leaves_original_and_no_temp(catalog_path: Path) -> None:
    """If the replace cannot happen the catalog is untouched and the temp file is removed."""
    target = catalog_path.parent / "dir-in-the-way"
    target.mkdir()
    with pytest.raises(CatalogError, match="cannot write catalog file"):
        write_atomic(target, "text")  # os.replace onto a directory fails
    assert sorted(p.name for p in catalog_path.parent.iterdir()) == ["README.md", "dir-in-the-way"]


@pytest.mark.parametrize("signal_exc", [KeyboardInterrupt, Terminated])
def test_interrupted_write_leaves_original_and_no_temp(
        catalog_path: Path, monkeypatch: pytest.MonkeyPatch,
        signal_exc: type[KeyboardInterrupt]) -> None:
    """Ctrl-C or SIGTERM (`Terminated`) mid-write: the catalog is untouched, no temp file left."""
    before = catalog_path.read_bytes()

    def interrupted(fd: int) -> None:
        raise signal_exc

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(signal_exc):
        add_to_catalog(catalog_path, SECTION, _line(1))
    assert catalog_path.read_bytes() == before
    assert sorted(p.name for p in catalog_path.parent.iterdir()) == [
        "README.md", "README.md.lock"]


def _assert_all_landed(path: Path, count: int) -> None:
    catalog = Catalog.parse(path.read_text(encoding="utf-8"))
    raws = [e.raw for e in catalog.section(SECTION).entries]
    for n in range(count):
        assert raws.count(_line(n)) == 1, n
    assert len(raws) == 2 + count


def test_concurrent_threads_all_land(catalog_path: Path) -> None:
    """Eight threads adding different papers at once: every line lands exactly once."""
    barrier = threading.Barrier(8)

    def add(n: int) -> None:
        barrier.wait()
        for k in range(n, 40, 8):
            add_to_catalog(catalog_path, SECTION, _line(k), "top")

    threads = [threading.Thread(target=add, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    _assert_all_landed(catalog_path, 40)


def _add_range(path: str, start: int, stop: int) -> None:
    for k in range(start, stop):
        add_to_catalog(Path(path), SECTION, _line(k), "bottom")


def test_concurrent_processes_all_land(catalog_path: Path) -> None:
    """Four processes adding at once: the file lock serialises them and nothing is lost."""
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_add_range, args=(str(catalog_path), n * 10, n * 10 + 10))
             for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    _assert_all_landed(catalog_path, 40)


def test_readers_never_see_a_torn_file(catalog_path: Path) -> None:
    """While writers run, every read is a whole catalog: the original plus some added lines."""
    original = catalog_path.read_text(encoding="utf-8")
    head, tail = original.split("### Pruning")
    done = threading.Event()
    torn: list[str] = []

    def read() -> None:
        while not done.is_set():
            text = catalog_path.read_text(encoding="utf-8")
            if not (text.startswith(head[:200]) and text.endswith("### Pruning" + tail)):
                torn.append(text)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(30):
            add_to_catalog(catalog_path, SECTION, _line(n), "top")
    finally:
        done.set()
        reader.join()
    assert torn == []
    _assert_all_landed(catalog_path, 30)


def test_lock_file_is_a_sidecar(catalog_path: Path) -> None:
    """The lock lives next to the catalog, so the catalog itself can be replaced."""
    assert lock_path(catalog_path) == catalog_path.parent / "README.md.lock"


def _append_lines(path: str, stop: Any, appended: Any) -> None:
    """A person's script: open the catalog, append one line, close it; again and again."""
    while not stop.is_set():
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"appended by hand {appended.value}\n")
        appended.value += 1
        time.sleep(0.0002)


def test_a_concurrent_appender_loses_nothing(catalog_path: Path) -> None:
    """Thousands of appends by another process beside tens of approvals: every line stays."""
    ctx = multiprocessing.get_context("spawn")
    stop, appended = ctx.Event(), ctx.Value("i", 0)
    child = ctx.Process(target=_append_lines, args=(str(catalog_path), stop, appended))
    child.start()
    try:
        while appended.value < 20:
            time.sleep(0.01)   # the appender is running
        for n in range(30):
            add_to_catalog(catalog_path, SECTION, _line(n), "top")
            time.sleep(0.02)
        while appended.value < 2000:
            time.sleep(0.01)
    finally:
        stop.set()
        child.join(60)
    lines = catalog_path.read_text(encoding="utf-8").splitlines()
    assert [n for n in range(30) if lines.count(_line(n)) != 1] == []
    assert [n for n in range(appended.value) if f"appended by hand {n}" not in lines] == []


def _writing_into_the_old_file_after_replace(
        monkeypatch: pytest.MonkeyPatch, path: Path, mode: str, data: str) -> None:
    """A program that opened the catalog before arxivwatch's replace writes into it just after."""
    held = open(path, mode, encoding="utf-8")  # noqa: SIM115 - closed by the patched replace
    real_replace = os.replace

    def replace_then_write(src: str, dst: str) -> None:
        real_replace(src, dst)
        if not held.closed:
            held.write(data)
            held.close()

    monkeypatch.setattr(os, "replace", replace_then_write)


def test_a_line_appended_to_the_replaced_file_is_carried_over(
        catalog_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An append that lands in the file the replace unlinked still ends up in the catalog."""
    _writing_into_the_old_file_after_replace(monkeypatch, catalog_path, "a", "late line\n")
    assert add_to_catalog(catalog_path, SECTION, _line(1), "top") is True
    lines = catalog_path.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == "late line"
    assert lines.count(_line(1)) == 1


def test_a_rewrite_of_the_replaced_file_is_kept_and_reported(
        catalog_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rewrite in place that the replace displaced cannot be merged: kept beside, an error."""
    _writing_into_the_old_file_after_replace(monkeypatch, catalog_path, "r+", "# Rewritten")
    with pytest.raises(CatalogError, match=r"another program rewrote the catalog file while "
                       r"arxivwatch replaced it; arxivwatch's line is in the file; its text is "
                       r"kept in .*README\.md\.\d+\.kept: merge it into") as err:
        add_to_catalog(catalog_path, SECTION, _line(1), "top")
    kept = Path(str(err.value).split("kept in ")[1].split(":")[0])
    assert kept.read_text(encoding="utf-8").startswith("# Rewritten")
    assert _line(1) in catalog_path.read_text(encoding="utf-8")


def _full_disk_in(monkeypatch: pytest.MonkeyPatch, *folders: Path) -> None:
    """Writing a file into `folders` fails half way, as on a full disk."""
    real_write = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:  # type: ignore[override]
        if self.parent in folders:
            real_write(self, data[: len(data) // 2])
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


def test_displaced_text_goes_to_the_temp_folder_when_the_catalog_folder_is_full(
        catalog_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The displaced text is in no other file: a full catalog folder sends it to the temp
    folder, whole, and no partial copy stays beside the catalog."""
    temp = tmp_path / "system-tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    _writing_into_the_old_file_after_replace(monkeypatch, catalog_path, "r+", "# Rewritten")
    _full_disk_in(monkeypatch, catalog_path.resolve().parent)
    with pytest.raises(CatalogError, match=r"its text is kept in .*system-tmp.*\.kept: merge it "
                       r"into") as err:
        add_to_catalog(catalog_path, SECTION, _line(1), "top")
    kept = Path(str(err.value).split("kept in ")[1].split(": merge")[0])
    assert kept.parent == temp
    assert kept.read_text(encoding="utf-8").startswith("# Rewritten")
    assert not list(catalog_path.resolve().parent.glob("*.kept"))


def test_displaced_text_is_in_the_error_when_no_folder_takes_it(
        catalog_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both folders full: the error names why and carries the text itself."""
    temp = tmp_path / "system-tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    _writing_into_the_old_file_after_replace(monkeypatch, catalog_path, "r+", "# Rewritten")
    _full_disk_in(monkeypatch, catalog_path.resolve().parent, temp)
    with pytest.raises(CatalogError, match=r"its text could not be saved \(.*No space left on "
                       r"device.*\); here it is, to merge into .* by hand:\n# Rewritten") as err:
        add_to_catalog(catalog_path, SECTION, _line(1), "top")
    assert str(err.value).count("No space left on device") == 2
    assert not list(temp.glob("*.kept"))


def _rewrite_once(path: Path, text: str) -> None:
    """An editor saving the file: write a new file and rename it over the catalog."""
    tmp = path.with_name("editor-save.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def test_a_save_between_read_and_replace_is_kept(
        catalog_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An editor that saves while arxivwatch is building its new text keeps its save."""
    import arxivwatch.catalog_file as catalog_file

    saved = catalog_path.read_text(encoding="utf-8").replace(
        "## Systems", "Edited by hand.\n\n## Systems")
    real_insert = catalog_file.insert_entry
    calls = []

    def insert_then_editor_saves(*args: object) -> str:
        new = real_insert(*args)  # type: ignore[arg-type]
        if not calls:
            _rewrite_once(catalog_path, saved)
        calls.append(1)
        return new

    monkeypatch.setattr(catalog_file, "insert_entry", insert_then_editor_saves)
    assert add_to_catalog(catalog_path, SECTION, _line(1), "top") is True
    text = catalog_path.read_text(encoding="utf-8")
    assert "Edited by hand." in text
    assert text.count(_line(1)) == 1
    assert len(calls) == 2   # read again and re-applied once


def test_a_file_that_never_settles_is_an_error_and_left_alone(
        catalog_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A catalog rewritten before every replace: a CatalogError, and the last save stays."""
    import arxivwatch.catalog_file as catalog_file

    real_insert = catalog_file.insert_entry
    saves: list[str] = []

    def always_saving(*args: object) -> str:
        new = real_insert(*args)  # type: ignore[arg-type]
        saves.append(catalog_path.read_text(encoding="utf-8") + f"save {len(saves)}\n")
        _rewrite_once(catalog_path, saves[-1])
        return new

    monkeypatch.setattr(catalog_file, "insert_entry", always_saving)
    with pytest.raises(CatalogError, match="kept changing"):
        add_to_catalog(catalog_path, SECTION, _line(1), "top")
    assert catalog_path.read_text(encoding="utf-8") == saves[-1]
    assert _line(1) not in saves[-1]


_STALLED_WRITE = """
    import os, sys
    from pathlib import Path
    from arxivwatch import catalog_file

    def stalled(fd):
        print("writing", flush=True)
        sys.stdin.readline()

    os.fsync = stalled
    catalog_file.add_to_catalog(Path(sys.argv[1]), sys.argv[2], sys.argv[3])
"""


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_the_next_write_removes_temp_files_left_by_a_kill(catalog_path: Path) -> None:
    """kill -9 mid-write leaves a temp file and an intact catalog; the next write removes it."""
    before = catalog_path.read_bytes()
    for n in range(2):
        child = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(_STALLED_WRITE), str(catalog_path), SECTION,
             _line(100 + n)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            assert child.stdout.readline() == "writing\n"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=10)
    assert catalog_path.read_bytes() == before
    assert len(_temps(catalog_path.parent)) == 1   # the second write removed the first's
    unrelated = catalog_path.parent / ".other.md.abc.tmp"
    unrelated.write_text("not ours", encoding="utf-8")
    add_to_catalog(catalog_path, SECTION, _line(1), "top")
    assert _temps(catalog_path.parent) == [".other.md.abc.tmp"]
    assert _line(1) in catalog_path.read_text(encoding="utf-8")
