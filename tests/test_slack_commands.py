"""`/arxivwatch` and the "File in catalog" shortcut: signed requests through Bolt, the real
workbench on a real project (config, catalog, store), the fake Slack recording `views.*` and
every `response_url` post, and a fake arXiv for the look-ups."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from slack_bolt import App, BoltRequest
from slack_sdk import WebClient

from arxivwatch.catalog import summarize
from arxivwatch.config import load
from arxivwatch.config.live import LiveConfig, secret_env
from arxivwatch.decisions import DecisionService
from arxivwatch.slack.commands import parse_command, split_tune, unformat
from arxivwatch.slack.decider import SlackDecider
from arxivwatch.slack.interactions import make_app
from arxivwatch.slack.shortcut import links_in
from arxivwatch.store import Store
from arxivwatch.workbench import AppWorkbench
from tests.fakes.arxiv_server import FakeArxiv
from tests.fakes.slack_server import FakeSlack
from tests.scenarios.project import DAY, DAY_PAPERS, Project, paper
from tests.slack_requests import CHANNEL, NOW_TS, SECRET, Workers, form, sign
from tests.test_decisions import NOW

# Shared on Slack, not in the store: the shortcut looks them up.
SHARED = [
    paper("2611.00090", "SparseLoRA: Sparse Low-Rank Adaptation for Fast Fine-Tuning",
          "We propose a low-rank adaptation with sparse updates that speeds up LoRA."),
    paper("2611.00091", "A Benchmark of Pruning Methods for Large Language Models",
          "We evaluate pruning of large language models on many tasks."),
]


class World:
    """A project polled once (its papers stored), the fakes, and the Bolt App on it."""

    def __init__(self, tmp: Path, arxiv: FakeArxiv, slack: FakeSlack) -> None:
        self.project = Project(tmp, arxiv_url=arxiv.url, slack_url=slack.api_url)
        assert self.project.run("poll").exit_code == 0   # stores the day's papers
        self.arxiv, self.slack = arxiv, slack
        self.env = {"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": SECRET}
        self.live = LiveConfig(load(self.project.config, self.env), secret_env(
            load(self.project.config, self.env).slack))
        self.store = Store.open(self.live.settings.state.url)
        self.service = DecisionService(self.store, self.live.view(), clock=lambda: NOW)
        self.client = WebClient(token=slack.token, base_url=slack.api_url, retry_handlers=[])
        self.workbench = AppWorkbench(self.live, self.store, self.service, clock=lambda: NOW)
        self.workers = Workers()
        self.app: App = make_app(SlackDecider(self.service, self.client), self.client,
                                 signing_secret=SECRET, executor=self.workers,
                                 clock=lambda: NOW_TS, workbench=self.workbench)

    def close(self) -> None:
        self.workers.shutdown(wait=True)
        self.store.close()

    def dispatch(self, body: bytes, headers: dict[str, str] | None = None) -> Any:
        resp = self.app.dispatch(BoltRequest(body=body.decode(), headers=headers or sign(body)))
        self.workers.settle()
        return resp

    def command(self, text: str, *, user: str = "U0CURATOR", **sign_kw: Any) -> dict[str, Any]:
        """Types `/arxivwatch text`; the one answer posted to its response_url."""
        url = self.slack.response_url()
        body = command_body(text, url, user=user)
        resp = self.dispatch(body, sign(body, **sign_kw))
        assert resp.status == 200, resp.body
        [answer] = self.slack.responses[_number(url)]
        return answer

    def click_save(self, answer: dict[str, Any], *, user: str = "U0CURATOR") -> dict[str, Any]:
        """Clicks "Save this query" under a tune answer; the answer to the click."""
        button = next(e for b in answer["blocks"] if b["type"] == "actions"
                      for e in b["elements"] if e["action_id"] == "save_query")
        url = self.slack.response_url()
        payload = {"type": "block_actions", "user": {"id": user}, "team": {"id": "T0"},
                   "api_app_id": "A0", "trigger_id": "3.4.save", "response_url": url,
                   "container": {"type": "message", "message_ts": "1.1", "channel_id": CHANNEL,
                                 "is_ephemeral": True},
                   "channel": {"id": CHANNEL}, "actions": [{**button, "block_id": "tune_save"}]}
        assert self.dispatch(form(payload)).status == 200
        [said] = self.slack.responses[_number(url)]
        return said

    def set_approvers(self, *users: str) -> None:
        text = self.project.config.read_text()
        self.project.config.write_text(text.replace(
            "slack:\n", f"slack:\n  approvers: [{', '.join(users)}]\n"))
        self.live.refresh()


def command_body(text: str, response_url: str, *, user: str = "U0CURATOR") -> bytes:
    """The form Slack posts for a slash command."""
    return urlencode({
        "token": "legacy", "team_id": "T0", "team_domain": "fake", "channel_id": CHANNEL,
        "channel_name": "llm-papers", "user_id": user, "user_name": user.lower(),
        "command": "/arxivwatch", "text": text, "api_app_id": "A0", "is_enterprise_install":
        "false", "response_url": response_url, "trigger_id": "1.2.cmd"}).encode()


def shortcut_payload(message: dict[str, Any], response_url: str, *,
                     user: str = "U0CURATOR") -> dict[str, Any]:
    """A message shortcut's payload (`message_action`)."""
    return {"type": "message_action", "callback_id": "file_in_catalog", "trigger_id": "5.6.sc",
            "user": {"id": user, "name": user.lower()}, "team": {"id": "T0"},
            "channel": {"id": CHANNEL, "name": "llm-papers"}, "message_ts": message["ts"],
            "message": message, "response_url": response_url, "action_ts": "1717500000.2"}


