"""`tune TOPIC --suggest`: `learning.suggest` on the state store's decisions and papers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from arxivwatch.catalog import section_key
from arxivwatch.learning.model import DEFAULT_POLICY, Policy, train
from arxivwatch.learning.suggest import LIMIT, Suggestions, format_suggestions, suggest
from arxivwatch.learning.trainer import StoreSource
from arxivwatch.models import Paper, Topic
from arxivwatch.ranking import SectionLike
from arxivwatch.store import Store


def suggest_from_store(
    store: Store, sections: Iterable[SectionLike], topics: Sequence[Topic], topic: Topic,
    *, known: Callable[[Paper], bool] = lambda _p: False, limit: int = LIMIT,
    policy: Policy = DEFAULT_POLICY,
) -> Suggestions:
    """`suggest` on a store: models from its decisions, missed papers from its papers.

    Papers the store already decided or proposed count as known, besides `known` (the catalog).
    """
    source = StoreSource(store, list(sections), topics)
    examples = source.examples()
    models = train(examples, policy)
    proposed = {c.candidate.paper.id for c in store.candidates()}
    return suggest(topic, models, examples.get(section_key(topic.section)), store.iter_papers(),
                   known=lambda p: p.id in proposed or known(p), limit=limit)


def suggestions_report(state_url: str, sections: Iterable[SectionLike],
                       topics: Sequence[Topic], topic: Topic, *,
                       known: Callable[[Paper], bool]) -> str:
    """`tune TOPIC --suggest`: the suggestions from the state store at `state_url`, as text."""
    with Store.open_copy(state_url) as store:
        found = suggest_from_store(store, sections, topics, topic, known=known)
    return "\n".join(["", *format_suggestions(found)])
