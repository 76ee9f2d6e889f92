"""Digest Block Kit messages: content, escaping, limits, splitting, decisions."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment
from slack_sdk import WebClient

from arxivwatch.entry import entry_preview
from arxivwatch.models import Candidate, Hit, Paper, Summary
from arxivwatch.render import make_env
from arxivwatch.slack import blocks as B
from tests.fakes.slack_server import FakeSlack, check_blocks

DAY = dt.date(2024, 6, 3)
SECTIONS = ["LLM Training / Techniques", "Model Compression / Low-rank Decomposition",
            "Model Compression / Pruning"]
HOSTILE = [
    "<!channel>", "<!here> now", "<https://evil.example|click me>", "<@U0CURATOR> hi",
    "a & b < c > d", "&amp; already &lt;escaped&gt;", "<#C0LLMPAPERS>", "x|y> <z",
]


@pytest.fixture(scope="module")
def env() -> Environment:
    return make_env(None, slack=True)


def cand(n: int = 1, *, title: str | None = None, score: float | None = None,
         section: str = SECTIONS[1], **paper: Any) -> Candidate:
    fields: dict[str, Any] = {
        "title": title or f"Paper number {n} on low-rank adaptation",
        "abstract": "We study low-rank adaptation of large models. " * 4,
        "authors": ("Ada Lovelace", "Bert Sample", "Chen Placeholder", "Dana Example"),
        "categories": ("cs.LG", "cs.CL"), **paper}
    return Candidate(
        paper=Paper(id=f"2406.{n:05d}", **fields), topic="lora", section=section,
        score=0.5 + n / 100 if score is None else score, day=DAY,
        hits=(Hit("LoRA", "ti"), Hit('"low-rank adaptation"', "abs")),
        reasons=("title: LoRA", "similar to catalog: LoRA (0.71)",
                 "learned: none for this section (2 positive and 0 negative examples)"), rank=n)


PREVIEW = entry_preview(make_env(None, slack=False))


def digest(env: Environment, cands: list[Candidate], **kw: Any) -> list[B.SlackMessage]:
    kw.setdefault("catalog_line", PREVIEW)
    return B.digest_messages(SECTIONS[1], DAY, cands, env=env, sections=SECTIONS, **kw)


def texts(obj: Any) -> Iterator[str]:
    """Every string under a `text` key, at any depth."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "text" and isinstance(value, str):
                yield value
            else:
                yield from texts(value)
    elif isinstance(obj, list):
        for item in obj:
            yield from texts(item)


