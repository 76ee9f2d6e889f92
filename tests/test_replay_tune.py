"""Tests for replay.tune: a topic's matches go where the poll sends them."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from arxivwatch.models import Hit, Paper, Topic
from arxivwatch.query import Doc
from arxivwatch.ranking import Scored, select
from arxivwatch.replay.tune import replay_topic, summary
from tests.topics import make_topic

DAY = dt.date(2024, 3, 4)


class ByTopic:
    """Scores every paper by its topic's name only (so tests choose each topic's score)."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores

    def score(self, doc: Doc, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        return Scored(self.scores[topic.name])


def _two_topics(a_min: float, b_min: float) -> list[Topic]:
    return [make_topic("a", "X > A", "LoRA", min_score=a_min),
            make_topic("b", "X > B", "LoRA", min_score=b_min)]


@pytest.mark.parametrize(("a_min", "b_min"), [
    (0.6, 0.3),                                    # clears both: A, the best, takes it
    (0.8, 0.3),                                    # clears only B: B keeps it
    (0.8, 0.6),                                    # clears none: A, the best, takes it
])
def test_tune_loses_a_match_exactly_when_the_poll_routes_it_elsewhere(a_min: float,
                                                                      b_min: float) -> None:
    """tune B says a paper goes to A only when the poll's selection sends it to A."""
    topics = _two_topics(a_min, b_min)
    scorer = ByTopic({"a": 0.7, "b": 0.5})
    p = Paper("2401.00001", "LoRA", "", day=DAY)
    (cand,) = select([p], topics, scorer, cap=5, day=DAY)
    runs, days = replay_topic([p], [topics[1]], scorer, None, topics)
    assert (p.id in runs[0].lost_to) is (cand.topic == "a")
    posts = "would post 0" if cand.topic == "a" else "would post 1"
    assert posts in summary(topics[1], runs[0], days, 5)


def test_tune_without_other_topics_keeps_every_match() -> None:
    """Alone, a topic loses nothing; its matches and days are counted."""
    topics = _two_topics(0.8, 0.3)
    papers = [Paper(f"2401.0000{i}", "LoRA", "", day=DAY) for i in range(3)]
    runs, days = replay_topic(papers, [topics[1]], ByTopic({"a": 0.7, "b": 0.5}), None)
    assert runs[0].lost_to == {}
    assert len(runs[0].matches) == 3
    assert days == Counter({DAY: 3})
