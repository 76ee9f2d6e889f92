"""Slack delivery: post then record, retries, crash recovery, clear errors, terminal output."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from arxivwatch.entry import entry_preview
from arxivwatch.errors import SlackError
from arxivwatch.models import Candidate, Hit, Paper
from arxivwatch.render import make_env
from arxivwatch.slack.delivery import (
    EVENT_TYPE,
    INTENT_KEY,
    SlackDelivery,
    TerminalDelivery,
    make_client,
)
from arxivwatch.store import Store
from tests.fakes.slack_server import FakeSlack

DAY = dt.date(2024, 6, 3)
NOW = 1717500000.0  # the delivery's clock; the fake stamps messages with the real time (later)
SECTIONS = ["LLM Training / Techniques", "Model Compression / Pruning"]
PREVIEW = entry_preview(make_env(None, slack=False))
CHANNEL_ID = "C0LLMPAPERS"


class Crash(Exception):
    """Stands for the process dying (kill -9) at a chosen point."""


def cand(n: int, section: str = SECTIONS[0], score: float = 0.5) -> Candidate:
    paper = Paper(id=f"2406.{n:05d}", title=f"Paper {n}", abstract="We adapt low-rank models.",
                  authors=("Ada", "Bert"), categories=("cs.LG",), day=DAY)
    return Candidate(paper=paper, topic="t", section=section, score=score, day=DAY,
                     hits=(Hit("LoRA", "ti"),), reasons=("similar to catalog: LoRA (0.70)",), rank=n)


@pytest.fixture
def env() -> Environment:
    return make_env(None, slack=True)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'state.db'}") as s:
        yield s


class Harness:
    """A SlackDelivery on the fake, with its recorded sleeps."""

    def __init__(self, fake_slack: FakeSlack, channel: str = "#llm-papers", *,
                 client: Any = None, timeout: float = 5) -> None:
        self.sleeps: list[float] = []
        self.client = client or WebClient(token=fake_slack.token, base_url=fake_slack.api_url,
                                          timeout=timeout, retry_handlers=[])  # type: ignore[arg-type]
        self.delivery = SlackDelivery(self.client, channel, sleep=self.sleeps.append,
                                      clock=lambda: NOW)

    def run(self, store: Any, env: Environment, **kw: Any) -> Any:
        kw.setdefault("catalog_line", PREVIEW)
        return self.delivery.deliver(store, env=env, sections=SECTIONS, **kw)


class CrashingClient:
    """Delegates to a WebClient but dies before (or after) the n-th chat.postMessage."""

    def __init__(self, client: WebClient, *, before: int | None = None,
                 after: int | None = None) -> None:
        self.client, self.before, self.after, self.posts = client, before, after, 0

    def chat_postMessage(self, **kw: Any) -> Any:
        self.posts += 1
        if self.posts == self.before:
            raise Crash("died before posting")
        resp = self.client.chat_postMessage(**kw)
        if self.posts == self.after:
            raise Crash("died after Slack accepted the post")
        return resp

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def digests(fake_slack: FakeSlack) -> list[dict[str, Any]]:
    return [m for m in fake_slack.messages() if (m.get("metadata") or {}).get("event_type") == EVENT_TYPE]


def posted_ids(fake_slack: FakeSlack) -> list[str]:
    return [pid for m in digests(fake_slack) for pid in m["metadata"]["event_payload"]["ids"]]


# -- the normal path -------------------------------------------------------------------------


def test_posts_each_section_then_records_channel_and_ts(fake_slack: FakeSlack, store: Store,
                                                        env: Environment) -> None:
    """One message per section; each candidate records the channel id and its message ts."""
    store.add_candidates([cand(1), cand(2, SECTIONS[1]), cand(3, score=0.9)])
    report = Harness(fake_slack).run(store, env)
    assert (report.posted_messages, report.posted_papers) == (2, 3)
    msgs = digests(fake_slack)
    assert [m["metadata"]["event_payload"]["ids"] for m in msgs] == [
        ["2406.00003", "2406.00001"], ["2406.00002"]]
    for pid, msg in [("2406.00001", msgs[0]), ("2406.00002", msgs[1])]:
        row = store.get_candidate(pid)
        assert row is not None
        assert (row.status, row.slack_channel, row.slack_ts) == ("posted", CHANNEL_ID, msg["ts"])
    assert store.unposted() == []
    assert store.get_meta(INTENT_KEY) is None
    call = fake_slack.calls_to("chat.postMessage")[0]
    assert call.args["unfurl_links"] is False
    assert call.headers["authorization"] == f"Bearer {fake_slack.token}"


def test_second_run_posts_nothing(fake_slack: FakeSlack, store: Store, env: Environment) -> None:
    """A rerun with nothing new posts nothing."""
    store.add_candidates([cand(1)])
    harness = Harness(fake_slack)
    harness.run(store, env)
    assert harness.run(store, env).posted_messages == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1


def test_intent_is_written_before_the_post(fake_slack: FakeSlack, store: Store,
                                           env: Environment) -> None:
    """When Slack is called, the store already names the batch and its papers."""
    store.add_candidates([cand(1), cand(2)])
    seen: list[dict[str, Any]] = []
    real = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])

    class Spy(CrashingClient):
        def chat_postMessage(self, **kw: Any) -> Any:
            intent = json.loads(store.get_meta(INTENT_KEY) or "{}")
            seen.append(intent)
            assert intent["batch"] == kw["metadata"]["event_payload"]["batch"]
            return super().chat_postMessage(**kw)

    Harness(fake_slack, client=Spy(real)).run(store, env)
    assert seen[0]["ids"] == ["2406.00001", "2406.00002"]


# -- 429, 5xx, timeouts ----------------------------------------------------------------------


def test_429_on_first_post_waits_retry_after(fake_slack: FakeSlack, store: Store,
                                             env: Environment) -> None:
    """A 429 is waited out for exactly Retry-After seconds (injected sleep), then posted once."""
    store.add_candidates([cand(1)])
    fake_slack.script(["429:7"], method="chat.postMessage")
    harness = Harness(fake_slack)
    assert harness.run(store, env).posted_papers == 1
    assert harness.sleeps == [7.0]
    assert [c.status for c in fake_slack.calls_to("chat.postMessage")] == [429, 200]
    assert len(digests(fake_slack)) == 1


def test_5xx_retries_with_backoff_and_checks_history(fake_slack: FakeSlack, store: Store,
                                                     env: Environment) -> None:
    """503s are retried with growing waits; history is checked in between; posted once."""
    store.add_candidates([cand(1)])
    fake_slack.script(["503", "500"], method="chat.postMessage")
    harness = Harness(fake_slack, CHANNEL_ID)
    assert harness.run(store, env).posted_papers == 1
    assert harness.sleeps == [2.0, 4.0]
    assert len(fake_slack.calls_to("conversations.history")) == 2
    assert len(digests(fake_slack)) == 1


def test_persistent_5xx_raises_and_leaves_candidates_for_next_run(
        fake_slack: FakeSlack, store: Store, env: Environment) -> None:
    """After bounded retries a SlackError; nothing recorded; the next run posts them once."""
    store.add_candidates([cand(1)])
    fake_slack.script(["503"] * 4, method="chat.postMessage")
    harness = Harness(fake_slack, CHANNEL_ID)
    with pytest.raises(SlackError, match=r"failed 4 times .*HTTP 503.*next run"):
        harness.run(store, env)
    assert [c.id for c in store.unposted()] == ["2406.00001"]
    assert harness.run(store, env).posted_papers == 1
    assert posted_ids(fake_slack) == ["2406.00001"]


def test_timeout_after_slack_posted_is_recovered_not_reposted(
        fake_slack: FakeSlack, store: Store, env: Environment) -> None:
    """Slack posts but the answer times out: history finds the message; no second post."""
    store.add_candidates([cand(1)])
    fake_slack.script(["stall:1"], method="chat.postMessage")
    harness = Harness(fake_slack, CHANNEL_ID, timeout=0.2)
    assert harness.run(store, env).posted_papers == 1
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    row = store.get_candidate("2406.00001")
    assert row is not None
    assert row.slack_ts == digests(fake_slack)[0]["ts"]


# -- crashes ---------------------------------------------------------------------------------


def test_crash_between_two_messages_then_rerun_posts_exactly_the_rest(
        fake_slack: FakeSlack, store: Store, env: Environment) -> None:
    """Dying before the second message: the rerun posts only the second section's papers."""
    store.add_candidates([cand(1), cand(2, SECTIONS[1]), cand(3, SECTIONS[1])])
    real = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])
    with pytest.raises(Crash):
        Harness(fake_slack, client=CrashingClient(real, before=2)).run(store, env)
    assert sorted(c.id for c in store.unposted()) == ["2406.00002", "2406.00003"]
    report = Harness(fake_slack).run(store, env)
    assert report.paper_ids == ("2406.00002", "2406.00003")
    assert sorted(posted_ids(fake_slack)) == ["2406.00001", "2406.00002", "2406.00003"]
    assert store.unposted() == []


