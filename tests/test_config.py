"""Tests for config: loading, relative paths, secrets and one precise message per problem."""

from __future__ import annotations

import difflib
import textwrap
import zoneinfo
from datetime import datetime
from pathlib import Path

import pytest

from arxivwatch import config
from arxivwatch.config import ConfigErrors, cron_trigger, load, load_catalog_settings
from arxivwatch.config.settings import LLMSettings
from arxivwatch.errors import CatalogError, ConfigError, QuerySyntaxError

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("LLM Training > Techniques", "Model Compression > Pruning", "LLM Evaluation")

BASE = """\
catalog:
  path: catalog/README.md
arxiv:
  categories: [cs.LG, cs.CL]
topics:
  - name: lora
    section: LLM Training > Techniques
    query: 'ti:LoRA'
  - name: pruning
    section: Model Compression > Pruning
    query: 'ti:pruning'
"""


class FakeCatalog:
    """Stands in for catalog.Catalog: knows SECTIONS, suggests close ones like the real one."""

    def section(self, path_text: str) -> str:
        wanted = " ".join(path_text.split()).lower()
        for s in SECTIONS:
            if s.lower() == wanted:
                return s
        raise CatalogError(f"no section {path_text!r}",
                           close_matches=difflib.get_close_matches(path_text, SECTIONS, n=2))


def fake_parse(text: str) -> str:
    """Stands in for query.parse: an unbalanced '(' is a syntax error at its column."""
    if text.count("(") != text.count(")"):
        raise QuerySyntaxError("unbalanced parenthesis", text, text.index("("))
    return text


def write(root: Path, text: str, *, name: str = "config/topics.yaml") -> Path:
    """Write a config and a catalog under root; return the config path."""
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    (root / "catalog").mkdir(exist_ok=True)
    (root / "catalog" / "README.md").write_text("# Catalog\n", encoding="utf-8")
    return path


def load_fake(path: Path, env: dict[str, str] | None = None) -> config.Settings:
    return load(path, env or {}, parse_query=fake_parse, parse_catalog=lambda _: FakeCatalog())


def problems(path: Path, env: dict[str, str] | None = None) -> list[ConfigError]:
    with pytest.raises(ConfigErrors) as info:
        load_fake(path, env)
    return list(info.value.problems)


def test_minimal_config_gets_defaults(tmp_path: Path) -> None:
    """Keys left out take documented defaults; topic categories default to arxiv.categories."""
    s = load_fake(write(tmp_path, BASE))
    assert s.catalog.insert == "top"
    assert not s.catalog.git_commit
    assert s.arxiv.request_interval == 3.0
    assert s.arxiv.announce_types == ("new", "cross")
    assert s.schedule.cron == "0 21 * * sun-thu"
    assert s.schedule.timezone == "America/New_York"
    assert s.digest.max_per_topic == 10
    assert [t.name for t in s.topics] == ["lora", "pruning"]
    assert s.topics[0].categories == ("cs.LG", "cs.CL")
    assert s.topics[0].query == "ti:LoRA"
    assert s.slack.bot_token is None
    assert not s.slack.configured


@pytest.mark.parametrize(("name", "root_of"), [
    ("config/topics.yaml", lambda tmp: tmp),
    ("topics.yaml", lambda tmp: tmp),
    ("elsewhere/topics.yaml", lambda tmp: tmp / "elsewhere"),
])
def test_relative_paths_resolve_against_project_root(tmp_path: Path, name: str, root_of) -> None:
    """ROOT is the config's folder, or its parent when that folder is named `config`."""
    root = root_of(tmp_path)
    (root / "catalog").mkdir(parents=True, exist_ok=True)
    (root / "catalog" / "README.md").write_text("# C\n", encoding="utf-8")
    (root / "templates").mkdir()
    path = write(tmp_path, BASE + "state:\n  url: sqlite:///data/state.db\n", name=name)
    s = load_fake(path)
    assert s.root == root.resolve()
    assert s.catalog.path == root.resolve() / "catalog" / "README.md"
    assert s.state.url == f"sqlite:///{root.resolve()}/data/state.db"
    assert s.templates_dir == root.resolve() / "templates"


def test_absolute_and_memory_state_urls_are_kept(tmp_path: Path) -> None:
    """An absolute sqlite path and :memory: are not re-rooted."""
    s = load_fake(write(tmp_path, BASE + "state:\n  url: sqlite:////var/lib/aw.db\n"))
    assert s.state.url == "sqlite:////var/lib/aw.db"
    s = load_fake(write(tmp_path, BASE + "state:\n  url: 'sqlite:///:memory:'\n"))
    assert s.state.url == "sqlite:///:memory:"


