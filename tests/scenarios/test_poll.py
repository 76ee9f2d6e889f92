"""`arxivwatch poll` end to end against a fake arXiv on 127.0.0.1 (issue 4's acceptance)."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import arxivwatch
from arxivwatch import wiring
from arxivwatch.config import load
from arxivwatch.models import Decision, Paper
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.llm_server import FakeLLM
from tests.fakes.slack_server import FakeSlack
from tests.scenarios.project import DAY, DAY_PAPERS, Project, paper


@pytest.fixture
def fake() -> Iterator[FakeArxiv]:
    with FakeArxiv(papers=DAY_PAPERS, feed=DAY_PAPERS, announced=DAY) as server:
        yield server


@pytest.fixture
def project(tmp_path: Path, fake: FakeArxiv) -> Project:
    return Project(tmp_path, arxiv_url=fake.url)


def _candidate_ids(project: Project) -> set[str]:
    with project.store() as store:
        return {c.id for c in store.candidates()}


def test_dry_run_prints_digest_and_changes_nothing(project: Project) -> None:
    """--dry-run prints a readable digest grouped by section and creates no state file."""
    result = project.run("poll", "--dry-run")
    assert result.exit_code == 0, result.output
    out = result.output
    assert "LLM Training > Techniques" in out
    assert "DoRA-X" in out
    assert "https://arxiv.org/abs/2611.00001" in out
    assert "Expert Parallelism at Scale" in out
    assert "why:" in out
    assert "score:" in out
    assert "Protein" not in out
    assert not project.db.exists()


def test_poll_stores_candidates_and_rerun_adds_nothing(project: Project) -> None:
    """A poll stores the matching papers once; a second poll adds nothing."""
    first = project.run("poll")
    assert first.exit_code == 0, first.output
    ids = _candidate_ids(project)
    assert ids == {"2611.00001", "2611.00002", "2611.00004"}
    second = project.run("poll")
    assert second.exit_code == 0, second.output
    assert _candidate_ids(project) == ids
    with project.store() as store:
        assert store.last_announcement() == DAY
        assert [r.outcome for r in store.runs()][:2] in (["unchanged", "ok"],
                                                        ["already-done", "ok"])


def test_catalog_paper_never_offered(project: Project) -> None:
    """A paper already in the catalog (its replacement announced again) is never a candidate."""
    project.run("poll")
    assert "2402.12354" not in _candidate_ids(project)


def test_best_topic_wins_and_enrichment_adds_venue(project: Project) -> None:
    """Each paper lands in its best topic; the API look-up adds the venue and code link."""
    project.run("poll")
    with project.store() as store:
        dora_row = store.get_candidate("2611.00001")
        serving_row = store.get_candidate("2611.00004")
    assert dora_row is not None
    assert serving_row is not None
    dora, serving = dora_row.candidate, serving_row.candidate
    assert dora.topic == "lora"
    assert dora.paper.comments
    assert "ICML 2026" in dora.paper.comments
    assert serving.topic == "moe_inference"


def test_faults_are_retried_with_spacing(tmp_path: Path, fake: FakeArxiv) -> None:
    """503, 429 and an empty API page first: the poll completes, requests stay spaced."""
    project = Project(tmp_path, arxiv_url=fake.url, interval=0.2)
    fake.script(["503", "429:0"])
    fake.script(["empty"], path="/api")
    result = project.run("poll")
    assert result.exit_code == 0, result.output
    assert _candidate_ids(project) == {"2611.00001", "2611.00002", "2611.00004"}
    starts = fake.times("")
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert len(starts) >= 5
    assert min(gaps) >= 0.2 - 0.02   # measured at the server: connection set-up varies


def test_a_poll_costs_one_feed_request_and_one_api_request_per_look_up(
    tmp_path: Path, fake: FakeArxiv,
) -> None:
    """Politeness per poll: the feed once, the catalog abstracts and the enrichment once each."""
    project = Project(tmp_path, arxiv_url=fake.url, interval=0.2)
    assert project.run("poll").exit_code == 0
    assert [r.path for r in fake.requests] == ["/rss/cs.LG+cs.CL+cs.DC", "/api/query", "/api/query"]
    assert [r.query["max_results"] for r in fake.requests[1:]] == ["2", "3"]
    gaps = [b - a for a, b in itertools.pairwise(fake.times(""))]
    assert min(gaps) >= 0.2 - 0.02   # measured at the server: connection set-up varies


def test_arxiv_down_fails_clearly_and_store_unchanged(tmp_path: Path) -> None:
    """With arXiv unreachable: one clear line, exit 1, no candidates, a failed run recorded."""
    with FakeArxiv() as gone:
        url = gone.url
    project = Project(tmp_path, arxiv_url=url)
    result = project.run("poll")
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1
    assert url in lines[0]
    with project.store() as store:
        assert store.candidates() == []
        assert store.last_announcement() is None
        run = store.last_run()
        assert run is not None
        assert run.outcome == "failed"


def test_a_failing_feed_fails_before_the_catalog_abstracts_are_fetched(
    tmp_path: Path, fake: FakeArxiv,
) -> None:
    """The feed is fetched first: when it fails, no time goes on the optional API lookups."""
    project = Project(tmp_path, arxiv_url=fake.url)
    fake.script(["503"] * 4, path="/rss")   # max_attempts: 4
    result = project.run("poll")
    assert result.exit_code == 1
    assert len(fake.times("/rss")) == 4
    assert fake.times("/api") == []
    assert project.run("poll").exit_code == 0
    assert fake.times("/api")   # the catalog abstracts (and enrichment) once the feed answers


def test_weekend_feed_says_no_announcement(tmp_path: Path) -> None:
    """An empty feed is reported as 'no announcement', not as an error or silence."""
    with FakeArxiv(feed=[], announced=DAY) as fake:
        project = Project(tmp_path, arxiv_url=fake.url)
        result = project.run("poll")
    assert result.exit_code == 0, result.output
    assert "no announcement" in result.output


def test_missed_days_are_backfilled(tmp_path: Path) -> None:
    """After a gap, the missing announcement days are fetched through the API."""
    missed = paper("2611.00010", "QLoRA-2: Quantized Low-Rank Adaptation",
                   "A low-rank adaptation method with 2-bit quantization.",
                   day=dt.date(2026, 11, 19),
                   submitted=dt.datetime(2026, 11, 18, 15, tzinfo=dt.UTC))
    with FakeArxiv(papers=[*DAY_PAPERS, missed], feed=DAY_PAPERS, announced=DAY) as fake:
        project = Project(tmp_path, arxiv_url=fake.url)
        with project.store() as store:
            store.set_last_announcement(dt.date(2026, 11, 17))
        result = project.run("poll")
    assert result.exit_code == 0, result.output
    assert "backfilled" in result.output
    assert "2611.00010" in _candidate_ids(project)


def test_killed_between_storing_and_delivering_resumes_without_duplicates(
        tmp_path: Path, fake: FakeArxiv) -> None:
    """A poll that dies after storing delivers on the next run, each paper posted once."""
    with FakeSlack() as slack:
        project = Project(tmp_path, arxiv_url=fake.url, slack_url=slack.api_url)
        env = {"SLACK_BOT_TOKEN": "xoxb-test"}
        settings = load(project.config, env)
        with project.store() as store:
            poller = wiring.make_poller(settings, store)
            poller.deliver = _die
            with pytest.raises(KeyboardInterrupt):
                poller.poll()
            assert {c.status for c in store.candidates()} == {"pending"}
        assert slack.calls_to("chat.postMessage") == []
        assert project.run("poll", env=env).exit_code == 0
        assert project.run("poll", env=env).exit_code == 0
        posted = [i for m in slack.messages() for i in _paper_ids(m)]
    assert sorted(posted) == ["2611.00001", "2611.00002", "2611.00004"]
    with project.store() as store:
        assert {c.status for c in store.candidates()} == {"posted"}


def test_a_poll_with_nothing_new_says_it_delivered_leftovers(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a failed Slack post, the next poll (feed unchanged) says what it posted."""
    papers = [*DAY_PAPERS, paper("2611.00005", "LoRA Again: Low-Rank Adaptation Strikes Back",
                                 "Another low-rank adaptation method.")]
    slept: list[float] = []   # Slack's backoff, recorded instead of waited
    monkeypatch.setattr(wiring, "make_poller",
                        functools.partial(wiring.make_poller, slack_sleep=slept.append))
    with FakeArxiv(papers=papers, feed=papers, announced=DAY) as fake, FakeSlack() as slack:
        project = Project(tmp_path, arxiv_url=fake.url, slack_url=slack.api_url)
        env = {"SLACK_BOT_TOKEN": "xoxb-test"}
        slack.script(["500"] * 4, method="chat.postMessage")
        assert project.run("poll", env=env).exit_code == 1
        assert slept == [2.0, 4.0, 8.0]
        second = project.run("poll", env=env)
        assert second.exit_code == 0, second.output
        assert len(slack.messages()) == 3          # two lora papers share one message
        assert "nothing new; delivered 4 candidates left from an earlier poll" in second.output


