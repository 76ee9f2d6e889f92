"""Tests for `arxivwatch backtest` and `arxivwatch tune` on a small project the tests write."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from arxivwatch.cli import _register, cli
from arxivwatch.models import Paper
from arxivwatch.replay.snapshot import write_snapshot_line
from arxivwatch.store import Store
from tests.cli_env import NO_SECRETS

CONFIG = """\
catalog:
  path: catalog/README.md
state:
  url: sqlite:///state.db
digest:
  max_per_topic: 1
topics:
  - name: lora
    section: Training > Techniques
    query: 'LoRA OR "low-rank adaptation"'
  - name: lowrank
    section: Compression > Low-rank Decomposition
    query: 'SVD AND compression'
    min_score: 0.2
"""
CATALOG = """\
# Papers

## Training
### Techniques
- [Arxiv 2021] [LoRA: Low-Rank Adaptation of Large Language Models](https://arxiv.org/abs/2106.09685). Low rank adapter matrices.
- [Arxiv 2023] [VeRA: Vector-based Random Matrix Adaptation](https://arxiv.org/abs/2310.11454). Shared random matrices.

## Compression
### Low-rank Decomposition
- [Arxiv 2024] [SVD-LLM: Truncation-aware SVD for LLM Compression](https://arxiv.org/abs/2403.07378). Whitening before SVD compression.
"""
D1, D2 = dt.date(2024, 5, 6), dt.date(2024, 5, 7)
PAPERS = [
    Paper("2405.00001", "LoRA-XS: low-rank adaptation with tiny matrices",
          "LoRA adapters with fewer parameters.", categories=("cs.LG",), day=D1),
    Paper("2405.00002", "Clinical notes with LLMs", "We fine-tune with LoRA.",
          categories=("cs.CL",), day=D1),
    Paper("2405.00003", "Whitened SVD for LLM compression", "SVD compression of weights.",
          categories=("cs.LG",), day=D2),
    Paper("2106.09685", "LoRA: Low-Rank Adaptation of Large Language Models", "LoRA.",
          categories=("cs.CL",), day=D2),
    Paper("2405.00004", "Graph networks", "Message passing.", categories=("cs.LG",), day=D2),
]

_register()  # attach the command modules, as `main()` does


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """config/topics.yaml, catalog/README.md and a snapshot file; returns the config path."""
    (tmp_path / "config").mkdir()
    (tmp_path / "catalog").mkdir()
    (tmp_path / "catalog" / "README.md").write_text(CATALOG, encoding="utf-8")
    (tmp_path / "snap.jsonl").write_text(
        "".join(write_snapshot_line(p) + "\n" for p in PAPERS), encoding="utf-8")
    config = tmp_path / "config" / "topics.yaml"
    config.write_text(CONFIG, encoding="utf-8")
    return config


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], env=NO_SECRETS)


def snap(config: Path) -> str:
    return str(config.parent.parent / "snap.jsonl")


def test_backtest_prints_the_topic_table(project: Path) -> None:
    """Per topic: matches, posted, posted per day and the max, for the replayed days."""
    result = run(project, "backtest", "--papers", snap(project))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "5 papers, 2 announcement days"
    assert lines[3].split() == ["lora", "2", "1", "0.50", "1", "Training", ">", "Techniques"]
    assert lines[4].split()[:5] == ["lowrank", "1", "1", "0.50", "1"]


def test_backtest_out_and_date_range(project: Path, tmp_path: Path) -> None:
    """--out writes the JSON lines contract; --from/--to bound the days."""
    out = tmp_path / "out.jsonl"
    result = run(project, "backtest", "--papers", snap(project), "--out", str(out),
                 "--from", "2024-05-07", "--to", "2024-05-07")
    assert result.exit_code == 0, result.output
    (line,) = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert list(line) == ["id", "day", "topic", "section", "score", "rank", "posted",
                          "matched", "title"]
    assert (line["id"], line["day"], line["topic"], line["posted"]) == (
        "2405.00003", "2024-05-07", "lowrank", True)
    assert line["matched"] == ["ti:SVD", "abs:SVD", "ti:compression", "abs:compression"]


def test_backtest_with_labels_and_a_label_map(project: Path, tmp_path: Path) -> None:
    """--labels adds recall, precision and AUC; --label-map says where a label counts."""
    labels = tmp_path / "labels.tsv"
    labels.write_text("arxiv_id\ttopic\n2405.00001\tlora\n2405.00003\tsvd\n", encoding="utf-8")
    result = run(project, "backtest", "--papers", snap(project), "--labels", str(labels),
                 "--label-map", "svd=Compression > Low-rank Decomposition")
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line.split() for line in result.output.splitlines() if line}
    assert rows["svd"][1:6] == ["1", "1", "100.0%", "1", "100.0%"]
    assert rows["lora"][1:3] == ["1", "0"]   # built-in map: LLM Training > Techniques


VERDICTS = ("arxiv_id\tsection\trelevant\n"
            "2405.00001\tTraining > Techniques\t1\n2405.00002\tTraining > Techniques\t0\n"
            "2106.09685\tTraining > Techniques\t1\n2405.00004\tTraining > Techniques\t1\n"
            "2405.00003\tlowrank\t1\n2405.00002\tlowrank\t0\n")


def test_backtest_with_verdicts_prints_the_verdicts_table(project: Path, tmp_path: Path) -> None:
    """--labels with a `relevant` column: judged precision, recall, P@R and AUC per section."""
    verdicts = tmp_path / "verdicts.tsv"
    verdicts.write_text(VERDICTS, encoding="utf-8")
    result = run(project, "backtest", "--papers", snap(project), "--labels", str(verdicts))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    head = lines.index(next(x for x in lines if x.startswith("VERDICTS")))
    # LoRA-XS posted and judged 1, the clinical paper judged 0 scored below it, the catalog
    # paper left out of the base, the graph paper never matched: recall 1 of 2
    assert lines[head + 1].split() == ["Training", ">", "Techniques", "4", "2", "1", "1.000",
                                       "0.500", "-", "-", "1.000", "0.50", "Training", ">",
                                       "Techniques"]
    assert lines[head + 2].split()[:9] == ["lowrank", "2", "1", "1", "1.000", "1.000", "1.00",
                                           "1.00", "-"]
    assert not any(x.startswith("LABEL") for x in lines)


@pytest.mark.parametrize(("rows", "decided"), [
    ("2405.00001\tTraining > Techniques\t1\n", "1 approved, 0 rejected"),
    ("2405.00001\tTraining > Techniques\t1\n2405.00003\tlowrank\t0\n", "1 approved, 1 rejected"),
    ("2405.00001\tTraining > Techniques\t0\n2405.00003\tlowrank\t1\n", "1 approved, 1 rejected"),
    ("2405.00003\tTraining > Techniques\t1\n", "0 approved, 0 rejected"),   # other section
])
def test_backtest_curator_with_verdicts_decides_only_what_is_judged(
    project: Path, tmp_path: Path, rows: str, decided: str,
) -> None:
    """--curator with verdicts: 1 approves, 0 rejects, a paper not judged there stays pending."""
    verdicts = tmp_path / "verdicts.tsv"
    verdicts.write_text("arxiv_id\tsection\trelevant\n" + rows, encoding="utf-8")
    result = run(project, "backtest", "--papers", snap(project), "--curator", str(verdicts))
    assert result.exit_code == 0, result.output
    assert f"simulated curator: {decided};" in result.output


def test_backtest_bad_verdict_is_one_clear_error(project: Path, tmp_path: Path) -> None:
    """A `relevant` value other than 1 or 0 fails with file:line, exit 1, no traceback."""
    verdicts = tmp_path / "verdicts.tsv"
    verdicts.write_text("arxiv_id\tsection\trelevant\n2405.00001\tlowrank\tmaybe\n",
                        encoding="utf-8")
    result = run(project, "backtest", "--papers", snap(project), "--labels", str(verdicts))
    assert result.exit_code == 1
    assert f"{verdicts}:2: relevant must be 1 or 0, not 'maybe'" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "2024-13-01"], "is not a date"),
    (["--label-map", "nothing"], "LABEL=Section > Sub"),
])
def test_backtest_usage_errors(project: Path, args: list[str], message: str) -> None:
    """Bad dates and label maps are usage errors (exit 2) that say the expected form."""
    result = run(project, "backtest", "--papers", snap(project), *args)
    assert result.exit_code == 2
    assert message in result.output


def test_backtest_unknown_label_is_one_clear_error(project: Path, tmp_path: Path) -> None:
    """A label that maps nowhere fails with the fix, exit 1."""
    labels = tmp_path / "labels.tsv"
    labels.write_text("arxiv_id\ttopic\n2405.00001\tmystery\n", encoding="utf-8")
    result = run(project, "backtest", "--papers", snap(project), "--labels", str(labels))
    assert result.exit_code == 1
    assert "--label-map 'mystery=Section > Sub'" in result.output


def test_tune_shows_days_highlighted_titles_and_catalog_coverage(project: Path) -> None:
    """tune: matches per day, the sample with matched title terms in **bold**, coverage."""
    result = run(project, "tune", "lora", "--papers", snap(project))
    assert result.exit_code == 0, result.output
    out = result.output
    assert "topic lora -> Training > Techniques" in out
    assert "5 papers over 2 days: 2 matches (1.00/day, max 2)" in out
    assert "  2024-05-06    2  ##" in out
    assert "**LoRA**-XS: **low-rank adaptation** with tiny matrices" in out
    assert "  +  LoRA: Low-Rank Adaptation of Large Language Models" in out
    assert "  -  VeRA: Vector-based Random Matrix Adaptation" in out


def test_tune_query_shows_papers_gained_and_lost(project: Path) -> None:
    """--query: what the new query would add and drop against the saved one."""
    result = run(project, "tune", "lora", "--papers", snap(project), "--query", "ti:LoRA OR VeRA")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "--query against the saved query: 0 gained, 1 lost" in out
    assert "  - 0." in out.split("gained, 1 lost")[1]
    assert "2405.00002   Clinical notes with LLMs" in out
    assert "  ++  LoRA: Low-Rank" in out
    assert "  -+  VeRA: Vector-based" in out


def test_tune_defaults_to_the_stored_papers(project: Path) -> None:
    """Without --papers, tune replays what the store has seen."""
    with Store.open(f"sqlite:///{project.parent.parent / 'state.db'}") as store:
        store.upsert_papers(PAPERS[:1])
    result = run(project, "tune", "lora")
    assert result.exit_code == 0, result.output
    assert "1 papers over 1 days: 1 matches" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["nope"], "no topic named 'nope'; known topics: lora, lowrank"),
    (["lora", "--query", "LoRA AND"], "at column"),
])
def test_tune_errors_are_one_clear_line(project: Path, args: list[str], message: str) -> None:
    """An unknown topic or a query that does not parse: exit 1 with the reason."""
    result = run(project, "tune", *args, "--papers", snap(project))
    assert result.exit_code == 1
    assert message in result.output


def test_tune_counts_as_posted_only_what_the_topic_wins(project: Path) -> None:
    """A match another topic scores higher goes there, as in the poll: tune says so."""
    result = run(project, "tune", "lowrank", "--papers", snap(project),
                 "--query", "SVD OR LoRA")
    assert result.exit_code == 0, result.output
    saved, tried = result.output.split("\nquery: ")[1:3]
    assert "would post 1 (0.50/day" in saved
    assert "go to other topics" not in saved
    # LoRA-XS and the clinical paper now match, but the lora topic scores them higher
    assert "3 matches" in tried
    assert "2 of the matches go to other topics, as the poll routes them (the best-scoring topic whose min_score they clear): lora 2" in tried
    assert "would post 1 (0.50/day" in tried


def test_backtest_out_in_a_missing_folder_is_one_clear_error(project: Path, tmp_path: Path) -> None:
    """--out where the folder does not exist: exit 1, one line naming the file, no traceback."""
    out = tmp_path / "nowhere" / "out.jsonl"
    result = run(project, "backtest", "--papers", snap(project), "--out", str(out))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert f"error: cannot write {out}" in result.output


@pytest.mark.parametrize("option", ["--labels", "--curator"])
def test_backtest_label_file_not_utf8_is_one_clear_error(
    project: Path, tmp_path: Path, option: str,
) -> None:
    """A labels or curator file that is not UTF-8: exit 1 naming the file, no traceback."""
    labels = tmp_path / "labels.tsv"
    labels.write_bytes(b"arxiv_id\ttopic\n2405.00001\tlo\xffra\n")
    result = run(project, "backtest", "--papers", snap(project), option, str(labels))
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)
    assert f"error: cannot read {labels}" in result.output
    assert "UTF-8" in result.output


@pytest.mark.parametrize("command", [["backtest"], ["tune", "lora"]])
def test_bad_snapshot_lines_are_reported_not_silently_dropped(
    project: Path, tmp_path: Path, command: list[str],
) -> None:
    """Lines that are not papers are skipped, but the count and the first reason are shown."""
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("not json\n" + "".join(write_snapshot_line(p) + "\n" for p in PAPERS)
                     + '{"id": "2405.00009"}\n', encoding="utf-8")
    result = run(project, *command, "--papers", str(mixed))
    assert result.exit_code == 0, result.output
    assert "5 papers" in result.output
    assert f"warning: skipped 2 bad lines of {mixed}" in result.stderr
    assert "line 1:" in result.stderr


def test_backtest_jobs_give_the_serial_output(project: Path, tmp_path: Path) -> None:
    """--jobs 2 (worker processes) prints and writes exactly what --jobs 1 does."""
    outputs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"out-{jobs}.jsonl"
        result = run(project, "backtest", "--papers", snap(project), "--out", str(out),
                     "--jobs", jobs)
        assert result.exit_code == 0, result.output
        outputs.append((result.output, out.read_text(encoding="utf-8")))
    assert outputs[0] == outputs[1]
    assert outputs[0][1].count("\n") == 3
