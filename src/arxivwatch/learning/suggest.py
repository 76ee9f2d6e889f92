"""`tune TOPIC --suggest`: what the decisions say about a topic's query.

- papers from the store the section's model scores highly but the query does not match (likely
  false negatives of the query);
- terms frequent in the section's papers (catalog entries and approvals) and rare in its
  rejections: candidates to add to the query;
- terms frequent in the rejections and rare in the section's papers: candidates for `ANDNOT`.
Terms are the model's own features (stemmed words and adjacent pairs), compared by the share of
documents on each side that contain them. Values in, values out: `replay.tune.suggest_from_store`
reads the models' examples and the papers from the state store.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from arxivwatch.learning.examples import Example, SectionExamples
from arxivwatch.learning.model import Models, analyse
from arxivwatch.models import Paper, Topic
from arxivwatch.query import Doc
from arxivwatch.ranking import section_key

MIN_SUPPORT = 2         # a term must occur in at least this many documents of its side
LIMIT = 10
THRESHOLD = 0.5         # a model probability above this is a "likely belongs"


@dataclass(frozen=True, slots=True)
class Missed:
    """A stored paper the query does not match but the model thinks belongs."""

    paper: Paper
    probability: float
    words: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TermShare:
    """A term with the share of the section's papers and of its rejections that contain it."""

    term: str
    approved: int           # documents of the section (catalog + approvals) containing it
    rejected: int           # rejections containing it
    approved_share: float
    rejected_share: float


@dataclass(frozen=True, slots=True)
class Suggestions:
    """Everything `tune --suggest` prints for one topic."""

    topic: str
    section: str
    model_note: str | None          # why there is no model, when there is none
    missed: tuple[Missed, ...]
    query_terms: tuple[TermShare, ...]
    andnot_terms: tuple[TermShare, ...]
    positives: int
    rejections: int


def suggest(
    topic: Topic, models: Models, examples: SectionExamples | None, papers: Iterable[Paper],
    *, known: Callable[[Paper], bool] = lambda _p: False, limit: int = LIMIT,
    threshold: float = THRESHOLD,
) -> Suggestions:
    """The suggestions for `topic`, from its section's model and examples and stored papers."""
    key = section_key(topic.section)
    bucket = examples or SectionExamples(key, topic.section)
    model_note = None if key in models.sections else models.skipped.get(key, "no examples")
    missed = () if model_note else tuple(
        missed_papers(topic, models, papers, known=known, limit=limit, threshold=threshold))
    in_query = _query_features(topic)
    add, drop = contrasting_terms(bucket.positives, bucket.negatives, exclude=in_query,
                                  limit=limit)
    return Suggestions(topic.name, topic.section, model_note, missed, add, drop,
                       len(bucket.positives), len(bucket.negatives))


def missed_papers(
    topic: Topic, models: Models, papers: Iterable[Paper], *,
    known: Callable[[Paper], bool], limit: int, threshold: float,
) -> list[Missed]:
    """The `limit` unmatched, unknown papers with the highest model probability >= threshold."""
    key = section_key(topic.section)
    model = models.sections[key]
    best: list[tuple[float, str, Paper]] = []
    for paper in papers:
        if known(paper) or topic.query.match(Doc.from_paper(paper)) is not None:
            continue
        p = model.probability(models.vector(paper))
        if p >= threshold:
            item = (p, paper.id, paper)
            (heapq.heappush if len(best) < limit else heapq.heappushpop)(best, item)
    out = []
    for p, _, paper in sorted(best, key=lambda t: (-t[0], t[1])):
        words = model.pushes(models.vector(paper), models.names)
        out.append(Missed(paper, p, tuple(words)))
    return out


def contrasting_terms(
    positives: Iterable[Example], negatives: Iterable[Example], *, exclude: frozenset[str],
    limit: int,
) -> tuple[tuple[TermShare, ...], tuple[TermShare, ...]]:
    """(terms of the positives rare in the negatives, terms of the negatives rare in positives)."""
    pos_df, n_pos = _doc_freq(positives)
    neg_df, n_neg = _doc_freq(negatives)
    terms = [_term(t, pos_df[t], neg_df[t], n_pos, n_neg) for t in pos_df.keys() | neg_df.keys()
             if t not in exclude]
    add = [t for t in terms if t.approved >= MIN_SUPPORT and t.approved_share
           > 2 * t.rejected_share]
    drop = [t for t in terms if t.rejected >= MIN_SUPPORT and t.rejected_share
            > 4 * t.approved_share]
    add.sort(key=lambda t: (-(t.approved_share - t.rejected_share), t.term))
    drop.sort(key=lambda t: (-(t.rejected_share - t.approved_share), t.term))
    return tuple(add[:limit]), tuple(drop[:limit])


def _doc_freq(examples: Iterable[Example]) -> tuple[Counter[str], int]:
    df: Counter[str] = Counter()
    n = 0
    for example in examples:
        df.update(set(analyse(example.text)))
        n += 1
    return df, n


def _term(term: str, a: int, r: int, n_pos: int, n_neg: int) -> TermShare:
    return TermShare(term.replace(" ", "-") if " " in term else term, a, r,
                a / n_pos if n_pos else 0.0, r / n_neg if n_neg else 0.0)


def _query_features(topic: Topic) -> frozenset[str]:
    """The query's own words and pairs, in the analysed form, so they are not suggested again."""
    found: set[str] = set()
    for term in topic.query.terms():
        found.update(analyse(term.text))
    return frozenset(found)


def format_suggestions(s: Suggestions) -> list[str]:
    """The suggestions as text lines for the terminal."""
    lines = [f"suggestions for {s.topic} ({s.section}), from {s.positives} papers of the "
             f"section and {s.rejections} rejections"]
    lines.append("")
    if s.model_note:
        lines.append(f"likely missed by the query: no model yet ({s.model_note})")
    elif not s.missed:
        lines.append("likely missed by the query: none among the stored papers")
    else:
        lines.append("likely missed by the query (stored papers the model scores highly):")
        lines += [f"  {m.probability:.2f}  {m.paper.id:<12} {m.paper.title}"
                  + (f"  [{' '.join('+' + w.replace(' ', '-') for w in m.words)}]"
                     if m.words else "") for m in s.missed]
    lines += ["", *_terms("candidate query terms (in the section's papers, rare in rejections)",
                          s.query_terms)]
    lines += ["", *_terms("candidate ANDNOT terms (behind most rejections)", s.andnot_terms)]
    return lines


def _terms(title: str, terms: tuple[TermShare, ...]) -> list[str]:
    if not terms:
        return [f"{title}: none yet"]
    return [f"{title}:", *(f"  {t.term:<28} in {t.approved_share:>4.0%} of the section's papers"
                           f", {t.rejected_share:>4.0%} of rejections" for t in terms)]
