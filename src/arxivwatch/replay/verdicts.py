"""A replay measured on read verdicts: a reviewer said of each paper whether it belongs (1) or
not (0) in a section, so precision and recall mean what they say (unlike a reading list, where a
paper that is absent may still belong).

Per section of the verdicts file: the judged precision and recall of what was posted, the
precision the ranking reaches at a judged recall of 0.85 and 0.95 when posting by score alone
(no cap, no threshold), and the ROC AUC of the score over the judged papers the topics matched.
A paper's score for a section is its best score among the topics that feed that section, also
when the selection routed it elsewhere. Memory grows with the verdicts, not with the input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

RECALLS = (0.85, 0.95)


@dataclass
class VerdictStats:
    """One verdict section (e.g. `lora`): its catalog sections and the judged papers seen."""

    name: str
    sections: tuple[str, ...]
    judged: int = 0             # judged papers in the replayed input
    relevant: int = 0           # ... of which belong
    in_catalog: int = 0         # ... relevant ones the catalog already holds (never candidates)
    posted_judged: int = 0      # posted under these sections, with a verdict
    posted_relevant: int = 0    # ... that belong
    found: int = 0              # relevant papers posted under these sections
    scored: list[tuple[float, int]] = field(default_factory=list)   # (score, verdict) of matches

    @property
    def precision(self) -> float | None:
        """Share of the judged posted papers that belong."""
        return self.posted_relevant / self.posted_judged if self.posted_judged else None

    @property
    def recall(self) -> float | None:
        """Relevant papers posted / relevant papers that could be (catalog ones excluded)."""
        base = self.relevant - self.in_catalog
        return self.found / base if base else None

    def precision_at(self, recall: float) -> float | None:
        """Precision when posting by score, highest first, until `recall` is reached.

        None when the topics' matches cannot reach that recall at any threshold.
        """
        base = self.relevant - self.in_catalog
        if not base:
            return None
        hits = misses = 0
        ranked = sorted(self.scored, key=lambda sv: -sv[0])
        for i, (score, verdict) in enumerate(ranked):
            hits += verdict
            misses += 1 - verdict
            tied = i + 1 < len(ranked) and ranked[i + 1][0] == score
            if not tied and hits >= recall * base:    # a threshold posts every tie at once
                return hits / (hits + misses)
        return None

    @property
    def auc(self) -> float | None:
        """ROC AUC of the score over the judged matched papers (ties count half)."""
        return auc(self.scored)


def auc(scored: Iterable[tuple[float, int]]) -> float | None:
    """Mann-Whitney AUC of (score, 0/1) pairs; None without both classes."""
    ranked = sorted(scored)
    n_pos = sum(v for _, v in ranked)
    n_neg = len(ranked) - n_pos
    if not n_pos or not n_neg:
        return None
    wins, below, i = 0.0, 0, 0
    while i < len(ranked):
        j = i
        while j < len(ranked) and ranked[j][0] == ranked[i][0]:
            j += 1
        pos = sum(v for _, v in ranked[i:j])
        neg = (j - i) - pos
        wins += pos * (below + neg / 2)
        below += neg
        i = j
    return wins / (n_pos * n_neg)