def test_crash_after_post_before_record_is_recovered_from_history(
        fake_slack: FakeSlack, store: Store, env: Environment) -> None:
    """Slack accepted, we died before recording: the rerun finds the batch and records it."""
    store.add_candidates([cand(1), cand(2, SECTIONS[1])])
    real = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])
    harness = Harness(fake_slack, CHANNEL_ID, client=CrashingClient(real, after=1))
    with pytest.raises(Crash):
        harness.run(store, env)
    first_ts = digests(fake_slack)[0]["ts"]
    report = Harness(fake_slack, CHANNEL_ID).run(store, env)
    assert report.recovered == 1
    assert report.paper_ids == ("2406.00002",)
    assert sorted(posted_ids(fake_slack)) == ["2406.00001", "2406.00002"]  # nothing twice
    row = store.get_candidate("2406.00001")
    assert row is not None
    assert row.slack_ts == first_ts
    history = fake_slack.calls_to("conversations.history")[0].args
    assert history["include_all_metadata"] == "1"
    assert float(history["oldest"]) < NOW


def test_recovery_by_channel_name_uses_the_stored_channel_id(
        fake_slack: FakeSlack, store: Store, env: Environment) -> None:
    """A `#name` channel still recovers: the id learnt from an earlier post was stored."""
    store.add_candidates([cand(1)])
    Harness(fake_slack).run(store, env)
    store.add_candidates([cand(2)])
    real = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])
    with pytest.raises(Crash):
        Harness(fake_slack, client=CrashingClient(real, after=1)).run(store, env)
    assert Harness(fake_slack).run(store, env).recovered == 1
    assert sorted(posted_ids(fake_slack)) == ["2406.00001", "2406.00002"]