def actions(message: B.SlackMessage) -> list[dict[str, Any]]:
    return [e for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


# -- a normal digest -------------------------------------------------------------------------


def test_digest_passes_validator_and_fake(env: Environment) -> None:
    """A normal digest is valid for our validator and accepted by the fake Slack."""
    messages = digest(env, [cand(i) for i in range(1, 4)])
    assert len(messages) == 1
    assert B.validate_message(messages[0].blocks) == []
    with FakeSlack() as fake:
        client = WebClient(token=fake.token, base_url=fake.api_url, retry_handlers=[])
        resp = client.chat_postMessage(channel="#llm-papers", text=messages[0].text,
                                       blocks=messages[0].blocks)
        assert resp["ok"]
    assert fake.messages()[0]["blocks"] == messages[0].blocks


def test_digest_is_best_first_with_header_and_fallback(env: Environment) -> None:
    """Papers are ordered by score; the header names section and day; a text fallback exists."""
    msg = digest(env, [cand(1, score=0.2), cand(2, score=0.9), cand(3, score=0.5)])[0]
    assert msg.paper_ids == ("2406.00002", "2406.00003", "2406.00001")
    assert msg.blocks[0] == {"type": "header", "text": {
        "type": "plain_text", "text": f"{SECTIONS[1]} · 2024-06-03"}}
    assert msg.text == f"3 new arXiv candidates for {SECTIONS[1]} (2024-06-03)"


def test_paper_text_shows_everything_a_curator_needs(env: Environment) -> None:
    """Title link, short authors, categories, venue, code, why, score, excerpt, catalog line."""
    c = cand(1, comments="Accepted at ICML 2024. Code: https://github.com/ada/lora-plus")
    text = digest(env, [c])[0].blocks[2]["text"]["text"]
    assert "*<https://arxiv.org/abs/2406.00001|Paper number 1 on low-rank adaptation>*" in text
    assert "Ada Lovelace, Bert Sample, Chen Placeholder et al." in text
    assert "cs.LG, cs.CL" in text
    assert "ICML 2024" in text
    assert "<https://github.com/ada/lora-plus|code>" in text
    assert "*Why:* title: LoRA · abstract: low-rank adaptation · closest: LoRA\n" in text
    assert "learned" not in text    # the engine's detail is for `arxivwatch explain`
    assert "*Score:* 0.51" in text
    assert "\n>We study low-rank adaptation" in text
    line = ("- [ICML 2024] [Paper number 1 on low-rank adaptation](https://arxiv.org/abs/2406.00001)"
            ". Studying low-rank adaptation of large models.")
    assert "```" + line in text


def test_preview_carries_the_summary_made_at_the_poll(env: Environment) -> None:
    """A stored summary (a language model's, say) is the one the preview shows."""
    made = Summary("Adapting models with two learning rates.", "llm:test")
    text = digest(env, [dataclasses.replace(cand(1), summary=made)])[0].blocks[2]["text"]["text"]
    assert "). Adapting models with two learning rates.```" in text


def test_buttons_select_and_ids_follow_the_contract(env: Environment) -> None:
    """Approve/Reject/Edit carry the id; the select lists sections, preset to the suggestion."""
    msg = digest(env, [cand(7, section=SECTIONS[2])])[0]
    approve, reject, select, edit = actions(msg)
    assert msg.blocks[3]["block_id"] == "paper:2406.00007"
    assert (approve["action_id"], approve["value"], approve["style"]) == (
        "approve:2406.00007", "2406.00007", "primary")
    assert (reject["action_id"], reject["value"]) == ("reject:2406.00007", "2406.00007")
    assert (edit["action_id"], edit["value"]) == ("edit:2406.00007", "2406.00007")
    assert select["type"] == "static_select"
    assert select["action_id"] == "section:2406.00007"
    assert [o["value"] for o in select["options"]] == [SECTIONS[2], *SECTIONS[:2]]
    assert select["initial_option"]["value"] == SECTIONS[2]


def test_action_ids_and_block_ids_are_unique_per_message(env: Environment) -> None:
    """Every action_id and block_id appears once in a message."""
    for msg in digest(env, [cand(i) for i in range(1, 31)]):
        ids = [e["action_id"] for e in actions(msg)]
        block_ids = [b["block_id"] for b in msg.blocks if "block_id" in b]
        assert len(ids) == len(set(ids)) == 4 * len(msg.paper_ids)
        assert len(block_ids) == len(set(block_ids))


def test_many_short_sections_keep_the_last_one_suggested(env: Environment) -> None:
    """Options are cut to Slack's cap and a size budget; the suggestion stays, listed first."""
    many = [f"S{i}" for i in range(150)]
    select = actions(B.digest_messages("S149", DAY, [cand(1, section="S149")], env=env,
                                       sections=many, catalog_line=PREVIEW)[0])[2]
    values = [o["value"] for o in select["options"]]
    assert 50 < len(values) <= 100
    assert values[:3] == ["S149", "S0", "S1"]
    assert select["initial_option"]["value"] == "S149"


def test_unknown_suggested_section_is_added_and_preselected(env: Environment) -> None:
    """A suggestion missing from the catalog list still appears as the initial option."""
    select = actions(digest(env, [cand(1, section="New / Heading")])[0])[2]
    assert select["options"][0]["value"] == "New / Heading"
    assert select["initial_option"] == select["options"][0]


def test_huge_catalog_keeps_select_within_limits(env: Environment) -> None:
    """A huge catalog's select is cut to fit, the suggestion kept; long labels keep the leaf."""
    many = [f"Area {i} / " + "Very long heading words " * 4 + f"leaf {i}" for i in range(150)]
    c = cand(1, section=many[140])
    msg = B.digest_messages(many[140], DAY, [c], env=env, sections=many, catalog_line=PREVIEW)[0]
    select = actions(msg)[2]
    assert 10 < len(select["options"]) < 100
    assert select["initial_option"]["value"] == many[140]
    label = select["initial_option"]["text"]["text"]
    assert len(label) <= 75
    assert label.startswith("…")
    assert label.endswith("leaf 140")
    assert B.validate_message(msg.blocks) == []


# -- escaping --------------------------------------------------------------------------------


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_values_cannot_ping_or_plant_links(env: Environment, hostile: str) -> None:
    """Hostile title, abstract, authors, reasons, terms and section never reach Slack raw."""
    c = Candidate(
        paper=Paper(id="2406.00001", title=hostile, abstract=hostile, authors=(hostile,),
                    categories=(hostile,), comments=hostile),
        topic="t", section=hostile, score=0.5, day=DAY, hits=(Hit(hostile, "ti"),),
        reasons=(hostile,), alternatives=(hostile,))
    msgs = B.digest_messages(hostile, DAY, [c], env=env, sections=[hostile], catalog_line=PREVIEW)
    decided = B.decided_blocks(msgs[0].blocks, "2406.00001", action="approve",
                               user_id=hostile, section=hostile, catalog_line=hostile)
    for text in [*texts(msgs[0].blocks), msgs[0].text, *texts(decided)]:
        for planted in ("<!", "<@", "<#", "<https://evil"):
            assert planted not in text
        # every `<` left is one of ours: the arXiv link
        assert re.sub(r"<https://arxiv\.org/abs/2406\.00001\|[^<>]*>", "", text).count("<") == 0


def test_invisible_and_control_characters_never_reach_slack(env: Environment) -> None:
    """A right-to-left override, zero-width and control characters are cleaned from every text
    of the digest, as the catalog line cleans them."""
    hidden = "\u202e\u200b\u2066\x07\x1b\ufeff"
    c = cand(1, title="LoRA-RTL: harmless\u202eexe.txt zero\u200bwidth bell\x07",
             abstract="We study low\u2066-rank \x1badaptation. " * 4, authors=("Eve\ufeff Example",),
             section="Model Compression / Low-rank\u200b Decomposition")
    message = digest(env, [c])[0]
    shown = [*texts(message.blocks), message.text]
    assert [t for t in shown if any(ch in t for ch in hidden)] == []
    assert any("LoRA-RTL: harmlessexe.txt zerowidth bell" in t for t in shown)
    assert any("Eve Example" in t for t in shown)


def test_an_author_from_invalid_xml_is_escaped_once(env: Environment) -> None:
    """A feed whose XML is not well-formed: entities decoded once, escaped once for Slack."""
    from arxivwatch.sources.feed import parse_feed
    from tests.fakes.arxiv_server import rss_xml

    xml = rss_xml([{"id": "2406.00001", "title": "LoRA", "abstract": "Low-rank adaptation.",
                    "authors": ["Mallory <@U0ADMIN>", "Bob"]}], announced=DAY)
    invalid = xml.replace("</title>", "</title><junk>&nbsp; a & b</junk>", 1)
    paper = parse_feed(invalid.encode(), url="http://127.0.0.1:9/rss/cs.LG").papers[0]
    text = "\n".join(texts(digest(env, [cand(1, authors=paper.authors)])[0].blocks))
    assert "Mallory &lt;@U0ADMIN&gt;, Bob" in text
    assert "&amp;lt;" not in text


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(title=st.text(max_size=400), abstract=st.text(max_size=4000),
       authors=st.lists(st.text(max_size=60), max_size=8), section=st.text(max_size=300))
def test_rendering_never_breaks_on_any_text(env: Environment, title: str, abstract: str,
                                            authors: list[str], section: str) -> None:
    """Any paper text renders into valid messages with no raw mention or foreign link."""
    c = Candidate(paper=Paper(id="2406.00001", title=title, abstract=abstract,
                              authors=tuple(authors)),
                  topic="t", section=section, score=1.0, day=DAY)
    msgs = B.digest_messages(section, DAY, [c], env=env, sections=SECTIONS,
                             catalog_line=lambda c: c.paper.title)
    assert msgs
    assert all(B.validate_message(m.blocks) == [] for m in msgs)
    for text in texts(msgs[0].blocks):
        assert "<!" not in text
        assert "<@" not in text


# -- limits and splitting --------------------------------------------------------------------


def test_thirty_papers_split_into_valid_messages(env: Environment) -> None:
    """A big section becomes several messages, each valid, together carrying every paper once."""
    cands = [cand(i) for i in range(1, 31)]
    msgs = digest(env, cands)
    assert len(msgs) > 1
    for i, msg in enumerate(msgs, 1):
        assert B.validate_message(msg.blocks) == []
        assert check_blocks(msg.blocks) == []
        assert msg.blocks[0]["text"]["text"].endswith(f"({i}/{len(msgs)})")
        assert len(json.dumps(msg.blocks, ensure_ascii=False)) <= B.MAX_JSON
    ids = [pid for m in msgs for pid in m.paper_ids]
    assert ids == [c.paper.id for c in sorted(cands, key=lambda c: -c.score)]


def test_many_tiny_papers_split_by_block_count(env: Environment) -> None:
    """Small papers still split before 50 blocks."""
    tiny = [Candidate(paper=Paper(id=f"2406.{i:05d}", title="T"), topic="t", section="S",
                      score=1.0, day=DAY) for i in range(40)]
    msgs = B.digest_messages("S", DAY, tiny, env=env, sections=[],
                             catalog_line=lambda c: "- x")
    assert len(msgs) >= 3
    assert all(len(m.blocks) <= 50 for m in msgs)


def test_oversized_values_are_cut_to_limits(env: Environment) -> None:
    """Huge titles, abstracts and section names still give valid blocks; header ends with …."""
    c = cand(1, title="Long & <title> " * 200, abstract="word " * 5000,
             authors=tuple(f"Author {i}" for i in range(500)), section="S" * 400)
    msg = B.digest_messages("Heading & more " * 30, DAY, [c], env=env, sections=SECTIONS,
                            catalog_line=lambda c: "- " + "line " * 2000)[0]
    assert B.validate_message(msg.blocks) == []
    header = msg.blocks[0]["text"]["text"]
    assert len(header) <= 150
    assert header.endswith("…")


@pytest.mark.parametrize(("text", "limit", "expected"), [
    ("short", 10, "short"),
    ("abc &amp; def", 8, "abc…"),          # would cut inside &amp;
    ("abc &amp; def", 11, "abc &amp;…"),
    ("see <https://x.org|label> end", 15, "see…"),   # would cut inside the link
    ("see <https://x.org|label> end", 27, "see <https://x.org|label>…"),
])
def test_truncate_never_cuts_an_entity_or_link(text: str, limit: int, expected: str) -> None:
    """Truncation backs off to before an entity or a link it would split."""
    out = B.truncate(text, limit)
    assert out == expected
    assert len(out) <= limit


@pytest.mark.parametrize(("names", "expected"), [
    ((), "unknown authors"),
    (("A",), "A"),
    (("A", "B", "C"), "A, B, C"),
    (("A", "B", "C", "D"), "A, B, C et al."),
    ((" A  X ", "", "B"), "A X, B"),
])
def test_short_authors(names: tuple[str, ...], expected: str) -> None:
    """Authors shorten to three names and `et al.`."""
    assert B.short_authors(names) == expected


def _bad(kind: str) -> list[dict[str, Any]]:
    button = {"type": "button", "action_id": "a", "text": {"type": "plain_text", "text": "x"},
              "value": "v"}
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x"}}
    return {
        "too many blocks": [section] * 51,
        "long section": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}],
        "long header": [{"type": "header", "text": {"type": "plain_text", "text": "x" * 151}}],
        "long button": [{"type": "actions", "elements": [
            {**button, "text": {"type": "plain_text", "text": "x" * 76}}]}],
        "long value": [{"type": "actions", "elements": [{**button, "value": "v" * 2001}]}],
        "dup action": [{"type": "actions", "elements": [button]},
                       {"type": "actions", "elements": [button]}],
        "dup block": [{**section, "block_id": "b"}, {**section, "block_id": "b"}],
        "many elements": [{"type": "actions", "elements": [
            {**button, "action_id": str(i)} for i in range(26)]}],
        "many context": [{"type": "context", "elements": [
            {"type": "mrkdwn", "text": "x"}] * 11}],
        "too big": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 5,
        "empty text": [{"type": "section", "text": {"type": "mrkdwn", "text": ""}}],
    }[kind]


