"""A throwaway arxivwatch project for end-to-end tests: config, catalog and state in one folder.

The config points arXiv (and Slack, when given) at the local fakes; `run` invokes the real CLI.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from arxivwatch.cli import _register, cli
from arxivwatch.store import Store

CATALOG = """\
# Reading list
论文阅读清单。

## LLM Training
### Techniques
- [Arxiv 2024] [LoRA+: Efficient Low Rank Adaptation of Large Models](https://arxiv.org/abs/2402.12354). Different learning rates for A and B. [Code](https://github.com/nikhil-ghosh-berkeley/loraplus)

## ML System
### Training System
- [ATC 2023] [SmartMoE: Efficiently Training Sparsely-Activated Models through Combining Offline and Online Parallelization](https://www.usenix.org/conference/atc23/presentation/zhai). Runtime choice of parallel strategy.
### Inference System
- [Arxiv 2024] [MoE-Infinity: Activation-Aware Expert Offloading for Efficient MoE Serving](https://arxiv.org/abs/2401.14361). Expert offloading.
"""

CONFIG = """\
catalog:
  path: catalog.md
arxiv:
  categories: [cs.LG, cs.CL, cs.DC]
  rss_url: {rss_url}
  api_url: {api_url}
  request_interval: {interval}
  timeout: 2
  max_attempts: 4
  retry_backoff: 0.01
slack:
  channel: "#llm-papers"
  api_url: {slack_url}
state:
  url: sqlite:///state.db
digest:
  max_per_topic: {cap}
topics:
  - name: lora
    section: LLM Training > Techniques
    query: 'ti:LoRA OR abs:"low-rank adaptation"'
  - name: moe_training
    section: ML System > Training System
    query: 'abs:"mixture of experts" AND (abs:training OR abs:parallelism)'
  - name: moe_inference
    section: ML System > Inference System
    query: 'abs:"mixture of experts" AND (abs:serving OR abs:inference OR abs:offloading)'
"""

DAY = dt.date(2026, 11, 24)   # a Tuesday feed


def paper(pid: str, title: str, abstract: str, **extra: Any) -> dict[str, Any]:
    """A paper for the fake arXiv, announced as new on DAY unless told otherwise."""
    return {"id": pid, "version": 1, "title": title, "abstract": abstract,
            "authors": ["Ada Lovelace", "Alan Turing"], "categories": ["cs.LG", "cs.CL"],
            "announce_type": "new", "day": DAY,
            "submitted": dt.datetime(2026, 11, 23, 12, tzinfo=dt.UTC), **extra}


DAY_PAPERS = [
    paper("2611.00001", "DoRA-X: Weight-Decomposed Low-Rank Adaptation Revisited",
          "We propose a new low-rank adaptation method that decomposes weights into magnitude "
          "and direction, improving LoRA fine-tuning.", comments="Accepted at ICML 2026. "
          "Code: https://github.com/example/dora-x."),
    paper("2611.00002", "Expert Parallelism at Scale for Mixture of Experts Training",
          "We present a system for training mixture of experts models with expert parallelism "
          "and overlapped all-to-all communication."),
    paper("2611.00003", "A Survey of Protein Folding", "Proteins fold. We survey methods."),
    paper("2402.12354", "LoRA+: Efficient Low Rank Adaptation of Large Models",
          "LoRA with different learning rates for A and B.", announce_type="replace", version=3),
    paper("2611.00004", "Offloading Experts for Mixture of Experts Serving",
          "We build an inference system for mixture of experts serving with expert offloading.",
          announce_type="cross"),
]


class Project:
    """A config, catalog and state database in one folder, and a way to run the CLI there."""

    def __init__(self, root: Path, *, arxiv_url: str, slack_url: str = "http://127.0.0.1:9/api/",
                 interval: float = 0.05, cap: int = 10) -> None:
        self.root, self.catalog = root, root / "catalog.md"
        self.catalog.write_text(CATALOG, encoding="utf-8")
        self.config = root / "topics.yaml"
        self.config.write_text(CONFIG.format(
            rss_url=f"{arxiv_url}/rss/", api_url=f"{arxiv_url}/api/query", slack_url=slack_url,
            interval=interval, cap=cap), encoding="utf-8")
        self.env: dict[str, str] = {"USER": "alice"}

    def run(self, *args: str, env: dict[str, str] | None = None) -> Result:
        _register()
        full_env = {"SLACK_BOT_TOKEN": "", "SLACK_APP_TOKEN": "", "SLACK_SIGNING_SECRET": "",
                    **self.env, **(env or {})}
        return CliRunner().invoke(cli, ["--config", str(self.config), *args], env=full_env)

    def store(self) -> Store:
        return Store.open(f"sqlite:///{self.root / 'state.db'}")

    @property
    def db(self) -> Path:
        return self.root / "state.db"
