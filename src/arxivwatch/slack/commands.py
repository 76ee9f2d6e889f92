"""The `/arxivwatch` slash command and its "Save this query" button, on the app's Bolt App.

Each command is acknowledged at once (with a "working on it" line when the answer takes a
while), then answered through the command's `response_url`, ephemerally: only whoever typed it
sees the answer. The work goes through the `Workbench` port (`workbench.py`); what Slack shows
is built here.

    /arxivwatch tune TOPIC [QUERY]     the CLI's `tune TOPIC [--query QUERY]`, and a Save button
    /arxivwatch add ID_OR_URL [SECTION] a paper's card, as in a digest
    /arxivwatch status | pending | help
"""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_bolt import App

from arxivwatch.config.live import one_line, problems_of
from arxivwatch.errors import ArxivWatchError, ConfigError, QuerySyntaxError
from arxivwatch.render import slack_escape
from arxivwatch.slack.blocks import MAX_VALUE  # a button's value
from arxivwatch.slack.decider import Blocks
from arxivwatch.slack.listening import Respond, ack_only, context_block, logged, mrkdwn_block
from arxivwatch.slack.workbench import TuneReport, Workbench

log = logging.getLogger(__name__)

COMMAND = "/arxivwatch"
SAVE_QUERY = "save_query"
SLOW = ("tune", "add")                 # acknowledged with a line saying the answer is coming
MAX_CODE = 2900                        # characters of one code block (a section holds 3000)
ANSWER_BUDGET = 10_000                 # characters of code in one answer: Slack refuses a
                                       # message of more than about 13k (bolt-js #2509)
PART_LINES = 24                        # lines of one part of `tune` (a long list is cut)
_QUOTES = str.maketrans({"“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"})
_LINK = re.compile(r"<((?:https?|mailto):[^|>]*)(?:\|[^>]*)?>")
_SYNTAX = re.compile(r"(?i)\b[a-z]+:|\b(?:AND|OR|ANDNOT)\b")


HELP = (
    "*arxivwatch*: answers are shown only to you.\n"
    "• `/arxivwatch tune TOPIC [QUERY]`: what the topic's saved query, or QUERY, would have "
    "caught over the papers arxivwatch has stored (matches and would-post per day, the best "
    "titles, catalog entries caught and missed, papers gained and lost); *Save this query* "
    "writes QUERY into topics.yaml and the next poll uses it. Example: "
    "`/arxivwatch tune lora \"ti:LoRA\"`\n"
    "• `/arxivwatch add ID_OR_URL [SECTION]`: looks a paper up and gives its card with "
    "Approve, Reject and Edit, as in a digest\n"
    "• `/arxivwatch status`: last runs, candidates, the config version in force\n"
    "• `/arxivwatch pending`: the candidates awaiting a decision\n"
    "• `/arxivwatch help`: this\n"
    "On a message with arXiv links, the message shortcut *File in catalog* (⋮ → More message "
    "shortcuts) files the paper. Saving a query, adding and filing are for `slack.approvers`."
)


@dataclass(frozen=True, slots=True)
class Command:
    """A parsed `/arxivwatch` line: the subcommand and the rest, as plain text."""

    name: str
    rest: str


def parse_command(text: str | None) -> Command:
    """The subcommand (lower case; `help` when empty) and the rest of the line, unformatted."""
    plain = unformat(text or "").strip()
    name, _, rest = plain.partition(" ")
    return Command(name.lower() or "help", rest.strip())


def unformat(text: str) -> str:
    """Slack's formatting undone: `<url|label>` -> url, `&amp; &lt; &gt;` -> `& < >`."""
    return html.unescape(_LINK.sub(lambda m: m.group(1), text)).translate(_QUOTES)


