"""The user's markdown catalog: sections of one-line entries, what it holds, and insertion.

Pure: text in, values or new text out. The parse keeps the text, so an unchanged catalog renders
back byte for byte, and `insert_entry` splices one line in without touching any other byte.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from arxivwatch.entry import (
    code_link,
    normalize_title,
    parse_entry,
    render_entry,
    summarize,
    venue_tag,
)
from arxivwatch.errors import CatalogError
from arxivwatch.ids import find_arxiv_ids, normalize_id
from arxivwatch.models import CatalogEntry, Paper
from arxivwatch.textnorm import fold_title

__all__ = [
    "Catalog", "CatalogIndex", "Problem", "Section", "check_catalog", "code_link",
    "insert_entry", "render_entry", "section_key", "summarize", "venue_tag",
]

_HEADING = re.compile(r"^ {0,3}(#{1,6})[ \t]+(.*?)(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_RULE = re.compile(r"^([-*_])(?:[ \t]*\1){2,}[ \t]*$")


@dataclass(frozen=True)
class Section:
    """One heading and the entries listed under it (not those of its sub-headings)."""

    path: tuple[str, ...]        # heading texts from the top, runs of spaces folded
    title: str                   # the heading text as written (stripped)
    line_no: int                 # 1-based line of the heading
    entries: list[CatalogEntry] = field(default_factory=list)
    level: int = 1               # number of `#`
    end_line: int = 0            # last line of the section's body (== line_no when empty)

    @property
    def path_text(self) -> str:
        """The path as users write it: `Model Compression > Low-rank Decomposition`."""
        return " > ".join(self.path)


@dataclass(frozen=True)
class Problem:
    """One finding of `check_catalog`, located by line."""

    line_no: int
    kind: Literal["malformed", "duplicate", "not-arxiv"]
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        return f"line {self.line_no}: {self.severity}: {self.message}"


class CatalogIndex:
    """Which papers the catalog holds, by arXiv id and by folded title, and where."""

    def __init__(self, sections: Iterable[Section]) -> None:
        self._ids: dict[str, list[tuple[str, ...]]] = {}
        self._titles: dict[str, list[tuple[str, ...]]] = {}
        for section in sections:
            for entry in section.entries:
                for paper_id in entry.arxiv_ids:
                    _add(self._ids, paper_id, section.path)
                title = fold_title(entry.title) if entry.link is not None else ""
                if title:
                    _add(self._titles, title, section.path)

    @property
    def ids(self) -> frozenset[str]:
        """Every arXiv id linked from any entry."""
        return frozenset(self._ids)

    def knows(self, paper: Paper) -> bool:
        """Whether the catalog holds `paper`: the one membership test of poll, backtest and tune.

        An entry links its id, or an entry with a link carries its title, compared by letters and
        digits only (`textnorm.fold_title`). Fast: one set lookup, one title fold.
        """
        return paper.id in self._ids or fold_title(paper.title) in self._titles

    def contains(self, paper_id: str | None = None, title: str | None = None) -> bool:
        """True when an entry links the paper's id (any URL form) or carries its title."""
        return bool(self.sections_of(paper_id, title))

    def sections_of(
        self, paper_id: str | None = None, title: str | None = None,
    ) -> list[tuple[str, ...]]:
        """The paths of the sections holding the paper, in catalog order, each once."""
        found: dict[tuple[str, ...], None] = {}
        if paper_id:
            found.update(dict.fromkeys(self._ids.get(normalize_id(paper_id), [])))
        if title:
            found.update(dict.fromkeys(self._titles.get(fold_title(title), [])))
        return list(found)


def _add(table: dict[str, list[tuple[str, ...]]], key: str, path: tuple[str, ...]) -> None:
    paths = table.setdefault(key, [])
    if path not in paths:
        paths.append(path)


