"""Load on `arxivwatch serve` (HTTP mode) as a team makes it, against the fake Slack (issue 16).

Each scenario runs a fresh `arxivwatch serve --port 0` subprocess on a throwaway project (catalog,
config, a state database holding the candidates, posted five to a digest message in the fake Slack
Web API of tests/fakes on 127.0.0.1):

  burst N    N signed approve clicks sent at once (a barrier, one connection each) on N distinct
             papers: how many were answered 200, how many failed (reset, refused, timed out), and
             whether each answered paper was filed into the catalog exactly once (and no other).
  held       150 idle connections and 100 that drip one header byte every 4 s are opened; then a
             signed click and GET /healthz are sent through them; for 35 s the server process's
             threads and resident memory are sampled, and the held connections the server closed
             are counted.

    .venv/bin/python bench/slack_load.py                  # this tree
    .venv/bin/python bench/slack_load.py --src OTHER/src  # another tree's code (e.g. main before)

Not a test: it takes about a minute and prints figures. Linux only (reads /proc).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "src")]

from tests.fakes.slack_server import FakeSlack  # noqa: E402
from tests.test_slack_interactions import block_action, form, sign  # noqa: E402

from arxivwatch.models import Candidate, Paper  # noqa: E402
from arxivwatch.store import Store  # noqa: E402

SECRET = "bench-signing-secret"  # noqa: S105 - a fixture
CHANNEL = "C0LLMPAPERS"
SECTION = "LLM Training > Techniques"
PER_MESSAGE = 5
CATALOG = ("# Papers\n\n## LLM Training\n### Techniques\n"
           "- [Arxiv 2021] [LoRA](https://arxiv.org/abs/2106.09685). Low rank.\n")
CONFIG = f"""\
catalog:
  path: README.md
slack:
  channel: "{CHANNEL}"
  api_url: {{api}}
state:
  url: sqlite:///state.db
topics:
  - name: lora
    section: {SECTION}
    query: 'ti:LoRA'
"""


def ids(n: int, offset: int = 0) -> list[str]:
    return [f"2611.{i:05d}" for i in range(offset + 1, offset + n + 1)]


class Project:
    """A project folder with `papers` stored as candidates, posted to the fake Slack."""

    def __init__(self, root: Path, fake: FakeSlack, papers: list[str]) -> None:
        self.root, self.fake = root, fake
        (root / "README.md").write_text(CATALOG, encoding="utf-8")
        (root / "topics.yaml").write_text(CONFIG.format(api=fake.api_url), encoding="utf-8")
        self.messages: dict[str, dict[str, Any]] = {}
        with Store.open(f"sqlite:///{root / 'state.db'}") as store:
            for start in range(0, len(papers), PER_MESSAGE):
                group = papers[start:start + PER_MESSAGE]
                blocks = [{"type": "actions", "block_id": f"paper:{pid}", "elements": [
                    {"type": "button", "action_id": f"approve:{pid}", "value": pid,
                     "text": {"type": "plain_text", "text": "Approve"}}]} for pid in group]
                message = fake.add_message(CHANNEL, text="digest", blocks=blocks, user="U0BOT")
                store.add_candidates([Candidate(
                    Paper(pid, f"LoRA variant {pid}", f"A LoRA method numbered {pid}."), "lora",
                    SECTION, 1.0, dt.date(2026, 11, 24)) for pid in group])
                store.mark_posted(group, CHANNEL, message["ts"])
                self.messages.update(dict.fromkeys(group, message))

    def click(self, pid: str) -> bytes:
        return form(block_action("approve", pid, self.messages[pid]))

    def filed(self) -> Counter[str]:
        text = (self.root / "README.md").read_text(encoding="utf-8")
        return Counter(re.findall(r"arxiv\.org/abs/(2611\.\d{5})", text))


@contextlib.contextmanager
def serving(project: Project, src: Path) -> Iterator[tuple[str, int]]:
    """`arxivwatch serve --port 0` in HTTP mode on `src`'s code: (url, pid)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(SLACK_BOT_TOKEN=project.fake.token, SLACK_SIGNING_SECRET=SECRET,
               PYTHONPATH=str(src), NO_PROXY="127.0.0.1", PYTHONUNBUFFERED="1")
    log = project.root / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "arxivwatch", "--config", str(project.root / "topics.yaml"),
             "serve", "--port", "0"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not (found := re.search(r"(http://127\.0\.0\.1:\d+)/slack/events", log.read_text())):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"serve did not start:\n{log.read_text()}")
            time.sleep(0.05)
        yield found.group(1), proc.pid
    finally:
        proc.terminate()
        proc.wait(30)


def post(url: str, body: bytes) -> tuple[str, float]:
    """POST one signed click; ('200', seconds) or (the error's name, seconds)."""
    started = time.monotonic()
    try:
        resp = requests.post(f"{url}/slack/events", data=body, timeout=10,
                             headers=sign(body, secret=SECRET, ts=int(time.time())))
        outcome = str(resp.status_code)
    except requests.RequestException as exc:
        cause = exc.__context__ or exc
        while cause.__context__ is not None and not isinstance(cause, OSError):
            cause = cause.__context__
        outcome = type(cause).__name__
    return outcome, time.monotonic() - started


