"""Issue 12's acceptance through the fake Slack: tune from Slack, save, the next poll uses it;
file a pasted link with the shortcut; over HTTP and over Socket Mode, in a running `run`.

`run_until` runs on a thread with its real listeners (waitress for HTTP, the Socket Mode client
against the websocket fake), polling every quarter second in place of the cron, so "the next
poll" comes quickly; a SIGHUP test runs `arxivwatch run` as a real process.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import re
import signal
import threading
import time
from collections.abc import Iterator
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
from tests.fakes.slack_socket import FakeSocketMode
from tests.scenarios.project import DAY, DAY_PAPERS, Project, paper
from tests.scenarios.test_run_process import Rig as ProcessRig
from tests.scenarios.test_run_process import wait_for
from tests.slack_requests import CHANNEL, form, sign
from tests.test_run_reload import wait_until as wait
from tests.test_slack_commands import command_body, shortcut_payload

SECRET = "workbench-signing-secret"  # noqa: S105 - a test fixture
NEXT = DAY + dt.timedelta(days=1)
# The next day's feed: the saved query (ti:LoRA OR abs:"low-rank adaptation") takes both; the
# one tuned in Slack (ti:LoRA) only the second.
NEXT_PAPERS = [
    paper("2611.00201", "Cheap Tuning of Giant Models",
          "We study low-rank adaptation of very large models.", day=NEXT),
    paper("2611.00202", "LoRA-Max: Wider Adapters",
          "Adapters with larger rank for LoRA fine-tuning.", day=NEXT),
]
SHARED = paper("2611.00300", "SparseLoRA: Sparse Low-Rank Adaptation for Fast Fine-Tuning",
               "We propose a low-rank adaptation with sparse updates that speeds up LoRA.")


@dataclass
class Running:
    """A `run` on a thread, the project it runs in and the fakes around it."""

    project: Project
    arxiv: FakeArxiv
    slack: FakeSlack
    url: str
    sock: FakeSocketMode | None
    caplog: pytest.LogCaptureFixture

    def send(self, payload: dict[str, Any] | bytes, *, kind: str = "interactive") -> None:
        """A signed POST to /slack/events (HTTP), or an envelope (Socket Mode), acknowledged."""
        if self.sock is not None:
            envelope = self.sock.push(payload if isinstance(payload, dict) else _fields(payload),
                                      kind=kind)
            self.sock.wait_ack(envelope, timeout=3)
            return
        body = payload if isinstance(payload, bytes) else form(payload)
        answer = requests.post(f"{self.url}/slack/events", data=body, timeout=5,
                               headers=sign(body, secret=SECRET, ts=int(time.time())))
        assert answer.status_code == 200, answer.text

    def command(self, text: str) -> dict[str, Any]:
        """`/arxivwatch text` typed by the curator; the answer posted to its response_url."""
        url = self.slack.response_url()
        self.send(command_body(text, url), kind="slash_commands")
        n = int(url.rsplit("/", 1)[1])
        return wait(lambda: self.slack.responses[n] and self.slack.responses[n][0],
                    f"the answer to /arxivwatch {text}")

    def posted_ids(self) -> set[str]:
        return {m for msg in self.slack.messages(CHANNEL)
                for m in re.findall(r"paper:(\d{4}\.\d{5})", json.dumps(msg.get("blocks")))}


def _fields(body: bytes) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(body.decode()))


def start(tmp_path: Path, caplog: pytest.LogCaptureFixture, *, socket: bool) -> Iterator[Running]:
    """The project polled once by a `run` on a thread (HTTP, or Socket Mode with `socket`)."""
    caplog.set_level(logging.INFO)
    with FakeArxiv(papers=[*DAY_PAPERS, *NEXT_PAPERS, SHARED], feed=DAY_PAPERS,
                   announced=DAY) as arxiv, FakeSocketMode() as sock, \
            FakeSlack(socket_url=sock.url) as slack:
        project = Project(tmp_path, arxiv_url=arxiv.url, slack_url=slack.api_url)
        env = {"SLACK_BOT_TOKEN": slack.token}
        env |= {"SLACK_APP_TOKEN": slack.app_token} if socket else {"SLACK_SIGNING_SECRET": SECRET}
        settings = load(project.config, env)
        stop, result = threading.Event(), []
        with Store.open(settings.state.url) as store:
            thread = threading.Thread(target=lambda: result.append(run_until(
                settings, store, stop, poll_now=True, port=0,
                trigger=IntervalTrigger(seconds=0.25))))
            thread.start()
            try:
                found = wait(lambda: re.search(r"listening on (http://[\d.:]+)", caplog.text),
                             "the HTTP server")
                if socket:
                    sock.wait_connected()
                running = Running(project, arxiv, slack, found.group(1),
                                  sock if socket else None, caplog)
                wait(lambda: running.posted_ids(), "the first digest")
                yield running
            finally:
                stop.set()
                thread.join(15)
        assert result == [0]


@pytest.fixture(params=["http", "socket"])
def running(request: pytest.FixtureRequest, tmp_path: Path,
            caplog: pytest.LogCaptureFixture) -> Iterator[Running]:
    yield from start(tmp_path, caplog, socket=request.param == "socket")


def test_tune_in_slack_save_and_the_next_poll_uses_it(running: Running) -> None:
    """`/arxivwatch tune lora "ti:LoRA"`: the preview; Save; the next poll, with no restart,
    posts what ti:LoRA takes and not what only the old query took."""
    before = running.project.config.read_text()
    answer = running.command('tune lora "ti:LoRA"')
    shown = html.unescape(json.dumps(answer["blocks"]))
    assert "would post" in shown
    assert "gained, " in shown
    button = next(e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"])
    assert button["text"]["text"] == "Save this query"

    url = running.slack.response_url()
    running.send({"type": "block_actions", "user": {"id": "U0CURATOR"}, "team": {"id": "T0"},
                  "api_app_id": "A0", "trigger_id": "1.1.s", "response_url": url,
                  "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL,
                                "is_ephemeral": True}, "channel": {"id": CHANNEL},
                  "actions": [{**button, "block_id": "tune_save"}]})
    n = int(url.rsplit("/", 1)[1])
    said = wait(lambda: running.slack.responses[n], "the answer to Save")[0]
    assert "saved: topic lora now has the query ti:LoRA" in said["text"]
    after = running.project.config.read_text()
    assert [ln for ln in after.splitlines() if ln not in before.splitlines()] == \
        ["    query: 'ti:LoRA'"]
    health = requests.get(f"{running.url}/healthz", timeout=5).json()
    assert health["config"]["sha256"] == file_version(running.project.config).sha256

    running.arxiv.set_feed(NEXT_PAPERS, announced=NEXT)
    wait(lambda: "2611.00202" in running.posted_ids(), "the next poll's digest")
    assert "2611.00201" not in running.posted_ids()


def test_file_a_pasted_link_with_the_shortcut(running: Running) -> None:
    """A link pasted in the channel, "File in catalog": the modal for it, Approve, one line in
    the section, the decision recorded, the curator told."""
    message = running.slack.add_message(
        CHANNEL, user="U0OTHER", text="worth a look: <https://arxiv.org/abs/2611.00300>")
    url = running.slack.response_url()
    running.send(shortcut_payload(message, url))
    view = wait(lambda: running.slack.view_updates and running.slack.view("V000001"),
                "the filled modal")
    assert running.slack.views[0]["trigger_id"] == "5.6.sc"
    select = next(b for b in view["blocks"] if b["block_id"].startswith("section:"))
    assert select["element"]["initial_option"]["value"] == "LLM Training > Techniques"
    state = {"section:2611.00300": {"section": {"selected_option": {
                 "value": "LLM Training > Techniques"}}},
             "summary:2611.00300": {"summary": {"value": "Sparse LoRA updates"}}}
    running.send({"type": "view_submission", "user": {"id": "U0CURATOR"}, "team": {"id": "T0"},
                  "api_app_id": "A0", "view": {**view, "state": {"values": state}}})
    n = int(url.rsplit("/", 1)[1])
    told = wait(lambda: running.slack.responses[n], "the curator to be told")[0]
    assert html.unescape(told["text"]).startswith(
        ":white_check_mark: Approved 2611.00300 into LLM Training > Techniques by U0CURATOR")
    lines = running.project.catalog.read_text().splitlines()
    assert "2611.00300" in lines[lines.index("### Techniques") + 1]
    assert sum("2611.00300" in ln for ln in lines) == 1
    with running.project.store() as store:
        decision = store.get_candidate("2611.00300").decision  # type: ignore[union-attr]
    assert (decision.action, decision.user) == ("approve", "U0CURATOR")  # type: ignore[union-attr]


@pytest.fixture
def http_only(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Running]:
    yield from start(tmp_path, caplog, socket=False)


@pytest.mark.parametrize("forge", ["forged", "stale"])
def test_forged_or_stale_requests_change_nothing(http_only: Running, forge: str) -> None:
    """Over HTTP, a forged or a 301 s old signature: 401, no answer, nothing saved or filed."""
    running = http_only
    before = running.project.config.read_bytes(), running.project.catalog.read_bytes()
    url = running.slack.response_url()
    message = running.slack.add_message(CHANNEL, text="https://arxiv.org/abs/2611.00300")
    for body in (command_body('tune lora "ti:LoRA"', url), form(shortcut_payload(message, url))):
        key, age = ("forged", 0) if forge == "forged" else (SECRET, 301)
        headers = sign(body, secret=key, ts=int(time.time()) - age)
        answer = requests.post(f"{running.url}/slack/events", data=body, headers=headers,
                               timeout=5)
        assert answer.status_code == 401
    time.sleep(0.3)
    assert running.slack.responses[int(url.rsplit("/", 1)[1])] == []
    assert running.slack.views == []
    assert (running.project.config.read_bytes(), running.project.catalog.read_bytes()) == before


def test_sighup_to_a_running_process_reloads_the_config(tmp_path: Path) -> None:
    """`kill -HUP` on `arxivwatch run`: the config is read at once; a broken one is refused."""
    with FakeArxiv(papers=[], feed=[]) as arxiv, FakeSlack() as slack:
        rig = ProcessRig(tmp_path, arxiv, slack)
        proc = rig.start()
        try:
            url = proc.url()
            config = tmp_path / "topics.yaml"
            first = requests.get(f"{url}/healthz", timeout=5).json()["config"]
            config.write_text(config.read_text().replace("ti:DoRA'", "ti:DoRA OR ti:VeRA'"))
            proc.p.send_signal(signal.SIGHUP)
            wait_for(lambda: requests.get(f"{url}/healthz", timeout=5).json()["config"]
                     ["sha256"] == file_version(config).sha256, what="the reload", proc=proc)
            config.write_text(config.read_text().replace("section: Training", "section: Nope"))
            proc.p.send_signal(signal.SIGHUP)
            body = wait_for(lambda: (c := requests.get(f"{url}/healthz", timeout=5).json()
                                     ["config"])["rejected"] and c, what="the refusal", proc=proc)
            assert body["sha256"] != first["sha256"]
            assert "topics[0].section" in body["rejected"]["problems"][0]
            assert proc.stop() == 0
        finally:
            proc.kill()
        assert "config reloaded (SIGHUP)" in proc.text()
        assert proc.text().count("config not reloaded") == 1
