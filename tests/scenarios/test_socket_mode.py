"""Issue 5 over Socket Mode, for real: `arxivwatch serve` with SLACK_APP_TOKEN and no secret.

The fake Web API answers `apps.connections.open` with the URL of a local websocket fake, so the
subprocess opens a real websocket, gets Slack's hello, and receives the click as an envelope.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.slack_server import FakeSlack
from tests.fakes.slack_socket import FakeSocketMode
from tests.scenarios.project import DAY, DAY_PAPERS, Project
from tests.slack_requests import CHANNEL, block_action

PID = "2611.00001"   # the LoRA paper: its suggested section is LLM Training > Techniques
PROXY_VARS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy")


@dataclass
class Rig:
    """The temp project and the two Slack fakes it talks to."""

    project: Project
    slack: FakeSlack
    sock: FakeSocketMode


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with FakeArxiv(papers=DAY_PAPERS, feed=DAY_PAPERS, announced=DAY) as arxiv, \
            FakeSocketMode() as sock, FakeSlack(socket_url=sock.url) as slack:
        yield Rig(Project(tmp_path, arxiv_url=arxiv.url, slack_url=slack.api_url), slack, sock)


class Serve:
    """`arxivwatch serve` in Socket Mode as a subprocess, its output in a file."""

    def __init__(self, rig: Rig) -> None:
        self.log = rig.project.root / "serve.log"
        env = {k: v for k, v in os.environ.items()
               if k not in {*PROXY_VARS, "SLACK_SIGNING_SECRET"}}
        # The builtin Socket Mode client honours HTTPS_PROXY but not NO_PROXY: drop proxies.
        env.update({"SLACK_BOT_TOKEN": rig.slack.token, "SLACK_APP_TOKEN": rig.slack.app_token,
                    "NO_PROXY": "127.0.0.1"})
        cmd = [sys.executable, "-m", "arxivwatch", "--config", str(rig.project.config), "serve",
               "--port", "0"]
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=10)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)


@pytest.fixture
def serve(rig: Rig) -> Iterator[Serve]:
    assert rig.project.run("poll", env={"SLACK_BOT_TOKEN": rig.slack.token}).exit_code == 0
    proc = Serve(rig)
    try:
        rig.sock.wait_connected(timeout=15)
    except TimeoutError:
        proc.kill()
        pytest.fail(f"arxivwatch serve never opened the websocket:\n{proc.text()}")
    try:
        yield proc
    finally:
        proc.kill()


def digest(slack: FakeSlack, pid: str) -> dict[str, Any]:
    """The posted digest message that carries `pid`'s buttons."""
    for message in slack.messages():
        if any(b.get("block_id") == f"paper:{pid}" for b in message.get("blocks", [])):
            return message
    raise AssertionError(f"{pid} was not posted")


def click(rig: Rig, kind: str, pid: str, message: dict[str, Any]) -> str:
    """Pushes a `block_actions` click on `message` through the websocket; the envelope id."""
    payload = block_action(kind, pid, message)
    payload["response_url"] = rig.slack.response_url(CHANNEL, message["ts"])
    return rig.sock.push(payload)


