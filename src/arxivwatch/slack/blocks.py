"""Block Kit messages for the digest, built as plain dicts (pure: no I/O, no clock).

Structure is Python; every text field is rendered from a `templates/slack_*.j2` template through
the Slack environment of `arxivwatch.render`, which escapes `&`, `<`, `>` in every value, so a
title such as `<!channel>` can neither ping nor plant a link. Limits are respected by
construction (values shortened before rendering, messages split by block count and JSON size)
and checked again by `validate_message`.

Interaction contract (used by `slack/interactions.py`): each paper's actions block has
`block_id = "paper:<id>"` and holds buttons `approve:<id>`, `reject:<id>`, `edit:<id>` (value =
the bare arXiv id) and a `static_select` `section:<id>` whose option values are section paths.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from jinja2 import Environment

from arxivwatch import catalog
from arxivwatch.models import Candidate
from arxivwatch.render import SlackSafe, make_env, printable, slack_escape
from arxivwatch.why import why_line

Block = dict[str, Any]

MAX_BLOCKS, MAX_TEXT, MAX_HEADER, MAX_BUTTON, MAX_VALUE = 50, 3000, 150, 75, 2000
MAX_ACTIONS, MAX_CONTEXT, MAX_OPTIONS, MAX_OPTION_VALUE = 25, 10, 100, 150
MAX_JSON = 12_000     # Slack's undocumented aggregate limit is ~13k (bolt-js #2509)
_BUDGET = 11_000      # what papers may use in one message, leaving room for the header
_SELECT_BUDGET = 4_000  # what one paper's section select may use
APPROVE, REJECT, SECTION, EDIT = "approve", "reject", "section", "edit"
ELLIPSIS = "…"


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One message to post: notification fallback text, blocks, and the papers it carries."""

    text: str
    blocks: list[Block]
    paper_ids: tuple[str, ...] = ()


def action_id(kind: str, paper_id: str) -> str:
    """The `action_id` of one control, e.g. `approve:2402.12354`."""
    return f"{kind}:{paper_id}"


def parse_action_id(value: str) -> tuple[str, str]:
    """Splits `approve:2402.12354` into `("approve", "2402.12354")`."""
    kind, _, paper_id = value.partition(":")
    return kind, paper_id


def actions_block_id(paper_id: str) -> str:
    """The `block_id` of a paper's actions block (also the key of its select in `state`)."""
    return f"paper:{paper_id}"


def selected_section(state_values: Mapping[str, Any], paper_id: str) -> str | None:
    """The section picked in a paper's select, from a payload's `state.values`, if any."""
    block = state_values.get(actions_block_id(paper_id), {})
    option = block.get(action_id(SECTION, paper_id), {}).get("selected_option") or {}
    value = option.get("value")
    return value if isinstance(value, str) else None


# -- text helpers ------------------------------------------------------------------------------


def truncate(text: str, limit: int) -> str:
    """Cuts rendered mrkdwn to `limit` chars with "…", never inside `&amp;` or a `<link>`."""
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    amp = cut.rfind("&")
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    lt = cut.rfind("<")
    if lt != -1 and ">" not in cut[lt:]:
        cut = cut[:lt]
    return cut.rstrip() + ELLIPSIS


