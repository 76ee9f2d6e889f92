"""Summaries by a language model: client, prompt, answer check, and the poll's fallbacks."""

from __future__ import annotations

import datetime as dt
import logging
import socket
from collections.abc import Iterator

import pytest

from arxivwatch.catalog import Catalog
from arxivwatch.config.settings import LLMSettings
from arxivwatch.llm import (
    BUILT_IN,
    ChatClient,
    LLMError,
    Summarizer,
    clean_answer,
    examples_for,
    prompt,
)
from arxivwatch.models import Candidate, Paper, Summary
from arxivwatch.summary import summarize
from tests.fakes.llm_server import FakeLLM

DAY = dt.date(2026, 11, 24)
CATALOG = Catalog.parse(
    "# Papers\n## Training\n### Techniques\n"
    "- [Arxiv 2024] [LoRA+: Efficient Low Rank Adaptation](https://arxiv.org/abs/2402.12354). "
    "Applying different learning rate to adapter matrices A and B in LoRA.\n"
    "- [Arxiv 2021] [LoRA](https://arxiv.org/abs/2106.09685). Training large model with minor "
    "trainable parameters by using low rank adapters.\n"
    "## Compression\n### Pruning\n"
    "- [Arxiv 2023] [Wanda](https://arxiv.org/abs/2306.11695). Pruning by weights and "
    "activations, without retraining.\n")


def cand(n: int, section: str = "Training > Techniques") -> Candidate:
    paper = Paper(f"2611.{n:05d}", f"Paper {n}: Low-Rank Things",
                  f"Adapters are costly. We propose PaperNet-{n}, a cheaper adapter. It works.")
    return Candidate(paper, "lora", section, 0.9, DAY)


def settings(url: str, *, timeout: float = 5.0, key: str | None = None) -> LLMSettings:
    return LLMSettings(base_url=url, model="llama3.1:8b", timeout=timeout, api_key=key)


@pytest.fixture
def fake() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def run(fake: FakeLLM, cands: list[Candidate], **kw: object) -> list[Candidate]:
    timeout = float(kw.pop("timeout", 5.0))  # type: ignore[arg-type]
    client = ChatClient(settings(fake.url, timeout=timeout))
    return Summarizer(client, **kw)(cands, CATALOG)  # type: ignore[arg-type]


# -- the client ----------------------------------------------------------------------------------


def test_client_speaks_the_openai_chat_api(fake: FakeLLM) -> None:
    """POST .../chat/completions with model and messages; the key as a bearer token."""
    client = ChatClient(settings(fake.url, key="sk-test"))
    text = client.complete([{"role": "user", "content": "Paper title: T\nAbstract: A"}],
                           timeout=5)
    assert text == "Summarising T in the list's voice."
    (req,) = fake.requests
    assert req.body["model"] == "llama3.1:8b"
    assert req.body["stream"] is False
    assert req.headers["authorization"] == "Bearer sk-test"


def test_client_sends_no_key_when_none_is_set(fake: FakeLLM) -> None:
    """A local server (Ollama) needs no key: no Authorization header at all."""
    ChatClient(settings(fake.url)).complete([{"role": "user", "content": "Paper title: T\n"}],
                                            timeout=5)
    assert "authorization" not in fake.requests[0].headers


@pytest.mark.parametrize(("fault", "message"), [
    ("500", "answered HTTP 500: scripted 500"),
    ("429", "answered HTTP 429"),
    ("badjson", "gave no chat completion"),
    ("nochoice", "gave no chat completion"),
    ("length", "cut at"),
    ("drop", "cannot reach"),
])
def test_client_faults_are_one_clear_error(fake: FakeLLM, fault: str, message: str) -> None:
    """Every failure is an LLMError that says what happened, never a traceback."""
    fake.script([fault])
    with pytest.raises(LLMError, match=message):
        ChatClient(settings(fake.url)).complete(
            [{"role": "user", "content": "Paper title: T\n"}], timeout=5)


def test_wrong_path_is_reported(fake: FakeLLM) -> None:
    """A base_url without /v1 reaches the server but not the API: HTTP 404, said so."""
    with pytest.raises(LLMError, match="HTTP 404"):
        ChatClient(settings(fake.url.removesuffix("/v1"))).complete(
            [{"role": "user", "content": "Paper title: T\n"}], timeout=5)


# -- prompt and answer ---------------------------------------------------------------------------


def test_prompt_gives_title_abstract_and_the_sections_own_lines() -> None:
    """The target section's own catalog lines come first, as examples of voice and length."""
    examples = examples_for(CATALOG, "Training > Techniques")
    assert [t for t, _ in examples] == [
        "LoRA+: Efficient Low Rank Adaptation", "LoRA", "Wanda"]
    messages = prompt(cand(1).paper, examples)
    user = messages[-1]["content"]
    assert "- LoRA+: Efficient Low Rank Adaptation: Applying different learning rate" in user
    assert "Paper title: Paper 1: Low-Rank Things\nAbstract: Adapters are costly." in user
    assert "never \"we\"" in messages[0]["content"]


def test_examples_of_an_unknown_section_come_from_the_catalog() -> None:
    """A section the catalog lacks still gets the catalog's voice."""
    assert len(examples_for(CATALOG, "Nowhere")) == 3


