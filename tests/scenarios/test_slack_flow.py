"""Issue 5's acceptance: poll posts a digest, a signed click on `arxivwatch serve` files it.

Everything real but arXiv and Slack, which are local fakes: the CLI, the store, the catalog file,
and `arxivwatch serve` as a subprocess listening on 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.slack_server import FakeSlack
from tests.scenarios.project import DAY, DAY_PAPERS, Project
from tests.slack_requests import block_action, form, sign

SECRET = "scenario-signing-secret"  # noqa: S105 - a test fixture
ENV = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SECRET}


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[tuple[Project, FakeSlack]]:
    with FakeArxiv(papers=DAY_PAPERS, feed=DAY_PAPERS, announced=DAY) as arxiv, \
            FakeSlack() as slack:
        yield Project(tmp_path, arxiv_url=arxiv.url, slack_url=slack.api_url), slack


@pytest.fixture
def serve(rig: tuple[Project, FakeSlack]) -> Iterator[str]:
    project, _ = rig
    env = {**os.environ, **ENV, "NO_PROXY": "127.0.0.1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "arxivwatch", "--config", str(project.config), "serve",
         "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        yield _wait_for_url(proc)
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0


def _wait_for_url(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)/slack/events", line)
        if found:
            return found.group(1)
        if not line and proc.poll() is not None:
            break
    pytest.fail("arxivwatch serve did not start")


def _digest(slack: FakeSlack, pid: str) -> dict[str, Any]:
    for message in slack.messages():
        if any(b.get("block_id") == f"paper:{pid}" for b in message.get("blocks", [])):
            return message
    raise AssertionError(f"{pid} was not posted")


def _wait(condition: Any, what: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def test_digest_buttons_follow_the_interface(rig: tuple[Project, FakeSlack]) -> None:
    """Each posted paper has approve/reject buttons whose value is its arXiv id."""
    project, slack = rig
    assert project.run("poll", env=ENV).exit_code == 0
    for pid in ("2611.00001", "2611.00002", "2611.00004"):
        actions = next(b for b in _digest(slack, pid)["blocks"]
                       if b.get("block_id") == f"paper:{pid}")
        buttons = {e["action_id"].split(":")[0]: e for e in actions["elements"]
                   if e["type"] == "button"}
        assert buttons["approve"]["value"] == pid
        assert buttons["approve"]["style"] == "primary"
        assert buttons["reject"]["value"] == pid


def test_poll_click_approve_writes_one_line_and_updates_message(
        rig: tuple[Project, FakeSlack], serve: str) -> None:
    """Signed approve -> one catalog line in the section, message updated; poll again: nothing."""
    project, slack = rig
    assert project.run("poll", env=ENV).exit_code == 0
    posts = len(slack.calls_to("chat.postMessage"))
    before = project.catalog.read_text(encoding="utf-8")
    message = _digest(slack, "2611.00001")
    body = form(block_action("approve", "2611.00001", message))
    answer = requests.post(f"{serve}/slack/events", data=body,
                           headers=sign(body, secret=SECRET, ts=int(time.time())), timeout=5)
    assert answer.status_code == 200
    _wait(lambda: slack.calls_to("chat.update"), "the message update")
    after = project.catalog.read_text(encoding="utf-8")
    added = [ln for ln in after.splitlines() if ln not in before.splitlines()]
    assert len(added) == 1
    assert "(https://arxiv.org/abs/2611.00001)" in added[0]
    assert added[0].startswith("- [ICML 2026] [DoRA-X")
    lines = after.splitlines()
    assert lines.index(added[0]) == lines.index("### Techniques") + 1
    update = slack.calls_to("chat.update")[-1].args
    assert "Approved by <@U0CURATOR>" in str(update["blocks"])
    assert project.run("poll", env=ENV).exit_code == 0
    assert len(slack.calls_to("chat.postMessage")) == posts


@pytest.mark.parametrize("headers", [
    {},
    {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64},
    "stale",
])
def test_forged_click_is_refused_and_catalog_untouched(
        rig: tuple[Project, FakeSlack], serve: str, headers: Any) -> None:
    """Unsigned, forged and stale requests get 401 and change no byte of the catalog."""
    project, slack = rig
    assert project.run("poll", env=ENV).exit_code == 0
    before = project.catalog.read_bytes()
    body = form(block_action("approve", "2611.00001", _digest(slack, "2611.00001")))
    if headers == "stale":
        headers = sign(body, secret=SECRET, ts=int(time.time()) - 301)
    answer = requests.post(f"{serve}/slack/events", data=body, headers=headers, timeout=5)
    assert answer.status_code == 401
    time.sleep(0.3)
    assert project.catalog.read_bytes() == before
    assert slack.calls_to("chat.update") == []
