"""Keeping the models fresh without ever making a Slack click wait for them.

`ModelCache` holds the current models and rebuilds them when the decisions change, when the poll
(or the simulated curator) asks for `refresh()`: the poll runs on the scheduler thread, off every
request path. Readers get the last finished models at once; a rebuild swaps in a new `Models`
object in one assignment.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Protocol

from arxivwatch.learning.examples import Key, SectionExamples, collect
from arxivwatch.learning.model import DEFAULT_POLICY, Models, Policy, train
from arxivwatch.models import Decision, Paper, Topic
from arxivwatch.ranking import SectionLike


class DecisionReader(Protocol):
    """The part of `store.Store` that training reads."""

    def decisions(self) -> list[Decision]: ...
    def get_paper(self, paper_id: str) -> Paper | None: ...


class TrainingSource(Protocol):
    """Where examples come from, and a cheap token that changes when they do."""

    def fingerprint(self) -> Hashable: ...
    def examples(self) -> dict[Key, SectionExamples]: ...


class StoreSource:
    """Examples from the catalog's sections and the decisions and papers in the store."""

    def __init__(self, store: DecisionReader,
                 sections: Iterable[SectionLike] | Callable[[], Iterable[SectionLike]],
                 topics: Sequence[Topic] = ()) -> None:
        self.store, self.topics = store, topics
        self._sections = sections if callable(sections) else _constant(list(sections))
        self._catalog_papers: dict[str, Paper | None] = {}

    def fingerprint(self) -> Hashable:
        """The number of decisions and the latest one: decisions are only ever added."""
        found = self.store.decisions()
        return (len(found), (found[-1].paper_id, found[-1].at) if found else None)

    def examples(self) -> dict[Key, SectionExamples]:
        """Every section's examples as of now."""
        return collect(self._sections(), self.store.decisions(), papers=self._paper,
                       topics=self.topics)

    def _paper(self, paper_id: str) -> Paper | None:
        # Catalog papers are looked up at every rebuild; their metadata does not change.
        if paper_id not in self._catalog_papers:
            self._catalog_papers[paper_id] = self.store.get_paper(paper_id)
        return self._catalog_papers[paper_id]


def _constant(sections: list[SectionLike]) -> Callable[[], Iterable[SectionLike]]:
    return lambda: sections


Trainer = Callable[[dict[Key, SectionExamples], Policy, int], Models]


def _train(examples: dict[Key, SectionExamples], policy: Policy, version: int) -> Models:
    return train(examples, policy, version=version)


class ModelCache:
    """The current models, rebuilt at the poll when the decisions changed."""

    def __init__(self, source: TrainingSource, policy: Policy = DEFAULT_POLICY, *,
                 trainer: Trainer = _train) -> None:
        self.source, self.policy, self._trainer = source, policy, trainer
        self._models = Models()
        self._fingerprint: Hashable = object()   # never equal: the first refresh builds

    def current(self) -> Models:
        """The last finished models (empty before the first build); never waits."""
        return self._models

    def refresh(self) -> Models:
        """Rebuild now if the decisions changed since the last build; the poll calls this."""
        fingerprint = self.source.fingerprint()
        if fingerprint != self._fingerprint:
            examples = self.source.examples()
            self._models = self._trainer(examples, self.policy, self._models.version + 1)
            self._fingerprint = fingerprint
        return self._models