CLEAN = [
    ("Proposing X, a cheaper adapter.", "Proposing X, a cheaper adapter."),
    ("**Summary:** Proposing `X`, a cheaper adapter.", "Proposing X, a cheaper adapter."),
    ("<think>The user wants a sentence.</think>\nProposing X, an adapter.",
     "Proposing X, an adapter."),
    ('"Proposing X, a cheaper adapter."\n\nIt also does Y.', "Proposing X, a cheaper adapter."),
    ("- proposing X with $\\alpha$-scaling (see https://x.org/y).",
     "Proposing X with alpha-scaling."),
    ("Proposing [X](https://github.com/a/b), an adapter for\u202e LoRA.",
     "Proposing X, an adapter for LoRA."),
    ("Proposing X, an adapter " + "that is cheap " * 30 + "forever.",
     "Proposing X, an adapter that is cheap that is cheap that is cheap that is cheap that is "
     "cheap that is cheap that is cheap that is cheap that is cheap that is cheap that is "
     "cheap that is cheap…"),
]


@pytest.mark.parametrize(("answer", "cleaned"), CLEAN)
def test_answer_is_cleaned_to_one_plain_line(answer: str, cleaned: str) -> None:
    """First line, no markdown, LaTeX, URLs, bidi marks or quotes, within 200 characters."""
    assert clean_answer(answer) == cleaned
    assert len(clean_answer(answer)) <= 200


@pytest.mark.parametrize(("answer", "why"), [
    ("", "empty"),
    ("<think>hmm", "empty"),
    ("I'm sorry, but I cannot summarise this paper.", "refusal"),
    ("We propose X, a cheaper adapter.", "speaks as the authors"),
    ("Proposing X for.", "not a whole phrase"),
    ("X.", "not a whole phrase"),
])
def test_unusable_answers_are_refused(answer: str, why: str) -> None:
    """An answer that cannot stand as a catalog summary is an LLMError with the reason."""
    with pytest.raises(LLMError, match=why):
        clean_answer(answer)


# -- at the poll ---------------------------------------------------------------------------------


def test_every_candidate_gets_the_models_summary(fake: FakeLLM) -> None:
    """With a healthy server, each summary is the model's, marked with the model's name."""
    done = run(fake, [cand(1), cand(2)])
    assert [c.summary for c in done] == [
        Summary("Summarising Paper 1: Low-Rank Things in the list's voice.", "llm:llama3.1:8b"),
        Summary("Summarising Paper 2: Low-Rank Things in the list's voice.", "llm:llama3.1:8b")]


def test_a_summary_made_before_is_not_asked_again(fake: FakeLLM) -> None:
    """A candidate that has its summary (a rerun) costs no request."""
    made = Summary("Proposing X.", "llm:llama3.1:8b")
    done = run(fake, [Candidate(cand(1).paper, "lora", "Training > Techniques", 0.9, DAY,
                                summary=made)])
    assert done[0].summary == made
    assert fake.requests == []


def test_failed_requests_fall_back_per_paper_and_are_logged_once(
        fake: FakeLLM, caplog: pytest.LogCaptureFixture) -> None:
    """An error, an unusable answer, a cut answer: that paper keeps the built-in summary."""
    fake.script(["500", "say:We propose things.", "length", "ok"])
    with caplog.at_level(logging.INFO, logger="arxivwatch.llm"):
        done = run(fake, [cand(1), cand(2), cand(3), cand(4)])
    by = [c.summary.by for c in done if c.summary]
    assert by == [BUILT_IN, BUILT_IN, BUILT_IN, "llm:llama3.1:8b"]
    assert done[0].summary == Summary(summarize(cand(1).paper.abstract), BUILT_IN)
    (record,) = caplog.records
    assert record.levelno == logging.WARNING
    assert record.getMessage().startswith(
        "summaries: 3 of 4 papers keep the built-in summary, llama3.1:8b wrote 1 (2611.00001: ")


def test_absent_server_costs_one_attempt(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing listening: the first request fails at once, the poll stops asking."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}/v1"   # bound, not listening: refused
        with caplog.at_level(logging.WARNING, logger="arxivwatch.llm"):
            done = Summarizer(ChatClient(settings(url)))([cand(1), cand(2), cand(3)], CATALOG)
    assert {c.summary.by for c in done if c.summary} == {BUILT_IN}
    (record,) = caplog.records
    assert "stopped asking: cannot reach" in record.getMessage()


def test_two_timeouts_in_a_row_stop_the_asking(fake: FakeLLM) -> None:
    """A stalled server costs two timeouts, not one per paper."""
    fake.script(["stall:1", "stall:1"])
    done = run(fake, [cand(1), cand(2), cand(3)], timeout=0.1)
    assert {c.summary.by for c in done if c.summary} == {BUILT_IN}
    assert len(fake.requests) == 2


def test_the_poll_budget_bounds_the_time_given_to_the_model(fake: FakeLLM) -> None:
    """Once the budget is spent (an injected clock), the rest keep the built-in summary."""
    ticks = iter([0.0, 0.0, 50.0, 120.0, 120.0])
    done = run(fake, [cand(1), cand(2), cand(3)], budget=100.0, clock=lambda: next(ticks))
    assert [c.summary.by for c in done if c.summary] == [
        "llm:llama3.1:8b", "llm:llama3.1:8b", BUILT_IN]
    assert len(fake.requests) == 2


def test_without_a_model_summaries_are_built_in(caplog: pytest.LogCaptureFixture) -> None:
    """No `summaries.llm`: the built-in summary, no request, no log line."""
    with caplog.at_level(logging.INFO, logger="arxivwatch.llm"):
        done = Summarizer()([cand(1)], CATALOG)
    assert done[0].summary == Summary(summarize(cand(1).paper.abstract), BUILT_IN)
    assert caplog.records == []