def card_click(kind: str, pid: str, response_url: str) -> dict[str, Any]:
    """A click on a button of an ephemeral card (no `message` in the payload)."""
    return {"type": "block_actions", "user": {"id": "U0CURATOR"}, "team": {"id": "T0"},
            "api_app_id": "A0", "trigger_id": "7.8.x", "response_url": response_url,
            "container": {"type": "message", "message_ts": "1717500001.000100",
                          "channel_id": CHANNEL, "is_ephemeral": True},
            "channel": {"id": CHANNEL}, "state": {"values": {}},
            "actions": [{"type": "button", "action_id": f"{kind}:{pid}",
                         "block_id": f"paper:{pid}", "value": pid}]}


def _number(url: str) -> int:
    return int(url.rsplit("/", 1)[1])


def text_of(answer: dict[str, Any]) -> str:
    """Everything an answer shows, unescaped, one string."""
    parts = [answer.get("text") or ""]
    for block in answer.get("blocks") or []:
        parts.append((block.get("text") or {}).get("text", ""))
        parts += [e.get("text", "") for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return html.unescape("\n".join(parts))


def code_lines(answer: dict[str, Any]) -> list[str]:
    """The non-empty lines of the answer's code blocks."""
    found = re.findall(r"```(.*?)```", text_of(answer), re.S)
    return [ln for chunk in found for ln in chunk.splitlines() if ln.strip()]


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with FakeArxiv(papers=[*DAY_PAPERS, *SHARED], feed=DAY_PAPERS, announced=DAY) as arxiv, \
            FakeSlack() as slack:
        world = World(tmp_path, arxiv, slack)
        yield world
        world.close()


# -- parsing -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "topic", "query"), [
    ('lora "ti:LoRA"', "lora", "ti:LoRA"),
    ("lora 'ti:LoRA OR abs:\"low-rank adaptation\"'", "lora", 'ti:LoRA OR abs:"low-rank adaptation"'),
    ('lora "low-rank adaptation"', "lora", '"low-rank adaptation"'),       # a phrase stays one
    ('lora ti:LoRA OR ti:"DoRA"', "lora", 'ti:LoRA OR ti:"DoRA"'),
    ("lora “ti:LoRA”", "lora", "ti:LoRA"),                                  # smart quotes
    ("lora", "lora", None),
])
def test_tune_arguments_are_read_like_a_shell_would(text: str, topic: str,
                                                    query: str | None) -> None:
    """One pair of quotes around query syntax is dropped; a quoted phrase is kept."""
    assert split_tune(unformat(text)) == (topic, query)


