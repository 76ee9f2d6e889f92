"""`arxivwatch run` reads topics.yaml again while it runs: before each poll, and on SIGHUP.

`run_until` runs on a thread against the fake arXiv and the fake Slack, polling every quarter
second (an interval trigger in place of the cron), so each step below is "the next poll".
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from arxivwatch.cli.run_cmd import run_until
from arxivwatch.config import load
from arxivwatch.config.live import file_version
from arxivwatch.store import Store
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.slack_server import FakeSlack
from tests.scenarios.test_run_process import CATALOG, CONFIG, DAY, KNOWN, PAPERS
from tests.slack_requests import SECRET

CHANNEL = "C0LLMPAPERS"
NEXT_DAY = DAY + dt.timedelta(days=1)
# Announced the next day: only a query that looks beyond the title finds it.
ADAPTERS = {"id": "2406.09001", "title": "Adapters for everyone",
            "abstract": "We revisit low-rank adapters (LoRA) for small models.",
            "authors": ["Grace Hopper"], "categories": ["cs.LG"], "day": NEXT_DAY,
            "announce_type": "new"}


@dataclass
class Running:
    """`run_until` on a thread: its URL, the fakes, the config file, the reload event."""

    url: str
    config: Path
    arxiv: FakeArxiv
    slack: FakeSlack
    reload: threading.Event
    caplog: pytest.LogCaptureFixture

    def health(self) -> dict[str, Any]:
        return dict(requests.get(f"{self.url}/healthz", timeout=5).json())

    def edit(self, old: str, new: str) -> None:
        text = self.config.read_text(encoding="utf-8")
        assert old in text
        self.config.write_text(text.replace(old, new), encoding="utf-8")

    def posted(self) -> list[dict[str, Any]]:
        return self.slack.messages(CHANNEL)

    def polls(self) -> int:
        return self.caplog.text.count("poll finished")


def wait_until(check: Callable[[], Any], what: str, timeout: float = 15) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


@pytest.fixture
def running(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Running]:
    caplog.set_level(logging.INFO)
    with FakeArxiv(papers=[*PAPERS, KNOWN, ADAPTERS], feed=PAPERS, announced=DAY) as arxiv, \
            FakeSlack() as slack:
        (tmp_path / "catalog").mkdir()
        (tmp_path / "catalog" / "README.md").write_text(CATALOG, encoding="utf-8")
        config = tmp_path / "topics.yaml"
        config.write_text(CONFIG.format(feed=arxiv.feed_url, api=arxiv.api_url,
                                        channel=CHANNEL, slack=slack.api_url), encoding="utf-8")
        settings = load(config, {"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": SECRET})
        stop, reload, result = threading.Event(), threading.Event(), []
        with Store.open(settings.state.url) as store:
            thread = threading.Thread(target=lambda: result.append(run_until(
                settings, store, stop, poll_now=True, port=0, reload=reload,
                trigger=IntervalTrigger(seconds=0.25))))
            thread.start()
            try:
                found = wait_until(lambda: re.search(r"listening on (http://[\d.:]+)",
                                                     caplog.text), "the HTTP server")
                yield Running(found.group(1), config, arxiv, slack, reload, caplog)
            finally:
                stop.set()
                thread.join(15)
        assert result == [0]


def test_a_valid_edit_is_used_by_the_next_poll(running: Running) -> None:
    """A new query saved in the file: the next poll (no restart, no signal) matches with it."""
    wait_until(lambda: running.posted(), "the first digest")
    first = running.health()["config"]
    running.edit("query: 'ti:LoRA OR ti:QLoRA OR ti:DoRA'",
                 "query: 'ti:LoRA OR ti:QLoRA OR ti:DoRA OR abs:LoRA'")
    running.arxiv.set_feed([ADAPTERS], announced=NEXT_DAY)
    digest = wait_until(lambda: [m for m in running.posted() if "2406.09001" in str(m)],
                        "the next poll's digest with the new query's paper")
    assert "Adapters for everyone" in str(digest[0]["blocks"])
    config = running.health()["config"]
    assert config["sha256"] == file_version(running.config).sha256 != first["sha256"]
    assert config["rejected"] is None
    assert "config reloaded (before the poll)" in running.caplog.text


def test_a_broken_edit_keeps_the_last_good_config_and_is_said_once(running: Running) -> None:
    """A broken file: one log line (file:line: key), one warning in the channel however many
    polls follow, /healthz still on the good version and naming the refused one."""
    wait_until(lambda: running.posted(), "the first digest")
    good = running.health()["config"]
    running.edit("section: Training > Techniques", "section: Training > Technique")
    warning = wait_until(lambda: [m for m in running.posted() if "not valid" in m["text"]],
                         "the warning in the channel")
    polls = running.polls()
    wait_until(lambda: running.polls() >= polls + 3, "three more polls")
    assert len([m for m in running.posted() if "not valid" in m["text"]]) == 1
    assert "topics[0].section" in warning[0]["text"]
    assert good["sha256"][:12] in warning[0]["text"]
    refused = [r for r in running.caplog.records if "config not reloaded" in r.getMessage()]
    assert len(refused) == 1
    assert re.search(r"topics\.yaml:\d+: topics\[0\]\.section: not a section of the catalog",
                     refused[0].getMessage())
    config = running.health()["config"]
    assert config["sha256"] == good["sha256"]
    assert config["rejected"]["sha256"] == file_version(running.config).sha256
    assert running.health()["last_run"]["outcome"] != "failed"   # polling goes on


def test_sighup_reloads_at_once_and_keeps_restart_only_settings(running: Running) -> None:
    """SIGHUP (the reload event) reads the file without waiting for a poll; a new state.url is
    named in the warning and kept."""
    wait_until(lambda: running.posted(), "the first digest")
    running.edit("sqlite:///state.db", "sqlite:///elsewhere.db")
    running.edit("ti:DoRA'", "ti:DoRA OR ti:VeRA'")
    running.reload.set()
    config = wait_until(lambda: (c := running.health()["config"])["sha256"]
                        == file_version(running.config).sha256 and c, "the reload")
    assert config["kept_until_restart"] == ["state.url"]
    assert "config reloaded (SIGHUP)" in running.caplog.text
    kept = wait_until(lambda: [m for m in running.posted() if "restart" in m["text"]],
                      "the restart-only warning")
    assert "state.url" in kept[0]["text"]
    assert not (running.config.parent / "elsewhere.db").exists()


def test_status_names_the_version_run_has_in_force(running: Running) -> None:
    """`arxivwatch status` beside a running `run`: the version it loaded, and whether the file
    on disk is that one."""
    import os

    from click.testing import CliRunner

    from arxivwatch.cli import _register, cli
    from tests.cli_env import NO_SECRETS

    _register()

    def status() -> str:
        result = CliRunner().invoke(cli, ["--config", str(running.config), "status"],
                                    env=NO_SECRETS)
        assert result.exit_code == 0, result.output
        return result.output

    wait_until(lambda: running.posted(), "the first digest")
    short = file_version(running.config).short
    line = next(ln for ln in status().splitlines() if ln.startswith("config"))
    assert line.startswith(f"config loaded by arxivwatch run (pid {os.getpid()}): {short}")
    assert line.endswith("the file on disk is the same")
    running.edit("section: Training > Techniques", "section: Training > Technique")
    broken = next(ln for ln in status().splitlines() if ln.startswith("config"))
    assert "topics[0].section: not a section of the catalog" in broken
    assert broken.endswith("so run keeps the version above")
    assert broken.startswith(f"config loaded by arxivwatch run (pid {os.getpid()}): {short}")