@dataclass(frozen=True)
class Catalog:
    """A parsed catalog; `text` is the file's content exactly as given."""

    text: str
    sections: list[Section]
    title: str | None = None     # a lone top `#` heading: the document's title, not in paths

    @classmethod
    def parse(cls, text: str) -> Catalog:
        """Parses markdown into sections and entries; never fails, whatever the text."""
        lines = split_lines(text)
        headings, fenced = _scan(lines)
        doc_title = _document_title(headings)
        sections: list[Section] = []
        stack: list[tuple[int, str]] = []
        for n, (index, level, heading) in enumerate(headings):
            name = " ".join(heading.split())
            while stack and stack[-1][0] >= level:
                stack.pop()
            path = (name,) if (n == 0 and doc_title) else (*(s for _, s in stack), name)
            if not (n == 0 and doc_title):
                stack.append((level, name))
            end = headings[n + 1][0] if n + 1 < len(headings) else len(lines)
            entries = [e for i in range(index + 1, end) if i not in fenced
                       and not _RULE.match(lines[i]) and (e := parse_entry(lines[i], i + 1))]
            sections.append(
                Section(path, heading, index + 1, entries, level, _body_end(lines, index, end)))
        return cls(text, sections, doc_title)

    def render(self) -> str:
        """The catalog's text, byte for byte as parsed."""
        return self.text

    def filing_sections(self) -> list[Section]:
        """The sections a paper can be filed under, in file order (the section picker's list).

        A heading that holds entries, or one without sub-headings at a level where entries are
        filed elsewhere (a new, empty section); never the document's title, never a heading
        that only groups others ("## LLM Training" above "### Techniques").
        """
        levels = {s.level for s in self.sections if s.entries} or {
            s.level for s in self.sections}   # nothing filed yet: every heading level
        return [s for n, s in enumerate(self.sections)
                if not self._is_title(s) and (s.entries or (
                    s.level in levels and not self._has_children(n)))]

    def filing_paths(self) -> list[str]:
        """The paths (`Parent > Heading`) of `filing_sections()`: the section picker's options."""
        return [s.path_text for s in self.filing_sections()]

    def _is_title(self, section: Section) -> bool:
        return self.title is not None and section is self.sections[0] and \
            section.path == (" ".join(self.title.split()),)

    def _has_children(self, n: int) -> bool:
        after = self.sections[n + 1:n + 2]
        return bool(after) and after[0].level > self.sections[n].level

    def section(self, path_text: str) -> Section:
        """Finds a section by `A > B` path (case and spacing ignored) or a unique tail of it."""
        wanted = section_key(path_text)
        if not wanted:
            raise CatalogError(f"empty section path {path_text!r}; write it as 'Parent > Heading'")
        exact = [s for s in self.sections
                 if self._full_key(s) == wanted or section_key(s.path) == wanted]
        matches = exact or [s for s in self.sections if self._full_key(s)[-len(wanted):] == wanted]
        if len(matches) == 1:
            return matches[0]
        if matches:
            where = ", ".join(f"line {s.line_no}" for s in matches)
            raise CatalogError(
                f"section {path_text!r} is ambiguous in the catalog ({where}); write more of "
                "its path", close_matches=[s.path_text for s in matches])
        raise CatalogError(
            f"no section {path_text!r} in the catalog; use a heading path such as "
            "'Parent > Heading' ('arxivwatch catalog list' shows them)",
            close_matches=self._closest(path_text))

    def index(self) -> CatalogIndex:
        """An index of the papers the catalog holds."""
        return CatalogIndex(self.sections)

    def _full_key(self, section: Section) -> tuple[str, ...]:
        full = section.path if section.path[:1] == (self.title,) or not self.title else (
            self.title, *section.path)
        return section_key(full)

    def _closest(self, path_text: str) -> list[str]:
        # Whole path and last heading weigh equally, so a typo in the parent still finds the
        # right child rather than a sibling that shares the parent's spelling.
        query = section_key(path_text)
        scored = sorted(
            ((_similarity(query, section_key(s.path)), n, s.path_text)
             for n, s in enumerate(self.sections)),
            key=lambda t: (-t[0], t[1]))
        return [text for score, _, text in scored if score >= 0.45][:3]


def _similarity(query: tuple[str, ...], path: tuple[str, ...]) -> float:
    whole = difflib.SequenceMatcher(None, " > ".join(query), " > ".join(path)).ratio()
    last = difflib.SequenceMatcher(None, query[-1], path[-1]).ratio()
    return (whole + last) / 2


def split_lines(text: str) -> list[str]:
    """Splits on `\\n` only (not the other characters `str.splitlines` honours); keeps `\\r`."""
    lines = text.split("\n")
    return lines[:-1] if text.endswith("\n") else lines


def _scan(lines: list[str]) -> tuple[list[tuple[int, int, str]], set[int]]:
    """Headings as (index, level, text), and the indices of lines in code fences or comments."""
    headings: list[tuple[int, int, str]] = []
    fenced: set[int] = set()
    fence: str | None = None
    comment = False
    for i, raw in enumerate(lines):
        line = raw.rstrip("\r").lstrip("\ufeff") if i == 0 else raw.rstrip("\r")
        marker = _FENCE.match(line)
        if comment or (fence is None and line.lstrip().startswith("<!--")):
            # An HTML comment hides what it spans: a line filed there would be invisible.
            fenced.add(i)
            comment = "-->" not in (line if comment else line[line.find("<!--") + 4:])
        elif marker and (fence is None or marker.group(1).startswith(fence)):
            fence = marker.group(1)[:3] if fence is None else None
            fenced.add(i)
        elif fence is not None:
            fenced.add(i)
        elif (heading := _HEADING.match(line)) and heading.group(2).strip():
            headings.append((i, len(heading.group(1)), heading.group(2).strip()))
    return headings, fenced


