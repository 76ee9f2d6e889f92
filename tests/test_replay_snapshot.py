"""Tests for arxivwatch.replay.snapshot: streaming snapshot reader and its inverse line writer."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import random
import re
import sys
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch.models import Paper
from arxivwatch.query import parse as parse_query
from arxivwatch.ranking.prefilter import Prefilter
from arxivwatch.replay.snapshot import (
    CHUNK,
    SnapshotError,
    SnapshotStats,
    read_snapshot,
    write_snapshot_line,
)

RECORD: dict[str, Any] = {
    "id": "2401.00685", "submitter": None,
    "authors": "Mohamed Elmahallawy, Tie Luo and Khaled Ramadan",
    "title": "Communication-Efficient\n  Federated Learning ", "comments": "10 pages",
    "journal-ref": "IEEE TWC 2024", "doi": "10.1/x", "report-no": None,
    "categories": "cs.LG cs.AI cs.DC", "license": None,
    "abstract": "  Space AI has become\nincreasingly important.\n",
    "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 12:00:00 GMT"},
                 {"version": "v2", "created": "Fri, 5 Jan 2024 09:00:00 GMT"}],
    "update_date": "2024-01-05", "authors_parsed": [["Elmahallawy", "Mohamed", ""]],
}
EXPECTED = Paper(
    "2401.00685", "Communication-Efficient Federated Learning",
    "Space AI has become increasingly important.",
    ("Mohamed Elmahallawy", "Tie Luo", "Khaled Ramadan"), ("cs.LG", "cs.AI", "cs.DC"),
    "10 pages", "IEEE TWC 2024", "10.1/x", 2, dt.date(2024, 1, 1))


def write(path: Path, lines: list[str]) -> Path:
    data = ("\n".join(lines) + "\n").encode()
    if path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def read_all(path: Path | str, stats: SnapshotStats | None = None) -> list[Paper]:
    return list(read_snapshot(path, stats=stats))


Parse = Callable[[dict[str, Any]], Paper]


@pytest.fixture
def parse(tmp_path: Path) -> Parse:
    """Read one record through a real file and return its only Paper."""
    def _parse(record: dict[str, Any]) -> Paper:
        path = tmp_path / "one.jsonl"
        path.write_text(json.dumps(record) + "\n")
        papers = read_all(path)
        assert len(papers) == 1
        return papers[0]
    return _parse


@pytest.mark.parametrize("name", ["s.jsonl", "s.jsonl.gz"])
def test_reads_plain_and_gzipped_files(tmp_path: Path, name: str) -> None:
    """Plain and gzipped files give the same, fully mapped Paper."""
    assert read_all(write(tmp_path / name, [json.dumps(RECORD)])) == [EXPECTED]


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    """A gzipped file without .gz (or a plain one with it) is still read."""
    lying = tmp_path / "s.jsonl"
    lying.write_bytes(gzip.compress(json.dumps(RECORD).encode()))
    assert read_all(lying) == [EXPECTED]


@pytest.mark.parametrize(("authors", "expected"), [
    ("A. Author", ("A. Author",)),
    ("Ann Lee and Bo Chen", ("Ann Lee", "Bo Chen")),
    ("Ann Lee, Bo Chen and Cy Dee", ("Ann Lee", "Bo Chen", "Cy Dee")),
    ("Ann Lee, Bo Chen, and Cy Dee", ("Ann Lee", "Bo Chen", "Cy Dee")),
    ("Ann Lee,\n  Bo Chen", ("Ann Lee", "Bo Chen")),
    ("Sandra Anderson and Andy Band", ("Sandra Anderson", "Andy Band")),
    ("", ()),
])
def test_authors_are_split_on_commas_and_and(
        parse: Parse, authors: str, expected: tuple[str, ...]) -> None:
    """"A, B and C" (with or without an Oxford comma) becomes a tuple of names."""
    assert parse({**RECORD, "authors": authors}).authors == expected


@pytest.mark.parametrize(("created", "day"), [
    ("Mon, 1 Jan 2024 12:00:00 GMT", dt.date(2024, 1, 1)),
    ("Tue, 02 Jan 2024 23:59:59 GMT", dt.date(2024, 1, 2)),
    ("Mon, 1 Jan 2024 23:30:00 -0500", dt.date(2024, 1, 2)),
    ("not a date", None),
])
def test_day_is_the_utc_date_of_the_first_version(
        parse: Parse, created: str, day: dt.date | None) -> None:
    """versions[0].created (RFC 2822) gives Paper.day; an unreadable date gives None."""
    assert parse({**RECORD, "versions": [{"version": "v1", "created": created}]}).day == day


@pytest.mark.parametrize(("raw_id", "canonical"), [
    ("2401.00685", "2401.00685"),
    ("2401.00685v3", "2401.00685"),
    ("arXiv:2401.00685", "2401.00685"),
    ("hep-th/0101001", "hep-th/0101001"),
    ("math.GT/0309136v2", "math/0309136"),
])
def test_ids_are_canonical(parse: Parse, raw_id: str, canonical: str) -> None:
    """Ids come out bare: no version, no prefix."""
    assert parse({**RECORD, "id": raw_id}).id == canonical


def test_missing_fields_become_defaults(parse: Parse) -> None:
    """A record with only id and title reads with empty/None fields."""
    assert parse({"id": "2401.00001", "title": "T"}) == Paper("2401.00001", "T")
    assert parse({"id": "2401.00001", "title": "T", "comments": None, "versions": [],
                   "authors": None, "categories": None}) == Paper("2401.00001", "T")


def test_bad_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    """Broken JSON, records without id or title, and non-objects are skipped, with line numbers."""
    good = json.dumps(RECORD)
    lines = [good, "{broken", json.dumps({"title": "no id"}), "", "[1, 2]",
             json.dumps({"id": "2401.00002", "title": "  "}),
             json.dumps({"id": "nope", "title": "x"}),
             good]
    stats = SnapshotStats()
    assert read_all(write(tmp_path / "s.jsonl", lines), stats) == [EXPECTED, EXPECTED]
    assert (stats.lines, stats.papers, stats.skipped) == (8, 2, 5)
    assert stats.errors[0].startswith("line 2: ")
    assert stats.errors[1] == "line 3: missing field 'id'"
    assert len(stats.errors) == SnapshotStats.MAX_ERRORS


@pytest.mark.parametrize(("line", "ok"), [
    (b"\xef\xbb\xbf" + json.dumps(RECORD).encode(), True),       # UTF-8 byte order mark
    (json.dumps(RECORD).encode() + b"\r", True),                  # CRLF line ends
    (b"  " + json.dumps(RECORD).encode() + b"  ", True),           # surrounding blanks
    (json.dumps(RECORD).encode() + b" {}", False),                 # extra data
    (json.dumps(RECORD, ensure_ascii=False).encode()[:-2] + b"\xff}", False),  # bad UTF-8
])
def test_lines_are_read_as_json_loads_reads_them(tmp_path: Path, line: bytes, ok: bool) -> None:
    """Whatever the fast path, a line is a paper exactly when json.loads accepts its bytes."""
    path = tmp_path / "s.jsonl"
    path.write_bytes(b"\n".join([json.dumps(RECORD).encode(), line, b""]))
    stats = SnapshotStats()
    assert read_all(path, stats) == [EXPECTED] * (1 + ok)
    assert stats.skipped == (not ok)


@pytest.mark.parametrize("content", [
    b"id,title\n2401.00001,T\n",
    bytes(range(256)) * 40,
    b'{"not": "a paper"}\n',
])
def test_a_file_that_is_not_json_lines_is_an_error(tmp_path: Path, content: bytes) -> None:
    """A file with no usable line at all fails with its path and the first reason."""
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(SnapshotError, match=r"notes\.txt is not an arXiv snapshot .*line 1"):
        read_all(path)


def test_empty_file_yields_nothing(tmp_path: Path) -> None:
    """An empty file is an empty snapshot, not an error."""
    assert read_all(write(tmp_path / "e.jsonl.gz", [])) == []


def test_missing_file_is_an_error_with_its_path(tmp_path: Path) -> None:
    """A missing file raises SnapshotError naming the absolute path."""
    with pytest.raises(SnapshotError, match=str(tmp_path / "absent.jsonl")):
        read_all(tmp_path / "absent.jsonl")


def test_truncated_gzip_is_an_error(tmp_path: Path) -> None:
    """A gzip file cut short says so instead of silently ending early."""
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(gzip.compress((json.dumps(RECORD) + "\n").encode() * 50)[:-30])
    with pytest.raises(SnapshotError, match="truncated"):
        read_all(path)


@pytest.mark.parametrize("at", [20, 2_000, -6, -2])
def test_corrupt_gzip_is_worded_as_zlib_words_it(tmp_path: Path, at: int) -> None:
    """ISA-L inflates; a corrupt stream's message is still zlib's (its own wording differs)."""
    data = bytearray(gzip.compress(random.Random(at).randbytes(100_000).hex().encode()))
    data[at] ^= 0xFF
    path = tmp_path / "bad.jsonl.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(zlib.error) as zlib_error:
        zlib.decompress(bytes(data), wbits=31)
    with pytest.raises(SnapshotError, match=re.escape(f"corrupt gzip data ({zlib_error.value})")):
        read_all(path)


def test_concatenated_gzip_members_are_all_read(tmp_path: Path) -> None:
    """A multi-member gzip (cat a.gz b.gz) yields the papers of every member."""
    member = gzip.compress((json.dumps(RECORD) + "\n").encode())
    path = tmp_path / "multi.jsonl.gz"
    path.write_bytes(member * 3)
    assert read_all(path) == [EXPECTED] * 3


def many(n: int) -> list[str]:
    """n records with incompressible 2 kB abstracts, so even the .gz spans several chunks."""
    rng = random.Random(0)
    return [json.dumps({**RECORD, "id": f"2401.{i:05d}",
                        "abstract": f"{i} x{rng.randbytes(1000).hex()}"}) for i in range(n)]


@pytest.mark.parametrize("name", ["big.jsonl", "big.jsonl.gz"])
def test_lines_spanning_read_chunks_are_whole_and_progress_ends_at_total(
        tmp_path: Path, name: str) -> None:
    """Files larger than one read chunk lose no line; progress ends at (total, total)."""
    n = CHUNK // 700 * 2
    path = write(tmp_path / name, many(n))
    calls: list[tuple[int, int]] = []
    papers = list(read_snapshot(path, progress=lambda done, total: calls.append((done, total))))
    assert [p.id for p in papers] == [f"2401.{i:05d}" for i in range(n)]
    assert all(p.abstract.startswith(f"{i} x") for i, p in enumerate(papers))
    total = path.stat().st_size
    assert calls[-1] == (total, total)
    assert len(calls) > 1
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_dash_reads_standard_input(monkeypatch: pytest.MonkeyPatch) -> None:
    """`-` reads the snapshot from stdin (here gzipped)."""
    data = gzip.compress((json.dumps(RECORD) + "\n").encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    assert read_all("-") == [EXPECTED]


def test_write_snapshot_line_matches_the_snapshot_shape() -> None:
    """The writer produces the snapshot's field names and formats."""
    obj = json.loads(write_snapshot_line(EXPECTED))
    assert obj["authors"] == "Mohamed Elmahallawy, Tie Luo and Khaled Ramadan"
    assert obj["categories"] == "cs.LG cs.AI cs.DC"
    assert obj["journal-ref"] == "IEEE TWC 2024"
    assert obj["versions"][0] == {"version": "v1", "created": "Mon, 01 Jan 2024 12:00:00 GMT"}
    assert len(obj["versions"]) == 2


