"""`arxivwatch stats`: per-topic digest figures over a window, on a store the tests build."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from arxivwatch.cli.stats_cmd import duration, table
from arxivwatch.models import Candidate, Decision, Paper
from arxivwatch.store import DigestStats, Store
from tests.test_cli_decide import Project

T0 = dt.datetime(2024, 6, 4, 21, 0, tzinfo=dt.UTC)


def _paper(n: int) -> Paper:
    return Paper(id=f"2406.{n:05d}", title=f"Paper number {n}", abstract="An abstract.")


def _fill(path: Path) -> None:
    """Three lora candidates on June 4 (approved after 2 h, rejected after 4 h, pending), one
    pruning candidate on June 10 (approved after 10 h), posted to Slack at T0."""
    clock_now = [T0]
    with Store.open(f"sqlite:///{path}", clock=lambda: clock_now[0]) as store:
        plan = [(1, "lora", dt.date(2024, 6, 4), "approve", 2), (2, "lora", dt.date(2024, 6, 4),
                "reject", 4), (3, "lora", dt.date(2024, 6, 4), None, 0),
                (4, "pruning", dt.date(2024, 6, 10), "approve", 10)]
        for n, topic, day, _, _ in plan:
            store.add_candidates([Candidate(_paper(n), topic, f"{topic} section", 0.5, day)])
        store.mark_posted([_paper(n).id for n, *_ in plan], "C1", "1.0")
        for n, topic, _, action, hours in plan:
            if action is not None:
                at = T0 + dt.timedelta(hours=hours)
                section = f"{topic} section" if action == "approve" else None
                store.decide(Decision(_paper(n).id, action, "U1", at, section, None, topic))


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    _fill(tmp_path / "state.db")
    return p


def _row(output: str, topic: str) -> list[str]:
    return next(line.split() for line in output.splitlines() if line.startswith(topic + " "))


def test_stats_counts_every_topic(project: Project) -> None:
    """Posted, approved, rejected, pending, precision and median hours per topic."""
    result = project.run("stats")
    assert result.exit_code == 0, result.output
    assert _row(result.output, "lora") == ["lora", "3", "1", "1", "1", "50%", "3.0", "h"]
    assert _row(result.output, "pruning") == ["pruning", "1", "1", "0", "0", "100%", "10.0", "h"]
    assert _row(result.output, "(all)")[:6] == ["(all)", "4", "2", "1", "1", "67%"]


@pytest.mark.parametrize(("args", "present", "absent"), [
    (("--since", "2024-06-05"), ["pruning"], ["lora"]),
    (("--until", "2024-06-04"), ["lora"], ["pruning"]),
    (("--since", "2024-06-04", "--until", "2024-06-10"), ["lora", "pruning"], []),
])
def test_stats_window(project: Project, args: tuple[str, ...], present: list[str],
                      absent: list[str]) -> None:
    """--since and --until bound the announcement days counted."""
    result = project.run("stats", *args)
    assert result.exit_code == 0, result.output
    topics = {line.split()[0] for line in result.output.splitlines()[2:]}
    assert set(present) <= topics
    assert not set(absent) & topics


def test_stats_empty_window(project: Project) -> None:
    """A window with no candidates says so."""
    result = project.run("stats", "--since", "2025-01-01")
    assert result.exit_code == 0
    assert "no candidates posted" in result.output


@pytest.mark.parametrize("args", [("--since", "june"), ("--since", "2024-06-10", "--until",
                                                          "2024-06-01")])
def test_stats_bad_dates(project: Project, args: tuple[str, ...]) -> None:
    """A malformed date or an empty window is a usage error (exit 2)."""
    result = project.run("stats", *args)
    assert result.exit_code == 2


def test_stats_reads_without_writing(project: Project, tmp_path: Path) -> None:
    """stats leaves the state database byte for byte as it was."""
    before = (tmp_path / "state.db").read_bytes()
    project.run("stats")
    assert (tmp_path / "state.db").read_bytes() == before


@pytest.mark.parametrize(("hours", "text"), [
    (None, "-"), (0.25, "15 min"), (3.0, "3.0 h"), (72.0, "3.0 d")])
def test_duration(hours: float | None, text: str) -> None:
    """Times to a decision read naturally."""
    assert duration(hours) == text


def test_table_undecided_topic() -> None:
    """A topic with nothing decided shows '-' for precision and time."""
    lines = table([DigestStats("moe", 2, 0, 0, 2, None, None)])
    assert lines[1].split() == ["moe", "2", "0", "0", "2", "-", "-"]