def test_unreadable_history_falls_back_to_posting_with_a_warning(
        store: Store, env: Environment, caplog: pytest.LogCaptureFixture) -> None:
    """Without channels:history the interrupted batch is posted again, and a warning says why."""
    store.add_candidates([cand(1)])
    with FakeSlack(scopes={"chat:write"}) as fake_slack:
        real = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])
        with pytest.raises(Crash):
            Harness(fake_slack, CHANNEL_ID, client=CrashingClient(real, after=1)).run(store, env)
        with caplog.at_level(logging.WARNING, logger="arxivwatch.slack.delivery"):
            report = Harness(fake_slack, CHANNEL_ID).run(store, env)
    assert report.posted_papers == 1
    assert posted_ids(fake_slack) == ["2406.00001", "2406.00001"]  # the documented trade-off
    assert "channels:history" in caplog.text


def test_crash_after_record_before_clearing_intent_posts_nothing(
        fake_slack: FakeSlack, store: Store, env: Environment) -> None:
    """An intent whose papers are already recorded is simply dropped."""
    store.add_candidates([cand(1)])
    Harness(fake_slack).run(store, env)
    store.set_meta(INTENT_KEY, json.dumps({"batch": "b", "ids": ["2406.00001"], "at": NOW,
                                           "channel": "#llm-papers", "channel_id": None}))
    assert Harness(fake_slack).run(store, env).posted_messages == 0
    assert store.get_meta(INTENT_KEY) is None
    assert fake_slack.calls_to("conversations.history") == []


# -- errors a user must fix ------------------------------------------------------------------