_words = st.text(st.characters(codec="utf-8", categories=("L", "N", "P", "S")), min_size=1,
                 max_size=12).filter(lambda w: w not in {"and", ","} and "," not in w)
_phrase = st.lists(_words, min_size=1, max_size=6).map(" ".join)


@settings(max_examples=80, deadline=None)
@given(st.builds(
    Paper, id=st.from_regex(r"2[0-9]{3}\.[0-9]{5}", fullmatch=True), title=_phrase,
    abstract=st.none().map(lambda _: "") | _phrase,
    authors=st.lists(_phrase.filter(lambda a: " and " not in f" {a} "), max_size=5).map(tuple),
    categories=st.lists(st.sampled_from(["cs.LG", "cs.AI", "math.OC"]), max_size=3).map(tuple),
    comments=st.none() | _phrase, journal_ref=st.none() | _phrase, doi=st.none() | _phrase,
    version=st.integers(1, 9), day=st.none() | st.dates(dt.date(1991, 1, 1))))
def test_write_then_read_round_trips(tmp_path_factory: pytest.TempPathFactory,
                                     p: Paper) -> None:
    """read_snapshot(write_snapshot_line(p)) == p for any normalised paper."""
    path = tmp_path_factory.mktemp("rt") / "p.jsonl"
    path.write_text(write_snapshot_line(p) + "\n", encoding="utf-8")
    assert read_all(path) == [p]


