"""Labelled papers for a replay: the labels file, where each label counts as found, and the
figures a replay keeps per label (recall, precision and the ROC AUC of the score)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from arxivwatch.errors import ArxivWatchError, BacktestError
from arxivwatch.ids import normalize_id
from arxivwatch.models import Topic
from arxivwatch.replay.verdicts import VerdictStats

BINS = 1000         # score histogram resolution for the AUC (scores lie in [0, 1])

# Label names of labels-dev.tsv -> the catalog sections where a label counts as found.
LABEL_SECTIONS: Mapping[str, tuple[str, ...]] = {
    "lora": ("LLM Training > Techniques",),
    "lowrank_compression": ("Model Compression > Low-rank Decomposition",),
    "moe_systems": ("ML System > Training System", "ML System > Inference System"),
}


@dataclass
class LabelStats:
    """One label (e.g. `lora`): its sections and how the replay did on it."""

    name: str
    sections: tuple[str, ...]
    labelled: int = 0           # labelled papers present in the replayed input
    in_catalog: int = 0         # ... of which the catalog already holds (never candidates)
    found: int = 0              # ... posted under a topic filed in one of `sections`
    posted: int = 0             # posted candidates of those topics
    posted_labelled: int = 0    # ... that carry this label
    pos_hist: list[int] = field(default_factory=lambda: [0] * (BINS + 1))
    neg_hist: list[int] = field(default_factory=lambda: [0] * (BINS + 1))

    @property
    def recall(self) -> float | None:
        """found / labelled papers that could be candidates (catalog ones excluded)."""
        base = self.labelled - self.in_catalog
        return self.found / base if base else None

    @property
    def precision(self) -> float | None:
        """Labelled share of the posted candidates (a lower bound: labels are incomplete)."""
        return self.posted_labelled / self.posted if self.posted else None

    @property
    def auc(self) -> float | None:
        """ROC AUC of the score, labelled vs unlabelled matches of the sections' topics."""
        return auc_from_histograms(self.pos_hist, self.neg_hist)


def auc_from_histograms(pos: Sequence[int], neg: Sequence[int]) -> float | None:
    """Mann-Whitney AUC from two score histograms over the same bins (ties count half)."""
    n_pos, n_neg = sum(pos), sum(neg)
    if not n_pos or not n_neg:
        return None
    below = 0
    wins = 0.0
    for p, n in zip(pos, neg, strict=True):
        wins += p * (below + n / 2)
        below += n
    return wins / (n_pos * n_neg)


class Labels:
    """Labelled papers: id -> label names, and label name -> catalog sections.

    A verdicts file (a `relevant` column of 1 or 0) also gives `verdicts`: id -> label -> 1/0,
    where 0 is a reviewer's "does not belong" and a paper absent was never read; `by_id` then
    holds the labels judged 1.
    """

    def __init__(self, by_id: Mapping[str, frozenset[str]],
                 sections: Mapping[str, tuple[str, ...]],
                 verdicts: Mapping[str, Mapping[str, int]] | None = None) -> None:
        self.by_id = by_id
        self.sections = sections
        self.verdicts = verdicts

    def stats(self) -> list[LabelStats]:
        """Fresh, empty figures for every label, in name order."""
        return [LabelStats(n, self.sections[n]) for n in sorted(self.sections)]

    def verdict_stats(self) -> list[VerdictStats]:
        """Fresh, empty verdict figures for every section of a verdicts file, in name order."""
        return [VerdictStats(n, self.sections[n]) for n in sorted(self.sections)]

    def verdict(self, paper_id: str, label: str) -> int | None:
        """1 or 0 for a judged (paper, label); None when unread (or not a verdicts file)."""
        return None if self.verdicts is None else self.verdicts.get(paper_id, {}).get(label)


def parse_labels(
    text: str, *, topics: Sequence[Topic] = (), label_map: Mapping[str, Sequence[str]] = {},
    where: str = "labels",
) -> Labels:
    """Read a TSV with an `arxiv_id` column and a `topic` (or `section`) column.

    With a `relevant` column (1 or 0) it is a verdicts file: see `Labels`.
    """
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not numbered:
        raise BacktestError(f"{where}: empty labels file; expected a TSV with arxiv_id and topic")
    header = [h.strip().lower() for h in numbered[0][1].split("\t")]
    id_col, label_col = _label_columns(header, where)
    verdict_col = header.index("relevant") if "relevant" in header else None
    by_id: dict[str, set[str]] = {}
    verdicts: dict[str, dict[str, int]] = {}
    for n, line in numbered[1:]:
        cells = line.split("\t")
        if len(cells) <= max(id_col, label_col, verdict_col or 0):
            raise BacktestError(f"{where}:{n}: expected {len(header)} tab-separated columns")
        paper_id, label = _bare_id(cells[id_col]), cells[label_col].strip()
        if verdict_col is None:
            by_id.setdefault(paper_id, set()).add(label)
            continue
        verdict = _verdict(cells[verdict_col], f"{where}:{n}")
        verdicts.setdefault(paper_id, {})[label] = verdict
        if verdict:
            by_id.setdefault(paper_id, set()).add(label)
    names = sorted({name for labels in (verdicts or by_id).values() for name in labels})
    sections = {name: label_sections(name, topics, label_map, where) for name in names}
    return Labels({k: frozenset(v) for k, v in by_id.items()}, sections,
                  verdicts if verdict_col is not None else None)


def _verdict(cell: str, where: str) -> int:
    value = cell.strip()
    if value not in ("0", "1"):
        raise BacktestError(f"{where}: relevant must be 1 or 0, not {value!r}")
    return int(value)


def _label_columns(header: list[str], where: str) -> tuple[int, int]:
    for id_name in ("arxiv_id", "id"):
        for label_name in ("topic", "section", "label"):
            if id_name in header and label_name in header:
                return header.index(id_name), header.index(label_name)
    raise BacktestError(
        f"{where}: header {header} lacks the columns arxiv_id and topic (or section); "
        "write a tab-separated first line such as 'arxiv_id<TAB>topic'")


def _bare_id(text: str) -> str:
    try:
        return normalize_id(text.strip())
    except ArxivWatchError:
        return text.strip()


def label_sections(
    name: str, topics: Sequence[Topic], label_map: Mapping[str, Sequence[str]], where: str,
) -> tuple[str, ...]:
    """Where a label counts as found: --label-map, the built-in table, a topic, or a path."""
    if name in label_map:
        return tuple(label_map[name])
    if name in LABEL_SECTIONS:
        return LABEL_SECTIONS[name]
    for topic in topics:
        if topic.name == name:
            return (topic.section,)
    if ">" in name:
        return (name,)
    raise BacktestError(
        f"{where}: label {name!r} is neither a topic, a section path nor a known label; "
        f"map it with --label-map '{name}=Section > Sub'")