def test_slack_formatting_is_undone() -> None:
    """Links Slack wrapped and the entities it escaped come back as typed."""
    command = parse_command("ADD <https://arxiv.org/abs/2402.12354|arxiv.org/abs/2402.12354> "
                            "ML System &gt; Training System")
    assert command == parse_command("add https://arxiv.org/abs/2402.12354 ML System > "
                                    "Training System")
    assert command.rest.endswith("ML System > Training System")


def test_links_are_found_in_text_then_blocks_in_order() -> None:
    """Every arXiv link once, the message text first; other links ignored."""
    message = {"text": "see <https://arxiv.org/abs/2611.00090v2|this> and "
                       "<https://example.org/x> and arXiv:2611.00091",
               "blocks": [{"type": "rich_text", "elements": [
                   {"type": "link", "url": "https://arxiv.org/pdf/2402.12354"},
                   {"type": "link", "url": "https://arxiv.org/abs/2611.00090"}]}]}
    assert links_in(message) == ["2611.00090", "2611.00091", "2402.12354"]


# -- the slash command ---------------------------------------------------------------------------


def test_help_and_an_unknown_command_answer_ephemerally(world: World) -> None:
    """`help` (and nothing) list the commands; an unknown one says so, to the typer only."""
    for text in ("help", "", "frobnicate"):
        answer = world.command(text)
        assert answer["response_type"] == "ephemeral"
        assert "/arxivwatch tune TOPIC [QUERY]" in text_of(answer)
    assert "Unknown command `frobnicate`" in text_of(answer)


def test_tune_gives_the_same_numbers_as_the_cli(world: World) -> None:
    """`/arxivwatch tune lora "ti:LoRA"` shows the CLI's `tune lora --query ti:LoRA` text."""
    answer = world.command('tune lora "ti:LoRA"')
    cli = world.project.run("tune", "lora", "--query", "ti:LoRA")
    assert cli.exit_code == 0, cli.output
    expected = [ln for ln in cli.output.splitlines()[1:] if ln.strip()]
    assert code_lines(answer) == expected
    shown = text_of(answer)
    assert "tune lora* → LLM Training > Techniques" in shown
    assert "would post" in shown
    assert "gained" in shown
    assert "catalog section" in shown
    assert any(e.get("action_id") == "save_query" for b in answer["blocks"]
               if b["type"] == "actions" for e in b["elements"])


def test_tune_without_a_query_has_nothing_to_save(world: World) -> None:
    """The saved query alone: the CLI's numbers, no Save button."""
    answer = world.command("tune lora")
    cli = world.project.run("tune", "lora")
    assert code_lines(answer) == [ln for ln in cli.output.splitlines()[1:] if ln.strip()]
    assert not [b for b in answer["blocks"] if b["type"] == "actions"]


def test_a_query_that_does_not_parse_gets_the_caret(world: World) -> None:
    """The query with a caret under the column, in a code block; nothing to save."""
    answer = world.command("tune lora ti:LoRA AND (abs:x")
    lines = code_lines(answer)
    assert lines[0].strip() == "ti:LoRA AND (abs:x"
    assert lines[1].strip() == "^"
    assert lines[1].index("^") == lines[0].index("(")
    assert "does not parse" in text_of(answer)


def test_an_unknown_topic_names_the_known_ones(world: World) -> None:
    """A typo in the topic: the topics there are."""
    assert "no topic named 'lorra'" in text_of(world.command("tune lorra"))
    assert "moe_training" in text_of(world.command("tune lorra"))