def shorten(text: str, limit: int) -> str:
    """Shortens raw text at a word boundary to at most `limit` chars (before escaping)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - len(ELLIPSIS)]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + ELLIPSIS


def short_authors(authors: Sequence[str], keep: int = 3) -> str:
    """`A, B, C et al.` for more than `keep` authors."""
    names = [" ".join(a.split()) for a in authors if a.strip()]
    if len(names) <= keep:
        return ", ".join(names) or "unknown authors"
    return ", ".join(names[:keep]) + " et al."


def _plain(text: str, limit: int, *, keep_tail: bool = False) -> dict[str, str]:
    """A plain_text object whose escaped text fits `limit` (tail kept for section paths)."""
    raw = printable(text) or "-"
    out = slack_escape(raw)
    while len(out) > limit:
        raw = raw[1:] if keep_tail else raw[:-1]
        out = ELLIPSIS + slack_escape(raw) if keep_tail else slack_escape(raw) + ELLIPSIS
    return {"type": "plain_text", "text": out}


def _render(env: Environment, name: str, limit: int, **values: Any) -> str:
    text = env.get_template(name).render(**values).strip()
    return truncate(text or "-", limit)


@functools.cache
def default_env() -> Environment:
    """The Slack environment over the shipped templates, for a caller that passes none (the
    app passes the one it built once from `templates_dir`)."""
    return make_env(None, slack=True)


def _fence(line: str) -> str:
    # A ``` inside the line would close the code block early.
    return shorten(line, 1000).replace("```", "'''")


# -- one paper ---------------------------------------------------------------------------------


CatalogLine = Callable[[Candidate], str]


def _venue(candidate: Candidate) -> str | None:
    p = candidate.paper
    venue = catalog.venue_tag(p.comments, p.journal_ref, p.year)
    return None if venue.lower().startswith("arxiv") else venue  # the fallback says nothing


def _code(candidate: Candidate) -> str | None:
    p = candidate.paper
    return catalog.code_link(p.abstract, p.comments or "")


def _paper_text(c: Candidate, env: Environment, line: str) -> str:
    p = c.paper
    return _render(
        env, "slack_paper.mrkdwn.j2", MAX_TEXT, paper=p, url=p.url, title=shorten(p.title, 300),
        authors=short_authors(p.authors), categories=list(p.categories[:6]),
        venue=_venue(c), code=_code(c), why=why_line(c.hits, c.reasons),
        matched=[shorten(m, 80) for m in c.matched[:12]],
        reasons=[shorten(r, 200) for r in c.reasons[:5]], alternatives=list(c.alternatives[:5]),
        score=c.score, unsure=c.unsure, excerpt=shorten(p.abstract, 300), catalog_line=SlackSafe(
            slack_escape(_fence(line))))


def _button(kind: str, label: str, paper_id: str, style: str | None = None) -> Block:
    button: Block = {"type": "button", "action_id": action_id(kind, paper_id),
                     "text": {"type": "plain_text", "text": label}, "value": paper_id}
    if style:
        button["style"] = style
    return button


def section_option(path: str) -> Block:
    """A select option for a section path: escaped, its tail kept when shortened."""
    return {"text": _plain(path, MAX_BUTTON, keep_tail=True), "value": path}


def modal_section_select(sections: Sequence[str], current: str | None, **extra: Any) -> Block:
    """A modal's section select (action `section`): the sections a select can carry, the first
    MAX_OPTIONS of them, `current` chosen when among them."""
    options = [section_option(s) for s in sections if len(s) <= MAX_OPTION_VALUE][:MAX_OPTIONS]
    select: Block = {"type": "static_select", "action_id": "section", "options": options, **extra}
    initial = next((o for o in options if o["value"] == current), None)
    if initial:
        select["initial_option"] = initial
    return select


def _fit_options(paths: list[str], suggested: str) -> list[str]:
    """At most 100 options within `_SELECT_BUDGET` JSON chars, the suggestion always kept.

    A huge catalog would otherwise leave no room for papers; the edit modal can list them all.
    """
    keep = {suggested} if suggested in paths else set()
    used = sum(_size([section_option(p)]) for p in keep)
    for path in paths:
        size = _size([section_option(path)])
        if path not in keep and len(keep) < MAX_OPTIONS and used + size <= _SELECT_BUDGET:
            keep.add(path)
            used += size
    return [p for p in paths if p in keep]


def _section_select(c: Candidate, sections: Sequence[str]) -> Block:
    paths = list(dict.fromkeys([c.section, *sections]))   # the topic's own section first
    paths = _fit_options([s for s in paths if s and len(s) <= MAX_OPTION_VALUE], c.section)
    select: Block = {"type": "static_select", "action_id": action_id(SECTION, c.paper.id),
                     "placeholder": {"type": "plain_text", "text": "File under…"},
                     "options": [section_option(s) for s in paths]}
    if c.section in paths:
        select["initial_option"] = section_option(c.section)
    return select


def paper_blocks(c: Candidate, *, env: Environment, sections: Sequence[str],
                 catalog_line: CatalogLine) -> list[Block]:
    """A divider, the paper's description and its controls (block_id `paper:<id>`)."""
    pid = c.paper.id
    controls = [_button(APPROVE, "Approve", pid, "primary"), _button(REJECT, "Reject", pid)]
    if c.section or sections:
        controls.append(_section_select(c, sections))
    controls.append(_button(EDIT, "Edit & approve…", pid))
    text = _paper_text(c, env, catalog_line(c))
    return [
        {"type": "divider"},
        {"type": "section", "block_id": f"info:{pid}", "text": {"type": "mrkdwn", "text": text}},
        {"type": "actions", "block_id": actions_block_id(pid), "elements": controls},
    ]


