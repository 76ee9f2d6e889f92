"""A trial render of every template (the user's copies first) on a sample paper.

`arxivwatch check` lists the problems; `poll` and `run` refuse to start with a broken template
(`require_templates`), so a poll never stops mid-digest.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from arxivwatch.catalog import render_entry
from arxivwatch.errors import ConfigError
from arxivwatch.models import Paper
from arxivwatch.render import check_templates, make_env, template_location

# A paper with every markup hazard a real one may carry: the trial render must survive it.
SAMPLE_PAPER = Paper(
    id="2402.12354", version=2,
    title="LoRA+: Efficient [Low Rank] Adaptation of <Large> Models & *More*",
    abstract="We propose LoRA+, setting different learning rates for $A$ and $B$. "
             "Code: https://github.com/nikhil-ghosh-berkeley/loraplus.",
    authors=("Soufiane Hayou", "Nikhil Ghosh", "Bin Yu"), categories=("cs.LG", "cs.CL"),
    comments="Accepted at ICML 2024", day=dt.date(2024, 2, 20), announce_type="new")


def _contexts(line: str) -> list[dict[str, Any]]:
    """Template values, full and sparse, covering what every shipped template documents."""
    p = SAMPLE_PAPER
    full: dict[str, Any] = {
        "paper": p, "title": p.title, "url": p.url, "venue": "ICML 2024", "summary": "Two rates.",
        "code": "https://github.com/nikhil-ghosh-berkeley/loraplus", "authors": "S. Hayou et al.",
        "categories": list(p.categories), "matched": ["ti:LoRA"], "reasons": ["close to LoRA"],
        "why": "title: LoRA · abstract: low-rank adaptation · closest: LoRA+",
        "alternatives": ["lowrank_compression"], "score": 0.87, "unsure": True,
        "excerpt": p.abstract,
        "catalog_line": line, "action": "approve", "who": "<@U012AB3CD>", "paper_id": p.id,
        "section": "LLM Training > Techniques", "day": "2024-02-20", "count": 3, "part": 1,
        "parts": 2,
    }
    sparse = {**full, "venue": None, "code": None, "matched": [], "reasons": [],
              "alternatives": [], "excerpt": "", "action": "reject", "count": 1, "parts": 1,
              "summary": "", "unsure": False}
    return [full, sparse]


def template_problems(user_dir: Path | None) -> tuple[list[str], int]:
    """Syntax problems, then a trial render of every template; (problems, templates checked)."""
    problems = list(check_templates(user_dir))
    if problems:
        return problems, 0
    md, slack = make_env(user_dir, slack=False), make_env(user_dir, slack=True)
    try:
        line = render_entry(SAMPLE_PAPER, env=md)
    except Exception as exc:  # a user's template may fail in any way
        where = template_location(exc) or "catalog_entry.md.j2"
        return [f"{where}: fails on a sample paper: {type(exc).__name__}: {exc}"], 1
    if not line.startswith("- ["):
        problems.append(f"catalog_entry.md.j2: renders {line[:60]!r}, not a '- [...' list entry")
    names = [n for n in md.list_templates() if n.endswith(".j2")]
    for name in names:
        env = slack if name.startswith("slack_") else md
        template = env.get_template(name)
        for values in _contexts(line):
            try:
                template.render(**values)
            except Exception as exc:  # report, do not crash the check
                where = template_location(exc) or template.filename or name
                problems.append(f"{where}: fails on a sample paper: {type(exc).__name__}: {exc}")
                break
    return problems, len(names)


def require_templates(user_dir: Path | None) -> None:
    """Raises ConfigError naming every broken template: a poll must not stop mid-digest."""
    problems, _ = template_problems(user_dir)
    if problems:
        raise ConfigError("; ".join(problems) + "; fix the template (`arxivwatch check` lists "
                          "every problem)")
