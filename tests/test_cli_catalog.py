"""Tests for `arxivwatch catalog list | check | add`, on temp copies of a fixture catalog."""

from __future__ import annotations

import difflib
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from arxivwatch.cli import _register, cli
from arxivwatch.cli.catalog_cmd import paper_for
from arxivwatch.errors import ArxivWatchError
from arxivwatch.models import Paper
from tests.cli_env import NO_SECRETS
from tests.fakes.arxiv_server import FakeArxiv

FIXTURE = Path(__file__).parent / "fixtures" / "cli_catalog.md"
LOWRANK = "Compression > Low-rank Decomposition"


_register()  # attach the command modules, as `main()` does


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    path = tmp_path / "catalog" / "README.md"
    path.parent.mkdir()
    shutil.copyfile(FIXTURE, path)
    return path


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env={**NO_SECRETS, **(env or {})})


def on(path: Path, *args: str) -> Result:
    """Run a `catalog` subcommand on `path` through --catalog."""
    return run("catalog", "--catalog", str(path), *args)


def added_lines(before: str, after: str) -> list[str]:
    diff = difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True))
    changes = [d for d in diff if d[:2] in ("+ ", "- ")]
    assert all(d.startswith("+ ") for d in changes), changes
    return [d[2:] for d in changes]


def add(path: Path, *extra: str, section: str = LOWRANK, paper: str = "2405.12345") -> Result:
    return on(path, "add", "--section", section, "--id", paper, "--title",
              "ReLoRA-SVD: Rank Allocation for Compressing LLMs", *extra)


def test_list_shows_sections_holding_entries_with_counts(catalog: Path) -> None:
    """Only sections with entries, by path, with their counts; --all adds the empty ones."""
    result = on(catalog, "list")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "   2  Training > Techniques", "   1  Training > Datasets",
        f"   2  {LOWRANK}", "   1  Compression > Pruning", "   1  Systems > Training System"]
    everything = on(catalog, "list", "--all").stdout.splitlines()
    assert len(everything) == 10
    assert "   0  Evaluation" in everything


def test_add_inserts_exactly_one_line_at_top_of_section(catalog: Path) -> None:
    """The new entry lands first in its section; no other byte changes."""
    before = catalog.read_text(encoding="utf-8")
    result = add(catalog, "--summary", "Allocates ranks per layer", "--code",
                 "https://github.com/x/relora-svd.")
    assert result.exit_code == 0, result.output
    line = ("- [Arxiv 2024] [ReLoRA-SVD: Rank Allocation for Compressing LLMs]"
            "(https://arxiv.org/abs/2405.12345). Allocates ranks per layer. "
            "[Code](https://github.com/x/relora-svd.)")
    assert result.stdout.splitlines()[0] == line
    assert f"added to '{LOWRANK}'" in result.stdout
    after = catalog.read_text(encoding="utf-8")
    assert added_lines(before, after) == [line + "\n"]
    lines = after.splitlines()
    assert lines[lines.index("### Low-rank  Decomposition") + 1] == line


def test_add_again_changes_nothing(catalog: Path) -> None:
    """Adding the same paper twice leaves the file byte-identical and says so."""
    add(catalog)
    before = catalog.read_bytes()
    result = add(catalog, "--where", "bottom")
    assert result.exit_code == 0, result.output
    assert "already there" in result.stdout
    assert catalog.read_bytes() == before


def test_add_known_paper_by_other_url_form_is_already_there(catalog: Path) -> None:
    """A paper already listed under another id form is recognised."""
    before = catalog.read_bytes()
    result = on(catalog, "add", "--section", LOWRANK, "--id",
                "https://arxiv.org/pdf/2403.07378v2.pdf", "--title", "SVD-LLM")
    assert "already there" in result.stdout
    assert catalog.read_bytes() == before


def test_add_bottom_and_second_section(catalog: Path) -> None:
    """--where bottom appends to the section; the same paper may go to another section too."""
    before = catalog.read_text(encoding="utf-8")
    assert add(catalog, "--where", "bottom").exit_code == 0
    middle = catalog.read_text(encoding="utf-8")
    (line,) = added_lines(before, middle)
    lines = middle.splitlines()
    assert lines[lines.index("### Pruning") - 2] == line.rstrip("\n")
    result = add(catalog, section="compression > pruning")
    assert result.exit_code == 0
    assert "added to 'Compression > Pruning'" in result.stdout
    assert added_lines(middle, catalog.read_text(encoding="utf-8")) == [line]


def test_dry_run_writes_nothing(catalog: Path) -> None:
    """--dry-run prints the line and what would happen, and leaves the file alone."""
    before = catalog.read_bytes()
    result = add(catalog, "--dry-run")
    assert result.exit_code == 0
    assert "would add to" in result.stdout
    assert catalog.read_bytes() == before


@pytest.mark.parametrize(("extra", "tag"), [
    ((), "[Arxiv 2024]"),
    (("--year", "2023"), "[Arxiv 2023]"),
    (("--venue", "NeurIPS"), "[NeurIPS 2024]"),
    (("--venue", "NeurIPS", "--year", "2025"), "[NeurIPS 2025]"),
    (("--venue", "ICML 2024"), "[ICML 2024]"),
])
def test_venue_tag_options(catalog: Path, extra: tuple[str, ...], tag: str) -> None:
    """--venue and --year shape the tag; the id's year is the default."""
    result = add(catalog, "--dry-run", *extra)
    assert result.stdout.startswith(f"- {tag} [ReLoRA-SVD")


