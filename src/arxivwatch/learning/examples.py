"""Training examples per catalog section, from the catalog itself and the curator's decisions.

Positives of a section: its catalog entries (title, summary and, when the paper is stored, its
title and abstract) and every approval filed there. Negatives: the rejections of candidates the
section's topics proposed, and an approval filed elsewhere than its topic suggested (the curator
said "not here"). Weak negatives, optional: the positives of every *other* section, which tell a
model what the neighbouring sections' vocabulary looks like before any rejection exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from arxivwatch.catalog import section_key
from arxivwatch.models import CatalogEntry, Decision, Paper, Topic
from arxivwatch.ranking import SectionLike

Key = tuple[str, ...]
Source = Literal["catalog", "approved", "rejected", "moved", "other"]
PaperLookup = Callable[[str], Paper | None]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled text: 1 = belongs to the section, 0 = does not."""

    text: str
    label: int
    source: Source
    paper_id: str | None = None


@dataclass
class SectionExamples:
    """The examples of one section, by kind."""

    key: Key
    name: str
    positives: list[Example] = field(default_factory=list)
    negatives: list[Example] = field(default_factory=list)   # the curator's own "no"

    @property
    def approved(self) -> int:
        """How many positives come from approvals."""
        return sum(e.source == "approved" for e in self.positives)


def paper_text(title: str, abstract: str = "") -> str:
    """The text a model reads: the title twice (it is the paper's own summary), then the body."""
    return f"{title}. {title}. {abstract}".strip()


def entry_text(entry: CatalogEntry, lookup: PaperLookup) -> str:
    """A catalog entry's title and summary, plus the stored abstract of the paper it links."""
    parts = [paper_text(entry.title, entry.summary)]
    for paper_id in entry.arxiv_ids:
        paper = lookup(paper_id)
        if paper is not None and paper.abstract:
            parts.append(paper.abstract)
            break
    return " ".join(parts)


def as_lookup(papers: Mapping[str, Paper] | PaperLookup | None) -> PaperLookup:
    """A paper lookup from a mapping, a function, or nothing."""
    if papers is None:
        return lambda _id: None
    if callable(papers):
        return papers
    return papers.get


def collect(
    sections: Iterable[SectionLike], decisions: Iterable[Decision], *,
    papers: Mapping[str, Paper] | PaperLookup | None = None, topics: Sequence[Topic] = (),
) -> dict[Key, SectionExamples]:
    """Every section's examples; decisions on papers with no stored metadata are skipped."""
    lookup = as_lookup(papers)
    out: dict[Key, SectionExamples] = {}
    seen: set[tuple[Key, str]] = set()
    for section in sections:
        key = section_key(section.path)
        bucket = out.setdefault(key, SectionExamples(key, " > ".join(section.path)))
        for entry in section.entries:
            bucket.positives.append(Example(entry_text(entry, lookup), 1, "catalog",
                                            entry.arxiv_ids[0] if entry.arxiv_ids else None))
            seen.update((key, pid) for pid in entry.arxiv_ids)
    topic_sections = {t.name: t.section for t in topics}
    for decision in decisions:
        _add_decision(out, seen, decision, lookup, topic_sections)
    return out


def _add_decision(
    out: dict[Key, SectionExamples], seen: set[tuple[Key, str]], d: Decision,
    lookup: PaperLookup, topic_sections: Mapping[str, str],
) -> None:
    paper = lookup(d.paper_id)
    if paper is None or not paper.title:
        return
    text = paper_text(paper.title, paper.abstract)
    proposed = topic_sections.get(d.topic or "") or (d.section if d.action == "reject" else None)
    if d.action == "approve" and d.section:
        _put(out, seen, d.section, Example(text, 1, "approved", d.paper_id))
        if proposed and section_key(proposed) != section_key(d.section):
            _put(out, seen, proposed, Example(text, 0, "moved", d.paper_id))
    elif d.action == "reject" and proposed:
        _put(out, seen, proposed, Example(text, 0, "rejected", d.paper_id))


def _put(out: dict[Key, SectionExamples], seen: set[tuple[Key, str]], section: str,
         example: Example) -> None:
    key = section_key(section)
    if example.paper_id and (key, example.paper_id) in seen:
        return      # already in the catalog section (an approval written back): count once
    if example.paper_id:
        seen.add((key, example.paper_id))
    bucket = out.setdefault(key, SectionExamples(key, section))
    (bucket.positives if example.label else bucket.negatives).append(example)


def weak_negatives(examples: Mapping[Key, SectionExamples], key: Key) -> list[Example]:
    """The positives of every other section, as weak negatives for `key`."""
    mine = {e.paper_id for e in examples[key].positives if e.paper_id} if key in examples else set()
    return [Example(e.text, 0, "other", e.paper_id)
            for other, bucket in examples.items() if other != key
            for e in bucket.positives if e.paper_id is None or e.paper_id not in mine]