def split_tune(rest: str) -> tuple[str, str | None]:
    """`TOPIC [QUERY]`: the topic, and the query as typed (None when absent).

    As in a shell, one pair of quotes around the whole query is taken off when what is inside
    is query syntax (`"ti:LoRA"` is the query ti:LoRA); a quoted phrase alone stays a phrase.
    """
    topic, _, query = rest.strip().partition(" ")
    query = query.strip()
    if len(query) >= 2 and query[0] == query[-1] and query[0] in "\"'":
        inner = query[1:-1]
        if query[0] not in inner and _SYNTAX.search(inner):
            query = inner.strip()
    return topic, query or None


def split_add(rest: str) -> tuple[str, str | None]:
    """`ID_OR_URL [SECTION]`: the paper reference and the section path (None when absent)."""
    ref, _, section = rest.strip().partition(" ")
    return ref, section.strip() or None


class Commands:
    """The slash command's listener and the Save button's; each acks, then works lazily."""

    def __init__(self, workbench: Workbench) -> None:
        self.workbench = workbench

    def register(self, app: App) -> None:
        """Attach the listeners to `app`."""
        app.command(COMMAND)(ack=self.acknowledge, lazy=[logged(self.run)])
        app.action(SAVE_QUERY)(ack=ack_only, lazy=[logged(self.save)])

    def acknowledge(self, ack: Callable[..., None], body: dict[str, Any]) -> None:
        """Ack within Slack's 3 seconds; a slow command says that its answer follows."""
        command = parse_command(body.get("text"))
        if command.name in SLOW:
            ack(text=f"Working on `{slack_escape(f'{COMMAND} {command.name}')}`…")
        else:
            ack()

    def run(self, body: dict[str, Any], respond: Respond) -> None:
        """Answer the command through its response_url, to whoever typed it."""
        command, user = parse_command(body.get("text")), str(body.get("user_id", ""))
        log.info("%s %s by %s", COMMAND, command.name, user)
        try:
            text, blocks = self._answer(command, user)
        except ArxivWatchError as exc:
            text, blocks = error_answer(exc)
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)

    def _answer(self, command: Command, user: str) -> tuple[str, Blocks]:
        wb, rest = self.workbench, command.rest
        if command.name == "tune":
            topic, query = split_tune(rest)
            if not topic:
                return usage("tune TOPIC [QUERY]")
            return tune_answer(wb.tune(topic, query), can_save=wb.allowed(user))
        if command.name == "add":
            ref, section = split_add(rest)
            if not ref:
                return usage("add ID_OR_URL [SECTION]")
            card = wb.add(ref, section, user)
            return card.note, [mrkdwn_block(slack_escape(card.note)), *card.blocks]
        if command.name == "status":
            return "arxivwatch status", code_answer(wb.status())
        if command.name == "pending":
            return "arxivwatch pending", code_answer(wb.pending())
        if command.name == "help":
            return "arxivwatch: what you can type", [mrkdwn_block(HELP)]
        unknown = f"Unknown command `{slack_escape(command.name)}`. "
        return unknown, [mrkdwn_block(unknown + HELP)]

    def save(self, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        """The preview's "Save this query": write it into topics.yaml (approvers only)."""
        user = str((body.get("user") or {}).get("id", ""))
        try:
            wanted = json.loads(action.get("value") or "{}")
            topic, query = str(wanted["topic"]), str(wanted["query"])
        except (ValueError, KeyError, TypeError):
            log.warning("save_query with an unreadable value from %s", user)
            return
        respond(text=self._save(topic, query, user), response_type="ephemeral",
                replace_original=False)

    def _save(self, topic: str, query: str, user: str) -> str:
        if not self.workbench.allowed(user):
            return f":no_entry: <@{user}> is not in slack.approvers; topics.yaml was not changed"
        try:
            said = self.workbench.save_query(topic, query, user)
        except ArxivWatchError as exc:
            why = "; ".join(one_line(p) for p in problems_of(exc)) \
                if isinstance(exc, ConfigError) else _first_line(exc)
            return f":no_entry: the query was not saved, topics.yaml is unchanged: " \
                   f"{slack_escape(why)}"
        return f":white_check_mark: {slack_escape(said)}"


# -- answers (pure) ------------------------------------------------------------------------------


def tune_answer(report: TuneReport, *, can_save: bool) -> tuple[str, Blocks]:
    """The preview: the CLI's text in code blocks, and the Save button when it can be saved."""
    head = f"*tune {slack_escape(report.topic)}* → {slack_escape(report.section)}"
    if report.query is not None:
        head += f"\ntrying: `{slack_escape(_fence(report.query))}`"
    blocks: Blocks = [mrkdwn_block(head)]
    lines: list[str] = []
    for part in report.parts:
        lines += [*_cut(part.strip("\n").splitlines(), PART_LINES, report.topic), ""]
    blocks += code_answer(lines[:-1], tail=f"`arxivwatch tune {report.topic}` in a terminal")
    value = json.dumps({"topic": report.topic, "query": report.query})
    if report.saveable and report.query is not None and can_save and len(value) <= MAX_VALUE:
        blocks.append({"type": "actions", "block_id": "tune_save", "elements": [{
            "type": "button", "action_id": SAVE_QUERY, "style": "primary", "value": value,
            "text": {"type": "plain_text", "text": "Save this query"},
            "confirm": {"title": {"type": "plain_text", "text": "Save the query?"},
                        "text": {"type": "mrkdwn", "text": f"Topic *{slack_escape(report.topic)}* "
                                 "gets this query in topics.yaml; the next poll uses it."},
                        "confirm": {"type": "plain_text", "text": "Save"},
                        "deny": {"type": "plain_text", "text": "Cancel"}}}]})
    elif report.saveable and report.query is not None:
        why = "only `slack.approvers` can save it" if not can_save else \
            "too long to save from Slack: put it in topics.yaml by hand"
        blocks.append(context_block(f"This query can be saved, but {why}."))
    return f"tune {report.topic}", blocks


def code_answer(lines: list[str], *, tail: str = "the command in a terminal") -> Blocks:
    """Lines in code blocks, split between lines to fit, cut with a note past ANSWER_BUDGET."""
    chunks: list[list[str]] = [[]]
    used = size = 0
    for n, line in enumerate(lines):
        escaped = slack_escape(_fence(line))[:MAX_CODE] or " "
        if used + len(escaped) > ANSWER_BUDGET:
            cut = context_block(f"… {len(lines) - n} more lines cut here: {tail} shows all of it.")
            return [*_code_blocks(chunks), cut]
        if chunks[-1] and size + len(escaped) + 1 > MAX_CODE:
            chunks.append([])
            size = 0
        chunks[-1].append(escaped)
        used, size = used + len(escaped) + 1, size + len(escaped) + 1
    return _code_blocks(chunks) or [context_block("(nothing)")]


def _code_blocks(chunks: list[list[str]]) -> Blocks:
    return [mrkdwn_block("```" + "\n".join(c) + "```") for c in chunks if c]


def _cut(lines: list[str], limit: int, topic: str) -> list[str]:
    """At most `limit` lines, the rest counted."""
    if len(lines) <= limit:
        return lines
    rest = len(lines) - limit + 1
    return [*lines[:limit - 1], f"  … {rest} more lines (arxivwatch tune {topic} shows them)"]


def error_answer(exc: ArxivWatchError) -> tuple[str, Blocks]:
    """An error for the person who typed: a query's caret drawing kept in a code block."""
    if isinstance(exc, QuerySyntaxError):
        text = f":no_entry: the query does not parse: {exc.message}"
        return text, [mrkdwn_block(slack_escape(text)), *code_answer(str(exc).splitlines()[1:])]
    text = f":no_entry: {exc}"
    return _first_line(exc), [mrkdwn_block(slack_escape(text))]


def usage(form: str) -> tuple[str, Blocks]:
    text = f"Usage: `{COMMAND} {form}` (`{COMMAND} help` says more)"
    return text, [mrkdwn_block(slack_escape(text))]


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _fence(text: str) -> str:
    """A ``` in the text would end the code block early."""
    return text.replace("```", "'''").replace("`", "'") if "`" in text else text


