"""The validated configuration values: frozen dataclasses, the error that lists every problem,
and the cron helper that gives APScheduler cron's weekday meaning."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]

from arxivwatch.errors import ConfigError
from arxivwatch.models import Topic

DEFAULT_CATEGORIES = ("cs.LG", "cs.CL", "cs.AI", "cs.DC")
LLM_KEY_ENV = "ARXIVWATCH_LLM_API_KEY"
SECRET_ENV = ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", LLM_KEY_ENV)
RSS_URL = "https://rss.arxiv.org/rss/"
API_URL = "https://export.arxiv.org/api/query"
SLACK_API_URL = "https://slack.com/api/"
CRON = "0 21 * * sun-thu"                     # after arXiv's 20:00 ET announcement, Sun-Thu
TIMEZONE = "America/New_York"


@dataclass(frozen=True, slots=True)
class CatalogSettings:
    """Where the markdown catalog is and how approvals are written into it."""

    path: Path
    insert: str = "top"                       # top | bottom of the section
    git_commit: bool = False
    git_push: bool = False


@dataclass(frozen=True, slots=True)
class ArxivSettings:
    """How to reach arXiv, politely."""

    categories: tuple[str, ...] = DEFAULT_CATEGORIES
    rss_url: str = RSS_URL
    api_url: str = API_URL
    request_interval: float = 3.0             # arXiv's terms ask for 3 s between requests
    timeout: float = 30.0
    max_attempts: int = 5
    retry_backoff: float = 2.0                # first retry waits about this long, then doubles
    announce_types: tuple[str, ...] = ("new", "cross")
    contact: str | None = None                # e-mail put in the User-Agent


@dataclass(frozen=True, slots=True)
class SlackSettings:
    """Where digests go and who may decide; tokens come from the environment only."""

    channel: str | None = None
    api_url: str = SLACK_API_URL
    approvers: tuple[str, ...] = ()           # empty = anyone in the channel
    post_empty_note: bool = False
    bot_token: str | None = None
    signing_secret: str | None = None
    app_token: str | None = None

    @property
    def configured(self) -> bool:
        """True when digests can be posted (a bot token and a channel)."""
        return bool(self.bot_token and self.channel)


@dataclass(frozen=True, slots=True)
class StateSettings:
    """The state database: `sqlite:////absolute/path.db` once loaded."""

    url: str


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When `arxivwatch run` polls: a crontab line in a time zone."""

    cron: str = CRON
    timezone: str = TIMEZONE
    misfire_grace_time: int = 3600            # seconds a late run may still start

    def trigger(self) -> CronTrigger:
        """The APScheduler trigger, with cron's weekday meaning (see `cron_trigger`)."""
        return cron_trigger(self.cron, zoneinfo.ZoneInfo(self.timezone))


@dataclass(frozen=True, slots=True)
class DigestSettings:
    """How much a digest may hold."""

    max_per_topic: int = 10
    ask_per_topic: int = 1      # papers just under min_score posted as "unsure" per topic


@dataclass(frozen=True, slots=True)
class LLMSettings:
    """A language model that writes the summaries: any OpenAI-compatible chat completions API."""

    base_url: str                             # e.g. http://127.0.0.1:11434/v1 (Ollama)
    model: str                                # e.g. llama3.1:8b
    timeout: float = 20.0                     # seconds one request may take
    api_key: str | None = None                # ARXIVWATCH_LLM_API_KEY, never the file


@dataclass(frozen=True, slots=True)
class SummarySettings:
    """How catalog-line summaries are made: built-in, or by a language model when `llm` is set."""

    llm: LLMSettings | None = None


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a command needs, validated."""

    config_path: Path
    root: Path
    catalog: CatalogSettings
    arxiv: ArxivSettings
    slack: SlackSettings
    state: StateSettings
    schedule: ScheduleSettings
    digest: DigestSettings
    templates_dir: Path | None
    topics: tuple[Topic, ...]
    summaries: SummarySettings = SummarySettings()

    def topic(self, name: str) -> Topic:
        """The topic called `name`; ConfigError naming the known ones otherwise."""
        for t in self.topics:
            if t.name == name:
                return t
        known = ", ".join(t.name for t in self.topics)
        raise ConfigError(f"no topic named {name!r}; known topics: {known}",
                          file=str(self.config_path), key="topics")


class ConfigErrors(ConfigError):
    """Every problem found in one config file; `problems` holds one ConfigError each."""

    def __init__(self, problems: Sequence[ConfigError]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.message, file=first.file, key=first.key, line=first.line)

    def __str__(self) -> str:
        lines = [_indent(str(p)) for p in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems in {self.file}:\n" + "\n".join(f"  {ln}" for ln in lines)



def _indent(text: str) -> str:
    return text.replace("\n", "\n    ")


def project_root(config_path: Path) -> Path:
    """The directory relative paths resolve against (see the module docstring)."""
    folder = config_path.absolute().parent
    return folder.parent if folder.name == "config" else folder


def cron_trigger(expr: str, timezone: tzinfo) -> CronTrigger:
    """`CronTrigger.from_crontab` with cron's weekdays: 0/7 = Sunday, `sun-thu` wraps."""
    fields = expr.split()
    if len(fields) == 5:
        fields[4] = _cron_weekdays(fields[4])
    return CronTrigger.from_crontab(" ".join(fields), timezone=timezone)


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")   # APScheduler's order
_CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _cron_weekdays(field: str) -> str:
    """Rewrite a weekday field so APScheduler (Monday = 0, no wrap) means what cron means."""
    def name(tok: str) -> str:
        tok = tok.lower()
        return _CRON_DAYS[int(tok)] if tok.isdigit() and int(tok) < 8 else tok

    out: list[str] = []
    for item in field.split(","):
        span, slash, step = item.partition("/")
        first, dash, last = span.partition("-")
        first, last = name(first), name(last)
        wraps = dash and first in _DAYS and last in _DAYS and _DAYS.index(first) > _DAYS.index(last)
        if wraps and not slash:
            out += [first if first == "sun" else f"{first}-sun", "mon" if last == "mon" else
                    f"mon-{last}"]
        else:
            out.append(first + (f"-{last}" if dash else "") + (f"/{step}" if slash else ""))
    return ",".join(out)


# how a config file is read into Settings (`config.load`; tests pass their own)
Loader = Callable[[Path, Mapping[str, str]], Settings]
