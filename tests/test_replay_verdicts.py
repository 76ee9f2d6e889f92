"""Tests for verdict files (`backtest --labels` with a `relevant` column) and their figures."""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch.errors import BacktestError
from arxivwatch.models import Hit, Paper, Topic
from arxivwatch.query import Doc
from arxivwatch.ranking import Scored
from arxivwatch.replay.days import Replay
from arxivwatch.replay.labels import parse_labels
from arxivwatch.replay.report import format_report
from arxivwatch.replay.verdicts import VerdictStats, auc
from tests.topics import make_topic

D1 = dt.date(2024, 1, 1)
TOPICS = [
    make_topic("adapters", "Training > Techniques", "LoRA", min_score=0.5),
    make_topic("svd", "Compression > Low-rank", "LoRA OR SVD", min_score=0.3),
]
HEADER = "arxiv_id\tsection\trelevant\n"


# -- the file ------------------------------------------------------------------------------------


def test_a_verdicts_file_names_labels_topics_and_headings() -> None:
    """Sections are label names, topic names or heading paths; 1 and 0 are kept per paper."""
    text = (HEADER + "2106.09685v2\tlora\t1\narXiv:2401.00001\tadapters\t0\n"
            "2401.00001\tModel Compression > Pruning\t1\n2401.00002\tlora\t0\n")
    labels = parse_labels(text, topics=TOPICS)
    assert labels.verdicts == {"2106.09685": {"lora": 1},
                               "2401.00001": {"adapters": 0, "Model Compression > Pruning": 1},
                               "2401.00002": {"lora": 0}}
    assert labels.by_id == {"2106.09685": {"lora"},
                            "2401.00001": {"Model Compression > Pruning"}}
    assert labels.sections == {"lora": ("LLM Training > Techniques",),
                               "adapters": ("Training > Techniques",),
                               "Model Compression > Pruning": ("Model Compression > Pruning",)}
    assert (labels.verdict("2401.00001", "adapters"), labels.verdict("2401.00001", "lora"),
            labels.verdict("9999.99999", "lora")) == (0, None, None)


def test_a_section_judged_only_0_is_still_a_verdict_section() -> None:
    """A section every paper of which was judged 'does not belong' still gets its figures."""
    labels = parse_labels(HEADER + "2401.00001\tadapters\t0\n", topics=TOPICS)
    assert [vs.name for vs in labels.verdict_stats()] == ["adapters"]


def test_two_column_label_files_keep_their_meaning() -> None:
    """Without a `relevant` column a file is a reading list: no verdicts."""
    labels = parse_labels("arxiv_id\ttopic\n2401.00001\tadapters\n", topics=TOPICS)
    assert labels.verdicts is None
    assert labels.by_id == {"2401.00001": {"adapters"}}
    assert labels.verdict("2401.00001", "adapters") is None


@pytest.mark.parametrize(("row", "message"), [
    ("2401.00001\tadapters\tyes\n", "verdicts.tsv:3: relevant must be 1 or 0, not 'yes'"),
    ("2401.00001\tadapters\t2\n", "verdicts.tsv:3: relevant must be 1 or 0, not '2'"),
    ("2401.00001\tadapters\t\n", "verdicts.tsv:3: relevant must be 1 or 0, not ''"),
    ("2401.00001\tadapters\n", "verdicts.tsv:3: expected 3 tab-separated columns"),
])
def test_a_bad_verdict_names_the_file_and_line(row: str, message: str) -> None:
    """A `relevant` cell that is not 1 or 0 (or missing) is one error at file:line."""
    text = HEADER + "2401.00002\tadapters\t1\n" + row
    with pytest.raises(BacktestError) as info:
        parse_labels(text, topics=TOPICS, where="verdicts.tsv")
    assert str(info.value).startswith(message)


def test_verdict_cells_may_carry_white_space() -> None:
    """' 1 ' and '0\\r' (a Windows line end) read as verdicts."""
    labels = parse_labels(HEADER + "2401.00001\tadapters\t 1 \r\n2401.00002\tadapters\t0\r\n",
                          topics=TOPICS)
    assert labels.verdicts == {"2401.00001": {"adapters": 1}, "2401.00002": {"adapters": 0}}