# --- keep: papers the caller does not need are read as skeletons -------------------------------

KEEP_QUERIES = ['LoRA OR "low-rank adaptation"', '("mixture of experts" OR MoE) AND GPU*',
                'ti:survey AND compress*']
_TEXT = st.lists(st.sampled_from([
    "LoRA", "low", "rank", "low-\\nrank", "Low-Rank", "adaptation", "mixture", "of", "experts",
    "MoE", "GPUs", "survey", "compression", "Sch\u00f6lkopf", "\\emph{LoRA}", "$\\alpha$", "~",
    "the", "a", "\n", "  ", "\t", "\u00a0", "\u2010", ",", "\"q\"", "lo", "ra",
]), max_size=12).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(_TEXT, _TEXT, st.none() | _TEXT), min_size=1, max_size=6))
def test_keep_never_drops_a_paper_the_prefilter_keeps(
        tmp_path_factory: pytest.TempPathFactory,
        texts: list[tuple[str, str, str | None]]) -> None:
    """With keep = the prefilter, a paper it may match is read in full; the others by id and day."""
    records = [{**RECORD, "id": f"2401.{i:05d}", "title": f"T {t}", "abstract": a, "comments": c}
               for i, (t, a, c) in enumerate(texts)]
    path = write(tmp_path_factory.mktemp("keep") / "s.jsonl", [json.dumps(r) for r in records])
    prefilter = Prefilter([parse_query(q) for q in KEEP_QUERIES])
    full = read_all(path)
    kept = list(read_snapshot(path, keep=prefilter.keep_texts))
    assert len(kept) == len(full)
    for whole, got in zip(full, kept, strict=True):
        if any(prefilter.possible(whole)):
            assert got == whole
        else:
            assert got == Paper(whole.id, "", day=whole.day)


