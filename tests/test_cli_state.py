"""The state file from the command line: `state backup`, `check`, and damage in every command."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from arxivwatch.store import SCHEMA_VERSION
from tests.test_cli import CONFIG, project, run
from tests.test_store_file import DAMAGE, fingerprint, foreign_database, make_state

ARXIV = "arxiv:\n  rss_url: http://127.0.0.1:9/rss/\n  api_url: http://127.0.0.1:9/api/query\n"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A project whose state.url is `state.db` in its folder (arXiv unreachable, never asked)."""
    return project(tmp_path, CONFIG + ARXIV)


def test_backup_copies_the_state_and_says_what_it_holds(tmp_path: Path, config: Path) -> None:
    """`state backup PATH`: one self-contained SQLite file with every candidate."""
    make_state(tmp_path / "state.db", count=25)
    result = run("--config", str(config), "state", "backup", str(tmp_path / "b" / "copy.db"))
    assert result.exit_code == 1   # the folder must exist
    assert "cannot write the backup" in result.stderr
    (tmp_path / "b").mkdir()
    result = run("--config", str(config), "state", "backup", str(tmp_path / "b" / "copy.db"))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"backed up {tmp_path / 'state.db'} to "
                                    f"{tmp_path / 'b' / 'copy.db'} (")
    assert "25 candidates, 0 decisions" in result.stdout
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["copy.db"]
    copy = sqlite3.connect(tmp_path / "b" / "copy.db")
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert copy.execute("SELECT count(*) FROM candidates").fetchone()[0] == 25


@pytest.mark.parametrize(("target", "message"), [
    ("state.db", "is the state database itself"),
    (".", "is a folder; give the backup a file name"),
])
def test_backup_refuses_to_overwrite_the_state_or_a_folder(
        tmp_path: Path, config: Path, target: str, message: str) -> None:
    """The state itself or a folder as PATH: one error line, nothing written."""
    make_state(tmp_path / "state.db", count=3)
    result = run("--config", str(config), "state", "backup", str(tmp_path / target))
    assert result.exit_code == 1
    assert message in result.stderr


_WRITER = """
    import datetime as dt, sys
    from arxivwatch.models import Candidate, Paper
    from arxivwatch.store import Store

    with Store.open(sys.argv[1]) as store:
        batch = 0
        while True:
            cands = [Candidate(Paper(f"2403.{batch * 10 + k:05d}", f"P{k}"), "lora", "LoRA", 1.0,
                               dt.date(2024, 3, 4)) for k in range(10)]
            store.record_poll((), cands, last_announcement=None, meta={"batch": str(batch)})
            if batch == 5:
                print("writing", flush=True)
            batch += 1
"""


def test_backup_while_another_process_writes_is_one_consistent_snapshot(
        tmp_path: Path, config: Path) -> None:
    """Backups taken while a `run`-like process commits poll after poll: each is whole."""
    writer = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_WRITER), f"sqlite:///{tmp_path / 'state.db'}"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "writing\n"
        for n in range(5):
            copy = tmp_path / f"copy{n}.db"
            result = run("--config", str(config), "state", "backup", str(copy))
            assert result.exit_code == 0, result.output
            db = sqlite3.connect(copy)
            assert db.execute("PRAGMA quick_check").fetchone()[0] == "ok"
            batch = int(db.execute("SELECT value FROM meta WHERE key = 'batch'").fetchone()[0])
            assert db.execute("SELECT count(*) FROM candidates").fetchone()[0] == 10 * (batch + 1)
    finally:
        writer.kill()
        writer.wait(timeout=10)


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("command", [["poll"], ["pending"], ["status"], ["approve", "2403.00001"],
                                     ["state", "backup", "copy.db"]], ids=" ".join)
def test_every_command_refuses_a_damaged_state_naming_it(
        tmp_path: Path, config: Path, damage: str, command: list[str]) -> None:
    """poll, pending, status, approve and backup: exit 1, one line naming the file; unwritten."""
    path = make_state(tmp_path / "state.db", count=400)
    harm, message = DAMAGE[damage]
    harm(path)
    before = fingerprint(path)
    result = run("--config", str(config), *command[:2], *[str(tmp_path / c) for c in command[2:]])
    assert result.exit_code == 1, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: state database {path} ")
    assert re.search(message, lines[0])
    assert ":memory:" not in result.stderr
    assert fingerprint(path) == before
    assert not (tmp_path / "copy.db").exists()


def test_check_reports_a_state_that_cannot_be_used(tmp_path: Path, config: Path) -> None:
    """`check` opens the state read-only: a foreign or damaged file is a problem; it is left as is."""
    foreign_database(tmp_path / "state.db")
    before = fingerprint(tmp_path / "state.db")
    result = run("--config", str(config), "check")
    assert result.exit_code == 1
    assert f"state.url: {tmp_path / 'state.db'} is an SQLite database but holds no arxivwatch " \
        "state" in result.stdout
    assert fingerprint(tmp_path / "state.db") == before


def test_check_reports_a_state_location_that_cannot_be_opened(tmp_path: Path) -> None:
    """state.url below a regular file: `check` fails there instead of `poll` later."""
    config = project(tmp_path, CONFIG.replace("sqlite:///state.db",
                                              "sqlite:///catalog/README.md/state.db"))
    result = run("--config", str(config), "check")
    assert result.exit_code == 1
    catalog = tmp_path / "catalog" / "README.md"
    assert f"state.url: cannot create state database {catalog / 'state.db'}: {catalog} is a " \
        "file, not a folder" in result.stdout


def test_check_summarises_a_sound_state(tmp_path: Path, config: Path) -> None:
    """A good state: its path and how many candidates it holds."""
    make_state(tmp_path / "state.db", count=7)
    result = run("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert f"state:     {tmp_path / 'state.db'} (7 candidates, schema {SCHEMA_VERSION})" in result.stdout
