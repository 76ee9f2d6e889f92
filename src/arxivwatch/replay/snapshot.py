"""Streaming reader of arXiv metadata snapshot files: one JSON object a line, gzipped or plain.

The backtest replays these files, so the reader is its speed baseline: input is decompressed in
large chunks (faster than `gzip.GzipFile` line iteration), each line is decoded once with
`json.loads`, dates are parsed once per distinct day, and the `Paper` is built positionally.
Memory stays bounded by the chunk size whatever the file size.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import re
import sys
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar, cast

from isal import isal_zlib

from arxivwatch.errors import ArxivWatchError
from arxivwatch.ids import normalize_id
from arxivwatch.models import Paper

T = TypeVar("T")
Progress = Callable[[int, int], None]
Keep = Callable[[str, str, str | None], bool]   # (title, abstract, comments) -> needed?

CHUNK = 1 << 20           # bytes of compressed input read at a time
DAY_CACHE = 100_000     # distinct timestamps remembered (the sample repeats them)
PROBE_LINES = 100         # a file whose first this-many lines are all bad is not a snapshot
_GZIP_MAGIC = b"\x1f\x8b"
_INFLATE_ERROR = cast(type[Exception], isal_zlib.error)   # its stub calls the class an instance
# ids already in canonical form skip ids.normalize_id (most snapshot lines): a cheap fullmatch
_CANONICAL = re.compile(r"\d{4}\.\d{4,5}|[a-z][a-z\-]*/\d{7}").fullmatch
_MONTHS = {m: i for i, m in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1)}


class SnapshotError(ArxivWatchError):
    """A snapshot file that cannot be read or is not JSON lines at all."""


@dataclass(slots=True)
class SnapshotStats:
    """What a read saw: lines, papers yielded, lines skipped and why (first few only)."""

    lines: int = 0
    papers: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)   # "line N: reason", at most MAX_ERRORS

    MAX_ERRORS = 5

    def skip(self, line_no: int, reason: str) -> None:
        """Count one bad line, remembering the reason for the first few."""
        self.skipped += 1
        if len(self.errors) < self.MAX_ERRORS:
            self.errors.append(f"line {line_no}: {reason}")


def read_snapshot(
    path: Path | str, *, progress: Progress | None = None, stats: SnapshotStats | None = None,
    keep: Keep | None = None,
) -> Iterator[Paper]:
    """Yield the papers of a snapshot file (`.gz` or plain, `-` for stdin), skipping bad lines.

    `keep(title, abstract, comments)`, given a record's raw texts, may answer False when the
    caller needs only the paper's id and day: the paper is then a skeleton, `Paper(id, "",
    day=day)`, checked as `_paper` checks it but with no text collapsed or split.
    """
    with _opened(path) as (raw, total, name):
        days: dict[str, dt.date | None] = {}
        outcomes = (outcome(line, days, keep)
                    for block in line_blocks(raw, name, _ticker(raw, total, progress))
                    for line in block)
        yield from papers_of(outcomes, name, stats)
        if progress is not None:
            progress(total or _tell(raw), total)


def display_name(path: Path | str) -> str:
    """How messages name a snapshot input: its absolute path, or `-` for stdin."""
    return "-" if str(path) == "-" else str(Path(path).absolute())


@contextmanager
def _opened(path: Path | str) -> Iterator[tuple[IO[bytes], int, str]]:
    """The raw input, its size (0 for stdin) and its name for messages."""
    if str(path) == "-":
        yield sys.stdin.buffer, 0, "-"
        return
    try:
        f = open(path, "rb")  # noqa: SIM115 - closed by the with below, after the size is taken
    except OSError as e:
        raise SnapshotError(f"cannot read snapshot {display_name(path)}: {e.strerror}") from e
    with f:
        yield f, Path(path).stat().st_size, display_name(path)


def open_blocks(path: Path | str, progress: Progress | None = None,
                ) -> Iterator[tuple[bytes, str]]:
    """The `byte_blocks` of a snapshot file, with the file's name.

    For readers that split and parse lines elsewhere (see `split_block`, `outcome` and
    `papers_of`); progress is reported as `read_snapshot` reports it.
    """
    with _opened(path) as (raw, total, name):
        for block in byte_blocks(raw, name, _ticker(raw, total, progress)):
            yield block, name
        if progress is not None:
            progress(total or _tell(raw), total)


def _ticker(raw: IO[bytes], total: int, progress: Progress | None) -> Callable[[], None] | None:
    return None if progress is None else lambda: progress(_tell(raw), total)


Outcome = Paper | str | None    # a paper, the reason a line is skipped, or None: a blank line


def outcome(line: str | bytes, days: dict[str, dt.date | None], keep: Keep | None) -> Outcome:
    """One line read: its Paper (a skeleton when `keep` declines it), a reason, or None."""
    return outcome_of(line, days, keep, _skeleton)


def outcome_of(line: str | bytes, days: dict[str, dt.date | None], keep: Keep | None,
               skeleton: Callable[[str, dt.date | None], T]) -> Paper | T | str | None:
    """`outcome`, with a declined paper given as `skeleton(id, day)` (a Paper for `outcome`;
    a worker that only sends the id and day back needs no Paper)."""
    try:
        obj = _loads(line)
        return _paper(obj, days) if keep is None else _kept(obj, days, keep, skeleton)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as e:
        if line.isspace() or not line:
            return None
        return _reason(e)


def _skeleton(pid: str, day: dt.date | None) -> Paper:
    return Paper(pid, "", day=day)


def papers_of(outcomes: Iterable[Outcome], name: str, stats: SnapshotStats | None = None,
              ) -> Iterator[Paper]:
    """The papers among the outcomes of a file's lines, in order, counting the bad lines.

    Raises SnapshotError when the first PROBE_LINES lines are all bad, or no line is a paper.
    """
    stats = stats if stats is not None else SnapshotStats()
    line_no = 0
    for line_no, out in enumerate(outcomes, 1):
        if isinstance(out, Paper):
            stats.papers += 1
            yield out
        elif out is not None:
            stats.skip(line_no, out)
            if stats.papers == 0 and stats.skipped >= PROBE_LINES:
                raise SnapshotError(_not_jsonl(name, stats))
    stats.lines = line_no
    if stats.papers == 0 and stats.skipped:
        raise SnapshotError(_not_jsonl(name, stats))


def _not_jsonl(name: str, stats: SnapshotStats) -> str:
    return (f"{name} is not an arXiv snapshot (one JSON object a line): "
            f"{stats.skipped} bad lines and no paper; first: {stats.errors[0]}")


def _reason(e: Exception) -> str:
    if isinstance(e, KeyError):
        return f"missing field {e}"
    return str(e).splitlines()[0][:200]


def _tell(raw: IO[bytes]) -> int:
    try:
        return raw.tell()
    except OSError:   # a pipe
        return 0


def _loads(line: str | bytes) -> Any:
    """`json.loads(line)`, calling the C scanner directly for a str line that is one value.

    Anything else (surrounding whitespace, a BOM, bad JSON) goes through `json.loads` on the
    line's bytes, so results and error messages are exactly those of `json.loads`.
    """
    if isinstance(line, str):
        try:
            obj, end = _SCAN(line, 0)
        except StopIteration:
            end = -1
        if end == len(line):
            return obj
        line = line.encode()
    return json.loads(line)


_SCAN = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # set in __init__


def line_blocks(raw: IO[bytes], name: str, tick: Callable[[], None] | None,
                ) -> Iterator[list[str] | list[bytes]]:
    """The lines of `raw`, a chunk at a time (see `byte_blocks` and `split_block`)."""
    return map(split_block, byte_blocks(raw, name, tick))


def byte_blocks(raw: IO[bytes], name: str, tick: Callable[[], None] | None) -> Iterator[bytes]:
    """Whole lines of `raw`, a chunk at a time, gunzipping it (every member) when it is gzip.

    Each block is the chunk's complete lines without the last newline. `tick` runs after each
    chunk of raw input is read: progress costs nothing per line.
    """
    head = raw.read(CHUNK)
    chunks = _gunzip(raw, head, name) if head.startswith(_GZIP_MAGIC) else _plain(raw, head)
    rest = b""
    for chunk in chunks:
        if tick is not None:
            tick()
        block = rest + chunk
        cut = block.rfind(b"\n") + 1
        rest = block[cut:]
        if cut:
            yield block[:cut - 1]
    if rest:
        yield rest


def split_block(block: bytes) -> list[str] | list[bytes]:
    """A block's lines, decoded from UTF-8 at once (bytes lines when it is not valid UTF-8)."""
    try:
        return block.decode().split("\n")
    except UnicodeDecodeError:
        return block.split(b"\n")


def _plain(raw: IO[bytes], head: bytes) -> Iterator[bytes]:
    chunk = head
    while chunk:
        yield chunk
        chunk = raw.read(CHUNK)


def _gunzip(raw: IO[bytes], head: bytes, name: str) -> Iterator[bytes]:
    """Decompress a (possibly multi-member) gzip stream chunk by chunk.

    ISA-L's inflate (`isal_zlib`, zlib's interface) takes 0.23 s where zlib takes 0.56 s on
    the sample: the parent of a parallel backtest does this alone while its workers wait.
    """
    try:
        yield from _inflate(raw, head, name, isal_zlib)
    except _INFLATE_ERROR as e:
        raise SnapshotError(f"{name}: corrupt gzip data ({_zlib_error(raw, name, e)}); "
                            "re-download the file") from e


def _inflate(raw: IO[bytes], head: bytes, name: str, inflater: Any) -> Iterator[bytes]:
    """The chunks of a gzip stream (every member), inflated by `inflater` (the `zlib` module or
    one with its interface); its error where the data is corrupt."""
    z = inflater.decompressobj(wbits=31)
    data = head
    while data:
        out = z.decompress(data)
        while z.eof and z.unused_data:     # the next gzip member starts here
            data, z = z.unused_data, inflater.decompressobj(wbits=31)
            out += z.decompress(data)
        yield out
        data = raw.read(CHUNK)
    if not z.eof:
        raise SnapshotError(f"{name}: gzip stream ends early (truncated file?)")


def _zlib_error(raw: IO[bytes], name: str, error: Exception) -> str:
    """zlib's message for a corrupt stream (ISA-L words it differently), read again from the
    start; ISA-L's own where the stream cannot be read again."""
    try:
        raw.seek(0)
        for _ in _inflate(raw, raw.read(CHUNK), name, zlib):
            pass
    except zlib.error as e:
        return str(e)
    except (OSError, SnapshotError):
        pass
    return str(error)


def _paper(obj: dict[str, Any], days: dict[str, dt.date | None]) -> Paper:
    """Build a Paper from one snapshot record; raises KeyError/TypeError/IdError when unusable."""
    pid = _id(obj)
    title = _collapse(obj["title"])
    if not title:
        raise ValueError("empty title")
    versions = obj.get("versions") or ()
    day = _first_day(versions, days)
    return Paper(
        pid, title, _collapse(obj.get("abstract") or ""),
        _authors(obj.get("authors")), tuple((obj.get("categories") or "").split()),
        obj.get("comments"), obj.get("journal-ref"), obj.get("doi"),
        len(versions) or None, day,
    )


def _kept(obj: Any, days: dict[str, dt.date | None], keep: Keep,
          skeleton: Callable[[str, dt.date | None], T]) -> Paper | T:
    """`_paper`, or the skeleton `Paper(id, "", day=day)` when `keep` declines the texts.

    The skeleton is taken only when the text fields `_paper` would collapse or split are
    strings (or null), so a record `_paper` refuses is refused here the same way.
    """
    if not isinstance(obj, dict):
        return _paper(obj, days)
    title, abstract, comments = obj.get("title"), obj.get("abstract"), obj.get("comments")
    if (not isinstance(title, str) or not isinstance(abstract, str | None)
            or not isinstance(comments, str | None)
            or not isinstance(obj.get("authors"), str | None)
            or not isinstance(obj.get("categories"), str | None)
            or keep(title, abstract or "", comments)):
        return _paper(obj, days)
    pid = _id(obj)
    if title.isspace() or not title:   # what _collapse leaves empty
        raise ValueError("empty title")
    return skeleton(pid, _first_day(obj.get("versions") or (), days))


def _id(obj: dict[str, Any]) -> str:
    raw_id = obj["id"]
    return raw_id if _CANONICAL(raw_id) else normalize_id(raw_id)


def _first_day(versions: Any, days: dict[str, dt.date | None]) -> dt.date | None:
    """The day of `versions[0]["created"]`, parsed once per distinct timestamp."""
    created = versions[0].get("created") if versions else None
    if not created:
        return None
    day = days.get(created, _MISSING)
    if day is _MISSING:
        day = _parse_day(created)
        if len(days) < DAY_CACHE:
            days[created] = day
    return day  # type: ignore[no-any-return]


_MISSING: Any = object()


def _authors(text: str | None) -> tuple[str, ...]:
    """Split "A, B and C" (also "A, B, and C") into names."""
    if not text:
        return ()
    names = _collapse(text).replace(", and ", ", ").replace(" and ", ", ").split(", ")
    return tuple(n for n in names if n)


def _collapse(text: str) -> str:
    """Collapse runs of whitespace; the `in` probes are much cheaper than always re-joining."""
    if ("\n" in text or "  " in text or "\t" in text or "\r" in text or "\xa0" in text
            or text[:1].isspace() or text[-1:].isspace()):
        return " ".join(text.split())
    return text


def _parse_day(created: str) -> dt.date | None:
    """The UTC date of an RFC 2822 timestamp like "Mon, 1 Jan 2024 12:00:00 GMT"."""
    parts = created.split()
    try:
        if len(parts) >= 5 and parts[-1] == "GMT":
            return dt.date(int(parts[-3]), _MONTHS[parts[-4]], int(parts[-5]))
        parsed = email.utils.parsedate_to_datetime(created)
    except (ValueError, KeyError, TypeError):
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC)
    return parsed.date()


def write_snapshot_line(paper: Paper) -> str:
    """Render a Paper as one snapshot JSON line (no newline): the inverse of the reader."""
    n = paper.version or (1 if paper.day else 0)
    created = _rfc2822(paper.day) if paper.day else None
    versions = [{"version": f"v{i}", "created": created if i == 1 else None}
                for i in range(1, n + 1)]
    return json.dumps({
        "id": paper.id, "title": paper.title, "abstract": paper.abstract,
        "authors": _join_authors(paper.authors), "categories": " ".join(paper.categories),
        "comments": paper.comments, "journal-ref": paper.journal_ref, "doi": paper.doi,
        "versions": versions,
        "update_date": paper.day.isoformat() if paper.day else None,
    }, ensure_ascii=False)


def _join_authors(authors: tuple[str, ...]) -> str:
    if len(authors) <= 1:
        return "".join(authors)
    return ", ".join(authors[:-1]) + " and " + authors[-1]


def _rfc2822(day: dt.date) -> str:
    noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
    return email.utils.format_datetime(noon, usegmt=True)