def test_keep_skips_and_reports_bad_lines_as_a_full_read_does(tmp_path: Path) -> None:
    """Declined records are still checked: the same papers, skips and reasons as without keep."""
    lines = [json.dumps(RECORD), "{broken", json.dumps({"title": "no id"}), "[1, 2]",
             json.dumps({"id": "2401.00002", "title": "  "}), json.dumps({"id": "no", "title": "x"}),
             json.dumps({**RECORD, "authors": ["A"]}), json.dumps({**RECORD, "categories": 3}),
             json.dumps({**RECORD, "versions": [{"created": 5}]}),
             json.dumps({**RECORD, "versions": "v1"}), json.dumps({**RECORD, "title": 7}),
             json.dumps({**RECORD, "versions": None, "id": "2401.00003"})]
    for n, line in enumerate(lines):
        path = write(tmp_path / f"s{n}.jsonl", [json.dumps(RECORD), line])
        stats, kept_stats = SnapshotStats(), SnapshotStats()
        full = read_all(path, stats)
        kept = list(read_snapshot(path, stats=kept_stats, keep=lambda *_: False))
        assert [(p.id, p.day, p.title) for p in kept] == [(p.id, p.day, "") for p in full]
        assert (kept_stats.papers, kept_stats.skipped) == (stats.papers, stats.skipped)
        assert kept_stats.errors == stats.errors
        assert stats.skipped == (0 < n < len(lines) - 1)   # the first and last are good
