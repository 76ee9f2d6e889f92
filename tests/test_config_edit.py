"""Saving a topic's query into topics.yaml: only that query changes, and only into a valid file."""

from __future__ import annotations

import difflib
import shutil
import stat
import textwrap
from pathlib import Path

import pytest

from arxivwatch.config import ConfigErrors, load
from arxivwatch.config.edit import edit_query, set_topic_query
from arxivwatch.errors import ConfigError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The shipped config and catalog in a temp project; returns the config path."""
    (tmp_path / "config").mkdir()
    shutil.copy(REPO / "config" / "topics.yaml", tmp_path / "config" / "topics.yaml")
    shutil.copytree(REPO / "catalog", tmp_path / "catalog")
    return tmp_path / "config" / "topics.yaml"


def changed_lines(before: str, after: str) -> list[str]:
    """The -/+ lines of a diff, without the headers."""
    return [ln for ln in difflib.unified_diff(before.splitlines(), after.splitlines(),
                                              lineterm="", n=0)
            if ln[:1] in "-+" and not ln.startswith(("---", "+++"))]


def test_only_the_query_lines_change_in_the_shipped_config(project: Path) -> None:
    """Comments, blank lines, flow lists, indentation and other topics stay byte for byte."""
    before = project.read_text(encoding="utf-8")
    settings, changed = set_topic_query(project, "lora", 'ti:LoRA OR abs:"low-rank adaptation"',
                                        {})
    after = project.read_text(encoding="utf-8")
    assert changed
    assert settings.topic("lora").query_text == 'ti:LoRA OR abs:"low-rank adaptation"'
    assert settings.config_path == project.absolute()
    diff = changed_lines(before, after)
    assert [d for d in diff if d.startswith("+")] == ['+      ti:LoRA OR abs:"low-rank adaptation"']
    assert len([d for d in diff if d.startswith("-")]) == 3   # the old folded query's lines
    assert load(project, {}).topic("lora").query_text == 'ti:LoRA OR abs:"low-rank adaptation"'


def test_a_long_query_is_folded_before_an_operator(project: Path) -> None:
    """A long one-line query from Slack is wrapped like the file's own, lines start with OR."""
    query = " OR ".join(f'abs:"term number {i}"' for i in range(12))
    set_topic_query(project, "pruning", query, {})
    lines = project.read_text(encoding="utf-8").splitlines()
    start = lines.index("  - name: pruning") + 3
    body = lines[start:start + 4]
    assert all(len(line) <= 90 for line in body)
    assert body[1].lstrip().startswith("OR ")
    assert load(project, {}).topic("pruning").query_text == query


def test_an_invalid_query_is_refused_and_the_file_kept(project: Path) -> None:
    """A query that does not parse: ConfigErrors naming the real file and key; no byte changes."""
    before = project.read_bytes()
    with pytest.raises(ConfigErrors) as info:
        set_topic_query(project, "lora", "ti:LoRA AND (", {})
    problem = info.value.problems[0]
    assert problem.file == str(project.absolute())
    assert problem.key == "topics[0].query"
    assert "malformed query" in problem.message
    assert project.read_bytes() == before
    assert [p.name for p in project.parent.iterdir()] == ["topics.yaml"]   # no temp left


def test_an_unknown_topic_is_refused(project: Path) -> None:
    """Saving for a topic the file does not have names the topics it has."""
    before = project.read_bytes()
    with pytest.raises(ConfigError, match=r"no topic named 'nope'.*lora"):
        set_topic_query(project, "nope", "ti:x", {})
    assert project.read_bytes() == before


def test_the_same_query_changes_nothing(project: Path) -> None:
    """Saving the query already saved (whitespace aside) leaves the file as it is."""
    current = load(project, {}).topic("pruning").query_text
    before = project.read_bytes()
    _, changed = set_topic_query(project, "pruning", "  ".join(current.split()), {})
    assert not changed
    assert project.read_bytes() == before


def test_mode_is_kept(project: Path) -> None:
    """The replaced file keeps its permissions."""
    project.chmod(0o640)
    set_topic_query(project, "lora", "ti:LoRA", {})
    assert stat.S_IMODE(project.stat().st_mode) == 0o640


@pytest.mark.parametrize(("line", "query", "expected"), [
    ("    query: 'ti:LoRA'", "ti:it's", "    query: 'ti:it''s'"),
    ('    query: "ti:LoRA"', "ti:DoRA", '    query: "ti:DoRA"'),
    ('    query: "ti:LoRA"', 'ti:"low rank"', "    query: 'ti:\"low rank\"'"),
    ("    query: ti:LoRA", "ti:DoRA OR ti:LoRA", "    query: ti:DoRA OR ti:LoRA"),
])
def test_quoting_style_is_kept_when_it_can_be(line: str, query: str, expected: str) -> None:
    """Single stays single (doubling a '), double stays double unless the query holds a "."""
    text = textwrap.dedent("""\
        # my topics
        topics:
          - name: lora   # the one
            section: X
        """) + line + "\n"
    out = edit_query(text, "lora", query)
    assert out.splitlines()[-1] == expected
    assert out.splitlines()[:4] == text.splitlines()[:4]


def test_flow_style_topic_stays_flow() -> None:
    """A topic written as a flow mapping stays one line."""
    text = "topics:\n- {name: a, section: X, query: 'ti:x'}   # short\n"
    assert edit_query(text, "a", "ti:y") == "topics:\n- {name: a, section: X, query: 'ti:y'}   # short\n"
