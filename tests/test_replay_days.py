"""Tests for the backtest replay: day grouping, labels, the JSON lines contract and figures."""

from __future__ import annotations

import datetime as dt
import io
import json
from pathlib import Path

import pytest

from arxivwatch.errors import BacktestError
from arxivwatch.models import Hit, Paper, Topic
from arxivwatch.query import Doc
from arxivwatch.ranking import Scored
from arxivwatch.replay.days import OUT_KEYS, Replay, ReplayStats, group_days, in_range
from arxivwatch.replay.labels import auc_from_histograms, parse_labels
from arxivwatch.replay.snapshot import read_snapshot, write_snapshot_line
from tests.topics import make_topic

D1, D2, D3 = dt.date(2024, 1, 1), dt.date(2024, 1, 2), dt.date(2024, 1, 3)


TOPICS = [
    make_topic("lora", "Training > Techniques", 'LoRA OR "low-rank adaptation"'),
    make_topic("moe", "Systems > Inference", '"mixture of experts" AND serving',
          min_score=0.5),
]


class ByTitle:
    """Scores a paper by the number in its title after `#` (so tests choose the ranking)."""

    def score(self, doc: Doc, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        return Scored(float(doc.paper.title.rsplit("#", 1)[1]) / 10)


def paper(pid: str, title: str, day: dt.date | None, abstract: str = "") -> Paper:
    return Paper(pid, title, abstract, categories=("cs.LG",), day=day, version=1)


def days_of(papers: list[Paper], window: int = 7) -> tuple[list[tuple[dt.date, list[str]]],
                                                          ReplayStats]:
    stats = ReplayStats()
    groups = [(d, [p.id for p in b]) for d, b in group_days(papers, window=window, stats=stats)]
    return groups, stats


def test_days_are_grouped_in_order() -> None:
    """Consecutive papers of a day form one batch, days come out oldest first."""
    groups, stats = days_of([paper("a", "t", D1), paper("b", "t", D1), paper("c", "t", D2)])
    assert groups == [(D1, ["a", "b"]), (D2, ["c"])]
    assert stats.late_batches == 0


def test_out_of_order_papers_within_the_window_join_their_day() -> None:
    """A paper a few days late still lands in its own day's batch."""
    papers = [paper("a", "t", D1), paper("b", "t", D3), paper("c", "t", D1), paper("d", "t", D2)]
    groups, stats = days_of(papers, window=3)
    assert groups == [(D1, ["a", "c"]), (D2, ["d"]), (D3, ["b"])]
    assert stats.late_batches == 0


def test_papers_later_than_the_window_make_a_late_batch() -> None:
    """A day already replayed that shows up again is replayed again, and counted."""
    far = D1 + dt.timedelta(days=10)
    groups, stats = days_of([paper("a", "t", D1), paper("b", "t", far), paper("c", "t", D1)],
                            window=3)
    assert groups == [(D1, ["a"]), (far, ["b"]), (D1, ["c"])]
    assert stats.late_batches == 1


def test_undated_papers_are_skipped_and_counted() -> None:
    """Without a day a paper cannot be replayed."""
    groups, stats = days_of([paper("a", "t", None), paper("b", "t", D1)])
    assert groups == [(D1, ["b"])]
    assert stats.undated == 1


def test_in_range_keeps_the_days_between_the_bounds() -> None:
    """--from and --to are inclusive."""
    papers = [paper(str(i), "t", D1 + dt.timedelta(days=i)) for i in range(5)]
    assert [p.id for p in in_range(papers, D2, D3)] == ["1", "2"]
    assert [p.id for p in in_range(papers, None, D1)] == ["0"]


@pytest.mark.parametrize(("pos", "neg", "auc"), [
    ([0, 0, 2], [2, 0, 0], 1.0),
    ([2, 0, 0], [0, 0, 2], 0.0),
    ([0, 1, 0], [0, 1, 0], 0.5),
    ([0, 1, 1], [1, 1, 0], 0.875),
    ([0, 0, 0], [1, 0, 0], None),
])
def test_auc_from_histograms(pos: list[int], neg: list[int], auc: float | None) -> None:
    """Mann-Whitney AUC over score bins, ties counting half."""
    assert auc_from_histograms(pos, neg) == auc


def test_labels_map_names_topics_and_section_paths() -> None:
    """Built-in label names, topic names, section paths and --label-map all resolve."""
    text = ("arxiv_id\tsection\tsource\n2106.09685v2\tlora\tx\n2401.1\tmoe\tx\n"
            "2401.2\tSystems > Training\tx\n2401.3\tcustom\tx\n")
    labels = parse_labels(text, topics=TOPICS, label_map={"custom": ["A > B", "C"]})
    assert labels.by_id["2106.09685"] == {"lora"}
    assert labels.sections == {
        "lora": ("LLM Training > Techniques",), "moe": ("Systems > Inference",),
        "Systems > Training": ("Systems > Training",), "custom": ("A > B", "C")}


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty labels file"),
    ("id\tname\n1\tlora\n", "lacks the columns"),
    ("arxiv_id\ttopic\n1\n", "expected 2 tab-separated columns"),
    ("arxiv_id\ttopic\n1\tunheard_of\n", "--label-map 'unheard_of=Section > Sub'"),
])
def test_bad_labels_say_what_to_fix(text: str, message: str) -> None:
    """Label problems are BacktestError with the fix in the message."""
    with pytest.raises(BacktestError, match=message.replace("(", r"\(")):
        parse_labels(text, topics=TOPICS, where="labels.tsv")