# -- messages ----------------------------------------------------------------------------------


def _size(blocks: Sequence[Block]) -> int:
    return len(json.dumps(blocks, ensure_ascii=False))


def _pack(groups: list[list[Block]]) -> list[list[list[Block]]]:
    """Fills messages greedily, in order, within the block count and the JSON budget."""
    messages: list[list[list[Block]]] = []
    count = size = 0
    for group in groups:
        g_size = _size(group)
        if not messages or count + len(group) > MAX_BLOCKS - 1 or size + g_size > _BUDGET:
            messages.append([])
            count = size = 0
        messages[-1].append(group)
        count, size = count + len(group), size + g_size
    return messages


def digest_messages(
    section: str, day: date, candidates: Sequence[Candidate], *, env: Environment,
    sections: Sequence[str], catalog_line: CatalogLine,
) -> list[SlackMessage]:
    """One section's digest for a day, best first, split into as many messages as limits need."""
    ranked = sorted(candidates, key=lambda c: (-c.score, c.rank, c.paper.id))
    groups = [paper_blocks(c, env=env, sections=sections, catalog_line=catalog_line)
              for c in ranked]
    packed, done, out = _pack(groups), 0, []
    for part, chunk in enumerate(packed, 1):
        ids = tuple(c.paper.id for c in ranked[done: done + len(chunk)])
        done += len(chunk)
        values = {"section": section, "day": day.isoformat(), "count": len(ids),
                  "part": part, "parts": len(packed)}
        header = _render(env, "slack_header.txt.j2", MAX_HEADER, **values)
        blocks = [{"type": "header", "text": {"type": "plain_text", "text": header}}]
        blocks += [b for group in chunk for b in group]
        text = _render(env, "slack_digest.txt.j2", MAX_TEXT, **values)
        out.append(SlackMessage(text, blocks, ids))
    return out


def _note(env: Environment | None, name: str, day: date) -> SlackMessage:
    text = _render(env or default_env(), name, MAX_TEXT, day=day.isoformat())
    return SlackMessage(text, [{"type": "context", "elements": [{"type": "mrkdwn", "text": text}]}])


def nothing_new_message(day: date, *, env: Environment | None = None) -> SlackMessage:
    """The optional one-line note for a day that brought no candidates."""
    return _note(env, "slack_nothing_new.txt.j2", day)


def no_announcement_message(day: date, *, env: Environment | None = None) -> SlackMessage:
    """The one-line note for a day on which arXiv announced nothing."""
    return _note(env, "slack_no_announcement.txt.j2", day)


# -- after a decision --------------------------------------------------------------------------

_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")