def test_the_line_number_counts_blank_lines() -> None:
    """The line in the message is the file's own line, blank lines included."""
    text = HEADER + "\n2401.00002\tadapters\t1\n\n2401.00001\tadapters\tyes\n"
    with pytest.raises(BacktestError, match=r"verdicts\.tsv:5: "):
        parse_labels(text, topics=TOPICS, where="verdicts.tsv")


# -- the figures ---------------------------------------------------------------------------------

# Hand-computed: 4 judged matches that belong (0.9, 0.8, 0.5, 0.1), 3 that do not (0.8, 0.3,
# 0.3); one more relevant paper the topics never matched.
SCORED = [(0.9, 1), (0.8, 0), (0.8, 1), (0.5, 1), (0.3, 0), (0.3, 0), (0.1, 1)]


def _stats(**kw: object) -> VerdictStats:
    return VerdictStats("x", ("A > B",), **kw)  # type: ignore[arg-type]


def test_verdict_figures_on_a_hand_computed_example() -> None:
    """Precision and recall of the posted, P@R by score and AUC with a tie counting half."""
    vs = _stats(judged=9, relevant=6, in_catalog=1, posted_judged=4, posted_relevant=3, found=3,
                scored=list(SCORED))
    assert vs.precision == pytest.approx(3 / 4)
    assert vs.recall == pytest.approx(3 / 5)            # the catalog paper is not in the base
    # pairs (pos, neg): 0.9 beats 3; 0.8 ties one, beats 2; 0.5 beats 2; 0.1 beats none
    assert vs.auc == pytest.approx(7.5 / 12)
    assert vs.precision_at(0.4) == pytest.approx(2 / 3)    # 2 of 5 at 0.9, 0.8, 0.8
    assert vs.precision_at(0.6) == pytest.approx(3 / 4)    # 3 of 5 at 0.5 and above
    assert vs.precision_at(0.85) is None                   # 4.25 of 5: never reached
    assert vs.precision_at(0.8) == pytest.approx(4 / 7)    # all matches


@pytest.mark.parametrize("kw", [
    {},
    {"judged": 3, "relevant": 2, "in_catalog": 2},
])
def test_verdict_figures_without_a_base_are_none(kw: dict[str, int]) -> None:
    """No posted judged papers, or no relevant one outside the catalog: '-' not 0."""
    vs = _stats(**kw)
    assert (vs.precision, vs.recall, vs.precision_at(0.85), vs.auc) == (None, None, None, None)


def test_precision_at_recall_takes_tied_scores_together() -> None:
    """Posting by threshold posts every paper of a tied score, whatever the input order."""
    vs = _stats(relevant=2, scored=[(0.9, 1), (0.8, 1), (0.8, 0)])
    assert vs.precision_at(0.85) == pytest.approx(2 / 3)


@pytest.mark.parametrize(("scored", "expected"), [
    ([(0.2, 0), (0.9, 1)], 1.0),
    ([(0.9, 0), (0.2, 1)], 0.0),
    ([(0.5, 0), (0.5, 1)], 0.5),
    ([(0.5, 1), (0.5, 1), (0.5, 0)], 0.5),
    ([(0.4, 1), (0.3, 1)], None),
    ([], None),
])
def test_auc_of_scored_verdicts(scored: list[tuple[float, int]], expected: float | None) -> None:
    """Mann-Whitney AUC: ties half, None without both classes."""
    assert auc(scored) == expected


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]), st.integers(0, 1)),
                max_size=30))
def test_auc_does_not_depend_on_order_and_flips_with_the_scores(
    scored: list[tuple[float, int]],
) -> None:
    """The same pairs in any order give the same AUC; negating scores gives 1 - AUC."""
    value = auc(scored)
    assert auc(list(reversed(scored))) == value
    flipped = auc([(-s, v) for s, v in scored])
    if value is None:
        assert flipped is None
    else:
        assert 0.0 <= value <= 1.0
        assert flipped == pytest.approx(1 - value)


# -- a replay with verdicts ----------------------------------------------------------------------