def _document_title(headings: list[tuple[int, int, str]]) -> str | None:
    levels = [level for _, level, _ in headings]
    if levels and levels[0] == 1 and levels.count(1) == 1 and len(levels) > 1:
        return " ".join(headings[0][2].split())
    return None


def _body_end(lines: list[str], heading: int, end: int) -> int:
    last = end
    while last > heading + 1 and not lines[last - 1].strip():
        last -= 1
    return last  # 1-based number of the last non-blank body line, or the heading's own


@functools.lru_cache(maxsize=1024)
def section_key(path: str | tuple[str, ...]) -> tuple[str, ...]:
    """How two section paths compare: `Model Compression >  Low-rank` and ("model compression",
    "low-rank") are one key; case and runs of spaces do not count, blank parts are dropped."""
    parts = path.split(">") if isinstance(path, str) else path
    return tuple(" ".join(p.split()).casefold() for p in parts if p.strip())


# --- insertion ---------------------------------------------------------------------------------


def insert_entry(
    text: str, section_path: str, line: str, where: Literal["top", "bottom"] = "top",
) -> str:
    """Returns text with `line` filed under the section; unchanged when it is already there.

    Top: before the section's first entry (right under the heading when it has none). Bottom:
    after its last entry. No other byte changes: line endings and a missing final newline stay.
    """
    if where not in ("top", "bottom"):
        raise CatalogError(f"insert position must be 'top' or 'bottom', not {where!r}")
    line = line.rstrip("\r\n")
    if "\n" in line or "\r" in line:
        raise CatalogError("a catalog entry must be a single line; it contains a line break")
    section = Catalog.parse(text).section(section_path)
    if _already_listed(section, line):
        return text
    lines = split_lines(text)
    at = _insert_index(lines, section, where)
    newline = _newline(text, lines, section.line_no - 1)
    starts = _line_starts(text)
    if at < len(starts):
        return text[:starts[at]] + line + newline + text[starts[at]:]
    if text.endswith("\n"):
        return text + line + newline
    return text + newline + line  # the file had no final newline; it still has none


def _newline(text: str, lines: list[str], heading: int) -> str:
    # The heading's own ending decides; a final line without one defers to the rest of the file.
    if lines[heading].endswith("\r") or (heading == len(lines) - 1 and "\r\n" in text):
        return "\r\n"
    return "\n"


def _insert_index(lines: list[str], section: Section, where: str) -> int:
    if not section.entries:
        return section.line_no  # 0-based index of the line after the heading
    if where == "top":
        return section.entries[0].line_no - 1
    at = section.entries[-1].line_no
    while at < section.end_line and _continues(lines[at]):
        at += 1  # indented continuation lines and sub-items belong to the last entry
    return at


def _continues(line: str) -> bool:
    # Indented lines and sub-items, and a hard-wrapped entry's unindented (lazy) next lines.
    if not line.strip() or line.lstrip().startswith("<!--"):
        return False
    lazy = not (parse_entry(line, 0) or _FENCE.match(line) or _RULE.match(line))
    return line[:1] in (" ", "\t") or lazy


def _line_starts(text: str) -> list[int]:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return starts[:-1] if text.endswith("\n") else starts


def _already_listed(section: Section, line: str) -> bool:
    new = parse_entry(line, 0)
    ids = set(new.arxiv_ids if new else find_arxiv_ids(line))
    title = normalize_title(new.title) if new and new.link is not None else ""
    for entry in section.entries:
        if ids & set(entry.arxiv_ids) or entry.raw.rstrip("\r").strip() == line.strip():
            return True
        if title and entry.link is not None and normalize_title(entry.title) == title:
            return True
    return False


# --- checks ------------------------------------------------------------------------------------


def check_catalog(catalog: Catalog) -> list[Problem]:
    """Malformed entries and duplicates within a section (errors), non-arXiv links (warnings)."""
    problems: list[Problem] = []
    for section in catalog.sections:
        problems += _check_section(section)
    return sorted(problems, key=lambda p: p.line_no)


def _check_section(section: Section) -> list[Problem]:
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for entry in section.entries:
        if entry.link is None:
            problems.append(Problem(entry.line_no, "malformed", (
                f"entry in {section.path_text!r} does not start with [Title](link) "
                "or [Venue Year] [Title](link)")))
            continue
        if not entry.arxiv_ids:
            problems.append(Problem(entry.line_no, "not-arxiv", (
                f"{entry.title!r} links to {entry.link} (not arXiv); it is known by title only"),
                severity="warning"))
        for key in [*entry.arxiv_ids, "title:" + normalize_title(entry.title)]:
            if key in seen and key != "title:":
                problems.append(Problem(entry.line_no, "duplicate", (
                    f"{entry.title!r} is already listed in {section.path_text!r} at line "
                    f"{seen[key]}; remove one of them")))
                break
            seen.setdefault(key, entry.line_no)
    return problems
