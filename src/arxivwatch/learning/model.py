"""Per-section linear models over TF-IDF features of title and abstract.

One vectoriser (word 1-2 grams of stemmed content words, sublinear tf) is fitted on the texts of
every section, so a paper is vectorised once however many topics it matches; each section then
gets its own logistic regression. Models are small (a coefficient vector each) and train in well
under a second on a catalog of hundreds of entries plus thousands of decisions.
"""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from arxivwatch import textnorm
from arxivwatch.learning.examples import Example, Key, SectionExamples, paper_text, weak_negatives
from arxivwatch.models import Paper


@dataclass(frozen=True, slots=True)
class Policy:
    """How models are trained, and when a section has too few examples to have one.

    Defaults measured with a simulated curator (issue 7): below 10 positives (catalog
    entries + approvals) a model trained on a noisy curator pushed good papers under the topic's
    min_score; 3 rejections are enough once the positives are there. Weak negatives (the other
    sections' entries, at 0.3 of a rejection's weight) measured slightly better than none.
    """

    min_positives: int = 10
    min_negatives: int = 3
    weak_negatives: bool = True
    weak_weight: float = 0.3
    c: float = 4.0              # inverse regularisation of the logistic regression
    max_features: int = 60_000
    min_df: int = 2             # a word seen in one text only cannot generalise; drops ~80%


DEFAULT_POLICY = Policy()


@functools.lru_cache(maxsize=1 << 15)
def analyse(text: str) -> tuple[str, ...]:
    """The stemmed content words of a text, then its adjacent pairs (`low rank`)."""
    # Cached: a rebuild re-reads the same catalog entries and past decisions every time.
    words = [textnorm.stem(t) for t in textnorm.tokens(text)
             if len(t) > 1 and not t.isdigit() and t not in textnorm.STOPWORDS]
    return (*words, *(f"{a} {b}" for a, b in itertools.pairwise(words)))


@dataclass(frozen=True, slots=True)
class SectionModel:
    """One section's logistic regression over the shared features."""

    key: Key
    coef: np.ndarray
    intercept: float
    positives: int
    negatives: int
    decisions: int = 0          # the curator's own examples: approvals, rejections, moves
    center: float = 0.0         # mean log-odds over those decided examples

    def probability(self, row: sparse.csr_matrix) -> float:
        """P(belongs) of one vectorised paper."""
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.log_odds(row)))))

    def log_odds(self, row: sparse.csr_matrix) -> float:
        """The model's log-odds that one vectorised paper belongs."""
        return float(row.dot(self.coef)[0]) + self.intercept

    def pushes(self, row: sparse.csr_matrix, names: np.ndarray, k: int = 3) -> list[str]:
        """The `k` features of the paper that raised its score most, strongest first."""
        contrib = row.data * self.coef[row.indices]
        order = np.argsort(-contrib)[:k]
        return [str(names[row.indices[i]]) for i in order if contrib[i] > 0]