class Fixed:
    """Scores preset per (paper id, topic name)."""

    SCORES: ClassVar[dict[tuple[str, str], float]] = {
        ("2401.00001", "adapters"): 0.9, ("2401.00001", "svd"): 0.2,
        ("2401.00002", "adapters"): 0.45, ("2401.00002", "svd"): 0.35,
        ("2401.00003", "adapters"): 0.3, ("2401.00003", "svd"): 0.1,
        ("2401.00004", "svd"): 0.8}

    def score(self, doc: Doc, topic: Topic, hits: tuple[Hit, ...]) -> Scored:
        return Scored(self.SCORES.get((doc.paper.id, topic.name), 0.5))


PAPERS = [Paper("2401.00001", "LoRA one", "", day=D1), Paper("2401.00002", "LoRA two", "", day=D1),
          Paper("2401.00003", "LoRA three", "", day=D1), Paper("2401.00004", "SVD four", "", day=D1),
          Paper("2401.00005", "Graph five", "", day=D1),
          Paper("2106.09685", "LoRA in the catalog", "", day=D1)]
VERDICTS = (HEADER + "2401.00001\tadapters\t1\n2401.00002\tadapters\t1\n2401.00003\tadapters\t0\n"
            "2401.00005\tadapters\t1\n2106.09685\tadapters\t1\n"
            "2401.00002\tsvd\t0\n2401.00004\tsvd\t1\n2401.00001\tsvd\t0\n")


def _replay() -> Replay:
    labels = parse_labels(VERDICTS, topics=TOPICS)
    return Replay(TOPICS, Fixed(), known={"2106.09685"}, cap=5, labels=labels).run(PAPERS)


def test_a_replay_counts_verdicts_per_section() -> None:
    """Judged, posted, found per section; a paper scores by its best topic of the section."""
    r = _replay()
    assert r.label_stats == []
    adapters, svd = r.verdict_stats
    # 00002 scores best under adapters (0.45) but under its min_score: it is posted under svd
    assert (adapters.judged, adapters.relevant, adapters.in_catalog, adapters.posted_judged,
            adapters.posted_relevant, adapters.found) == (5, 4, 1, 1, 1, 1)
    assert sorted(adapters.scored) == [(0.3, 0), (0.45, 1), (0.9, 1)]
    assert (adapters.precision, adapters.recall, adapters.auc) == (1.0, pytest.approx(1 / 3), 1.0)
    assert (svd.judged, svd.relevant, svd.posted_judged, svd.posted_relevant, svd.found) == (
        3, 1, 2, 1, 1)
    assert sorted(svd.scored) == [(0.2, 0), (0.35, 0), (0.8, 1)]
    assert (svd.precision, svd.recall, svd.precision_at(0.95)) == (0.5, 1.0, 1.0)


def test_the_report_prints_the_verdicts_table() -> None:
    """The VERDICTS table: one row per section with its figures, '-' where none."""
    text = format_report(_replay())
    lines = text.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("VERDICTS"))
    assert lines[head].split() == ["VERDICTS", "JUDGED", "BELONG", "POSTED", "PRECISION",
                                   "RECALL", "P@R.85", "P@R.95", "AUC", "/DAY", "SECTIONS"]
    assert lines[head + 1].split() == ["adapters", "5", "3", "1", "1.000", "0.333", "-", "-",
                                       "1.000", "1.00", "Training", ">", "Techniques"]
    assert lines[head + 2].split() == ["svd", "3", "1", "2", "0.500", "1.000", "1.00", "1.00",
                                       "1.000", "2.00", "Compression", ">", "Low-rank"]
    assert lines[head + 3].startswith("(belong: judged 1 and not already in the catalog")
    assert "LABEL" not in text


def test_a_paper_listed_twice_in_a_day_is_judged_once() -> None:
    """Duplicates within a day's input count once in the verdict figures, as in the selection."""
    labels = parse_labels(VERDICTS, topics=TOPICS)
    r = Replay(TOPICS, Fixed(), known={"2106.09685"}, cap=5, labels=labels)
    r.run([*PAPERS, PAPERS[0]])
    adapters, _ = r.verdict_stats
    assert (adapters.judged, adapters.posted_judged, len(adapters.scored)) == (5, 1, 3)
