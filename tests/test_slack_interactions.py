"""Slack interactions: signed requests, ack first, approve/reject/edit, one decision stands."""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_bolt import App, BoltRequest, BoltResponse
from slack_sdk import WebClient

from arxivwatch.decisions import DecisionService
from arxivwatch.entry import entry_preview
from arxivwatch.models import Candidate
from arxivwatch.render import make_env
from arxivwatch.slack.blocks import default_env, paper_blocks
from arxivwatch.slack.decider import SlackDecider
from arxivwatch.slack.interactions import chosen_section, make_app
from tests.fakes.slack_server import FakeSlack
from tests.slack_requests import CHANNEL, NOW_TS, SECRET, Workers, block_action, form, sign
from tests.test_decisions import (
    CATALOG,
    NOW,
    OTHER,
    PAPER,
    decided,
    make_settings,
    make_store,
)

SECTIONS = ["LLM Training > Techniques", "Model Compression > Pruning",
            "Model Compression > Low-rank Decomposition"]


def digest_blocks() -> list[dict[str, Any]]:
    """A two-paper digest message, built by the real block builder."""
    blocks: list[dict[str, Any]] = []
    for paper, topic, section in [(PAPER, "lora", SECTIONS[0]), (OTHER, "pruning", SECTIONS[1])]:
        cand = Candidate(paper, topic, section, 2.0, dt.date(2024, 6, 4))
        blocks += paper_blocks(cand, env=default_env(), sections=SECTIONS,
                               catalog_line=entry_preview(make_env(None, slack=False)))
    return blocks


class Rig:
    """A catalog, a store, the fake Slack with one digest message, and the Bolt App."""

    def __init__(self, tmp: Path, fake_slack: FakeSlack, **settings: Any) -> None:
        self.catalog = tmp / "README.md"
        self.catalog.write_bytes(CATALOG.encode())
        self.store, self.fake = make_store(), fake_slack
        self.service = DecisionService(self.store, make_settings(self.catalog, **settings),
                                       clock=lambda: NOW)
        self.client = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])
        self.message = fake_slack.add_message(CHANNEL, text="digest", blocks=digest_blocks(),
                                        user="U0BOT")
        self.workers = Workers()
        self.app = self.make(self.service)

    def make(self, service: Any) -> App:
        return make_app(SlackDecider(service, self.client), self.client, signing_secret=SECRET,
                        executor=self.workers, clock=lambda: NOW_TS)

    def dispatch(self, body: bytes, headers: dict[str, str]) -> BoltResponse:
        """A request as Slack sends it over HTTP, dispatched without HTTP."""
        return self.app.dispatch(BoltRequest(body=body.decode(), headers=headers))

    def post(self, payload: dict[str, Any], **sign_kw: Any) -> int:
        body = form(payload)
        return self.dispatch(body, sign(body, **sign_kw)).status

    def click(self, kind: str, pid: str, **kw: Any) -> int:
        return self.post(block_action(kind, pid, self.message, **kw))

    def settle(self) -> None:
        """Wait for the work scheduled after the acks."""
        self.workers.settle()

    def close(self) -> None:
        self.workers.shutdown(wait=True)

    def current(self) -> dict[str, Any]:
        return self.fake.message(CHANNEL, self.message["ts"])

    def block_ids(self) -> list[str]:
        return [b.get("block_id", "") for b in self.current()["blocks"]]


@pytest.fixture
def rig(tmp_path: Path, fake_slack: FakeSlack) -> Iterator[Rig]:
    rig = Rig(tmp_path, fake_slack)
    yield rig
    rig.close()


def _forged(body: bytes) -> dict[str, str]:
    return sign(body, secret="not-the-secret")  # noqa: S106 (the forgery)