def test_save_writes_the_query_keeps_the_file_and_is_in_force(world: World) -> None:
    """Save: only the query line changes, the config in force has it, and tune shows it saved."""
    before = world.project.config.read_text()
    version = world.live.version
    said = world.click_save(world.command('tune lora "ti:LoRA"'))
    after = world.project.config.read_text()
    assert "saved: topic lora now has the query ti:LoRA" in text_of(said)
    changed = [(a, b) for a, b in zip(before.splitlines(), after.splitlines(), strict=True)
               if a != b]
    assert changed == [("    query: 'ti:LoRA OR abs:\"low-rank adaptation\"'",
                        "    query: 'ti:LoRA'")]
    assert world.live.settings.topic("lora").query_text == "ti:LoRA"
    assert world.live.version != version
    assert world.live.version.short in text_of(said)
    assert "query: ti:LoRA\n" in text_of(world.command("tune lora"))


def test_save_by_someone_outside_approvers_is_refused(world: World) -> None:
    """Not an approver: no Save button offered, and a forged click is refused; file unchanged."""
    world.set_approvers("U0CURATOR")
    answer = world.command('tune lora "ti:LoRA"', user="U0OTHER")
    assert not [b for b in answer["blocks"] if b["type"] == "actions"]
    assert "only `slack.approvers` can save it" in text_of(answer)
    before = world.project.config.read_bytes()
    said = world.click_save(world.command('tune lora "ti:LoRA"'), user="U0OTHER")
    assert "not in slack.approvers" in text_of(said)
    assert world.project.config.read_bytes() == before


def test_a_save_that_would_break_the_config_is_refused(world: World) -> None:
    """A section edited away meanwhile makes the file invalid: nothing written, reason given."""
    answer = world.command('tune lora "ti:LoRA"')
    world.project.catalog.write_text(world.project.catalog.read_text().replace(
        "### Techniques", "### Methods"))
    before = world.project.config.read_bytes()
    said = world.click_save(answer)
    assert "not saved, topics.yaml is unchanged" in text_of(said)
    assert "topics[0].section" in text_of(said)
    assert world.project.config.read_bytes() == before


def test_status_and_pending_are_the_cli_figures(world: World) -> None:
    """`status` shows the CLI's lines and the config version in force; `pending` the CLI's."""
    status = code_lines(world.command("status"))
    cli = world.project.run("status").output.splitlines()
    assert status[0] == cli[0]
    assert status[1] == cli[1]
    assert status[2] == f"config in force: {world.live.version.describe()}"
    assert status[3:] == [ln for ln in cli[2:] if not ln.startswith("config")]
    pending = code_lines(world.command("pending"))
    assert pending == world.project.run("pending").output.splitlines()


def test_forged_or_stale_commands_get_401_and_change_nothing(world: World) -> None:
    """A forged signature or a 301 s old one: 401, no answer, no file or store change."""
    before = (world.project.config.read_bytes(), world.store.counts_by_status())
    url = world.slack.response_url()
    body = command_body("add 2611.00090", url)
    assert world.dispatch(body, sign(body, secret="forged")).status == 401   # noqa: S106
    assert world.dispatch(body, sign(body, ts=NOW_TS - 301)).status == 401
    assert world.slack.responses[_number(url)] == []
    assert (world.project.config.read_bytes(), world.store.counts_by_status()) == before
    assert world.store.get_candidate("2611.00090") is None


# -- /arxivwatch add ----------------------------------------------------------------------------


def test_add_answers_with_the_digest_card_and_its_buttons_decide(world: World) -> None:
    """`add URL`: the paper's digest card (same blocks), ephemeral; Approve files it and
    replaces the card's buttons through the response_url."""
    answer = world.command("add <https://arxiv.org/abs/2611.00090v1>")
    ids = {e["action_id"] for b in answer["blocks"] if b["type"] == "actions"
           for e in b["elements"]}
    assert ids == {"approve:2611.00090", "reject:2611.00090", "edit:2611.00090",
                   "section:2611.00090"}
    assert "candidate for LLM Training > Techniques now (topic lora)" in text_of(answer)
    stored = world.store.get_candidate("2611.00090")
    assert stored is not None
    assert stored.status == "pending"

    url = world.slack.response_url()
    assert world.dispatch(form(card_click("approve", "2611.00090", url))).status == 200
    [shown] = world.slack.responses[_number(url)]
    assert shown["replace_original"] is True
    assert "Approved by <@U0CURATOR>" in json.dumps(shown["blocks"])
    catalog = world.project.catalog.read_text()
    assert catalog.count("2611.00090") == 1
    lines = catalog.splitlines()
    assert "2611.00090" in lines[lines.index("### Techniques") + 1]
    assert world.slack.calls_to("chat.update") == []            # an ephemeral card is no message
    decision = world.store.get_candidate("2611.00090").decision  # type: ignore[union-attr]
    assert (decision.action, decision.user) == ("approve", "U0CURATOR")  # type: ignore[union-attr]