@pytest.mark.parametrize("kind", ["too many blocks", "long section", "long header", "long button",
                                  "long value", "dup action", "dup block", "many elements",
                                  "many context", "too big", "empty text"])
def test_validator_and_fake_catch_each_limit(kind: str) -> None:
    """Each Block Kit limit broken is reported by the validator and by the fake."""
    blocks = _bad(kind)
    assert B.validate_message(blocks), kind
    assert check_blocks(blocks), kind


# -- decisions and notes ---------------------------------------------------------------------


def test_decided_blocks_replace_only_that_papers_controls(env: Environment) -> None:
    """Approving one paper swaps its buttons for a note; the others keep theirs."""
    msg = digest(env, [cand(1), cand(2)])[0]
    out = B.decided_blocks(msg.blocks, "2406.00001", action="approve", user_id="U0CURATOR",
                           section="Model Compression", catalog_line="- [Arxiv 2024] [T](u)")
    note = next(b for b in out if b.get("block_id") == "decided:2406.00001")
    assert note["type"] == "context"
    assert note["elements"][0]["text"] == (
        ":white_check_mark: Approved by <@U0CURATOR> into *Model Compression*\n"
        "```- [Arxiv 2024] [T](u)```")
    ids = [e["action_id"] for b in out if b["type"] == "actions" for e in b["elements"]]
    assert ids == ["approve:2406.00002", "reject:2406.00002", "section:2406.00002",
                   "edit:2406.00002"]
    assert len(out) == len(msg.blocks)
    assert B.validate_message(out) == []
    assert any(b.get("block_id") == "paper:2406.00001" for b in msg.blocks)  # input untouched