def wait_until(check: Any, what: str, proc: Serve, timeout: float = 5) -> Any:
    """Polls `check` until truthy; fails with the serve log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.02)
    pytest.fail(f"timed out waiting for {what}:\n{proc.text()}")


def added_lines(rig: Rig, before: str) -> list[str]:
    """Catalog lines that were not there before."""
    old = set(before.splitlines())
    return [ln for ln in rig.project.catalog.read_text(encoding="utf-8").splitlines()
            if ln not in old]


def test_socket_click_approves_once_and_sigterm_closes_the_websocket(
        rig: Rig, serve: Serve) -> None:
    """Approve over the websocket: acked, one catalog line, message updated; SIGTERM exits 0."""
    opened = rig.slack.calls_to("apps.connections.open")
    assert [c.headers["authorization"] for c in opened] == [f"Bearer {rig.slack.app_token}"]
    hello_seen = wait_until(lambda: "session has been established" in serve.text(),
                            "the Socket Mode session", serve)
    assert hello_seen
    before = rig.project.catalog.read_text(encoding="utf-8")
    message = digest(rig.slack, PID)

    envelope_id = click(rig, "approve", PID, message)
    rig.sock.wait_ack(envelope_id, timeout=3)   # Slack redelivers what is not acked in 3 s
    update = wait_until(lambda: rig.slack.calls_to("chat.update"), "chat.update", serve)[0].args

    assert rig.sock.links[0].received == [{"envelope_id": envelope_id}]
    assert (update["channel"], update["ts"]) == (CHANNEL, message["ts"])
    assert "Approved by <@U0CURATOR>" in str(update["blocks"])
    assert "approve:" not in str(update["blocks"])   # the buttons are gone
    added = wait_until(lambda: added_lines(rig, before), "the catalog line", serve)
    assert len(added) == 1
    assert f"(https://arxiv.org/abs/{PID})" in added[0]
    lines = rig.project.catalog.read_text(encoding="utf-8").splitlines()
    assert lines.index(added[0]) == lines.index("### Techniques") + 1

    assert serve.stop() == 0, serve.text()
    links = rig.sock.wait_all_closed(timeout=2)
    assert len(links) == 1   # closed once, never reconnected
    assert "The connection has been closed" in serve.text()   # closed by serve, not by exit
    assert "stopped" in serve.text()


def test_redelivered_click_and_other_envelopes_change_nothing_more(
        rig: Rig, serve: Serve) -> None:
    """A redelivered approve, a reject after it and an events_api envelope: all acked, one line."""
    before = rig.project.catalog.read_text(encoding="utf-8")
    message = digest(rig.slack, PID)   # late clicks come from clients still showing it
    first = click(rig, "approve", PID, message)
    rig.sock.wait_ack(first, timeout=3)
    wait_until(lambda: rig.slack.calls_to("chat.update"), "chat.update", serve)
    catalog = wait_until(lambda: added_lines(rig, before) and rig.project.catalog.read_bytes(),
                         "the catalog line", serve)

    late = [click(rig, "approve", PID, message), click(rig, "reject", PID, message),
            rig.sock.push({"type": "event_callback", "event": {"type": "app_mention"}},
                          kind="events_api")]
    for envelope_id in late:
        rig.sock.wait_ack(envelope_id, timeout=3)
    told = wait_until(lambda: len(rig.slack.ephemerals) >= 2 and rig.slack.ephemerals,
                      "the late clickers to be told", serve)

    assert sorted(rig.sock.acks()) == sorted([first, *late])   # workers ack in any order
    assert rig.project.catalog.read_bytes() == catalog
    assert {e["user"] for e in told} == {"U0CURATOR"}
    shown = str(rig.slack.message(CHANNEL, message["ts"])["blocks"])
    assert "Approved by <@U0CURATOR>" in shown
    assert "Rejected by" not in shown
    assert serve.stop() == 0, serve.text()
    assert rig.sock.wait_all_closed(timeout=2)


@pytest.mark.parametrize(("app_token", "socket_url", "says"), [
    ("xapp-wrong", "ws://127.0.0.1:9/link", "Slack refused SLACK_APP_TOKEN (invalid_auth)"),
    (None, None, "Slack's apps.connections.open failed (socket_mode_not_enabled)"),
])
def test_refused_connection_is_one_clear_error(
        tmp_path: Path, app_token: str | None, socket_url: str | None, says: str) -> None:
    """A refused app token or Socket Mode turned off: exit 1 with one line saying what to fix."""
    with FakeArxiv(papers=DAY_PAPERS, feed=DAY_PAPERS, announced=DAY) as arxiv, \
            FakeSlack(socket_url=socket_url) as slack:
        project = Project(tmp_path, arxiv_url=arxiv.url, slack_url=slack.api_url)
        result = project.run("serve", env={"SLACK_BOT_TOKEN": slack.token,
                                           "SLACK_APP_TOKEN": app_token or slack.app_token})
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)   # not a traceback
    assert f"error: Socket Mode: {says}" in result.output
