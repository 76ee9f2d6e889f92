"""`arxivwatch pending | approve | reject`, on a real config, store and catalog."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from arxivwatch.cli import _register, cli
from arxivwatch.models import Candidate, Paper
from arxivwatch.store import Store
from tests.fakes.slack_server import FakeSlack
from tests.slack_requests import CHANNEL
from tests.test_decisions import CATALOG, OTHER, PAPER, decided, make_store
from tests.test_slack_interactions import digest_blocks

CONFIG = """\
catalog:
  path: README.md
slack:
  channel: "#llm-papers"
  api_url: {api_url}
state:
  url: sqlite:///state.db
topics:
  - name: lora
    section: LLM Training > Techniques
    query: 'ti:LoRA'
  - name: pruning
    section: Model Compression > Pruning
    query: 'ti:pruning'
"""


class Project:
    """A config, catalog and state database in one folder, and a way to run the CLI there."""

    def __init__(self, root: Path, api_url: str = "http://127.0.0.1:9/api/") -> None:
        self.root, self.catalog = root, root / "README.md"
        self.catalog.write_bytes(CATALOG.encode())
        (root / "topics.yaml").write_text(CONFIG.format(api_url=api_url))
        self.env = {"USER": "alice"}

    def seed(self, channel: str | None = None, ts: str | None = None) -> None:
        """Copy the two test candidates into the project's state database."""
        source = make_store(channel, ts)
        with Store.open(f"sqlite:///{self.root / 'state.db'}") as store:
            for c in source.candidates():
                store.add_candidates([c.candidate])
            if channel and ts:
                store.mark_posted([PAPER.id, OTHER.id], channel, ts)

    def run(self, *args: str) -> Result:
        _register()
        return CliRunner().invoke(cli, ["--config", str(self.root / "topics.yaml"), *args],
                                  env=self.env, catch_exceptions=False)

    def store(self) -> Store:
        return Store.open(f"sqlite:///{self.root / 'state.db'}")


@pytest.fixture
def project(tmp_path: Path) -> Project:
    p = Project(tmp_path)
    p.seed()
    return p


def test_pending_lists_open_candidates(project: Project) -> None:
    """`pending` shows id, topic, score and title of undecided candidates only."""
    project.run("reject", OTHER.id)
    result = project.run("pending")
    assert result.exit_code == 0
    assert PAPER.id in result.output
    assert "lora" in result.output
    assert "2.50" in result.output
    assert PAPER.title in result.output
    assert OTHER.id not in result.output


def test_pending_when_nothing_waits(tmp_path: Path) -> None:
    """An empty store says so."""
    assert "nothing awaits" in Project(tmp_path).run("pending").output


def test_pending_does_not_create_the_state_database(tmp_path: Path) -> None:
    """Listing is read-only: `pending` on a fresh project leaves no state.db behind."""
    assert "nothing awaits" in Project(tmp_path).run("pending").output
    assert not (tmp_path / "state.db").exists()


def test_pending_cannot_drive_the_terminal(tmp_path: Path) -> None:
    """A title with escape sequences is printed without its control characters."""
    project = Project(tmp_path)
    hostile = Paper(id="2405.00001", title="Evil \x1b]0;pwned\x07\x1b[2J title")
    with project.store() as store:
        store.add_candidates([Candidate(hostile, "lora", "LLM Training > Techniques", 1.0,
                                        dt.date(2024, 6, 4))])
    result = project.run("pending")
    assert "2405.00001" in result.output
    assert "\x1b" not in result.output
    assert "\x07" not in result.output


def test_approve_prints_line_and_files_it(project: Project) -> None:
    """`approve` (any id form) prints the catalog line and writes it into the section."""
    result = project.run("approve", "https://arxiv.org/abs/2402.12354v2",
                         "--section", "low-rank decomposition", "--summary", "Two rates")
    assert result.exit_code == 0, result.output
    line = result.output.splitlines()[1]
    assert line.startswith("- [")
    assert "Two rates." in line
    assert project.catalog.read_text().split("Low-rank  Decomposition", 1)[1].count(line) == 1
    with project.store() as store:
        decision = decided(store)[PAPER.id]
    assert decision.user == "cli:alice"
    assert decision.section == "Model Compression > Low-rank Decomposition"


def test_reject_and_late_approve(project: Project) -> None:
    """`reject` records it; a later `approve` says what stands and writes nothing."""
    before = project.catalog.read_bytes()
    assert "Rejected 2402.12354" in project.run("reject", "arXiv:2402.12354").output
    late = project.run("approve", "2402.12354")
    assert late.exit_code == 0
    assert "Already rejected" in late.output
    assert project.catalog.read_bytes() == before


@pytest.mark.parametrize(("args", "message"), [
    (("approve", "2401.99999"), "not a candidate"),
    (("approve", "2402.12354", "--section", "Nowhere"), "no section 'Nowhere'"),
    (("reject", "not-an-id"), "not-an-id"),
])
def test_errors_are_one_line_exit_1(project: Project, args: tuple[str, ...], message: str) -> None:
    """Unknown papers, sections and ids: one clear line on stderr, exit 1, nothing changed."""
    before = project.catalog.read_bytes()
    result = project.run(*args)
    assert result.exit_code == 1
    assert message in result.output
    assert project.catalog.read_bytes() == before


@pytest.mark.parametrize("template", [
    "- [{{ titel }}]({{ url }})\n",            # an undefined value: a jinja2 TemplateError
    "- [{{ title }}]({{ url }}) {{ 1 // 0 }}\n",   # any other error a template can raise
])
def test_approve_with_a_broken_entry_template_records_nothing(
        project: Project, template: str) -> None:
    """A catalog_entry template that cannot render: one error with file:line, no decision."""
    (project.root / "tpl").mkdir()
    (project.root / "tpl" / "catalog_entry.md.j2").write_text(template)
    config = project.root / "topics.yaml"
    config.write_text(config.read_text() + "templates_dir: tpl\n")
    before = project.catalog.read_bytes()
    result = project.run("approve", "2402.12354")
    assert result.exit_code == 1
    assert f"{project.root / 'tpl' / 'catalog_entry.md.j2'}:1:" in result.output
    assert project.catalog.read_bytes() == before
    with project.store() as store:
        assert decided(store) == {}


def test_approve_updates_the_slack_message(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """With SLACK_BOT_TOKEN set and the paper posted, the message shows the decision."""
    project = Project(tmp_path, fake_slack.api_url)
    message = fake_slack.add_message(CHANNEL, text="digest", blocks=digest_blocks(), user="U0BOT")
    project.seed(CHANNEL, message["ts"])
    project.env["SLACK_BOT_TOKEN"] = fake_slack.token
    result = project.run("approve", PAPER.id)
    assert result.exit_code == 0, result.output
    assert "updated the Slack message" in result.output
    ids = [b.get("block_id") for b in fake_slack.message(CHANNEL, message["ts"])["blocks"]]
    assert f"decided:{PAPER.id}" in ids
    assert f"paper:{PAPER.id}" not in ids
    assert f"paper:{OTHER.id}" in ids