LLM = ("summaries:\n  llm:\n    base_url: http://127.0.0.1:11434/v1\n    model: llama3.1:8b\n"
       "    timeout: 20\n")


def test_llm_summaries_as_the_issue_gives_them(tmp_path: Path) -> None:
    """`summaries.llm` with base_url, model and timeout; the key from ARXIVWATCH_LLM_API_KEY."""
    s = load_fake(write(tmp_path, BASE + LLM), {"ARXIVWATCH_LLM_API_KEY": "k-1"})
    assert s.summaries.llm == LLMSettings("http://127.0.0.1:11434/v1", "llama3.1:8b", 20.0, "k-1")
    assert load_fake(write(tmp_path, BASE)).summaries.llm is None
    assert load_fake(write(tmp_path, BASE + LLM)).summaries.llm.api_key is None  # type: ignore[union-attr]


def test_secrets_come_from_env(tmp_path: Path) -> None:
    """Tokens are read from the env mapping passed in, never from the file."""
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_APP_TOKEN": ""}
    s = load_fake(write(tmp_path, BASE + "slack:\n  channel: '#papers'\n"), env)
    assert (s.slack.bot_token, s.slack.signing_secret, s.slack.app_token) == ("xoxb-1", "s", None)
    assert s.slack.configured


BROKEN = [
    ("unknown key", BASE + "digest:\n  max_per_topik: 3\n",
     "digest.max_per_topik", 13, "did you mean 'max_per_topic'?"),
    ("unknown top key", BASE + "slak:\n  channel: x\n", "slak", 12, "did you mean 'slack'?"),
    ("wrong type", BASE + "digest:\n  max_per_topic: ten\n",
     "digest.max_per_topic", 13, "expected an integer, got a string ('ten')"),
    ("bool is not int", BASE + "digest:\n  max_per_topic: true\n",
     "digest.max_per_topic", 13, "expected an integer, got true/false"),
    ("bad enum", BASE.replace("README.md\n", "README.md\n  insert: middle\n"),
     "catalog.insert", 3, "'middle' is not one of: top, bottom"),
    ("negative interval", BASE.replace("cs.CL]\n", "cs.CL]\n  request_interval: -1\n"),
     "arxiv.request_interval", 5, "must be at least 0"),
    ("zero timeout", BASE.replace("cs.CL]\n", "cs.CL]\n  timeout: 0\n"),
     "arxiv.timeout", 5, "must be greater than 0"),
    ("missing query", BASE.replace("    query: 'ti:pruning'\n", ""),
     "topics[1].query", 9, "missing required key 'query'"),
    ("malformed query", BASE.replace("'ti:pruning'", "'(ti:pruning'"),
     "topics[1].query", 11, "unbalanced parenthesis at column 1\n  (ti:pruning\n  ^"),
    ("duplicate topic", BASE.replace("name: pruning", "name: lora"),
     "topics[1].name", 9, "duplicate topic name 'lora' (first at line 6)"),
    ("missing section", BASE.replace("> Pruning", "> Prunning"),
     "topics[1].section", 10, "closest headings: 'Model Compression > Pruning'"),
    ("bad cron", BASE + "schedule:\n  cron: '0 25 * * *'\n",
     "schedule.cron", 13, "'0 25 * * *' does not parse"),
    ("short cron", BASE + "schedule:\n  cron: '0 21 * *'\n",
     "schedule.cron", 13, "Wrong number of fields"),
    ("unknown zone", BASE + "schedule:\n  timezone: America/NewYork\n",
     "schedule.timezone", 13, "did you mean America/New_York"),
    ("token in file", BASE + "slack:\n  bot_token: abc\n",
     "slack.bot_token", 13, "set SLACK_BOT_TOKEN"),
    ("token-looking value", BASE + "slack:\n  channel: xoxb-123-456\n",
     "slack.channel", 13, "looks like a Slack token or an API key"),
    ("llm key in file", BASE + LLM + "    api_key: abc\n", "summaries.llm.api_key", 17,
     "set SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_APP_TOKEN, ARXIVWATCH_LLM_API_KEY"),
    ("llm key-looking value", BASE + LLM.replace("llama3.1:8b", "sk-abcdefghijklmnopqrstu"),
     "summaries.llm.model", 15, "looks like a Slack token or an API key"),
    ("llm typo", BASE + LLM + "    timout: 5\n", "summaries.llm.timout", 17,
     "did you mean 'timeout'?"),
    ("llm without model", BASE + LLM.replace("    model: llama3.1:8b\n", ""), "summaries.llm.model",
     13, "missing required key 'model'"),
    ("llm url", BASE + LLM.replace("http://127.0.0.1:11434/v1", "127.0.0.1:11434"),
     "summaries.llm.base_url", 14, "Ollama: http://127.0.0.1:11434/v1"),
    ("llm zero timeout", BASE + LLM.replace("20", "0"), "summaries.llm.timeout", 16,
     "must be greater than 0"),
    ("bad category", BASE.replace("[cs.LG, cs.CL]", "[cs.LG, 'cs LG']"),
     "arxiv.categories[1]", 4, "is not an arXiv category"),
    ("topic category outside feed", BASE.replace("'ti:LoRA'", "'ti:LoRA'\n    categories: [cs.CV]"),
     "topics[0].categories[0]", 9, "'cs.CV' is not in arxiv.categories"),
    ("approver not an id", BASE + "slack:\n  approvers: ['@alice']\n",
     "slack.approvers[0]", 13, "is not a Slack user id"),
    ("non-sqlite state", BASE + "state:\n  url: postgres://db\n", "state.url", 13, "sqlite:///"),
    ("duplicate yaml key", BASE + "digest: {}\ndigest: {}\n", "digest", 13, "duplicate key"),
    ("no topics", BASE.split("topics:")[0], "topics", 1, "missing required key 'topics'"),
    ("empty topics", BASE.split("topics:")[0] + "topics: []\n", "topics", 5,
     "list at least one topic"),
    ("topic not a mapping", BASE + "  - lora\n", "topics[2]", 12,
     "expected a topic (name, section, query)"),
    ("push without commit", BASE.replace("README.md\n", "README.md\n  git: {push: true}\n"),
     "catalog.git.push", 3, "push needs commit: true"),
    ("yaml syntax", BASE + "digest: [1, 2\n", None, 13, "not valid YAML"),
    ("bad kind", BASE.replace("'ti:LoRA'\n", "'ti:LoRA'\n    kind: methods\n"),
     "topics[0].kind", 9, "'methods' is not a kind of section; use one of method, system, "
     "survey, dataset, benchmark"),
    ("kind not a string", BASE.replace("'ti:LoRA'\n", "'ti:LoRA'\n    kind: [method]\n"),
     "topics[0].kind", 9, "expected a string"),
    ("malformed about", BASE.replace("'ti:LoRA'\n", "'ti:LoRA'\n    about: 'LoRA OR (DoRA'\n"),
     "topics[0].about", 9, "malformed query: unbalanced parenthesis at column 9\n"
     "  LoRA OR (DoRA\n          ^"),
    ("malformed against", BASE.replace("'ti:pruning'\n", "'ti:pruning'\n    against: '(x'\n"),
     "topics[1].against", 12, "malformed query: unbalanced parenthesis at column 1\n  (x\n  ^"),
    ("min_score above 1", BASE.replace("'ti:LoRA'\n", "'ti:LoRA'\n    min_score: 1.5\n"),
     "topics[0].min_score", 9, "1.5 is above 1: a score is the estimated chance"),
    ("min_score below 0", BASE.replace("'ti:LoRA'\n", "'ti:LoRA'\n    min_score: -0.1\n"),
     "topics[0].min_score", 9, "must be at least 0"),
]