def decided_blocks(
    original_blocks: Sequence[Block], paper_id: str, *, action: str, user_id: str,
    section: str | None, catalog_line: str | None, env: Environment | None = None,
) -> list[Block]:
    """The message's blocks with one paper's controls replaced by who decided what.

    Other papers keep their buttons. A paper already shown as decided gets its note replaced;
    an unknown paper leaves the blocks unchanged (copied).
    """
    who: str = SlackSafe(f"<@{user_id}>") if _USER_ID.fullmatch(user_id) else user_id
    text = _render(env or default_env(), "slack_decided.mrkdwn.j2", MAX_TEXT, action=action,
                   who=who, section=section or "", paper_id=paper_id,
                   catalog_line=SlackSafe(slack_escape(_fence(catalog_line or ""))))
    note = {"type": "context", "block_id": f"decided:{paper_id}",
            "elements": [{"type": "mrkdwn", "text": text}]}
    targets = {actions_block_id(paper_id), f"decided:{paper_id}"}
    return [note if b.get("block_id") in targets else copy.deepcopy(b) for b in original_blocks]


# -- validation --------------------------------------------------------------------------------


def validate_message(blocks: Sequence[Block]) -> list[str]:
    """The Block Kit limits a message breaks, one readable problem each (empty = valid)."""
    problems = [f"{len(blocks)} blocks > {MAX_BLOCKS}"] if len(blocks) > MAX_BLOCKS else []
    if _size(blocks) > MAX_JSON:
        problems.append(f"blocks JSON is {_size(blocks)} chars > {MAX_JSON}")
    action_ids: list[str] = []
    for i, block in enumerate(blocks):
        problems += [f"block {i} ({block.get('type')}): {p}" for p in _block_problems(block)]
        action_ids += [e["action_id"] for e in block.get("elements", []) if "action_id" in e]
    block_ids = [b["block_id"] for b in blocks if "block_id" in b]
    problems += [f"duplicate block_id {b!r}" for b in _duplicates(block_ids)]
    problems += [f"duplicate action_id {a!r}" for a in _duplicates(action_ids)]
    return problems


def _duplicates(values: list[str]) -> list[str]:
    return sorted({v for v in values if values.count(v) > 1})


def _block_problems(block: Block) -> list[str]:
    kind, elements = block.get("type"), block.get("elements", [])
    problems = _text_problems(block.get("text"), MAX_HEADER if kind == "header" else MAX_TEXT)
    if kind == "header" and block.get("text", {}).get("type") != "plain_text":
        problems.append("header text must be plain_text")
    if kind == "actions" and len(elements) > MAX_ACTIONS:
        problems.append(f"{len(elements)} elements > {MAX_ACTIONS}")
    if kind == "context" and len(elements) > MAX_CONTEXT:
        problems.append(f"{len(elements)} elements > {MAX_CONTEXT}")
    for element in elements:
        problems += _element_problems(element)
    return problems


def _element_problems(element: Block) -> list[str]:
    kind = element.get("type")
    if kind in {"mrkdwn", "plain_text"}:
        return _text_problems(element, MAX_TEXT)
    problems: list[str] = []
    if kind == "button":
        problems += _text_problems(element.get("text"), MAX_BUTTON)
        if len(str(element.get("value", ""))) > MAX_VALUE:
            problems.append(f"button value longer than {MAX_VALUE}")
    if kind == "static_select":
        options = element.get("options", [])
        if len(options) > MAX_OPTIONS:
            problems.append(f"{len(options)} options > {MAX_OPTIONS}")
        for option in options:
            problems += _text_problems(option.get("text"), MAX_BUTTON)
            if len(option.get("value", "")) > MAX_OPTION_VALUE:
                problems.append(f"option value longer than {MAX_OPTION_VALUE}")
        if "initial_option" in element and element["initial_option"] not in options:
            problems.append("initial_option is not one of the options")
    return problems


def _text_problems(text: Any, limit: int) -> list[str]:
    if text is None:
        return []
    body = text.get("text") if isinstance(text, dict) else None
    if not isinstance(body, str) or not body:
        return ["empty or missing text"]
    return [f"text of {len(body)} chars > {limit}"] if len(body) > limit else []
