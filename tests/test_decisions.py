"""DecisionService: one decision stands, the catalog line is written once, git is optional."""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from arxivwatch.config import CatalogSettings, SlackSettings
from arxivwatch.decisions import DecisionService, run_git
from arxivwatch.errors import CatalogError, DecisionError
from arxivwatch.models import Candidate, Decision, Paper, Summary
from arxivwatch.store import Store

NOW = dt.datetime(2024, 6, 4, 12, 0, tzinfo=dt.UTC)

CATALOG = """# Papers

## LLM Training

### Techniques

- [Arxiv 2021] [LoRA: Low-Rank Adaptation](https://arxiv.org/abs/2106.09685). Low-rank adapters.

## Model Compression

### Pruning

- [Arxiv 2023] [A Simple Pruning Approach for LLMs](https://arxiv.org/abs/2306.11695). Wanda.

### Low-rank  Decomposition

"""

PAPER = Paper(
    id="2402.12354", title="LoRA+: Efficient Low Rank Adaptation of Large Models",
    abstract="We show that LoRA is suboptimal for wide models. We fix it with two learning rates.",
    authors=("Soufiane Hayou",), categories=("cs.LG",),
)
OTHER = Paper(id="2403.00001", title="Pruning by Pieces", abstract="We prune LLMs in pieces.")


# -- stand-ins shared by the Slack and CLI tests -------------------------------------------------


def decided(store: Store) -> dict[str, Decision]:
    """The decisions recorded in the store, by paper id."""
    return {d.paper_id: d for d in store.decisions()}


def make_settings(catalog: Path, *, approvers: Sequence[str] = (), git_commit: bool = False,
                  git_push: bool = False, **slack: Any) -> Any:
    """The two settings blocks decisions read, built from the real config dataclasses."""
    return SimpleNamespace(
        catalog=CatalogSettings(path=catalog, git_commit=git_commit, git_push=git_push),
        slack=SlackSettings(approvers=tuple(approvers), **slack), templates_dir=None)


def make_store(channel: str | None = None, ts: str | None = None) -> Store:
    """A real in-memory store with two candidates: PAPER for Techniques, OTHER for Pruning."""
    store = Store.open("sqlite:///:memory:")
    day = dt.date(2024, 6, 4)
    store.add_candidates([Candidate(PAPER, "lora", "LLM Training > Techniques", 2.5, day),
                          Candidate(OTHER, "pruning", "Model Compression > Pruning", 1.5, day)])
    if channel and ts:
        store.mark_posted([PAPER.id, OTHER.id], channel, ts)
    return store


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    """A small catalog in the user's shape (double space in a heading included)."""
    path = tmp_path / "README.md"
    path.write_bytes(CATALOG.encode())
    return path


def service_for(catalog: Path, store: Any = None, **kw: Any) -> DecisionService:
    git = kw.pop("git", run_git)
    return DecisionService(store or make_store(), make_settings(catalog, **kw),
                           clock=lambda: NOW, git=git)


def section_lines(catalog: Path, heading: str) -> list[str]:
    """The entry lines directly under `heading`."""
    lines, out, inside = catalog.read_text().splitlines(), [], False
    for line in lines:
        if line.startswith("#"):
            inside = line.lstrip("#").strip() == heading
        elif inside and line.startswith("- "):
            out.append(line)
    return out


# -- tests -----------------------------------------------------------------------------------


def test_approve_writes_line_into_suggested_section(catalog: Path) -> None:
    """Approve records the decision and files the line at the top of the candidate's section."""
    store = make_store()
    outcome = service_for(catalog, store).approve("arXiv:2402.12354v2", "U0CURATOR")
    assert outcome.applied
    assert outcome.changed
    assert outcome.decision == Decision("2402.12354", "approve", "U0CURATOR", NOW,
                                        "LLM Training > Techniques", None, "lora")
    assert section_lines(catalog, "Techniques")[0] == outcome.catalog_line
    assert "https://arxiv.org/abs/2402.12354" in (outcome.catalog_line or "")
    stored = store.get_candidate("2402.12354")
    assert stored is not None
    assert stored.status == "approved"


def test_approve_files_the_summary_made_at_the_poll(catalog: Path) -> None:
    """The line filed is the line previewed: the candidate's stored summary, not a new one."""
    store = Store.open("sqlite:///:memory:")
    made = Summary("Setting two learning rates for the LoRA factors.", "llm:test")
    store.add_candidates([Candidate(PAPER, "lora", "LLM Training > Techniques", 2.5,
                                    dt.date(2024, 6, 4), summary=made)])
    service = service_for(catalog, store)
    assert service.suggested_summary(PAPER.id) == made.text
    outcome = service.approve(PAPER.id, "U0CURATOR")
    assert outcome.decision.summary == made.text
    assert f"). {made.text}" in (outcome.catalog_line or "")


def test_edit_modal_lists_filing_sections_only(catalog: Path) -> None:
    """The sections offered are where entries go: not the title, not a grouping heading."""
    assert service_for(catalog).sections() == [
        "LLM Training > Techniques", "Model Compression > Pruning",
        "Model Compression > Low-rank Decomposition"]