@pytest.mark.parametrize(("case", "text", "key", "line", "fragment"), BROKEN,
                         ids=[c[0] for c in BROKEN])
def test_broken_config_names_key_and_line(
    tmp_path: Path, case: str, text: str, key: str | None, line: int, fragment: str,
) -> None:
    """Each broken config gives exactly one problem naming the file, key path and line."""
    path = write(tmp_path, text)
    found = problems(path)
    assert len(found) == 1, [str(p) for p in found]
    (p,) = found
    assert (p.key, p.line) == (key, line)
    assert fragment in p.message
    assert str(p).startswith(f"{path.resolve()}:{line}: ")


def test_topic_kind_about_and_against_are_parsed(tmp_path: Path) -> None:
    """kind, about and against reach the Topic; about/against are parsed as queries."""
    from arxivwatch.query import parse

    text = BASE.replace("'ti:LoRA'\n", "'ti:LoRA'\n    kind: survey\n    about: >-\n"
                        "      LoRA OR\n      \"low-rank adapter\"\n    against: ti:medical\n"
                        "    min_score: 0\n").replace("'ti:pruning'\n", "'ti:pruning'\n"
                                                      "    min_score: 1\n")
    s = load(write(tmp_path, text), {}, parse_catalog=lambda _: FakeCatalog())
    lora, pruning = s.topics
    assert (lora.kind, lora.about, lora.against) == (
        "survey", parse('LoRA OR "low-rank adapter"'), parse("ti:medical"))
    assert (lora.min_score, pruning.min_score) == (0.0, 1.0)
    assert (pruning.kind, pruning.about, pruning.against) == ("method", None, None)