def burst(n: int, src: Path) -> dict[str, Any]:
    """N clicks at once on N papers: answers, and papers filed exactly once."""
    papers = ids(n)
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        project = Project(Path(tmp), fake, papers)
        with serving(project, src) as (url, _):
            barrier, answers = threading.Barrier(n), {}

            def click(pid: str) -> None:
                body = project.click(pid)
                barrier.wait()
                answers[pid] = post(url, body)

            threads = [threading.Thread(target=click, args=(pid,)) for pid in papers]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            ok = [pid for pid in papers if answers[pid][0] == "200"]
            until = time.monotonic() + 60
            while sum(project.filed().values()) < len(ok) and time.monotonic() < until:
                time.sleep(0.2)
            time.sleep(0.5)   # anything filed late, or twice, shows up too
            filed = project.filed()
            updates = len(fake.calls_to("chat.update"))
    return {
        "clicks": n, "answered_200": len(ok),
        "failed": dict(Counter(a[0] for a in answers.values() if a[0] != "200")),
        "filed_once": sum(1 for pid in ok if filed[pid] == 1),
        "filed_twice_or_more": sum(1 for c in filed.values() if c > 1),
        "filed_without_200": sum(1 for pid in filed if pid not in ok),
        "slowest_answer_s": round(max(a[1] for a in answers.values()), 2),
        "chat_update_calls": updates,
    }


def proc_status(pid: int) -> tuple[int, float]:
    """(threads, resident MiB) of a process, from /proc."""
    lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    fields = dict(line.split(":", 1) for line in lines)
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) / 1024


class Held:
    """Idle and slow-drip connections to a server; counts those the server closed."""

    def __init__(self, port: int, idle: int, drip: int) -> None:
        self.idle = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(idle)]
        self.drip = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(drip)]
        self.closed: dict[str, list[float]] = {"idle": [], "drip": []}
        self.started = time.monotonic()
        self._line = b"POST /slack/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n"
        self._sent = 0
        self._open = {"idle": list(self.idle), "drip": list(self.drip)}

    def drip_once(self) -> None:
        byte = self._line[self._sent % len(self._line):][:1]
        self._sent += 1
        for sock in list(self._open["drip"]):
            try:
                sock.sendall(byte)
            except OSError:
                self._gone("drip", sock)

    def check(self) -> None:
        for kind, socks in self._open.items():
            ready, _, _ = select.select(socks, [], [], 0) if socks else ([], [], [])
            for sock in ready:
                try:
                    data = sock.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self._gone(kind, sock)

    def _gone(self, kind: str, sock: socket.socket) -> None:
        if sock in self._open[kind]:
            self._open[kind].remove(sock)
            self.closed[kind].append(round(time.monotonic() - self.started, 1))

    def close(self) -> None:
        for sock in self.idle + self.drip:
            sock.close()


def held(src: Path, *, idle: int = 150, drip: int = 100, hold: float = 35.0,
         every: float = 4.0) -> dict[str, Any]:
    """A click and /healthz through idle and slow connections; threads and memory meanwhile."""
    with FakeSlack() as fake, tempfile.TemporaryDirectory() as tmp:
        project = Project(Path(tmp), fake, ids(1))
        with serving(project, src) as (url, pid):
            time.sleep(0.5)
            before = proc_status(pid)
            conns = Held(int(url.rsplit(":", 1)[1]), idle, drip)
            conns.drip_once()
            time.sleep(1.0)
            during = proc_status(pid)
            click = post(url, project.click(ids(1)[0]))
            started = time.monotonic()
            try:
                health = str(requests.get(f"{url}/healthz", timeout=10).status_code)
            except requests.RequestException as exc:
                health = type(exc).__name__
            health_s = time.monotonic() - started
            samples = [during]
            next_drip = time.monotonic() + every
            while time.monotonic() - conns.started < hold:
                time.sleep(0.5)
                if time.monotonic() >= next_drip:
                    conns.drip_once()
                    next_drip += every
                conns.check()
                samples.append(proc_status(pid))
            conns.close()
            time.sleep(1.0)
            filed = project.filed()
    return {
        "held": f"{idle} idle + {drip} dripping a byte every {every:.0f} s, for {hold:.0f} s",
        "click": f"{click[0]} in {click[1]:.2f} s, filed {filed[ids(1)[0]]}x",
        "healthz": f"{health} in {health_s:.2f} s",
        "threads": f"{before[0]} before, {min(s[0] for s in samples)}-"
                   f"{max(s[0] for s in samples)} while held",
        "rss_mib": f"{before[1]:.0f} before, max {max(s[1] for s in samples):.0f} while held",
        "closed_by_server": {k: f"{len(v)} (at {min(v, default=0)}-{max(v, default=0)} s)"
                             for k, v in conns.closed.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=ROOT / "src",
                        help="the arxivwatch source tree whose `serve` is measured")
    parser.add_argument("--bursts", type=int, nargs="*", default=[60, 200])
    args = parser.parse_args()
    src = args.src.resolve()
    print(f"serve from {src}")
    for n in args.bursts:
        print(json.dumps({"burst": burst(n, src)}))
    print(json.dumps({"held": held(src)}))


if __name__ == "__main__":
    main()