def test_add_with_a_section_and_the_checks(world: World) -> None:
    """A section given wins; a wrong one gets close matches; a catalog paper is refused."""
    answer = world.command("add 2611.00091 ml system > inference  system")
    assert "candidate for ML System > Inference System now (topic moe_inference)" in \
        text_of(answer)
    assert "closest headings" in text_of(world.command("add 2611.00090 ML Sytem > Training"))
    assert world.store.get_candidate("2611.00090") is None
    assert "already in the catalog under LLM Training > Techniques" in text_of(
        world.command("add 2402.12354"))
    assert "not an arXiv identifier" in text_of(world.command("add hello"))


def test_add_by_someone_outside_approvers_writes_nothing(world: World) -> None:
    """Refused with a message; no look-up, no candidate."""
    world.set_approvers("U0CURATOR")
    requests_before = len(world.arxiv.requests)
    answer = world.command("add 2611.00090", user="U0OTHER")
    assert "not allowed" in text_of(answer)
    assert "slack.approvers" in text_of(answer)
    assert world.store.get_candidate("2611.00090") is None
    assert len(world.arxiv.requests) == requests_before


# -- the shortcut --------------------------------------------------------------------------------


def test_shortcut_opens_the_modal_for_the_first_link_and_files_the_pick(world: World) -> None:
    """Two links: the modal opens (at once), fills in for the first, switches to the second
    when picked; Approve files it as a digest approval would, and the user is told."""
    message = world.slack.add_message(CHANNEL, user="U0OTHER", text=(
        "two good ones: <https://arxiv.org/abs/2611.00090> and "
        "<https://arxiv.org/pdf/2611.00091v1.pdf>"))
    url = world.slack.response_url()
    assert world.dispatch(form(shortcut_payload(message, url))).status == 200
    [opened] = world.slack.views
    assert opened["trigger_id"] == "5.6.sc"
    view_id = "V000001"
    view = world.slack.view(view_id)
    assert view["submit"]["text"] == "Approve"
    assert "SparseLoRA" in json.dumps(view["blocks"])
    section = next(b for b in view["blocks"] if b["block_id"].startswith("section:"))
    assert section["element"]["initial_option"]["value"] == "LLM Training > Techniques"
    summary = next(b for b in view["blocks"] if b["block_id"].startswith("summary:"))
    assert summary["element"]["initial_value"] == summarize(SHARED[0]["abstract"])

    pick = {"type": "block_actions", "user": {"id": "U0CURATOR"}, "team": {"id": "T0"},
            "api_app_id": "A0", "trigger_id": "9.9.p", "container": {"type": "view",
                                                                      "view_id": view_id},
            "view": view, "actions": [{"type": "static_select", "action_id": "file_pick",
                                       "block_id": "pick",
                                       "selected_option": {"value": "2611.00091"}}]}
    assert world.dispatch(form(pick)).status == 200
    view = world.slack.view(view_id)
    assert "A Benchmark of Pruning Methods" in json.dumps(view["blocks"])
    meta = json.loads(view["private_metadata"])
    assert meta["paper_id"] == "2611.00091"

    submission = {"type": "view_submission", "user": {"id": "U0CURATOR"}, "team": {"id": "T0"},
                  "view": {**view, "state": {"values": {
                      "section:2611.00091": {"section": {"type": "static_select",
                                                         "selected_option": {
                                                             "value": "ML System > Inference System"}}},
                      "summary:2611.00091": {"summary": {"type": "plain_text_input",
                                                         "value": "Pruning benchmark"}}}}}}
    assert world.dispatch(form(submission)).status == 200
    lines = world.project.catalog.read_text().splitlines()
    added = lines[lines.index("### Inference System") + 1]
    assert "2611.00091" in added
    assert "Pruning benchmark." in added
    [told] = world.slack.responses[_number(url)]
    assert html.unescape(told["text"]).startswith(
        ":white_check_mark: Approved 2611.00091 into ML System > Inference System by U0CURATOR")
    assert told["response_type"] == "ephemeral"
    stored = world.store.get_candidate("2611.00091")
    assert stored is not None
    assert stored.status == "approved"
    assert world.store.get_candidate("2611.00090") is None      # only the paper filed