def test_reject_then_redecide_replaces_the_note(env: Environment) -> None:
    """A reject note names the user; deciding again replaces the note instead of adding one."""
    msg = digest(env, [cand(1)])[0]
    rejected = B.decided_blocks(msg.blocks, "2406.00001", action="reject", user_id="U0OTHER",
                                section=None, catalog_line=None)
    assert rejected[-1]["elements"][0]["text"] == ":x: Rejected by <@U0OTHER>"
    again = B.decided_blocks(rejected, "2406.00001", action="reject", user_id="cli:ada",
                             section=None, catalog_line=None)
    assert again[-1]["elements"][0]["text"] == ":x: Rejected by cli:ada"
    assert len(again) == len(rejected)


def test_decided_blocks_for_unknown_paper_changes_nothing(env: Environment) -> None:
    """A paper not in the message leaves the blocks as they were."""
    msg = digest(env, [cand(1)])[0]
    assert B.decided_blocks(msg.blocks, "9999.99999", action="reject", user_id="U1",
                            section=None, catalog_line=None) == msg.blocks


@pytest.mark.parametrize(("make", "words"), [
    (B.nothing_new_message, "Nothing new on arXiv for your topics on 2024-06-03."),
    (B.no_announcement_message, "arXiv made no announcement for 2024-06-03; nothing to review."),
])
def test_notes_are_one_valid_line(make: Any, words: str) -> None:
    """The 'nothing new' and 'no announcement' notes are one line with a fallback."""
    msg = make(DAY)
    assert msg.text == words
    assert msg.paper_ids == ()
    assert B.validate_message(msg.blocks) == []
    assert check_blocks(msg.blocks) == []