def test_unknown_section_lists_closest_headings(catalog: Path) -> None:
    """A section that does not exist fails with the closest headings and changes nothing."""
    before = catalog.read_bytes()
    result = add(catalog, section="Compression > Low-rank Decompositon")
    assert result.exit_code == 1
    assert "closest headings: 'Compression > Low-rank Decomposition'" in result.stderr
    assert str(catalog) in result.stderr
    assert result.stdout == ""
    assert catalog.read_bytes() == before


@pytest.mark.parametrize(("args", "message"), [
    (("--id", "not-an-id", "--title", "T"), "not-an-id"),
])
def test_add_refuses_clearly(catalog: Path, args: tuple[str, ...], message: str) -> None:
    """A bad id: one error line, exit 1."""
    result = on(catalog, "add", "--section", LOWRANK, *args)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert message in result.stderr


def test_lookup_hook_fills_in_the_paper() -> None:
    """With a look-up and no --title, the paper comes from the look-up; --title skips it."""
    found = Paper(id="2405.12345", title="Looked Up", abstract="A.")
    assert paper_for("2405.12345", None, lambda _id: found) is found
    assert paper_for("2405.12345", "Given", lambda _id: found).title == "Given"
    with pytest.raises(ArxivWatchError, match="give --title"):
        paper_for("2405.12345", None, None)


def test_check_passes_with_warnings_for_non_arxiv_links(catalog: Path) -> None:
    """Links elsewhere are warnings (exit 0); the counts go to stderr."""
    result = on(catalog, "check")
    assert result.exit_code == 0, result.output
    warnings = result.stdout.splitlines()
    assert len(warnings) == 2
    assert all(": warning: " in w for w in warnings)
    assert "stanford alpaca" in warnings[0]
    assert "SmartMoE" in warnings[1]
    assert "0 errors, 2 warnings" in result.stderr


@pytest.mark.parametrize(("bad_line", "kind"), [
    ("- [Arxiv 2024] [SVD-LLM again](https://arxiv.org/abs/2403.07378v3). Same paper.",
     "already listed"),
    ("- just a note without a link", "does not start with"),
])
def test_check_fails_on_duplicates_and_malformed(catalog: Path, bad_line: str, kind: str) -> None:
    """A duplicate within a section or a malformed entry is an error: exit 1, line named."""
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(text.replace("### Pruning\n", f"{bad_line}\n\n### Pruning\n"),
                       encoding="utf-8")
    result = on(catalog, "check")
    assert result.exit_code == 1
    (error,) = [ln for ln in result.stdout.splitlines() if ": error: " in ln]
    assert kind in error
    line_no = catalog.read_text(encoding="utf-8").splitlines().index(bad_line) + 1
    assert error.startswith(f"{catalog}:{line_no}: ")


def write_config(root: Path, extra: str = "") -> Path:
    path = root / "config" / "topics.yaml"
    path.parent.mkdir()
    path.write_text("catalog:\n  path: catalog/README.md\n" + extra, encoding="utf-8")
    return path


def test_catalog_commands_use_the_config_catalog_only(catalog: Path, tmp_path: Path) -> None:
    """Without --catalog the config's catalog is used, and broken topics do not get in the way."""
    config = write_config(tmp_path, "  insert: bottom\ntopics:\n  - name: x\n    query: '(('\n")
    result = run("--config", str(config), "catalog", "add", "--section", "Techniques",
                 "--id", "2405.12345", "--title", "T")
    assert result.exit_code == 0, result.output
    lines = catalog.read_text(encoding="utf-8").splitlines()
    assert lines[lines.index("### Datasets") - 2].startswith("- [Arxiv 2024] [T]")


def test_catalog_block_errors_are_reported(tmp_path: Path) -> None:
    """A broken catalog block stops the catalog commands with the key path and line."""
    config = write_config(tmp_path, "  insert: middle\n")
    result = run("--config", str(config), "catalog", "list")
    assert result.exit_code == 1
    assert f"{config}:3: catalog.insert: 'middle' is not one of: top, bottom" in result.stderr


def test_missing_catalog_file(tmp_path: Path) -> None:
    """A catalog that does not exist is one clear error naming its absolute path."""
    result = on(tmp_path / "nope.md", "list")
    assert result.exit_code == 1
    assert str(tmp_path / "nope.md") in result.stderr


LOOKUP_CONFIG = """\
catalog:
  path: catalog/README.md
arxiv:
  api_url: {api_url}
  request_interval: 0
  retry_backoff: 0
topics:
  - name: lowrank
    section: Compression > Low-rank Decomposition
    query: 'ti:SVD'
"""


def test_add_with_id_alone_looks_the_paper_up(catalog: Path) -> None:
    """`--id` alone fetches title, venue and code link from the arXiv API (a local fake)."""
    known = {"id": "2405.12345", "title": "ReLoRA-SVD: Rank Allocation for Compressing LLMs",
             "abstract": "We propose a rank allocation for SVD compression of LLMs.",
             "comments": "Accepted at MLSys 2025. Code: https://github.com/example/relora-svd."}
    with FakeArxiv(papers=[known]) as fake:
        config = catalog.parent.parent / "topics.yaml"
        config.write_text(LOOKUP_CONFIG.format(api_url=fake.api_url))
        before = catalog.read_text()
        result = run("--config", str(config), "catalog", "add", "--section", LOWRANK,
                     "--id", "arXiv:2405.12345v2")
        missing = run("--config", str(config), "catalog", "add", "--section", LOWRANK,
                      "--id", "2405.99999")
    assert result.exit_code == 0, result.output
    [line] = added_lines(before, catalog.read_text())
    assert line.startswith("- [MLSys 2025] [ReLoRA-SVD: Rank Allocation for Compressing LLMs]"
                           "(https://arxiv.org/abs/2405.12345)")
    assert "[Code](https://github.com/example/relora-svd)" in line
    assert missing.exit_code == 1
    assert "2405.99999" in missing.stderr