def test_shortcut_files_one_line_once_with_the_decision_recorded(world: World) -> None:
    """Approve through the shortcut: one line in the section, the decision recorded; Approve
    sent twice changes nothing more, and the shortcut on the same link says it is filed."""
    message = world.slack.add_message(CHANNEL, user="U0OTHER",
                                      text="look: https://arxiv.org/abs/2611.00090")
    url = world.slack.response_url()
    world.dispatch(form(shortcut_payload(message, url)))
    view = world.slack.view("V000001")
    submission = {"type": "view_submission", "user": {"id": "U0CURATOR"}, "team": {"id": "T0"},
                  "view": {**view, "state": {"values": {
                      "section:2611.00090": {"section": {"selected_option": {
                          "value": "LLM Training > Techniques"}}},
                      "summary:2611.00090": {"summary": {"value": "Sparse LoRA updates"}}}}}}
    for _ in range(2):
        assert world.dispatch(form(submission)).status == 200
    first, second = (html.unescape(r["text"]) for r in world.slack.responses[_number(url)])
    assert first.startswith(":white_check_mark: Approved 2611.00090 into LLM Training > "
                            "Techniques by U0CURATOR")
    assert "Sparse LoRA updates." in first
    assert "Already approved 2611.00090" in second
    assert "nothing changed" in second
    lines = world.project.catalog.read_text().splitlines()
    assert [ln for ln in lines if "2611.00090" in ln] == [lines[lines.index("### Techniques") + 1]]
    decision = world.store.get_candidate("2611.00090").decision  # type: ignore[union-attr]
    assert (decision.action, decision.section, decision.summary) == (  # type: ignore[union-attr]
        "approve", "LLM Training > Techniques", "Sparse LoRA updates")

    world.dispatch(form(shortcut_payload(message, world.slack.response_url())))
    again = world.slack.view("V000002")
    assert "already in the catalog under LLM Training &gt; Techniques" in json.dumps(again["blocks"])
    assert "submit" not in again


def test_shortcut_by_someone_outside_approvers_is_refused(world: World) -> None:
    """Told so through the response_url; no modal, no look-up, nothing written."""
    world.set_approvers("U0CURATOR")
    message = world.slack.add_message(CHANNEL, text="https://arxiv.org/abs/2611.00090")
    url = world.slack.response_url()
    requests_before = len(world.arxiv.requests)
    catalog = world.project.catalog.read_bytes()
    assert world.dispatch(form(shortcut_payload(message, url, user="U0OTHER"))).status == 200
    [told] = world.slack.responses[_number(url)]
    assert "not in slack.approvers" in told["text"]
    assert world.slack.views == []
    assert len(world.arxiv.requests) == requests_before
    assert world.project.catalog.read_bytes() == catalog
    assert world.store.get_candidate("2611.00090") is None


def test_shortcut_on_a_message_without_arxiv_links_says_so(world: World) -> None:
    """No link: a note, no modal."""
    message = world.slack.add_message(CHANNEL, text="lunch? <https://example.org/menu>")
    url = world.slack.response_url()
    world.dispatch(form(shortcut_payload(message, url)))
    assert "holds no arXiv link" in world.slack.responses[_number(url)][0]["text"]
    assert world.slack.views == []


def test_forged_shortcut_gets_401(world: World) -> None:
    """An unsigned shortcut opens nothing."""
    message = world.slack.add_message(CHANNEL, text="https://arxiv.org/abs/2611.00090")
    body = form(shortcut_payload(message, world.slack.response_url()))
    assert world.dispatch(body, {"Content-Type": "application/x-www-form-urlencoded"}).status \
        == 401
    assert world.slack.views == []