def test_action_id_helpers_round_trip() -> None:
    """action_id / parse_action_id / selected_section agree with the block layout."""
    assert B.parse_action_id(B.action_id("approve", "hep-th/0101001")) == (
        "approve", "hep-th/0101001")
    state = {"paper:2406.00001": {"section:2406.00001": {
        "type": "static_select", "selected_option": {"value": SECTIONS[0]}}}}
    assert B.selected_section(state, "2406.00001") == SECTIONS[0]
    assert B.selected_section({}, "2406.00001") is None


def test_empty_candidate_list_gives_no_message(env: Environment) -> None:
    """No candidates, no message."""
    assert digest(env, []) == []


@pytest.mark.parametrize("path", [
    "LLM Training > Techniques",
    "Q&A <data> > " + "Very Long Heading " * 8 + "> Leaf",
])
def test_section_option_is_escaped_fits_the_limit_and_keeps_the_tail(path: str) -> None:
    """The one option builder (digest selects and the modals): Slack-escaped, within
    MAX_BUTTON, the section's leaf kept when shortened, the raw path as its value."""
    option = B.section_option(path)
    text = option["text"]["text"]
    assert option["value"] == path
    assert len(text) <= B.MAX_BUTTON
    assert "<" not in text
    assert ">" not in text
    assert "& " not in text
    assert text.endswith(path[-4:].replace(">", "&gt;"))
    assert text.startswith(B.ELLIPSIS) == (len(path) > B.MAX_BUTTON)
