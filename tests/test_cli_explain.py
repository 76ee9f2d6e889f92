"""`arxivwatch explain ID`: the detail behind the digest's Why line, from the state."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from arxivwatch.models import Candidate, Hit, Summary
from arxivwatch.store import Store
from tests.test_cli_decide import Project
from tests.test_decisions import PAPER

REASONS = ("title: LoRA", "similar to catalog: LoRA (0.42)",
           "learned: none for this section (2 positive and 0 negative examples; a model needs "
           "10 and 3)")


def seeded(tmp_path: Path) -> Project:
    project = Project(tmp_path)
    with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as store:
        store.add_candidates([Candidate(
            PAPER, "lora", "LLM Training > Techniques", 0.731, dt.date(2024, 6, 4),
            hits=(Hit("LoRA", "ti"), Hit('"low-rank adaptation"', "abs")), reasons=REASONS,
            alternatives=("pruning",), rank=2,
            summary=Summary("Setting two learning rates for LoRA.", "llm:llama3.1:8b"))])
    return project


def test_explain_prints_what_the_why_line_leaves_out(tmp_path: Path) -> None:
    """The Why line, then every hit, every reason (the learned model's state too), the other
    topics, the summary with its maker and the line an approval would add."""
    out = seeded(tmp_path).run("explain", "arXiv:2402.12354v2").output
    assert "why       title: LoRA · abstract: low-rank adaptation · closest: LoRA\n" in out
    assert 'matched   ti:LoRA, abs:"low-rank adaptation"\n' in out
    assert "reason    learned: none for this section (2 positive and 0 negative examples" in out
    assert "also      pruning\n" in out
    assert "offered   2024-06-04, rank 2, score 0.731, pending\n" in out
    assert "summary   Setting two learning rates for LoRA. (llm:llama3.1:8b)\n" in out
    assert "adds      - [Arxiv 2024] [LoRA+: Efficient Low Rank Adaptation of Large Models]" in out


def test_explain_shows_the_decision(tmp_path: Path) -> None:
    """After an approval, who decided, when and where."""
    project = seeded(tmp_path)
    project.run("approve", PAPER.id)
    assert "decided   approve by cli:alice at " in project.run("explain", PAPER.id).output


def test_explain_of_an_unknown_paper_is_one_error_line(tmp_path: Path) -> None:
    """A paper that was never offered: exit 1 and where to look instead."""
    project = seeded(tmp_path)
    result = project.run("explain", "2501.99999")
    assert result.exit_code == 1
    assert "2501.99999 was never offered; `arxivwatch pending`" in result.output