def test_approve_other_section_and_summary(catalog: Path) -> None:
    """A chosen section (any case and spacing) and the approver's summary are used."""
    outcome = service_for(catalog).approve(
        "2402.12354", "U0CURATOR", section="model compression > low-rank decomposition",
        summary="Two learning rates for LoRA")
    assert outcome.decision.section == "Model Compression > Low-rank Decomposition"
    assert outcome.decision.summary == "Two learning rates for LoRA"
    assert section_lines(catalog, "Low-rank  Decomposition") == [outcome.catalog_line]
    assert "Two learning rates for LoRA." in (outcome.catalog_line or "")
    assert len(section_lines(catalog, "Techniques")) == 1


def test_unknown_section_records_nothing(catalog: Path) -> None:
    """A section not in the catalog is refused before anything is recorded or written."""
    store, before = make_store(), catalog.read_bytes()
    with pytest.raises(CatalogError, match="Prunning"):
        service_for(catalog, store).approve("2402.12354", "U0CURATOR", section="Prunning")
    assert decided(store) == {}
    assert catalog.read_bytes() == before


def test_unwritable_catalog_folder_records_nothing(catalog: Path) -> None:
    """An approval that cannot take the catalog lock is refused before it is recorded."""
    (catalog.parent / (catalog.name + ".lock")).mkdir()   # the lock file cannot be created
    store, before = make_store(), catalog.read_bytes()
    with pytest.raises(CatalogError, match="lock file"):
        service_for(catalog, store).approve("2402.12354", "U0CURATOR")
    assert decided(store) == {}
    assert {c.id for c in store.candidates(status="pending")} == {PAPER.id, OTHER.id}
    assert catalog.read_bytes() == before


def test_reject_records_and_leaves_catalog(catalog: Path) -> None:
    """Reject records the decision and changes no byte of the catalog."""
    store, before = make_store(), catalog.read_bytes()
    outcome = service_for(catalog, store).reject("2402.12354", "U0CURATOR")
    assert outcome.applied
    assert not outcome.changed
    assert outcome.catalog_line is None
    assert outcome.decision.action == "reject"
    assert catalog.read_bytes() == before
    assert "Rejected 2402.12354" in outcome.message


@pytest.mark.parametrize(("first", "second"), [
    ("approve", "approve"), ("approve", "reject"), ("reject", "approve"), ("reject", "reject"),
])
def test_second_decision_does_not_stand(catalog: Path, first: str, second: str) -> None:
    """After one decision, any later one returns applied=False and the first one."""
    svc = service_for(catalog)
    getattr(svc, first)("2402.12354", "U0CURATOR")
    after_first = catalog.read_bytes()
    late = getattr(svc, second)("2402.12354", "U0OTHER")
    assert not late.applied
    assert late.decision.user == "U0CURATOR"
    assert late.decision.action == first
    assert not late.changed
    assert late.message.startswith("Already")
    assert catalog.read_bytes() == after_first


