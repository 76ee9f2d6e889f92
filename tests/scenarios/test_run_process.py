"""`arxivwatch run` as a real subprocess against the fake arXiv and the fake Slack."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from arxivwatch.announcements import latest_feed_day
from arxivwatch.store import Store
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.slack_server import FakeSlack
from tests.slack_requests import SECRET, block_action, form, sign

CHANNEL = "C0LLMPAPERS"
DAY = latest_feed_day(dt.datetime.now(dt.UTC))
PAPERS = [
    {"id": f"2406.0{n:04d}", "title": title, "abstract": f"We study {title.lower()} in depth.",
     "authors": ["Ada Lovelace", "Alan Turing"], "categories": ["cs.LG"], "day": DAY,
     "announce_type": "new"}
    for n, title in enumerate(["LoRA for sparse experts", "QLoRA at scale",
                               "DoRA revisited with low-rank adapters"], start=1)
]
KNOWN = {"id": "2106.09685", "title": "LoRA: Low-Rank Adaptation of Large Language Models",
         "abstract": "We propose low-rank adaptation.", "categories": ["cs.CL"],
         "day": dt.date(2021, 6, 18)}   # the catalog's paper, looked up by the first poll
CATALOG = """\
# Papers

## Training
### Techniques
- [Arxiv 2021] [LoRA: Low-Rank Adaptation of Large Language Models](https://arxiv.org/abs/2106.09685). Low rank adapters.

## Compression
### Pruning
- [Arxiv 2023] [Wanda: pruning by weights and activations](https://github.com/locuslab/wanda). Simple pruning.
"""
CONFIG = """\
catalog:
  path: catalog/README.md
arxiv:
  categories: [cs.LG]
  rss_url: {feed}
  api_url: {api}
  request_interval: 0.01
  timeout: 30
  max_attempts: 2
slack:
  channel: {channel}
  api_url: {slack}
state:
  url: sqlite:///state.db
topics:
  - name: lora
    section: Training > Techniques
    query: 'ti:LoRA OR ti:QLoRA OR ti:DoRA'
"""
ids = [p["id"] for p in PAPERS]


class Proc:
    """A running `arxivwatch run`, its stderr in a file, its port read from the log."""

    def __init__(self, root: Path, *args: str, env: dict[str, str]) -> None:
        self.log = root / f"run-{time.monotonic_ns()}.log"
        cmd = [sys.executable, "-m", "arxivwatch", "--config", str(root / "topics.yaml"),
               "run", "--port", "0", *args]
        with self.log.open("w") as err:
            self.p = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL,
                                      stderr=err)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def url(self) -> str:
        found = wait_for(lambda: re.search(r"listening on (http://[\d.:]+)", self.text()),
                         what="the listening line", proc=self)
        return found.group(1)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        self.p.send_signal(sig)
        return self.p.wait(timeout)

    def kill(self) -> None:
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(10)


def wait_for(check: Callable[[], Any], *, what: str, proc: Proc | None = None,
             timeout: float = 20) -> Any:
    """Polls `check` until it returns something truthy; fails with the process log otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        if proc is not None and proc.p.poll() is not None:
            pytest.fail(f"arxivwatch run exited ({proc.p.returncode}) before {what}:\n"
                        f"{proc.text()}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}" + (f":\n{proc.text()}" if proc else ""))


class Rig:
    """A project folder wired to the fakes, and a way to start `arxivwatch run` in it."""

    def __init__(self, root: Path, arxiv: FakeArxiv, slack: FakeSlack) -> None:
        self.root, self.arxiv, self.slack = root, arxiv, slack
        (root / "catalog").mkdir()
        (root / "catalog" / "README.md").write_text(CATALOG, encoding="utf-8")
        (root / "topics.yaml").write_text(CONFIG.format(
            feed=arxiv.feed_url, api=arxiv.api_url, channel=CHANNEL, slack=slack.api_url))
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        self.env.update(SLACK_BOT_TOKEN=slack.token, SLACK_SIGNING_SECRET=SECRET,
                        NO_PROXY="127.0.0.1,localhost", PYTHONUNBUFFERED="1")
        self.procs: list[Proc] = []

    def start(self, *args: str) -> Proc:
        proc = Proc(self.root, *args, env=self.env)
        self.procs.append(proc)
        return proc

    def posted_ids(self) -> Counter[str]:
        """How many chat.postMessage calls that Slack accepted carried each paper."""
        seen: Counter[str] = Counter()
        for call in self.slack.calls_to("chat.postMessage"):
            if call.response.get("ok"):
                seen.update(i for i in ids if i in str(call.args.get("blocks")))
        return seen

    def store(self) -> Store:
        return Store.open(f"sqlite:///{self.root / 'state.db'}")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with FakeArxiv(papers=[*PAPERS, KNOWN], feed=PAPERS, announced=DAY) as arxiv, FakeSlack() as slack:
        r = Rig(tmp_path, arxiv, slack)
        yield r
        for proc in r.procs:
            proc.kill()


def test_polls_posts_answers_a_click_and_stops_on_sigterm(rig: Rig) -> None:
    """--now: one poll, one digest, a signed approve over HTTP, /healthz, exit 0 on SIGTERM."""
    proc = rig.start("--now")
    url = proc.url()
    wait_for(lambda: "poll finished" in proc.text(), what="the poll", proc=proc)
    assert rig.posted_ids() == Counter(ids)
    message = rig.slack.messages(CHANNEL)[0]
    body = form(block_action("approve", ids[0], message))
    resp = requests.post(f"{url}/slack/events", data=body,
                         headers=sign(body, ts=int(time.time())), timeout=5)
    assert resp.status_code == 200
    catalog = rig.root / "catalog" / "README.md"
    wait_for(lambda: ids[0] in catalog.read_text(), what="the catalog line", proc=proc)
    wait_for(lambda: rig.slack.calls_to("chat.update"), what="the message update", proc=proc)
    health = requests.get(f"{url}/healthz", timeout=5)
    assert health.status_code == 200
    report = health.json()
    assert report["last_run"]["outcome"] == "ok"
    assert report["last_run"]["counts"]["stored"] == len(ids)
    next_run = dt.datetime.fromisoformat(report["next_run"])
    assert next_run > dt.datetime.now(dt.UTC)
    assert next_run.astimezone(ZoneInfo("America/New_York")).hour == 21
    assert proc.stop() == 0
    assert "stopped" in proc.text().splitlines()[-1]
    with rig.store() as store:
        assert store.counts_by_status() == {"pending": 0, "posted": 2, "approved": 1,
                                            "rejected": 0}
        assert [r.outcome for r in store.runs()] == ["ok"]
        assert store.last_announcement() == DAY
    assert catalog.read_text().count(ids[0]) == 1
    assert sqlite3.connect(rig.root / "state.db").execute(
        "PRAGMA integrity_check").fetchone() == ("ok",)


def test_second_instance_is_refused(rig: Rig) -> None:
    """A second `run` on the same state exits 1 with a clear message; the first keeps going."""
    first = rig.start()
    first.url()
    second = rig.start()
    assert second.p.wait(15) == 1
    assert "another arxivwatch is already running" in second.text()
    assert f"pid {first.p.pid}" in second.text()
    assert first.p.poll() is None
    assert first.stop() == 0


def test_kill_9_mid_poll_then_restart_posts_each_paper_once(rig: Rig) -> None:
    """Killed while arXiv stalls, restarted: the digest goes out, every paper exactly once."""
    rig.arxiv.script(["ok", "stall:30"], path="/api")   # catalog look-up, then enrichment
    proc = rig.start("--now")
    wait_for(lambda: rig.arxiv.times("/rss") and rig.arxiv.times("/api"),
             what="the feed and the first API call", proc=proc)
    time.sleep(0.3)   # the enrichment call is now held by the fake
    proc.kill()
    assert rig.posted_ids() == Counter()
    again = rig.start()   # no --now: the missed announcement is caught up on start
    wait_for(lambda: "poll finished" in again.text(), what="the catch-up poll", proc=again)
    assert "catching up" in again.text()
    assert rig.posted_ids() == Counter(ids)
    assert again.stop() == 0


def test_kill_9_after_slack_accepted_then_restart_posts_nothing_twice(rig: Rig) -> None:
    """Killed while Slack holds its answer to a post it made: the restart finds it, no repeat."""
    rig.slack.script(["stall:30"], method="chat.postMessage")
    proc = rig.start("--now")
    wait_for(lambda: rig.slack.calls_to("chat.postMessage"), what="the first post", proc=proc)
    time.sleep(0.2)
    proc.kill()
    again = rig.start()
    wait_for(lambda: "poll finished" in again.text(), what="the restarted poll", proc=again)
    assert rig.posted_ids() == Counter(ids)
    code = again.stop()
    assert code == 0, again.text()
    with rig.store() as store:
        assert store.unposted() == []


def test_a_second_signal_exits_at_once(rig: Rig) -> None:
    """SIGTERM waits for the stalled poll; a second SIGTERM exits at once with 128 + 15."""
    rig.arxiv.script(["stall:30"], path="/api")
    proc = rig.start("--now")
    wait_for(lambda: "poll started" in proc.text(), what="the poll", proc=proc)
    time.sleep(0.3)
    proc.p.send_signal(signal.SIGTERM)
    wait_for(lambda: "stopping:" in proc.text(), what="the graceful stop", proc=proc)
    time.sleep(0.3)
    assert proc.p.poll() is None   # still letting the poll finish
    assert proc.stop(signal.SIGTERM, timeout=5) == 128 + signal.SIGTERM
