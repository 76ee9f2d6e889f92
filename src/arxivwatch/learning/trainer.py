"""Keeping the models fresh without ever making a Slack click wait for them.

`ModelCache` holds the current models and rebuilds them when the decisions change: lazily, when
the poll asks for `refresh()` (the poll runs on the scheduler thread, off every request path), or
in its own background thread after `notify()`, which only sets a flag and returns. Readers get
the last finished models at once; a rebuild swaps in a new `Models` object in one assignment.
`RetrainOnDecide` wraps the store a `DecisionService` uses so each recorded decision notifies.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Any, Protocol

from arxivwatch.learning.examples import Key, SectionExamples, collect
from arxivwatch.learning.model import DEFAULT_POLICY, Models, Policy, train
from arxivwatch.models import Decision, Paper, Topic
from arxivwatch.ranking import SectionLike

log = logging.getLogger(__name__)


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
    """The current models, rebuilt off the request path when the decisions change."""

    def __init__(self, source: TrainingSource, policy: Policy = DEFAULT_POLICY, *,
                 trainer: Trainer = _train) -> None:
        self.source, self.policy, self._trainer = source, policy, trainer
        self._models = Models()
        self._fingerprint: Hashable = object()   # never equal: the first refresh builds
        self._build_lock = threading.Lock()      # one rebuild at a time
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread: threading.Thread | None = None
        self._thread_lock = threading.Lock()     # guards thread start only, never held long
        self._closed = False

    def current(self) -> Models:
        """The last finished models (empty before the first build); never waits."""
        return self._models

    def refresh(self) -> Models:
        """Rebuild now if the decisions changed since the last build; the poll calls this."""
        with self._build_lock:
            fingerprint = self.source.fingerprint()
            if fingerprint != self._fingerprint:
                examples = self.source.examples()
                self._models = self._trainer(examples, self.policy, self._models.version + 1)
                self._fingerprint = fingerprint
        return self._models

    def notify(self) -> None:
        """Ask for a rebuild in the background; returns at once."""
        with self._thread_lock:
            self._idle.clear()
            self._wake.set()
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(target=self._run, name="learning-trainer",
                                                daemon=True)
                self._thread.start()

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no rebuild is pending (for the backtest and tests); False on timeout."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        """Stop the background thread after the rebuild in progress, if any."""
        with self._thread_lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            if self._closed:
                self._idle.set()
                return
            self._wake.clear()
            try:
                self.refresh()
            except Exception:   # a failed rebuild keeps the old models; the next one may work
                log.exception("retraining the learned ranking failed")
            with self._thread_lock:     # a notify() in between keeps us busy
                if not self._wake.is_set():
                    self._idle.set()


class RetrainOnDecide:
    """A store wrapper for `DecisionService`: every recorded decision notifies the cache."""

    def __init__(self, store: Any, cache: ModelCache) -> None:
        self._store, self._cache = store, cache

    def decide(self, decision: Decision) -> Any:
        """Record the decision in the store, then ask for a rebuild (which does not wait)."""
        result = self._store.decide(decision)
        if getattr(result, "applied", True):
            self._cache.notify()
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