@dataclass
class Models:
    """The trained models of every section that has enough examples, and why others have none."""

    vectorizer: TfidfVectorizer | None = None
    sections: dict[Key, SectionModel] = field(default_factory=dict)
    skipped: dict[Key, str] = field(default_factory=dict)
    version: int = 0
    _names: np.ndarray | None = None
    _last: tuple[str, sparse.csr_matrix] | None = None

    def vector(self, paper: Paper) -> sparse.csr_matrix:
        """The paper's feature row (the last one is kept: select() scores a paper per topic)."""
        if self._last is None or self._last[0] != paper.id:
            self._last = (paper.id, self.row(paper_text(paper.title, paper.abstract)))
        return self._last[1]

    def row(self, text: str) -> sparse.csr_matrix:
        """`vectorizer.transform([text])`, computed directly: sublinear tf times idf, L2 norm.

        The same row as scikit-learn's (a test holds them equal), without its per-call
        overhead, which dominated a replay that scores every match with the learned models.
        """
        assert self.vectorizer is not None
        vocabulary, idf = self.vectorizer.vocabulary_, self.vectorizer.idf_
        counts: dict[int, int] = {}
        for term in analyse(text):
            column = vocabulary.get(term)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
        values = np.array([1.0 + math.log(counts[c]) for c in columns.tolist()]) * idf[columns]
        norm = math.sqrt(float(values @ values)) if len(values) else 0.0
        if norm:
            values /= norm
        return sparse.csr_matrix((values, columns, np.array([0, len(columns)])),
                                 shape=(1, len(idf)))

    @property
    def names(self) -> np.ndarray:
        """Feature names, indexed like the coefficient vectors."""
        if self._names is None:
            assert self.vectorizer is not None
            self._names = self.vectorizer.get_feature_names_out()
        return self._names

    def probability(self, key: Key, paper: Paper) -> float | None:
        """P(paper belongs to the section), None when the section has no model."""
        model = self.sections.get(key)
        return None if model is None else model.probability(self.vector(paper))


def train(examples: Mapping[Key, SectionExamples], policy: Policy = DEFAULT_POLICY,
          *, version: int = 0) -> Models:
    """Fit the shared features and one model per section with enough examples."""
    models = Models(version=version)
    ready = {k: b for k, b in examples.items() if not _too_few(b, policy, models.skipped)}
    if not ready:
        return models
    texts = sorted({e.text for b in examples.values() for e in (*b.positives, *b.negatives)})
    models.vectorizer = TfidfVectorizer(
        analyzer=analyse, sublinear_tf=True, max_features=policy.max_features,
        min_df=min(policy.min_df, len(texts)))
    matrix = models.vectorizer.fit_transform(texts).tocsr()
    rows = {text: i for i, text in enumerate(texts)}
    for key, bucket in ready.items():
        weak = weak_negatives(examples, key) if policy.weak_negatives else []
        models.sections[key] = _fit(matrix, rows, bucket, weak, policy)
    return models


def _too_few(bucket: SectionExamples, policy: Policy, skipped: dict[Key, str]) -> bool:
    pos, neg = len(bucket.positives), len(bucket.negatives)
    if pos >= policy.min_positives and neg >= policy.min_negatives:
        return False
    skipped[bucket.key] = (f"{pos} positive and {neg} negative examples; a model needs "
                           f"{policy.min_positives} and {policy.min_negatives}")
    return True


def _fit(matrix: sparse.csr_matrix, index: Mapping[str, int], bucket: SectionExamples,
         weak: Sequence[Example], policy: Policy) -> SectionModel:
    rows = [*bucket.positives, *bucket.negatives, *weak]
    x = matrix[[index[e.text] for e in rows]]
    y = np.array([e.label for e in rows])
    w = np.array([policy.weak_weight if e.source == "other" else 1.0 for e in rows])
    # Balance the classes: a section has tens of entries against hundreds of rejections.
    for label in (0, 1):
        mask = y == label
        w[mask] *= len(rows) / (2.0 * max(w[mask].sum(), 1e-9))
    # The dual solver: far more features than examples, and 10-30x faster here than the primal.
    clf = LogisticRegression(C=policy.c, max_iter=1000, solver="liblinear", dual=True)
    clf.fit(x, y, sample_weight=w)
    decided = [i for i, e in enumerate(rows) if e.source in ("approved", "rejected", "moved")]
    # The model's mean log-odds over the papers the curator decided: the learned evidence is
    # read against it, so it reorders what the digest shows without raising or lowering all of
    # it (a section whose digest is mostly approved would otherwise post more and more).
    center = float(clf.decision_function(x[decided]).mean()) if decided else 0.0
    return SectionModel(bucket.key, clf.coef_[0].copy(), float(clf.intercept_[0]),
                        len(bucket.positives), len(bucket.negatives), len(decided), center)
