"""Tests for the CLI shell and `arxivwatch check`: help, version, --config and its env var."""

from __future__ import annotations

import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from arxivwatch import __version__
from arxivwatch.cli import _register, cli
from tests.cli_env import NO_SECRETS

REPO = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "cli_catalog.md"
CONFIG = """\
catalog:
  path: catalog/README.md
state:
  url: sqlite:///state.db
topics:
  - name: lora
    section: Training > Techniques
    query: 'ti:LoRA OR abs:"low-rank adaptation"'
  - name: lowrank
    section: Compression > Low-rank Decomposition
    query: 'ti:SVD AND abs:compression'
"""


_register()  # attach the command modules, as `main()` does


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env={**NO_SECRETS, **(env or {})})


def project(root: Path, config: str = CONFIG) -> Path:
    """A project folder: config/topics.yaml and catalog/README.md; returns the config path."""
    (root / "config").mkdir(parents=True)
    (root / "catalog").mkdir()
    shutil.copyfile(FIXTURE, root / "catalog" / "README.md")
    path = root / "config" / "topics.yaml"
    path.write_text(config, encoding="utf-8")
    return path


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
    return found


def test_help_lists_commands() -> None:
    """`arxivwatch --help` exits 0 and names the commands and the config option."""
    result = run("--help")
    assert result.exit_code == 0
    for word in ("check", "catalog", "--config", "ARXIVWATCH_CONFIG"):
        assert word in result.stdout