def test_malformed_about_with_the_real_parser_points_at_the_column(tmp_path: Path) -> None:
    """The query parser's own caret message names the about key and its line."""
    text = BASE.replace("'ti:LoRA'\n", "'ti:LoRA'\n    about: '\"low rank OR LoRA'\n")
    path = write(tmp_path, text)
    with pytest.raises(ConfigErrors) as info:
        load(path, {}, parse_catalog=lambda _: FakeCatalog())
    (p,) = info.value.problems
    assert (p.key, p.line) == ("topics[0].about", 9)
    assert p.message.startswith("malformed query: ")
    assert p.message.endswith('at column 1\n  "low rank OR LoRA\n  ^')


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    """Several mistakes give one ConfigErrors listing all of them, in file order."""
    text = BASE.replace("README.md\n", "README.md\n  insert: middle\n") + \
        "schedule:\n  timezone: Mars/Olympus\ndigest:\n  max_per_topic: 0\n"
    with pytest.raises(ConfigErrors) as info:
        load_fake(write(tmp_path, text))
    keys = [p.key for p in info.value.problems]
    assert keys == ["catalog.insert", "schedule.timezone", "digest.max_per_topic"]
    assert str(info.value).startswith("3 problems in ")


def test_missing_catalog_names_absolute_path(tmp_path: Path) -> None:
    """A catalog that does not exist is one problem showing its absolute path."""
    path = write(tmp_path, BASE.replace("catalog/README.md", "nope/list.md"))
    (p,) = problems(path)
    assert p.key == "catalog.path"
    assert p.line == 2
    assert str(tmp_path.resolve() / "nope" / "list.md") in p.message


def test_missing_config_file_names_absolute_path(tmp_path: Path) -> None:
    """A config path that does not exist says where it looked and how to point elsewhere."""
    with pytest.raises(ConfigError, match="ARXIVWATCH_CONFIG") as info:
        load_fake(tmp_path / "none.yaml")
    assert str(tmp_path / "none.yaml") in str(info.value)


def test_missing_templates_dir(tmp_path: Path) -> None:
    """An explicit templates_dir must exist."""
    (p,) = problems(write(tmp_path, BASE + "templates_dir: my_templates\n"))
    assert p.key == "templates_dir"
    assert str(tmp_path.resolve() / "my_templates") in p.message


def test_bot_token_without_channel(tmp_path: Path) -> None:
    """With SLACK_BOT_TOKEN set, a channel is required."""
    (p,) = problems(write(tmp_path, BASE), {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert p.key == "slack.channel"


def test_low_request_interval_is_allowed(tmp_path: Path) -> None:
    """Below arXiv's 3 s is accepted (tests and local fakes need it)."""
    text = BASE.replace("cs.CL]\n", "cs.CL]\n  request_interval: 0.01\n")
    assert load_fake(write(tmp_path, text)).arxiv.request_interval == 0.01


def test_catalog_settings_alone(tmp_path: Path) -> None:
    """The catalog commands read only the catalog block: a broken topic does not stop them."""
    path = write(tmp_path, BASE.replace("'ti:pruning'", "'(broken'"))
    catalog, templates = load_catalog_settings(path)
    assert catalog.path == tmp_path.resolve() / "catalog" / "README.md"
    assert templates is None


@pytest.mark.parametrize(("expr", "fires"), [
    ("0 21 * * sun-thu", ["Sun", "Mon", "Tue", "Wed", "Thu"]),
    ("0 21 * * 0-4", ["Sun", "Mon", "Tue", "Wed", "Thu"]),
    ("0 21 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
    ("0 21 * * fri-mon", ["Fri", "Sat", "Sun", "Mon"]),
    ("0 21 * * 7", ["Sun"]),
    ("0 21 * * *", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]),
])
def test_cron_weekdays_mean_what_cron_means(expr: str, fires: list[str]) -> None:
    """Numeric weekdays count from Sunday and ranges may wrap, as in crontab."""
    zone = zoneinfo.ZoneInfo("America/New_York")
    trigger = cron_trigger(expr, zone)
    now, days = datetime(2024, 6, 1, 12, tzinfo=zone), set()   # a Saturday
    for _ in range(14):
        now = trigger.get_next_fire_time(None, now)
        days.add(now.strftime("%a"))
        assert now.hour == 21
        now = now.replace(minute=1)
    assert days == set(fires)


def test_shipped_config_loads_with_the_real_modules() -> None:
    """config/topics.yaml loads against the repo's catalog with the real query parser."""
    s = load(REPO / "config" / "topics.yaml", {})
    names = {t.name for t in s.topics}
    assert {"lora", "lowrank_compression", "pruning", "compression_survey", "moe_training",
            "moe_inference", "llm_evaluation", "instruction_datasets"} <= names
    assert s.catalog.path == REPO / "catalog" / "README.md"
    assert s.schedule.trigger() is not None
