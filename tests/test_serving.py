"""The listeners' wiring: a Slack click is decided and shown with the user's templates."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path

from slack_bolt.request import BoltRequest

from arxivwatch.config import load
from arxivwatch.config.live import LiveConfig
from arxivwatch.models import Candidate, Paper
from arxivwatch.render import make_env
from arxivwatch.serving import slack_app
from arxivwatch.slack.blocks import paper_blocks
from arxivwatch.store import Store
from tests.fakes.slack_server import FakeSlack
from tests.slack_requests import SECRET, Workers, block_action, form, sign
from tests.test_cli import project

NOW = dt.datetime(2026, 11, 24, 12, tzinfo=dt.UTC)
PAPER = Paper("2611.00001", "DoRA-X: Weight-Decomposed Low-Rank Adaptation Revisited",
              "We propose DoRA-X, a low-rank adapter.")


def test_click_decided_note_and_filed_line_use_the_users_templates(tmp_path: Path) -> None:
    """`templates_dir` shapes the line an approval click files and the note that replaces the
    buttons (issue 13: the note used the shipped `slack_decided.mrkdwn.j2`)."""
    config = project(tmp_path)
    tpl = tmp_path / "templates"
    tpl.mkdir()
    (tpl / "catalog_entry.md.j2").write_text("- [MINE] [{{ title }}]({{ url }}). {{ summary }}\n")
    (tpl / "slack_decided.mrkdwn.j2").write_text("FILED by {{ who }}: {{ catalog_line }}\n")
    with FakeSlack() as slack:
        config.write_text(config.read_text() + f"slack:\n  channel: C0LLMPAPERS\n  api_url: "
                                               f"{slack.api_url}\n", encoding="utf-8")
        settings = load(config, {"SLACK_BOT_TOKEN": slack.token, "SLACK_SIGNING_SECRET": SECRET})
        candidate = Candidate(PAPER, "lora", "Training > Techniques", 0.9, NOW.date())
        blocks = paper_blocks(candidate, env=make_env(None, slack=True), sections=[],
                              catalog_line=lambda c: "- [Arxiv 2026] [DoRA-X](u).")
        message = slack.add_message("C0LLMPAPERS", text="digest", blocks=blocks, user="U0BOT")
        with Store.open("sqlite:///:memory:") as store:
            store.add_candidates([candidate])
            workers = Workers()
            app = slack_app(LiveConfig(settings, {}), store, clock=lambda: NOW,
                            executor=workers, echo=lambda _: None)
            body = form(block_action("approve", PAPER.id, message))
            app.dispatch(BoltRequest(body=body.decode(), headers=sign(body, ts=int(time.time()))))
            workers.settle()
            workers.shutdown()
        note = json.dumps(slack.message("C0LLMPAPERS", message["ts"])["blocks"])
    assert "FILED by <@U0CURATOR>: - [MINE] [DoRA-X" in note
    assert "- [MINE] [DoRA-X" in (tmp_path / "catalog" / "README.md").read_text()