def test_version() -> None:
    """`--version` prints the package version."""
    result = run("--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_unknown_command_is_a_usage_error() -> None:
    """An unknown command exits 2 with click's message."""
    result = run("pol")
    assert result.exit_code == 2
    assert "No such command 'pol'" in result.stderr


@pytest.mark.parametrize("command", all_commands(cli), ids=" ".join)
def test_every_command_help_exits_zero(command: tuple[str, ...]) -> None:
    """Every registered command and subcommand answers --help."""
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage: " in result.stdout


LEAVES = [c for c in all_commands(cli) if not isinstance(cli.commands[c[0]], click.Group)
          or len(c) > 1]


@pytest.mark.parametrize("command", LEAVES, ids=" ".join)
def test_help_shows_an_example(command: tuple[str, ...]) -> None:
    """Every command's help includes an example invocation."""
    result = run(*command, "--help")
    assert "Example" in result.stdout
    assert "arxivwatch " in result.stdout.split("Example", 1)[1]


def test_config_from_env_var_and_option_wins(tmp_path: Path) -> None:
    """ARXIVWATCH_CONFIG picks the config; --config overrides it."""
    first = project(tmp_path / "a")
    second = project(tmp_path / "b")
    (tmp_path / "b" / "catalog" / "README.md").write_text("## Only\n- [T](https://arxiv.org/abs/"
                                                          "2401.00001)\n", encoding="utf-8")
    by_env = run("catalog", "list", env={"ARXIVWATCH_CONFIG": str(first)})
    assert "Training > Techniques" in by_env.stdout
    by_option = run("--config", str(second), "catalog", "list",
                    env={"ARXIVWATCH_CONFIG": str(first)})
    assert by_option.stdout == "   1  Only\n"


def test_missing_config_is_one_clear_error(tmp_path: Path) -> None:
    """A config that does not exist: exit 1 and its absolute path."""
    result = run("--config", str(tmp_path / "none.yaml"), "check")
    assert result.exit_code == 1
    assert f"config file not found: {tmp_path / 'none.yaml'}" in result.stdout


def test_check_passes_and_summarises(tmp_path: Path) -> None:
    """On a sound project `check` exits 0 with topics, catalog counts, state and Slack state."""
    config = project(tmp_path)
    result = run("--config", str(config), "check")
    assert result.exit_code == 0, result.output
    assert f"ok: {config}" in result.stdout
    assert "2 (lora, lowrank) feeding 2 sections" in result.stdout
    assert "10 sections, 7 entries; 2 warnings" in result.stdout
    assert f"state:     {tmp_path}/state.db (none yet: the first poll creates it)" \
        in result.stdout
    assert not (tmp_path / "state.db").exists()
    assert "not configured (SLACK_BOT_TOKEN unset)" in result.stdout
    assert "summaries: built-in" in result.stdout


def test_check_reports_the_summaries_model(tmp_path: Path) -> None:
    """With summaries.llm, check names the model and where it is, and whether a key is set."""
    config = project(tmp_path, CONFIG + "summaries:\n  llm:\n    base_url: http://127.0.0.1:"
                                        "11434/v1\n    model: llama3.1:8b\n")
    result = run("--config", str(config), "check", env={"ARXIVWATCH_LLM_API_KEY": "k"})
    assert result.exit_code == 0, result.output
    assert ("summaries: llama3.1:8b at http://127.0.0.1:11434/v1 (ARXIVWATCH_LLM_API_KEY set; "
            "timeout 20 s)") in result.stdout


def test_check_reports_slack_when_configured(tmp_path: Path) -> None:
    """With a bot token and a channel, check says where digests go and how clicks arrive."""
    config = project(tmp_path, CONFIG + "slack:\n  channel: '#papers'\n")
    result = run("--config", str(config), "check",
                 env={"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"})
    assert result.exit_code == 0, result.output
    assert "posting to #papers; clicks via Socket Mode" in result.stdout


def test_check_lists_every_problem(tmp_path: Path) -> None:
    """Config, catalog and template problems are all listed at once; exit 1."""
    broken = CONFIG.replace("'ti:SVD AND abs:compression'", "'ti:SVD AND (abs:compression'")
    broken = broken.replace("Training > Techniques", "Training > Tecniques")
    config = project(tmp_path, broken + "templates_dir: templates\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "slack_header.txt.j2").write_text("{{ section.nope }}\n",
                                                                encoding="utf-8")
    catalog = tmp_path / "catalog" / "README.md"
    catalog.write_text(catalog.read_text(encoding="utf-8") + "- not an entry\n", encoding="utf-8")
    result = run("--config", str(config), "check")
    assert result.exit_code == 1
    out = result.stdout
    assert f"{config}:7: topics[0].section: " in out
    assert "closest headings: 'Training > Techniques'" in out
    assert f"{config}:11: topics[1].query: malformed query" in out
    assert "slack_header.txt.j2:1: fails on a sample paper" in out
    bad_line = len(catalog.read_text(encoding="utf-8").splitlines())
    assert f"{catalog}:{bad_line}: entry in 'Systems > Training System'" in out
    assert "check failed: 4 problems" in result.stderr


@pytest.mark.parametrize(("name", "text", "line"), [
    ("slack_header.txt.j2", "Header\n{{ day }}\n{{ nope }}\n", 3),
    ("catalog_entry.md.j2", "- [{{ title }}]({{ url }})\n{{ titel }}\n", 2),
])
def test_check_names_file_and_line_of_an_undefined_value(
        tmp_path: Path, name: str, text: str, line: int) -> None:
    """A template that renders an undefined value is reported as file:line."""
    config = project(tmp_path, CONFIG + "templates_dir: templates\n")
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / name).write_text(text, encoding="utf-8")
    result = run("--config", str(config), "check")
    assert result.exit_code == 1
    assert f"{tmp_path / 'templates' / name}:{line}: fails on a sample paper" in result.stdout


def test_shipped_config_passes_check() -> None:
    """The repo's config/topics.yaml and catalog pass `arxivwatch check`."""
    result = run("--config", str(REPO / "config" / "topics.yaml"), "check")
    assert result.exit_code == 0, result.output
    assert "8 sections" in result.stdout


@pytest.mark.parametrize("command", sorted(cli.commands), ids=str)
def test_every_command_is_in_the_readme(command: str) -> None:
    """A command missing from the README is a documentation bug."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    assert f"`{command}" in readme or f"arxivwatch {command}" in readme
