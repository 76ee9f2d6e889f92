"""The config in force while running: a valid edit applies, a broken one is refused and said once."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from arxivwatch.config import Settings, load
from arxivwatch.config.live import LiveConfig, file_version

CATALOG = "# List\n\n## LLM Training\n### Techniques\n\n## Model Compression\n### Pruning\n"
CONFIG = """\
# comments stay
catalog:
  path: catalog.md
slack:
  channel: "#llm-papers"
state:
  url: sqlite:///state.db
topics:
  - name: lora
    section: LLM Training > Techniques
    query: 'ti:LoRA'
"""


class Warnings:
    """Records what would be posted to the channel, and in which channel."""

    def __init__(self) -> None:
        self.posted: list[tuple[str | None, str]] = []
        self.fail = False

    def __call__(self, settings: Settings, text: str) -> None:
        if self.fail:
            raise OSError("slack is down")
        self.posted.append((settings.slack.channel, text))


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "catalog.md").write_text(CATALOG, encoding="utf-8")
    path = tmp_path / "topics.yaml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def live_for(config: Path, warn: Warnings | None = None) -> LiveConfig:
    return LiveConfig(load(config, {}), {}, warn=warn)


def edit(path: Path, old: str, new: str) -> None:
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


def test_a_valid_edit_takes_effect_and_changes_the_version(config: Path) -> None:
    """New topic, new channel, new threshold: in force at the next refresh, with its hash."""
    live = live_for(config)
    first = live.version
    edit(config, '"#llm-papers"', '"#papers"')
    config.write_text(config.read_text() + "  - name: pruning\n    section: Model Compression > "
                      "Pruning\n    query: ti:pruning\n    min_score: 0.5\n")
    settings = live.refresh()
    assert [t.name for t in settings.topics] == ["lora", "pruning"]
    assert settings.topic("pruning").min_score == 0.5
    assert settings.slack.channel == "#papers"
    assert live.version.sha256 == file_version(config).sha256 != first.sha256
    assert live.describe()["rejected"] is None


def test_unchanged_bytes_are_not_read_again(config: Path) -> None:
    """A refresh with the same bytes keeps the same Settings object (touching is no edit)."""
    live = live_for(config)
    before = live.settings
    os.utime(config, (1, 1))
    assert live.refresh() is before


def test_a_broken_edit_keeps_the_last_good_config_logs_one_line_and_warns_once(
        config: Path, caplog: pytest.LogCaptureFixture) -> None:
    """One log line with file:line: key; one warning per bad version; the good one stays."""
    caplog.set_level(logging.INFO, logger="arxivwatch.config.live")
    warnings = Warnings()
    live = live_for(config, warnings)
    good = live.version
    edit(config, "query: 'ti:LoRA'", "query: 'ti:LoRA AND ('")
    for _ in range(3):
        settings = live.refresh()
    assert settings.topic("lora").query_text == "ti:LoRA"
    assert live.version == good
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    line = errors[0].getMessage()
    assert "\n" not in line
    assert f"{config}:11: topics[0].query: malformed query" in line
    assert good.short in line
    [(channel, text)] = warnings.posted
    assert channel == "#llm-papers"
    assert "topics[0].query" in text
    assert good.short in text
    body = live.describe()
    assert body["sha256"] == good.sha256
    assert body["rejected"]["sha256"] == file_version(config).sha256
    assert "not valid" in live.status_line()


def test_a_second_bad_version_is_warned_again_and_a_fix_clears_it(config: Path) -> None:
    """Each bad version is said once; the fixed file takes effect and the warning state clears."""
    warnings = Warnings()
    live = live_for(config, warnings)
    edit(config, "query: 'ti:LoRA'", "query: 'ti:LoRA AND ('")
    live.refresh()
    edit(config, "section: LLM Training > Techniques", "section: Nowhere")
    live.refresh()
    live.refresh()
    assert len(warnings.posted) == 2
    assert "not a section of the catalog" in warnings.posted[1][1]
    edit(config, "section: Nowhere", "section: LLM Training > Techniques")
    edit(config, "query: 'ti:LoRA AND ('", "query: 'ti:DoRA'")
    assert live.refresh().topic("lora").query_text == "ti:DoRA"
    assert live.describe()["rejected"] is None
    assert len(warnings.posted) == 2


def test_a_warning_slack_refused_is_tried_again_at_the_next_refresh(config: Path) -> None:
    """The warning is said once, once it could be said."""
    warnings = Warnings()
    live = live_for(config, warnings)
    warnings.fail = True
    edit(config, "query: 'ti:LoRA'", "query: 'ti:('")
    live.refresh()
    warnings.fail = False
    live.refresh()
    live.refresh()
    assert len(warnings.posted) == 1


def test_restart_only_settings_are_kept_and_named(config: Path) -> None:
    """A new state.url applies nothing of itself: the running value is kept and the warning
    names it; the rest of the edit takes effect."""
    warnings = Warnings()
    live = live_for(config, warnings)
    state = live.settings.state.url
    edit(config, "sqlite:///state.db", "sqlite:///other.db")
    edit(config, "query: 'ti:LoRA'", "query: 'ti:DoRA'")
    settings = live.refresh()
    live.refresh()
    assert settings.state.url == state
    assert settings.topic("lora").query_text == "ti:DoRA"
    [(_, text)] = warnings.posted
    assert "state.url" in text
    assert "restart" in text
    assert live.describe()["kept_until_restart"] == ["state.url"]


def test_an_unreadable_file_keeps_the_config(config: Path) -> None:
    """A deleted file is said once; the config in force stays."""
    warnings = Warnings()
    live = live_for(config, warnings)
    config.unlink()
    live.refresh()
    live.refresh()
    assert live.settings.topic("lora")
    [(_, text)] = warnings.posted
    assert "cannot read" in text


def test_the_live_view_reads_the_settings_in_force(config: Path) -> None:
    """`view()` follows the reloads (what the decision service behind the buttons holds)."""
    live = live_for(config)
    view = live.view()
    config.write_text(config.read_text().replace("slack:\n", "slack:\n  approvers: [U0CURATOR]\n"))
    assert view.slack.approvers == ()
    live.refresh()
    assert view.slack.approvers == ("U0CURATOR",)
