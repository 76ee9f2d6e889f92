"""Approve and reject: one decision per paper, the catalog line written exactly once.

Order and crash safety. The decision is recorded first (`store.decide`, an atomic
compare-and-set), then the catalog line is written (`catalog_file.add_to_catalog`, idempotent),
then git, then (by the caller) the Slack message. Recording first is what makes "one decision
stands" true under races: writing the catalog first would let a losing approver (or a concurrent
rejecter) leave a line for a decision that never stood. A crash between the two steps leaves an
approval without its line and the Slack buttons still in place; any rerun repairs it, because a
late `approve` or `reject` of an already-approved paper re-applies the standing approval to the
catalog (a no-op when the line is there), and `reconcile()` does the same for every approval.
The section, and that the catalog's folder is writable, are checked *before* recording, so a
typo or a read-only folder never records a decision that cannot be written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from arxivwatch.catalog import Catalog, render_entry, summarize
from arxivwatch.catalog_file import add_to_catalog, check_writable, load_catalog
from arxivwatch.cleaner import one_line
from arxivwatch.errors import DecisionError
from arxivwatch.ids import normalize_id
from arxivwatch.models import Action, Decision, DecisionOutcome, Paper
from arxivwatch.render import make_env, template_location
from arxivwatch.store import Store, StoredCandidate

log = logging.getLogger(__name__)

GitRunner = Callable[[Sequence[str]], None]
CLI_PREFIX = "cli:"


def run_git(args: Sequence[str]) -> None:
    """Run one git command; raise `subprocess.CalledProcessError` with its output on failure."""
    subprocess.run(["git", *args], check=True, capture_output=True, text=True, timeout=120)


class DecisionService:
    """Records approvals and rejections and files approved papers into the catalog."""

    def __init__(
        self, store: Store, settings: Any, *, clock: Callable[[], dt.datetime],
        git: GitRunner = run_git, markdown_env: Any = None,
    ) -> None:
        """`markdown_env`: the catalog template environment built once (`wiring.templates`);
        without one, it is built from `settings.templates_dir`."""
        self.store, self.settings, self.clock, self.git = store, settings, clock, git
        self._md_env: Any = markdown_env

    # -- public API ---------------------------------------------------------------------------

    def approve(
        self, paper_id: str, user: str, *, section: str | None = None, summary: str | None = None,
    ) -> DecisionOutcome:
        """Approve a candidate into `section` (default: its suggested one), optional summary."""
        pid, stored = self._candidate(paper_id, user)
        cand = stored.candidate
        target = self.resolve_section(section or cand.section)
        check_writable(self._catalog_path())   # never record an approval that cannot be filed
        # The line previewed in the digest is the line filed: the summary made at the poll.
        summary = (summary or "").strip() or (cand.summary.text if cand.summary else None)
        self._render(cand.paper, summary)      # a broken template fails here, not after recording
        wanted = Decision(pid, "approve", user, self._now(), target, summary, cand.topic)
        return self._settle(self.store.decide(wanted), cand.paper)

    def reject(self, paper_id: str, user: str) -> DecisionOutcome:
        """Reject a candidate; it is never offered again."""
        pid, stored = self._candidate(paper_id, user)
        cand = stored.candidate
        wanted = Decision(pid, "reject", user, self._now(), None, None, cand.topic)
        return self._settle(self.store.decide(wanted), cand.paper)

    def reconcile(self) -> list[DecisionOutcome]:
        """Make sure every recorded approval has its catalog line (repairs a crash mid-approve)."""
        repaired = []
        for stored in self.store.candidates(status="approved"):
            paper = stored.candidate.paper
            if stored.decision is None or not paper.title:
                continue  # no metadata to render a line from (a paper decided by hand)
            outcome = self._settle(DecisionOutcome(False, stored.decision), paper)
            if outcome.changed:
                repaired.append(outcome)
        return repaired

    def allowed(self, user: str) -> bool:
        """Whether `user` may decide: anyone when `slack.approvers` is empty; the CLI always."""
        approvers = tuple(self.settings.slack.approvers or ())
        return not approvers or user in approvers or user.startswith(CLI_PREFIX)

    def sections(self) -> list[str]:
        """The paths a paper can be filed under (the catalog's real sections, never its title),
        for the section select of the edit modal."""
        return self._catalog().filing_paths()

    def resolve_section(self, text: str) -> str:
        """The catalog's own spelling of a section path; CatalogError with close matches if none."""
        return str(self._catalog().section(text).path_text)

    def suggested_summary(self, paper_id: str) -> str:
        """The summary the catalog line would get when the approver gives none."""
        stored = self.store.get_candidate(normalize_id(paper_id))
        if stored is None:
            raise DecisionError(f"{paper_id}: not a candidate")
        cand = stored.candidate
        made = cand.summary.text if cand.summary is not None else summarize(cand.paper.abstract)
        return one_line(made)   # shown in the edit modal

    def suggested_section(self, paper_id: str) -> str | None:
        """The section the poll suggested for a candidate (None when it is not one)."""
        stored = self.store.get_candidate(normalize_id(paper_id))
        return stored.candidate.section if stored is not None else None

    def posted_at(self, paper_id: str) -> tuple[str, str] | None:
        """(channel id, ts) of the digest message that shows the paper, when it was posted."""
        stored = self.store.get_candidate(normalize_id(paper_id))
        return stored.where if stored is not None else None

    # -- steps ---------------------------------------------------------------------------------

    def _candidate(self, paper_id: str, user: str) -> tuple[str, StoredCandidate]:
        if not self.allowed(user):
            raise DecisionError(
                f"{user} is not allowed to decide; ask for the Slack user id to be added "
                "to slack.approvers in the config")
        pid = normalize_id(paper_id)
        stored = self.store.get_candidate(pid)
        if stored is None:
            raise DecisionError(
                f"{pid} is not a candidate; `arxivwatch pending` lists the papers awaiting "
                "a decision")
        return pid, stored

    def _settle(self, result: DecisionOutcome, paper: Paper) -> DecisionOutcome:
        """Apply the standing decision to the catalog (idempotent) and describe the outcome."""
        standing = result.decision
        line, changed, git_note = None, False, ""
        if standing.action == "approve":
            line, changed = self._file(standing, paper)
            if changed:
                git_note = self._commit(standing, paper)
        message = _describe(result.applied, standing, changed) + git_note
        return dataclasses.replace(result, catalog_line=line, changed=changed, message=message)

    def _render(self, paper: Paper, summary: str | None) -> str:
        """The catalog line; DecisionError naming file and line when the template fails."""
        env = self._env()
        try:
            return render_entry(paper, summary=summary, env=env)
        except Exception as exc:  # a user's template may fail in any way (as `check` says)
            where = template_location(exc) or "catalog_entry.md.j2"
            raise DecisionError(f"{where}: cannot render the catalog line of {paper.id}: "
                                f"{exc}; fix the template (`arxivwatch check`)") from None

    def _file(self, decision: Decision, paper: Paper) -> tuple[str, bool]:
        line = self._render(paper, decision.summary)
        section = decision.section or ""
        changed = add_to_catalog(self._catalog_path(), section, line, self.settings.catalog.insert)
        return line, bool(changed)

    def _commit(self, decision: Decision, paper: Paper) -> str:
        """Commit (and push) the catalog file when configured; a failure is reported, not raised."""
        cfg = self.settings.catalog
        if not cfg.git_commit:
            return ""
        path = self._catalog_path()
        where = ["-C", str(path.parent)]
        msg = f"Add {paper.id} to {decision.section} (approved by {decision.user})\n\n{paper.title}"
        try:
            self.git([*where, "add", "--", path.name])
            self.git([*where, "commit", "-m", msg, "--", path.name])
            if cfg.git_push:
                self.git([*where, "push"])
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            detail = (getattr(exc, "stderr", None) or str(exc)).strip()
            log.error("git failed for %s in %s: %s", paper.id, path.parent, detail)
            last = detail.splitlines()[-1] if detail else str(exc)
            return f" (catalog written, but git failed: {last})"
        return " (pushed)" if cfg.git_push else " (committed)"

    def _env(self) -> Any:
        """The Markdown template environment, honouring the user's templates_dir."""
        if self._md_env is None:
            self._md_env = make_env(getattr(self.settings, "templates_dir", None), slack=False)
        return self._md_env

    def _catalog(self) -> Catalog:
        return load_catalog(self._catalog_path())

    def _catalog_path(self) -> Path:
        return Path(self.settings.catalog.path)

    def _now(self) -> dt.datetime:
        return self.clock().astimezone(dt.UTC)


_PAST: dict[Action, str] = {"approve": "approved", "reject": "rejected"}


def _describe(applied: bool, d: Decision, changed: bool) -> str:
    """One line saying what stands: 'Approved 2402.12354 into X' or 'already rejected by U'."""
    what = f"{_PAST[d.action]} {d.paper_id}"
    where = f" into {d.section}" if d.action == "approve" and d.section else ""
    if applied:
        return f"{what[0].upper()}{what[1:]}{where} by {d.user}"
    late = f"Already {what}{where} by {d.user} at {d.at:%Y-%m-%d %H:%M} UTC"
    return late + ("; its missing catalog line was written now" if changed else "; nothing changed")