def test_summary_counts_papers_in_a_slack_digest(tmp_path: Path, fake: FakeArxiv) -> None:
    """Four candidates in three Slack messages: the summary says 4 delivered."""
    fake.set_feed([*DAY_PAPERS, paper("2611.00005", "LoRA Again", "Low-rank adaptation.")])
    with FakeSlack() as slack:
        project = Project(tmp_path, arxiv_url=fake.url, slack_url=slack.api_url)
        result = project.run("poll", env={"SLACK_BOT_TOKEN": "xoxb-test"})
        assert len(slack.messages()) == 3
    assert "4 new candidates, 4 delivered" in result.output, result.output


def test_ctrl_c_during_poll_exits_130_and_records_an_interrupted_run(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ctrl-C mid-poll: exit status 130, one line, and the run is 'interrupted', not failed."""
    make_poller = wiring.make_poller

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        poller = make_poller(*args, **kwargs)
        poller.deliver = _die
        return poller

    monkeypatch.setattr(wiring, "make_poller", interrupted)
    result = project.run("poll")
    assert result.exit_code == 130, result.output
    assert "Traceback" not in result.output
    assert "interrupted" in result.output
    with project.store() as store:
        run = store.last_run()
    assert run is not None
    assert run.outcome == "interrupted"
    assert run.error is not None
    assert "KeyboardInterrupt" not in run.error


def test_sigterm_during_poll_exits_143_and_records_an_interrupted_run(
        project: Project, fake: FakeArxiv) -> None:
    """`kill PID` mid-poll (arXiv stalled): exit 143, no traceback, the run 'interrupted'."""
    fake.script(["stall:30"])
    env = {**os.environ, **project.env, "SLACK_BOT_TOKEN": "",
           "PYTHONPATH": str(Path(arxivwatch.__file__).parents[1])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arxivwatch", "--config", str(project.config), "poll"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        _wait_for_running_run(project, proc)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=20)
    finally:
        proc.kill()
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    assert "interrupted" in err
    with project.store() as store:
        run = store.last_run()
    assert run is not None
    assert run.outcome == "interrupted"


def _wait_for_running_run(project: Project, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and proc.poll() is None:
        if project.db.exists():
            with contextlib.suppress(sqlite3.Error), sqlite3.connect(project.db) as db:
                if db.execute("SELECT 1 FROM runs WHERE outcome = 'running'").fetchone():
                    return
        time.sleep(0.02)   # waiting for the child to get there, not a retry
    raise AssertionError(f"the poll never started a run (exit {proc.poll()})")


def test_a_broken_custom_template_fails_the_poll_before_anything_is_stored(
        project: Project) -> None:
    """An undefined value in a user's template: one error naming file and line, no state."""
    (project.root / "tpl").mkdir()
    (project.root / "tpl" / "slack_paper.mrkdwn.j2").write_text("*{{ titel }}*\n")
    project.config.write_text(project.config.read_text() + "templates_dir: tpl\n")
    result = project.run("poll")
    assert result.exit_code == 1
    assert f"{project.root / 'tpl' / 'slack_paper.mrkdwn.j2'}:1:" in result.output
    assert isinstance(result.exception, SystemExit)   # no traceback
    assert not project.db.exists()


def test_user_templates_shape_the_slack_preview_and_the_decided_note(
        tmp_path: Path, fake: FakeArxiv) -> None:
    """With templates_dir, the digest previews the line the user's catalog template writes, and
    the "decided" note is the user's (issue 13: both used the shipped templates)."""
    with FakeSlack() as slack:
        project = Project(tmp_path, arxiv_url=fake.url, slack_url=slack.api_url)
        tpl = project.root / "tpl"
        tpl.mkdir()
        (tpl / "catalog_entry.md.j2").write_text(
            "- [MINE] [{{ title | md_escape }}]({{ url | md_url }}) :: {{ summary | md_escape }}\n")
        (tpl / "slack_decided.mrkdwn.j2").write_text("FILED by {{ who }}: {{ catalog_line }}\n")
        project.config.write_text(project.config.read_text() + "templates_dir: tpl\n")
        token = {"SLACK_BOT_TOKEN": "xoxb-test"}
        assert project.run("poll", env=token).exit_code == 0
        posted = next(m for m in slack.messages() if "2611.00001" in _paper_ids(m))
        text = json.dumps(posted["blocks"])
        assert "- [MINE] [DoRA-X: Weight-Decomposed Low-Rank Adaptation Revisited]" in text
        assert project.run("approve", "2611.00001", env=token).exit_code == 0
        note = json.dumps(slack.message("#llm-papers", posted["ts"])["blocks"])
    assert "FILED by cli:alice: - [MINE] [DoRA-X" in note
    assert "- [MINE] [DoRA-X" in project.catalog.read_text()


def test_with_a_model_every_preview_carries_its_summary_asked_once(
        project: Project) -> None:
    """summaries.llm set: each preview shows the model's summary, stored with the candidate, so
    a rerun asks nothing and the approval files the line that was previewed (issue 18)."""
    with FakeLLM() as llm:
        project.config.write_text(project.config.read_text() + (
            f"summaries:\n  llm:\n    base_url: {llm.url}\n    model: test-model\n"
            "    timeout: 5\n"), encoding="utf-8")
        first = project.run("poll")
        assert first.exit_code == 0, first.output
        asked = len(llm.requests)
        adds = [ln for ln in first.output.splitlines() if ln.strip().startswith("adds:")]
        assert asked == len(adds) == 3
        assert all("Summarising " in ln and "in the list's voice." in ln for ln in adds)
        assert project.run("poll").exit_code == 0          # the same announcement again
        approved = project.run("approve", "2611.00001")
        assert len(llm.requests) == asked                  # nothing asked again
    with project.store() as store:
        made = store.get_candidate("2611.00001")
        assert made is not None
        assert made.candidate.summary is not None
        assert made.candidate.summary.by == "llm:test-model"
    line = ("Summarising DoRA-X: Weight-Decomposed Low-Rank Adaptation Revisited in the "
            "list's voice.")
    assert line in approved.output
    assert line in project.catalog.read_text()
    assert "DoRA-X" in llm.requests[0].user_text


def _die(*args: object, **kwargs: object) -> int:
    raise KeyboardInterrupt   # stands for a kill between the commit and the first post


def _paper_ids(message: dict[str, Any]) -> list[str]:
    return [b["block_id"].removeprefix("paper:") for b in message.get("blocks", [])
            if str(b.get("block_id", "")).startswith("paper:")]


def test_since_backfills_through_the_api(project: Project) -> None:
    """`poll --since` fetches what the topics would have matched since that day."""
    result = project.run("poll", "--since", "2026-11-20")
    assert result.exit_code == 0, result.output
    assert {"2611.00001", "2611.00002", "2611.00004"} <= _candidate_ids(project)


def test_since_in_the_future_is_a_usage_error(project: Project, fake: FakeArxiv) -> None:
    """`poll --since` a day after today: exit 2 saying so, no traceback, nothing fetched."""
    later = (dt.datetime.now(dt.UTC).date() + dt.timedelta(days=2)).isoformat()
    result = project.run("poll", "--since", later)
    assert result.exit_code == 2, result.output
    assert f"{later} is in the future" in result.output
    assert fake.requests == []


def test_poll_refuses_to_run_beside_another_instance(project: Project) -> None:
    """While another process holds the state (e.g. `arxivwatch run`), a poll refuses to start."""
    with project.store() as store, store.acquire_instance_lock():
        result = project.run("poll")
    assert result.exit_code == 1
    assert "already running" in result.output
    assert _candidate_ids(project) == set()


def test_poll_ranks_with_what_the_curator_decided(project: Project) -> None:
    """After enough decisions, a poll's ranking includes the learned model and says so."""
    methods = [Paper(id=f"2501.{i:05d}", title=f"Low-rank adaptation method {i} for LoRA",
                     abstract="We propose a new low-rank adapter initialisation for "
                              "parameter-efficient fine-tuning with rank allocation.")
               for i in range(12)]
    uses = [Paper(id=f"2502.{i:05d}", title=f"Medical question answering {i}",
                  abstract="We fine-tune a model with LoRA for clinical question answering "
                           "on hospital records.") for i in range(4)]
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    with project.store() as store:
        store.upsert_papers([*methods, *uses])
        for p in methods:
            store.decide(Decision(p.id, "approve", "U1", at, section="LLM Training > Techniques",
                                  topic="lora"))
        for p in uses:
            store.decide(Decision(p.id, "reject", "U1", at, topic="lora"))
    assert project.run("poll").exit_code == 0
    with project.store() as store:
        dora = store.get_candidate("2611.00001")
    assert dora is not None
    reasons = dora.candidate.reasons
    assert any(r.startswith("learned") for r in reasons), reasons


def test_poll_and_backtest_agree_that_a_title_spelt_apart_is_in_the_catalog(
        tmp_path: Path) -> None:
    """One membership test: a paper titled as a catalog entry but for a hyphen ("LowRank" for
    "Low-Rank") is in the catalog for the poll as for the backtest, so neither offers it."""
    twin = paper("2611.00009", "LowRank Adaptation for Everyone",
                 "We make low-rank adaptation (LoRA) easy to use for everyone.")
    snapshot = tmp_path / "snapshot.jsonl"
    snapshot.write_text(json.dumps({
        "id": twin["id"], "title": twin["title"], "abstract": twin["abstract"],
        "authors": "Ada Lovelace", "categories": "cs.LG",
        "versions": [{"version": "v1", "created": "Mon, 23 Nov 2026 12:00:00 GMT"}]}) + "\n",
        encoding="utf-8")
    with FakeArxiv(papers=[twin], feed=[twin], announced=DAY) as fake:
        project = Project(tmp_path, arxiv_url=fake.url)
        before = project.run("poll", "--dry-run")
        assert "LowRank Adaptation for Everyone" in before.output   # offered while not listed
        text = project.catalog.read_text(encoding="utf-8")
        project.catalog.write_text(text.replace("### Techniques\n", (
            "### Techniques\n- [Blog 2026] [Low-Rank Adaptation for Everyone]"
            "(https://example.org/lora-for-everyone). LoRA made easy.\n")), encoding="utf-8")
        poll = project.run("poll", "--dry-run")
        replay = project.run("backtest", "--papers", str(snapshot), "--jobs", "1",
                             "--out", str(tmp_path / "out.jsonl"))
    assert poll.exit_code == 0, poll.output
    assert replay.exit_code == 0, replay.output
    offered = {"poll": "LowRank Adaptation for Everyone" in poll.output,
               "backtest": "2611.00009" in (tmp_path / "out.jsonl").read_text(encoding="utf-8")}
    assert offered == {"poll": False, "backtest": False}