SNAPSHOT = [
    paper("2401.00001", "LoRA tricks #9", D1),
    paper("2401.00002", "LoRA uses #3", D1),
    paper("2401.00003", "Plain LoRA #6", D1),
    paper("2401.00004", "Graph networks #9", D1),
    paper("2401.00005", "Serving a mixture of experts #7", D2),
    paper("2401.00006", "Serving a mixture of experts, slowly #2", D2),
    paper("2401.00007", "LoRA again #5", D3),
    paper("2106.09685", "LoRA in the catalog #9", D3),
]


def snapshot_file(tmp_path: Path) -> Path:
    """The snapshot above written in arXiv's format, as the backtest reads it."""
    path = tmp_path / "snap.jsonl"
    path.write_text("".join(write_snapshot_line(p) + "\n" for p in SNAPSHOT), encoding="utf-8")
    return path


def replay(tmp_path: Path, labels: str | None = None) -> tuple[Replay, list[dict[str, object]]]:
    out = io.StringIO()
    parsed = parse_labels(labels, topics=TOPICS) if labels else None
    r = Replay(TOPICS, ByTitle(), known={"2106.09685"}, cap=2, labels=parsed, out=out)
    r.run(read_snapshot(snapshot_file(tmp_path)))
    return r, [json.loads(line) for line in out.getvalue().splitlines()]


def test_out_lines_follow_the_contract(tmp_path: Path) -> None:
    """One JSON line per match with exactly the documented keys and values."""
    _, lines = replay(tmp_path)
    assert all(tuple(line) == OUT_KEYS for line in lines)
    assert lines[0] == {
        "id": "2401.00001", "day": "2024-01-01", "topic": "lora",
        "section": "Training > Techniques", "score": 0.9, "rank": 1, "posted": True,
        "matched": ["ti:LoRA"], "title": "LoRA tricks #9"}
    got = [(x["day"], x["id"], x["rank"], x["posted"]) for x in lines]
    assert got == [
        ("2024-01-01", "2401.00001", 1, True), ("2024-01-01", "2401.00003", 2, True),
        ("2024-01-01", "2401.00002", 3, False),            # over the cap of 2
        ("2024-01-02", "2401.00005", 1, True),
        ("2024-01-02", "2401.00006", 2, False),            # under min_score 0.5
        ("2024-01-03", "2401.00007", 1, True)]             # the catalog paper is dropped


def test_topic_figures(tmp_path: Path) -> None:
    """Matches, posted, posted per replayed day (mean and max) per topic."""
    r, _ = replay(tmp_path)
    assert (r.stats.papers, r.stats.days) == (8, 3)
    lora, moe = r.topic_stats["lora"], r.topic_stats["moe"]
    assert (lora.matches, lora.posted, lora.max_per_day) == (4, 3, 2)
    assert (moe.matches, moe.posted, moe.max_per_day) == (2, 1, 1)
    assert r.per_day_mean("lora") == pytest.approx(1.0)
    assert r.per_day_mean("moe") == pytest.approx(1 / 3)


def test_label_recall_precision_and_auc(tmp_path: Path) -> None:
    """A label is found when posted under a topic of its section; catalog papers do not count."""
    labels = ("arxiv_id\ttopic\n2401.00001\tlora\n2401.00002\tlora\n2106.09685\tlora\n"
              "2401.00006\tmoe\n9999.99999\tmoe\n")
    r, _ = replay(tmp_path, labels)
    by_name = {ls.name: ls for ls in r.label_stats}
    lora = by_name["lora"]
    assert lora.sections == ("LLM Training > Techniques",)   # built-in map: not this test's
    assert (lora.labelled, lora.in_catalog, lora.found, lora.posted) == (3, 1, 0, 0)
    moe = by_name["moe"]
    assert (moe.labelled, moe.found, moe.posted, moe.posted_labelled) == (1, 0, 1, 0)
    assert moe.recall == 0.0
    assert moe.precision == 0.0
    assert moe.auc == 0.0                      # the labelled match scored below the other


def test_labels_for_topic_sections_measure_recall_and_precision(tmp_path: Path) -> None:
    """With the label mapped to the replayed topic's section the figures add up."""
    labels = "arxiv_id\ttopic\n2401.00001\tmine\n2401.00002\tmine\n2401.00009\tmine\n"
    out = io.StringIO()
    parsed = parse_labels(labels, label_map={"mine": ["Training > Techniques"]})
    r = Replay(TOPICS, ByTitle(), known=None, cap=2, labels=parsed, out=out)
    r.run(read_snapshot(snapshot_file(tmp_path)))
    (ls,) = r.label_stats
    assert (ls.labelled, ls.found, ls.posted, ls.posted_labelled) == (2, 1, 4, 1)
    assert ls.recall == 0.5
    assert ls.precision == 0.25
    # positives 0.9 and 0.3 against 0.6, 0.5 and 0.9: 2 wins + 1 tie out of 6 pairs
    assert ls.auc == pytest.approx(2.5 / 6)