@pytest.mark.parametrize(("case", "headers_for"), [
    ("forged", _forged),
    ("unsigned", lambda body: {"Content-Type": "application/x-www-form-urlencoded"}),
    ("stale 301 s", lambda body: sign(body, ts=NOW_TS - 301)),
    ("future 301 s", lambda body: sign(body, ts=NOW_TS + 301)),
    ("non-numeric timestamp", lambda body: sign(body, ts="soon")),
    ("tampered body", lambda body: sign(body.replace(b"approve", b"apprOve"))),
    ("signature not ascii", lambda body: {**sign(body), "X-Slack-Signature": "v0=é"}),
])
def test_refused_requests_change_nothing(rig: Rig, case: str, headers_for: Any) -> None:
    """Missing, forged, stale, future or malformed signatures get 401; nothing changes."""
    before = rig.catalog.read_bytes()
    body = form(block_action("approve", PAPER.id, rig.message))
    resp = rig.dispatch(body, headers_for(body))
    rig.settle()
    assert resp.status == 401, case
    assert rig.catalog.read_bytes() == before
    assert decided(rig.store) == {}
    assert rig.fake.calls_to("chat.update") == []


def test_without_a_signing_secret_every_http_request_is_refused(rig: Rig) -> None:
    """No secret (Socket Mode only): an HTTP request signed with an empty key is still 401."""
    app = make_app(SlackDecider(rig.service, rig.client), rig.client, signing_secret=None,
                   executor=rig.workers, clock=lambda: NOW_TS)
    body = form(block_action("approve", PAPER.id, rig.message))
    assert app.dispatch(BoltRequest(body=body.decode(), headers=sign(body, secret=""))).status \
        == 401
    rig.settle()
    assert decided(rig.store) == {}


def test_requests_leave_the_package_loggers_alone(rig: Rig) -> None:
    """Bolt sets the logger named after its App to the root's level at every request: the App
    is not named `arxivwatch`, or one request would silence every arxivwatch INFO line."""
    package = logging.getLogger("arxivwatch")
    level = package.level
    root = logging.getLogger()
    was = root.level
    root.setLevel(logging.ERROR)
    try:
        assert rig.click("reject", OTHER.id) == 200
        rig.settle()
    finally:
        root.setLevel(was)
    assert package.level == level


def test_timestamp_300s_old_is_accepted(rig: Rig) -> None:
    """Slack's window is inclusive: 300 seconds old still passes."""
    assert rig.post(block_action("reject", OTHER.id, rig.message), ts=NOW_TS - 300) == 200
    rig.settle()
    assert decided(rig.store)[OTHER.id].action == "reject"


def test_approve_files_line_and_updates_message(rig: Rig) -> None:
    """Approve: one line in the suggested section, the paper's buttons replaced, others kept."""
    assert rig.click("approve", PAPER.id) == 200
    rig.settle()
    text = rig.catalog.read_text()
    assert text.count("2402.12354") == 1
    assert text.index("2402.12354") < text.index("## Model Compression")
    ids = rig.block_ids()
    assert f"decided:{PAPER.id}" in ids
    assert f"paper:{PAPER.id}" not in ids
    assert f"paper:{OTHER.id}" in ids
    update = rig.fake.calls_to("chat.update")[0].args
    assert update["channel"] == CHANNEL
    assert update["ts"] == rig.message["ts"]
    assert "<@U0CURATOR>" in json.dumps(rig.current()["blocks"])
    assert rig.fake.ephemerals == []


def test_approve_goes_to_section_chosen_in_select(rig: Rig) -> None:
    """The select's value, sent in `state.values`, decides the section."""
    rig.click("section", PAPER.id, section=SECTIONS[2])
    rig.click("approve", PAPER.id, section=SECTIONS[2])
    rig.settle()
    decision = decided(rig.store)[PAPER.id]
    assert decision.section == SECTIONS[2]
    tail = rig.catalog.read_text().split("### Low-rank  Decomposition", 1)[1]
    assert "2402.12354" in tail