@pytest.mark.parametrize(("setup", "expected"), [
    ({"channels": {"C0OTHER": "general"}}, "channel #llm-papers not found: check slack.channel"),
    ({"member_of": ()}, "invite the bot: /invite @arxivwatch in #llm-papers"),
    ({"token": "xoxb-other"}, "(invalid_auth): check SLACK_BOT_TOKEN"),
    ({"script": "token_revoked"}, "(token_revoked): check SLACK_BOT_TOKEN"),
    ({"script": "account_inactive"}, "(account_inactive): check SLACK_BOT_TOKEN"),
    ({"script": "missing_scope"}, "lacks the scope ?: add it under OAuth & Permissions"),
])
def test_clear_message_for_each_configuration_error(
        store: Store, env: Environment, setup: dict[str, Any], expected: str) -> None:
    """Each configuration error raises one SlackError saying what to fix; nothing recorded."""
    store.add_candidates([cand(1)])
    script = setup.pop("script", None)
    with FakeSlack(**setup) as fake_slack:
        if script:
            fake_slack.script([script])
        client = make_client("xoxb-test", fake_slack.api_url)
        delivery = SlackDelivery(client, "#llm-papers", sleep=lambda s: None, clock=lambda: NOW)
        with pytest.raises(SlackError) as info:
            delivery.deliver(store, env=env, sections=SECTIONS, catalog_line=PREVIEW)
    assert expected in str(info.value)
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # no pointless retries
    assert [c.id for c in store.unposted()] == ["2406.00001"]


# -- notes, updates --------------------------------------------------------------------------


def test_nothing_new_note_posts_once_per_day(fake_slack: FakeSlack, store: Store,
                                             env: Environment) -> None:
    """With post_empty_note, an empty day posts one note, and a second poll no other."""
    harness = Harness(fake_slack)
    assert harness.run(store, env, post_empty_note=True, day=DAY).posted_messages == 1
    assert harness.run(store, env, post_empty_note=True, day=DAY).posted_messages == 0
    assert harness.run(store, env, day=DAY + dt.timedelta(days=1)).posted_messages == 0
    assert [m["text"] for m in fake_slack.messages()] == [
        "Nothing new on arXiv for your topics on 2024-06-03."]


def test_no_note_after_a_day_that_had_candidates(fake_slack: FakeSlack, store: Store,
                                                 env: Environment) -> None:
    """A later empty poll on a day that brought papers says nothing."""
    store.add_candidates([cand(1)])
    harness = Harness(fake_slack)
    harness.run(store, env, post_empty_note=True, day=DAY)
    assert harness.run(store, env, post_empty_note=True, day=DAY).posted_messages == 0


def test_no_announcement_is_said_once(fake_slack: FakeSlack, store: Store, env: Environment) -> None:
    """A day without an arXiv announcement is reported once, however often we poll."""
    harness = Harness(fake_slack)
    for _ in range(3):
        harness.run(store, env, announced=False, day=DAY)
    assert [m["text"] for m in fake_slack.messages()] == [
        "arXiv made no announcement for 2024-06-03; nothing to review."]


def test_update_message_rewrites_by_channel_id(fake_slack: FakeSlack, store: Store,
                                               env: Environment) -> None:
    """update_message sends chat.update to the stored channel id and ts."""
    store.add_candidates([cand(1)])
    harness = Harness(fake_slack)
    harness.run(store, env)
    row = store.get_candidate("2406.00001")
    assert row is not None
    assert row.slack_channel is not None
    assert row.slack_ts is not None
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "decided"}}]
    fake_slack.script(["429:3"], method="chat.update")
    harness.delivery.update_message(row.slack_channel, row.slack_ts, blocks, "decided")
    assert fake_slack.message(CHANNEL_ID, row.slack_ts)["blocks"] == blocks
    assert harness.sleeps == [3.0]


# -- without Slack ---------------------------------------------------------------------------


