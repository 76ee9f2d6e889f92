"""The store's poll-level operations: one-transaction commit, seen papers, read-only copies."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from arxivwatch.errors import StoreError
from arxivwatch.models import Candidate, Paper
from arxivwatch.store import Store

DAY = dt.date(2026, 11, 24)


def _paper(pid: str, day: dt.date = DAY) -> Paper:
    return Paper(id=pid, title=f"Paper {pid}", abstract="Text.", day=day)


def _cand(pid: str, *, posted: bool = True) -> Candidate:
    return Candidate(paper=_paper(pid), topic="lora", section="A > B", score=1.0, day=DAY,
                     posted=posted)


def test_record_poll_commits_papers_candidates_and_markers_together() -> None:
    """Papers, posted candidates, meta and the last announcement land in one call."""
    with Store.open("sqlite:///:memory:") as store:
        inserted = store.record_poll(
            [_paper("2611.00001"), _paper("2611.00002")],
            [_cand("2611.00001"), _cand("2611.00002", posted=False)],
            last_announcement=DAY, meta={"feed:x": "etag\n"})
        assert inserted == ["2611.00001"]
        assert store.last_announcement() == DAY
        assert store.get_meta("feed:x") == "etag\n"
        assert store.get_paper("2611.00002") is not None
        assert store.record_poll([], [_cand("2611.00001")], last_announcement=None,
                                 meta={}) == []


def test_record_poll_is_all_or_nothing() -> None:
    """A failure inside the transaction leaves nothing of the poll behind."""
    with Store.open("sqlite:///:memory:") as store:
        bad = Candidate(paper=_paper("2611.00003"), topic="lora", section="A > B",
                        score=float("nan"), day=DAY)
        with pytest.raises(Exception):  # noqa: B017, PT011 - SQLite's own integrity error
            store.record_poll([_paper("2611.00001")], [_cand("2611.00002"), bad],
                              last_announcement=DAY, meta={"k": "v"})
        assert store.get_paper("2611.00001") is None
        assert store.last_announcement() is None
        assert store.get_meta("k") is None


def test_seen_papers_before_a_day() -> None:
    """`before` keeps only papers listed on an earlier day."""
    with Store.open("sqlite:///:memory:") as store:
        store.upsert_papers([_paper("2611.00001", DAY - dt.timedelta(days=1)),
                             _paper("2611.00002")])
        ids = ["2611.00001", "2611.00002", "2611.00009"]
        assert store.seen_papers(ids) == {"2611.00001", "2611.00002"}
        assert store.seen_papers(ids, before=DAY) == {"2611.00001"}


def test_open_copy_never_touches_the_file(tmp_path: Path) -> None:
    """An in-memory copy sees the data; writing to it leaves the file byte-identical."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    with Store.open(url) as store:
        store.upsert_papers([_paper("2611.00001")])
    before = (tmp_path / "state.db").read_bytes()
    with Store.open_copy(url) as copy:
        assert copy.get_paper("2611.00001") is not None
        copy.upsert_papers([_paper("2611.00002")])
    assert (tmp_path / "state.db").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.db"]


def test_open_copy_of_a_missing_file_creates_nothing(tmp_path: Path) -> None:
    """A dry run before the first real poll creates no state file."""
    with Store.open_copy(f"sqlite:///{tmp_path / 'none.db'}") as copy:
        assert copy.last_announcement() is None
    assert list(tmp_path.iterdir()) == []


def test_open_copy_of_garbage_is_a_clear_error(tmp_path: Path) -> None:
    """A file that is not a database is refused with its path."""
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(StoreError, match=r"bad\.db"):
        Store.open_copy(f"sqlite:///{bad}")