def test_reject_updates_message_only(rig: Rig) -> None:
    """Reject records the decision and updates the message; the catalog is untouched."""
    before = rig.catalog.read_bytes()
    rig.click("reject", OTHER.id)
    rig.settle()
    assert decided(rig.store)[OTHER.id].action == "reject"
    assert rig.catalog.read_bytes() == before
    assert f"decided:{OTHER.id}" in rig.block_ids()


def test_second_click_gets_ephemeral_notice(rig: Rig) -> None:
    """A click on an already-decided paper tells the clicker; the first decision stands."""
    rig.click("approve", PAPER.id)
    rig.settle()
    rig.click("reject", PAPER.id, user="U0OTHER")
    rig.settle()
    assert decided(rig.store)[PAPER.id].action == "approve"
    assert rig.catalog.read_text().count("2402.12354") == 1
    [notice] = rig.fake.ephemerals
    assert notice["user"] == "U0OTHER"
    assert notice["channel"] == CHANNEL
    assert "Already approved" in notice["text"]


def test_concurrent_clicks_one_decision_and_both_papers_shown(rig: Rig) -> None:
    """Many clicks at once: one decision per paper, one line, and the message shows both."""
    barrier = threading.Barrier(6)
    clicks = [("approve", PAPER.id, "U0CURATOR"), ("approve", PAPER.id, "U0OTHER"),
              ("reject", PAPER.id, "U0OTHER"), ("reject", OTHER.id, "U0CURATOR"),
              ("approve", OTHER.id, "U0OTHER"), ("approve", PAPER.id, "U0CURATOR")]

    def go(kind: str, pid: str, user: str) -> None:
        barrier.wait()
        rig.click(kind, pid, user=user)

    threads = [threading.Thread(target=go, args=c) for c in clicks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    rig.settle()
    assert set(decided(rig.store)) == {PAPER.id, OTHER.id}
    approved = decided(rig.store)[PAPER.id].action == "approve"
    assert rig.catalog.read_text().count("2402.12354") == int(approved)
    ids = rig.block_ids()
    assert {f"decided:{PAPER.id}", f"decided:{OTHER.id}"} <= set(ids)
    assert not {f"paper:{PAPER.id}", f"paper:{OTHER.id}"} & set(ids)
    assert len(rig.fake.ephemerals) == 4


def test_non_approver_is_refused(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """Someone not in slack.approvers is told so; no decision, catalog and message unchanged."""
    rig = Rig(tmp_path, fake_slack, approvers=["U0CURATOR"])
    before, blocks = rig.catalog.read_bytes(), rig.current()["blocks"]
    for kind in ("approve", "reject", "edit"):
        assert rig.click(kind, PAPER.id, user="U0OTHER") == 200
    rig.settle()
    rig.close()
    assert decided(rig.store) == {}
    assert rig.catalog.read_bytes() == before
    assert rig.current()["blocks"] == blocks
    assert fake_slack.views == []
    assert len(fake_slack.ephemerals) == 3
    assert all("approvers" in e["text"] and e["user"] == "U0OTHER" for e in fake_slack.ephemerals)


class BlockingService:
    """A service whose approve waits for an event: stands in for slow work (git push...)."""

    def __init__(self) -> None:
        self.release, self.entered = threading.Event(), threading.Event()

    def approve(self, *args: Any, **kw: Any) -> Any:
        self.entered.set()
        self.release.wait(10)
        raise RuntimeError("released")


def test_ack_returns_before_slow_work(rig: Rig) -> None:
    """The 200 comes back while the decision is still running."""
    slow = BlockingService()
    app = rig.make(slow)
    body = form(block_action("approve", PAPER.id, rig.message))
    started = time.monotonic()
    resp = app.dispatch(BoltRequest(body=body.decode(), headers=sign(body)))
    elapsed = time.monotonic() - started
    assert resp.status == 200
    assert resp.body == ""
    assert slow.entered.wait(5)
    assert not slow.release.is_set()
    assert elapsed < 1.0
    slow.release.set()
    rig.settle()


def test_edit_opens_modal_and_submission_approves(rig: Rig) -> None:
    """Edit opens a prefilled modal; submitting it files the edited summary elsewhere."""
    rig.click("edit", PAPER.id, section=SECTIONS[1])
    rig.settle()
    [opened] = rig.fake.views
    view = opened["view"]
    assert opened["trigger_id"] == "1.2.abc"
    meta = json.loads(view["private_metadata"])
    assert meta == {"paper_id": PAPER.id, "channel": CHANNEL, "ts": rig.message["ts"]}
    select = view["blocks"][1]["element"]
    assert select["initial_option"]["value"] == SECTIONS[1]
    assert view["blocks"][2]["element"]["initial_value"]
    submission = {
        "type": "view_submission", "user": {"id": "U0CURATOR"}, "trigger_id": "2.3.def",
        "view": {**view, "id": "V1", "state": {"values": {
            "section": {"section": {"type": "static_select", "selected_option": {
                "text": {"type": "plain_text", "text": SECTIONS[2]}, "value": SECTIONS[2]}}},
            "summary": {"summary": {"type": "plain_text_input", "value": "Two learning rates"}},
        }}},
    }
    assert rig.post(submission) == 200
    rig.settle()
    decision = decided(rig.store)[PAPER.id]
    assert (decision.section, decision.summary) == (SECTIONS[2], "Two learning rates")
    tail = rig.catalog.read_text().split("### Low-rank  Decomposition", 1)[1]
    assert "Two learning rates." in tail
    assert f"decided:{PAPER.id}" in rig.block_ids()


def test_edit_of_a_paper_no_longer_a_candidate_tells_the_clicker(rig: Rig) -> None:
    """Edit on a paper whose candidate row is gone: an ephemeral notice, no modal, no silence."""
    rig.click("edit", "2401.99999")
    rig.settle()
    assert rig.fake.views == []
    [notice] = rig.fake.ephemerals
    assert notice["user"] == "U0CURATOR"
    assert "2401.99999" in notice["text"]


@pytest.mark.parametrize("payload", [
    {"type": "block_actions", "actions": [{"action_id": "frobnicate:1", "value": "x"}]},
    {"type": "shortcut", "callback_id": "x"},
    {"type": "view_submission", "view": {"type": "modal", "callback_id": "someone_else"}},
    {"type": "block_actions", "actions": [{"action_id": "section:2402.12354",
                                           "selected_option": {"value": "X"}}]},
])
def test_other_payloads_are_acked_and_ignored(rig: Rig, payload: dict[str, Any]) -> None:
    """Unknown actions and types: 200, and no decision or Slack call."""
    assert rig.post(payload) == 200
    rig.settle()
    assert decided(rig.store) == {}
    assert rig.fake.calls == []


def test_signed_body_without_a_payload_is_acked_and_ignored(rig: Rig) -> None:
    """A correctly signed body that holds no payload: 200, nothing decided, no Slack call."""
    body = b"hello=world"
    assert rig.dispatch(body, sign(body)).status == 200
    rig.settle()
    assert decided(rig.store) == {}
    assert rig.fake.calls == []


def test_socket_payload_is_dispatched_without_signature(rig: Rig) -> None:
    """Socket Mode payloads skip the signature check (the app token authenticated them)."""
    payload = block_action("reject", PAPER.id, rig.message)
    assert rig.app.dispatch(BoltRequest(body=payload, mode="socket_mode")).status == 200
    rig.settle()
    assert decided(rig.store)[PAPER.id].action == "reject"


def test_chosen_section_reads_the_papers_select() -> None:
    """Only the select of the clicked paper counts."""
    payload = {"state": {"values": {
        "paper:1": {"section:1": {"selected_option": {"value": "A"}}},
        "paper:2": {"section:2": {"selected_option": {"value": "B"}}}}}}
    assert chosen_section(payload, "2", "paper:2") == "B"
    assert chosen_section(payload, "3", "paper:3") is None
