"""A simulated curator for `backtest --curator`: the learning measured over replayed days.

With a labels file (two columns), each posted candidate is approved when its paper carries a
label whose sections include the candidate's section, and rejected otherwise. With a verdicts
file (a `relevant` column), 1 is an approval, 0 a rejection, and a paper the file does not judge
for that section gets no decision: it stays pending, like a paper the curator skipped. The
decisions go into a `Store` exactly as Slack decisions do (`Store.decide`), and the models are
rebuilt from that store before each day, so a day is ranked only with what was decided before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import IO

from arxivwatch.catalog import section_key
from arxivwatch.learning.model import DEFAULT_POLICY, Policy
from arxivwatch.learning.scorer import LearnedScorer
from arxivwatch.learning.trainer import ModelCache, StoreSource
from arxivwatch.models import Candidate, Decision, Paper, Topic
from arxivwatch.ranking import Known, Scorer, SectionLike
from arxivwatch.replay.days import Replay
from arxivwatch.replay.labels import Labels
from arxivwatch.store import Store

CURATOR = "backtest:curator"
GROWTH = 0.2        # a replay retrains when the decisions grew by a fifth (see before_day)
DECIDED_AFTER = dt.timedelta(days=1, hours=9)     # the curator reads the digest next morning


class Curator:
    """Decides a posted candidate from labels (approve or reject) or verdicts (or skip it)."""

    def __init__(self, labels: Labels) -> None:
        self.labels = labels
        self._sections = {name: {section_key(s) for s in paths}
                          for name, paths in labels.sections.items()}

    def approves(self, cand: Candidate) -> bool | None:
        """True: it belongs in the candidate's section; False: it does not; None: not judged."""
        key = section_key(cand.section)
        names = [n for n, keys in self._sections.items() if key in keys]
        if self.labels.verdicts is None:
            return any(n in names for n in self.labels.by_id.get(cand.paper.id, ()))
        said = [self.labels.verdict(cand.paper.id, n) for n in names]
        judged = [v for v in said if v is not None]
        return bool(max(judged)) if judged else None

    def decision(self, cand: Candidate) -> Decision | None:
        """The decision taken on a posted candidate, the morning after its day (None: skipped)."""
        verdict = self.approves(cand)
        if verdict is None:
            return None
        at = dt.datetime.combine(cand.day, dt.time(), dt.UTC) + DECIDED_AFTER
        if verdict:
            return Decision(cand.paper.id, "approve", CURATOR, at, cand.section, None, cand.topic)
        return Decision(cand.paper.id, "reject", CURATOR, at, None, None, cand.topic)


class LearningLoop:
    """Ranks each day with the models of the decisions so far, then lets the curator decide."""

    def __init__(self, store: Store, curator: Curator, sections: Iterable[SectionLike],
                 topics: Sequence[Topic], *, policy: Policy = DEFAULT_POLICY,
                 growth: float = GROWTH) -> None:
        self.store, self.curator = store, curator
        self.cache = ModelCache(StoreSource(store, list(sections), topics), policy)
        self.growth = growth
        self._decided = 0                       # the curator's decisions so far
        self._trained: int | None = None        # ... when the models were last built

    def scorer(self, base: Scorer) -> LearnedScorer:
        """`base` moved by the learned models, which it always reads at their latest."""
        return LearnedScorer(base, self.cache.current)

    def before_day(self, day: dt.date) -> None:
        """Rebuild the models once the decisions grew by `growth` since the last rebuild.

        The poll retrains at every new decision (a second); a replay of two years would spend
        most of its time retraining that way, for models that barely change from one day to the
        next once they hold dozens of decisions (measured: 415 rebuilds took 79 of 116 s).
        """
        if self._trained is None or self._decided >= max(self._trained + 1,
                                                         self._trained * (1 + self.growth)):
            self.cache.refresh()
            self._trained = self._decided

    def after_day(self, cands: Sequence[Candidate]) -> tuple[int, int]:
        """Store the posted candidates and decide them; returns (approved, rejected)."""
        posted = [c for c in cands if c.posted]
        self.store.add_candidates(posted)
        approved = rejected = 0
        for cand in posted:
            decision = self.curator.decision(cand)
            if decision is None:
                continue
            self.store.decide(decision)
            self._decided += 1
            approved += decision.action == "approve"
            rejected += decision.action == "reject"
        return approved, rejected



class CuratedReplay(Replay):
    """`Replay` with learning: models rebuilt before each day, its digest decided after."""

    learns = True

    def __init__(self, topics: Sequence[Topic], base: Scorer, *, learning: LearningLoop,
                 known: Known, cap: int, labels: Labels | None = None, out: IO[str] | None = None,
                 ask: int = 0) -> None:
        super().__init__(topics, learning.scorer(base), known=known, cap=cap, labels=labels,
                         out=out, ask=ask)
        self.learning = learning
        self.approved = self.rejected = 0

    def summary(self) -> str:
        """One line: the simulated decisions and the sections that ended with a model."""
        models = self.learning.cache.current()
        names = sorted(" > ".join(k) for k in models.sections)
        return (f"simulated curator: {self.approved} approved, {self.rejected} rejected; "
                f"learned models for {len(names)} sections"
                + (f" ({'; '.join(names)})" if names else ""))

    def day(self, day: dt.date, batch: list[Paper]) -> list[Candidate]:
        """Rank the day with the decisions so far, then let the curator decide its digest."""
        self.learning.before_day(day)
        cands = super().day(day, batch)
        approved, rejected = self.learning.after_day(cands)
        self.approved += approved
        self.rejected += rejected
        return cands


def curated_replay(
    topics: Sequence[Topic], base: Scorer, curator_labels: Labels,
    sections: Iterable[SectionLike], catalog_papers: Mapping[str, Paper], *, known: Known,
    cap: int, labels: Labels | None = None, out: IO[str] | None = None,
    policy: Policy = DEFAULT_POLICY, ask: int = 0,
) -> CuratedReplay:
    """`backtest --curator`: a replay that learns from a simulated curator, in a scratch store."""
    store = Store.open("sqlite:///:memory:")
    store.upsert_papers(catalog_papers.values(), source="catalog")
    loop = LearningLoop(store, Curator(curator_labels), sections, topics, policy=policy)
    return CuratedReplay(topics, base, learning=loop, known=known, cap=cap, labels=labels,
                         out=out, ask=ask)