def test_concurrent_approvals_one_line(catalog: Path) -> None:
    """Eight approvers at once, to two sections: one decision, one catalog line."""
    store = make_store()
    svc = service_for(catalog, store)
    barrier, outcomes = threading.Barrier(8), []
    sections = ["LLM Training > Techniques", "Model Compression > Pruning"]

    def click(i: int) -> None:
        barrier.wait()
        outcomes.append(svc.approve("2402.12354", f"U{i}", section=sections[i % 2]))

    threads = [threading.Thread(target=click, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(o.applied for o in outcomes) == 1
    assert catalog.read_text().count("2402.12354") == 1


def test_crash_between_record_and_write_is_repaired(catalog: Path) -> None:
    """A recorded approval without its line gets it from the next click or from reconcile()."""
    store = make_store()
    store.decide(Decision("2402.12354", "approve", "U0CURATOR", NOW, "LLM Training > Techniques"))
    svc = service_for(catalog, store)
    repaired = svc.reconcile()
    assert [o.decision.paper_id for o in repaired] == ["2402.12354"]
    assert "catalog line was written" in repaired[0].message
    assert len(section_lines(catalog, "Techniques")) == 2
    assert svc.reconcile() == []
    again = svc.approve("2402.12354", "U0OTHER")
    assert not again.applied
    assert not again.changed


@pytest.mark.parametrize(("approvers", "user", "allowed"), [
    ((), "U0ANYONE", True),
    (("U0CURATOR",), "U0CURATOR", True),
    (("U0CURATOR",), "U0OTHER", False),
    (("U0CURATOR",), "cli:alice", True),
])
def test_approvers_allow_list(catalog: Path, approvers: tuple[str, ...], user: str,
                              allowed: bool) -> None:
    """Only listed users decide (anyone when the list is empty; the CLI user always)."""
    store, before = make_store(), catalog.read_bytes()
    svc = service_for(catalog, store, approvers=approvers)
    assert svc.allowed(user) is allowed
    if allowed:
        assert svc.approve("2402.12354", user).applied
    else:
        with pytest.raises(DecisionError, match=r"slack\.approvers"):
            svc.approve("2402.12354", user)
        assert decided(store) == {}
        assert catalog.read_bytes() == before


def test_unknown_paper_is_a_decision_error(catalog: Path) -> None:
    """An id that is not a candidate says how to list the ones that are."""
    with pytest.raises(DecisionError, match="arxivwatch pending"):
        service_for(catalog).reject("2401.99999", "U0CURATOR")


class RecordingGit:
    """Records git argument lists; fails on the command named in `fail_on`."""

    def __init__(self, fail_on: str | None = None) -> None:
        self.calls: list[list[str]] = []
        self.fail_on = fail_on

    def __call__(self, args: Sequence[str]) -> None:
        self.calls.append(list(args))
        if self.fail_on in args:
            raise subprocess.CalledProcessError(1, ["git", *args], stderr="fatal: no remote\n")


@pytest.mark.parametrize(("push", "commands"), [
    (False, ["add", "commit"]), (True, ["add", "commit", "push"]),
])
def test_git_commit_and_push(catalog: Path, push: bool, commands: list[str]) -> None:
    """With catalog.git on, the catalog file is added, committed (naming paper and approver)."""
    git = RecordingGit()
    outcome = service_for(catalog, git=git, git_commit=True, git_push=push).approve(
        "2402.12354", "U0CURATOR")
    assert [c[2] for c in git.calls] == commands
    assert all(c[:2] == ["-C", str(catalog.parent)] for c in git.calls)
    message = git.calls[1][git.calls[1].index("-m") + 1]
    assert "2402.12354" in message
    assert "U0CURATOR" in message
    assert git.calls[1][-2:] == ["--", "README.md"]
    assert outcome.message.endswith("(pushed)" if push else "(committed)")


def test_git_failure_keeps_the_catalog_write(catalog: Path) -> None:
    """A failing push is reported in the message; the line and the decision stay."""
    outcome = service_for(catalog, git=RecordingGit("push"), git_commit=True,
                          git_push=True).approve("2402.12354", "U0CURATOR")
    assert outcome.applied
    assert outcome.changed
    assert "git failed: fatal: no remote" in outcome.message
    assert outcome.catalog_line in catalog.read_text()


def test_git_off_and_reject_run_no_git(catalog: Path) -> None:
    """No git call without catalog.git.commit, nor for a rejection."""
    git = RecordingGit()
    service_for(catalog, git=git).approve("2402.12354", "U0CURATOR")
    service_for(catalog, git=git, git_commit=True).reject("2403.00001", "U0CURATOR")
    assert git.calls == []


def test_real_git_commit(catalog: Path) -> None:
    """Against a real repository: one commit holding the catalog change."""
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(catalog.parent), *args], check=True,
                              capture_output=True, text=True).stdout
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@x", "add", "README.md")
    git("-c", "user.name=t", "-c", "user.email=t@x", "commit", "-qm", "start")
    env_git = _git_with_identity()
    service_for(catalog, git=env_git, git_commit=True).approve("2402.12354", "U0CURATOR")
    assert "Add 2402.12354" in git("log", "-1", "--format=%s")
    assert git("status", "--porcelain", "--", "README.md") == ""


def _git_with_identity() -> Any:
    def run(args: Sequence[str]) -> None:
        run_git(["-c", "user.name=arxivwatch", "-c", "user.email=bot@example.org", *args])
    return run


def test_suggested_summary_and_sections(catalog: Path) -> None:
    """The modal's prefill: the derived summary, and every catalog section path."""
    svc = service_for(catalog)
    assert svc.suggested_summary("2402.12354")
    assert "Model Compression > Low-rank Decomposition" in svc.sections()


def test_suggested_summary_shown_in_the_modal_is_cleaned(catalog: Path) -> None:
    """The edit modal's prefill passes the cleaner, as the catalog line and the digest do."""
    store = Store.open("sqlite:///:memory:")
    hostile = Paper(id="2406.00001", title="T", abstract="We show that Lo\u200bRA\u202e works\x07.")
    store.add_candidates([Candidate(hostile, "lora", "LLM Training > Techniques", 1.0,
                                    dt.date(2024, 6, 4))])
    assert service_for(catalog, store).suggested_summary("2406.00001") == \
        "Showing that LoRA works ."


def test_outcome_decision_keeps_topic(catalog: Path) -> None:
    """The recorded decision carries the candidate's topic, for learning later."""
    outcome = service_for(catalog).reject("2403.00001", "U0CURATOR")
    assert replace(outcome.decision, at=NOW).topic == "pruning"


@pytest.mark.parametrize("damage", ["missing", "not-utf8"])
def test_unreadable_catalog_is_a_catalog_error(catalog: Path, damage: str) -> None:
    """A catalog gone or not UTF-8 since start-up is one clear CatalogError, nothing recorded."""
    if damage == "missing":
        catalog.unlink()
    else:
        catalog.write_bytes(b"# Title\n\xff\xfe\n")
    store = make_store()
    with pytest.raises(CatalogError, match=re.escape(str(catalog.resolve()))):
        service_for(catalog, store).approve(PAPER.id, "U0CURATOR", section="Pruning")
    assert decided(store) == {}