def test_terminal_delivery_prints_a_readable_digest() -> None:
    """Grouped by section, best first, with link, why, score and catalog line; no store."""
    out = io.StringIO()
    hostile = Candidate(paper=Paper(id="2406.00009", title="Evil\x1b[2J title\nsplit"),
                        topic="t", section=SECTIONS[1], score=0.1, day=DAY)
    report = TerminalDelivery(out, sections=SECTIONS, catalog_line=lambda c: f"- [{c.paper.id}]") \
        .show([cand(1, score=0.2), hostile, cand(2, score=0.9)])
    text = out.getvalue()
    assert report.paper_ids == ("2406.00002", "2406.00001", "2406.00009")
    assert text.index("Paper 2") < text.index("Paper 1") < text.index(SECTIONS[1])
    assert f"== {SECTIONS[0]} · 2024-06-03 (2) ==" in text
    assert " 1. Paper 2\n    https://arxiv.org/abs/2406.00002\n    Ada, Bert · cs.LG\n" in text
    assert "    why: title: LoRA · closest: LoRA\n    score: 0.90\n" in text
    assert "    adds: - [2406.00002]\n" in text
    assert "Evil [2J title split" in text   # the control made a space, as in the catalog
    assert "\x1b" not in text


@pytest.mark.parametrize(("kw", "expected"), [
    ({"announced": False, "day": DAY}, "arXiv made no announcement for 2024-06-03.\n"),
    ({"day": DAY}, "No new candidates for 2024-06-03.\n"),
])
def test_terminal_delivery_says_when_there_is_nothing(kw: dict[str, Any], expected: str) -> None:
    """An empty or unannounced day prints one line."""
    out = io.StringIO()
    TerminalDelivery(out, catalog_line=PREVIEW).show([], **kw)
    assert out.getvalue() == expected


def test_recovery_pages_through_a_busy_channel(fake_slack: FakeSlack, store: Store,
                                               env: Environment) -> None:
    """The interrupted batch is found even behind 250 newer messages (history pagination)."""
    store.add_candidates([cand(1)])
    real = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])
    with pytest.raises(Crash):
        Harness(fake_slack, CHANNEL_ID, client=CrashingClient(real, after=1)).run(store, env)
    for i in range(250):
        fake_slack.add_message(CHANNEL_ID, text=f"chatter {i}")
    assert Harness(fake_slack, CHANNEL_ID).run(store, env).recovered == 1
    assert len(fake_slack.calls_to("conversations.history")) == 2
    assert posted_ids(fake_slack) == ["2406.00001"]


# -- the fake itself (others rely on it) -----------------------------------------------------


def test_fake_refuses_invalid_blocks_and_update_by_name(fake_slack: FakeSlack) -> None:
    """invalid_blocks lists the problems; chat.update wants a channel id, like Slack."""
    client = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])
    bad = [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}]
    with pytest.raises(SlackApiError) as info:
        client.chat_postMessage(channel="#llm-papers", text="t", blocks=bad)
    assert info.value.response["error"] == "invalid_blocks"
    assert info.value.response["problems"] == ["text: 151 chars > 150"]
    ts = client.chat_postMessage(channel="#llm-papers", text="t")["ts"]
    with pytest.raises(SlackApiError, match="channel_not_found"):
        client.chat_update(channel="#llm-papers", ts=ts, text="u")
    client.chat_update(channel=CHANNEL_ID, ts=ts, text="u")
    assert fake_slack.message(CHANNEL_ID, ts)["text"] == "u"


def test_fake_response_url_ephemeral_and_views(fake_slack: FakeSlack) -> None:
    """response_url replace_original rewrites the message; ephemerals and modals are recorded."""
    client = WebClient(token=fake_slack.token, base_url=fake_slack.api_url, retry_handlers=[])
    ts = client.chat_postMessage(channel=CHANNEL_ID, text="t")["ts"]
    url = fake_slack.response_url(CHANNEL_ID, ts)
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "done"}}]
    assert WebhookClient(url).send(text="done", blocks=blocks, replace_original=True).status_code \
        == 200
    assert fake_slack.message(CHANNEL_ID, ts)["blocks"] == blocks
    assert fake_slack.responses[1][0]["replace_original"] is True
    client.chat_postEphemeral(channel=CHANNEL_ID, user="U0CURATOR", text="already approved")
    assert fake_slack.ephemerals[0]["text"] == "already approved"
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Edit"}, "blocks": []}
    assert client.views_open(trigger_id="t1", view=view)["view"]["id"] == "V000001"
    assert fake_slack.users["U0CURATOR"] == client.users_info(user="U0CURATOR")["user"]["name"]