def test_edit_on_an_added_card_answers_through_its_response_url(world: World) -> None:
    """Edit on the ephemeral card opens the modal; its Approve files the paper and replaces the
    card's buttons through the card's response_url (no chat.update of a message)."""
    world.command("add 2611.00090")
    card_url = world.slack.response_url()
    assert world.dispatch(form(card_click("edit", "2611.00090", card_url))).status == 200
    [opened] = world.slack.views
    view = opened["view"]
    assert json.loads(view["private_metadata"])["response_url"] == card_url
    submission = {"type": "view_submission", "user": {"id": "U0CURATOR"}, "view": {
        **view, "state": {"values": {
            "section": {"section": {"selected_option": {"value": "ML System > Training System"}}},
            "summary": {"summary": {"value": "Sparse updates"}}}}}}
    assert world.dispatch(form(submission)).status == 200
    [shown] = world.slack.responses[_number(card_url)]
    assert shown["replace_original"] is True
    assert "Approved by <@U0CURATOR>" in json.dumps(shown["blocks"])
    lines = world.project.catalog.read_text().splitlines()
    assert "Sparse updates." in lines[lines.index("### Training System") + 1]
    assert world.slack.calls_to("chat.update") == []


@pytest.mark.parametrize("name", ["slack-manifest-http.yaml", "slack-manifest-socket.yaml"])
def test_manifests_declare_the_command_the_shortcut_and_the_scope(name: str) -> None:
    """What the listeners answer to is what the app manifests ask Slack for."""
    import yaml

    from arxivwatch.slack.commands import COMMAND
    from arxivwatch.slack.shortcut import SHORTCUT

    manifest = yaml.safe_load((Path(__file__).resolve().parents[1] / "deploy" / name)
                              .read_text(encoding="utf-8"))
    features = manifest["features"]
    [command] = features["slash_commands"]
    assert command["command"] == COMMAND
    [shortcut] = features["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", SHORTCUT)
    assert "commands" in manifest["oauth_config"]["scopes"]["bot"]
    if name.endswith("http.yaml"):
        assert command["url"] == manifest["settings"]["interactivity"]["request_url"]


def test_long_answers_stay_within_slacks_message_size() -> None:
    """A long `pending` or a huge catalog section is cut with a note, under the ~13k limit."""
    from arxivwatch.slack.commands import ANSWER_BUDGET, code_answer, tune_answer
    from arxivwatch.slack.workbench import TuneReport

    blocks = code_answer([f"2611.{n:05d}  lora  0.90  posted  A title of some length {n}"
                          for n in range(2000)])
    assert len(json.dumps(blocks)) < ANSWER_BUDGET + 1000
    assert "more lines cut here" in blocks[-1]["elements"][0]["text"]
    coverage = "\n".join(["catalog section X (300 entries):",
                          *(f"  +  Entry {n}" for n in range(300))])
    report = TuneReport("lora", "X", "ti:LoRA", ("summary line", coverage, "+ 1 gained"), True)
    _, blocks = tune_answer(report, can_save=True)
    shown = text_of({"blocks": blocks})
    assert "more lines (arxivwatch tune lora shows them)" in shown
    assert "+ 1 gained" in shown                  # the parts after a long one still show
    assert blocks[-1]["type"] == "actions"


def test_shortcut_when_arxiv_is_down_says_so_in_the_modal(world: World) -> None:
    """The look-up fails after its retries: the modal says why; nothing is written."""
    world.arxiv.script(["503"] * 8, path="/api")
    message = world.slack.add_message(CHANNEL, text="https://arxiv.org/abs/2611.00090")
    world.dispatch(form(shortcut_payload(message, world.slack.response_url())))
    view = world.slack.view("V000001")
    assert "could not look the paper up on arXiv" in json.dumps(view["blocks"])
    assert "submit" not in view
    assert world.store.get_candidate("2611.00090") is None
