"""One reader per block of topics.yaml: catalog, arxiv, slack, state, schedule, topics."""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Callable, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from arxivwatch.config._reader import ConfigBlock, ConfigFile
from arxivwatch.config._reader import describe as _describe
from arxivwatch.config.settings import (
    API_URL,
    CRON,
    DEFAULT_CATEGORIES,
    LLM_KEY_ENV,
    RSS_URL,
    SLACK_API_URL,
    TIMEZONE,
    ArxivSettings,
    CatalogSettings,
    DigestSettings,
    LLMSettings,
    ScheduleSettings,
    Settings,
    SlackSettings,
    StateSettings,
    SummarySettings,
    cron_trigger,
)
from arxivwatch.errors import CatalogError, QuerySyntaxError
from arxivwatch.models import ANNOUNCE_TYPES, Topic

if TYPE_CHECKING:
    from arxivwatch.query import Query

_CATEGORY = re.compile(r"^[a-z][a-z-]*(\.[A-Za-z][A-Za-z-]*)?$")
_TOPIC_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")


class SectionFinder(Protocol):
    """What config needs of a parsed catalog: `section(path_text)` raising CatalogError."""

    def section(self, path_text: str) -> object: ...


QueryParser = Callable[[str], "Query"]
CatalogParser = Callable[[str], SectionFinder]


TOP_KEYS = ("catalog", "arxiv", "slack", "state", "schedule", "digest", "summaries",
            "templates_dir", "topics")


def build(doc: ConfigFile, data: Any, env: Mapping[str, str], parse_query: QueryParser,
          parse_catalog: CatalogParser) -> Settings | None:
    """Every block read and checked; None when any problem was recorded."""
    top = ConfigBlock(doc, data, "", TOP_KEYS)
    catalog, arxiv = catalog_block(doc, top), _arxiv(top)
    finder = _read_catalog(doc, catalog.path, parse_catalog)
    topics = _topics(top, arxiv.categories, parse_query, finder)
    digest_block = top.block("digest", ("max_per_topic", "ask_per_topic"))
    digest = DigestSettings(
        max_per_topic=digest_block.number("max_per_topic", 10, minimum=1, integer=True),
        ask_per_topic=digest_block.number("ask_per_topic", ASK_PER_TOPIC, minimum=0,
                                          integer=True))
    settings = Settings(
        config_path=doc.path, root=doc.root, catalog=catalog, arxiv=arxiv,
        slack=_slack(top, env), state=_state(doc, top), schedule=_schedule(top), digest=digest,
        templates_dir=templates_dir(doc, top), topics=topics, summaries=_summaries(top, env))
    return None if doc.problems else settings


def catalog_block(doc: ConfigFile, top: ConfigBlock) -> CatalogSettings:
    block = top.block("catalog", ("path", "insert", "git"))
    git = block.block("git", ("commit", "push"))
    commit = git.get("commit", "true or false", False)
    push = git.get("push", "true or false", False)
    if push and not commit:
        doc.problem(git.path("push"), "push needs commit: true (nothing is pushed uncommitted)")
    return CatalogSettings(
        path=doc.resolve(block.get("path", "a string", "catalog/README.md")),
        insert=block.choice("insert", ("top", "bottom"), "top"), git_commit=commit,
        git_push=push)


def _read_catalog(doc: ConfigFile, path: Path, parse: CatalogParser) -> SectionFinder | None:
    """The parsed catalog, or None with the problem recorded against catalog.path."""
    try:
        return parse(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        doc.problem("catalog.path", f"catalog file not found: {path}; create it or fix "
                                    f"catalog.path (relative paths resolve against {doc.root})")
    except (OSError, UnicodeDecodeError, CatalogError) as exc:
        doc.problem("catalog.path", f"cannot read the catalog {path}: {exc}")
    return None


def _arxiv(top: ConfigBlock) -> ArxivSettings:
    block = top.block("arxiv", ("categories", "rss_url", "api_url", "request_interval",
                                "timeout", "max_attempts", "retry_backoff", "announce_types",
                                "contact"))
    categories = block.strings("categories", DEFAULT_CATEGORIES, _CATEGORY,
                               "an arXiv category such as cs.LG or hep-th")
    if not categories:
        block.doc.problem(block.path("categories"), "list at least one arXiv category")
    types = block.strings("announce_types", ("new", "cross"),
                          re.compile("^(" + "|".join(ANNOUNCE_TYPES) + ")$"),
                          "one of " + ", ".join(ANNOUNCE_TYPES))
    return ArxivSettings(
        categories=categories or DEFAULT_CATEGORIES,
        rss_url=block.url("rss_url", RSS_URL),
        api_url=block.url("api_url", API_URL),
        # Below 3 s is accepted (tests and local fakes need it); arXiv's terms ask for 3.
        request_interval=block.number("request_interval", 3.0, minimum=0),
        timeout=block.number("timeout", 30.0, minimum=0, above=True),
        max_attempts=block.number("max_attempts", 5, minimum=1, integer=True),
        retry_backoff=block.number("retry_backoff", 2.0, minimum=0),
        announce_types=types, contact=block.get("contact", "a string", None))


def _slack(top: ConfigBlock, env: Mapping[str, str]) -> SlackSettings:
    block = top.block("slack", ("channel", "api_url", "approvers", "post_empty_note"))
    channel = block.get("channel", "a string", None)
    bot_token = env.get("SLACK_BOT_TOKEN") or None
    if bot_token and not channel:
        block.doc.problem(block.path("channel"), "SLACK_BOT_TOKEN is set but slack.channel is "
                                                 "not: name the channel digests go to")
    return SlackSettings(
        channel=channel, api_url=block.url("api_url", SLACK_API_URL),
        approvers=block.strings("approvers", (), _SLACK_USER,
                                "a Slack user id such as U012AB3CD (profile > Copy member ID)"),
        post_empty_note=block.get("post_empty_note", "true or false", False),
        bot_token=bot_token, signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
        app_token=env.get("SLACK_APP_TOKEN") or None)


def _summaries(top: ConfigBlock, env: Mapping[str, str]) -> SummarySettings:
    block = top.block("summaries", ("llm",))
    if block.data.get("llm") is None:
        return SummarySettings()
    llm = block.block("llm", ("base_url", "model", "timeout"))
    base_url: str | None = llm.get("base_url", "a string", None, required=True)
    model: str | None = llm.get("model", "a string", None, required=True)
    timeout = llm.number("timeout", 20.0, minimum=0, above=True)
    if base_url is not None and not base_url.startswith(("http://", "https://")):
        llm.doc.problem(llm.path("base_url"), f"expected the http(s) URL of an OpenAI-compatible "
                                              f"API (Ollama: http://127.0.0.1:11434/v1), got "
                                              f"{base_url!r}")
    if model is None or base_url is None:
        return SummarySettings()
    return SummarySettings(LLMSettings(base_url=base_url.rstrip("/"), model=model,
                                       timeout=timeout, api_key=env.get(LLM_KEY_ENV) or None))


def _state(doc: ConfigFile, top: ConfigBlock) -> StateSettings:
    block = top.block("state", ("url",))
    url: str = block.get("url", "a string", "sqlite:///arxivwatch.db")
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix:
        block.doc.problem(block.path("url"), f"expected sqlite:///PATH (relative to "
                                             f"{doc.root}) or sqlite:////ABSOLUTE/PATH, "
                                             f"got {url!r}")
        url = "sqlite:///arxivwatch.db"
    rest = url.removeprefix(prefix)
    return StateSettings(url if rest == ":memory:" else prefix + str(doc.resolve(rest)))


def _schedule(top: ConfigBlock) -> ScheduleSettings:
    block = top.block("schedule", ("cron", "timezone", "misfire_grace_time"))
    cron: str = block.get("cron", "a string", CRON)
    name: str = block.get("timezone", "a string", TIMEZONE)
    grace = block.number("misfire_grace_time", 3600, minimum=1, integer=True)
    zone = _zone(block, name)
    try:
        cron_trigger(cron, zone or zoneinfo.ZoneInfo("UTC"))
    except ValueError as exc:
        block.doc.problem(block.path("cron"), f"{cron!r} does not parse: {exc} (five fields: "
                                              "minute hour day month weekday)")
    return ScheduleSettings(cron=cron, timezone=name, misfire_grace_time=grace)


def _zone(block: ConfigBlock, name: str) -> tzinfo | None:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zones = {z.lower(): z for z in zoneinfo.available_timezones()}
        close = [zones[z] for z in difflib.get_close_matches(name.lower(), zones, n=3)]
        hint = f"did you mean {', '.join(close)}?" if close else "use an IANA name such as " \
                                                                 "Europe/Paris"
        block.doc.problem(block.path("timezone"), f"unknown time zone {name!r}; {hint}")
        return None


def templates_dir(doc: ConfigFile, top: ConfigBlock) -> Path | None:
    value = top.get("templates_dir", "a string", None)
    if value is None:
        default = doc.root / "templates"
        return default if default.is_dir() else None
    path = doc.resolve(value)
    if not path.is_dir():
        doc.problem("templates_dir", f"templates directory not found: {path}")
    return path


_TOPIC_KEYS = ("name", "section", "query", "kind", "about", "against", "categories", "min_score")
KINDS = ("method", "system", "survey", "dataset", "benchmark")
ASK_PER_TOPIC = 1   # papers just under min_score asked about per topic and day (0: none)


def _topics(top: ConfigBlock, categories: tuple[str, ...], parse_query: QueryParser,
            finder: SectionFinder | None) -> tuple[Topic, ...]:
    items = top.get("topics", "a list", [], required=True)
    if isinstance(top.data.get("topics"), list) and not items:
        top.doc.problem("topics", "list at least one topic")
    topics: list[Topic] = []
    first_line: dict[str, int | None] = {}
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            top.doc.problem(f"topics[{i}]", f"expected a topic (name, section, query), got "
                                            f"{_describe(item)}")
            continue
        block = ConfigBlock(top.doc, item, f"topics[{i}]", _TOPIC_KEYS)
        name = block.data.get("name")
        if isinstance(name, str) and name in first_line:
            top.doc.problem(block.path("name"), f"duplicate topic name {name!r} (first at line "
                                                f"{first_line[name]}); names must be unique")
        elif isinstance(name, str):
            first_line[name] = top.doc.line(block.path("name"))
        topic = _topic(block, categories, parse_query, finder)
        if topic is not None:
            topics.append(topic)
    return tuple(topics)


def _topic(block: ConfigBlock, categories: tuple[str, ...], parse_query: QueryParser,
           finder: SectionFinder | None) -> Topic | None:
    name = block.get("name", "a string", None, required=True)
    if name is not None and not _TOPIC_NAME.match(name):
        block.doc.problem(block.path("name"), f"{name!r}: use letters, digits, _ . - only "
                                              "(it is typed on the command line)")
    section = block.get("section", "a string", None, required=True)
    text = block.get("query", "a string", None, required=True)
    mine = block.strings("categories", categories, _CATEGORY, "an arXiv category")
    for i, cat in enumerate(mine):
        if cat not in categories:
            block.doc.problem(f"{block.path('categories')}[{i}]", f"{cat!r} is not in "
                              "arxiv.categories, so the feed never brings it; add it there")
    min_score = block.number("min_score", None, minimum=0.0)
    if min_score is not None and min_score > 1:
        block.doc.problem(block.path("min_score"), f"{min_score} is above 1: a score is the "
                          "estimated chance that a paper belongs, from 0 to 1")
    query = _query(block, "query", text, parse_query) if text is not None else None
    kind = block.get("kind", "a string", "method")
    if kind not in KINDS:
        block.doc.problem(block.path("kind"), f"{kind!r} is not a kind of section; use one of "
                          f"{', '.join(KINDS)}")
    about, against = (_cues(block, key, parse_query) for key in ("about", "against"))
    if section is not None and finder is not None:
        _check_section(block, section, finder)
    if name is None or section is None or query is None:
        return None
    return Topic(name=name, section=" > ".join(" ".join(p.split()) for p in section.split(">")),
                 query=query, query_text=text, categories=mine, min_score=min_score,
                 kind=kind if kind in KINDS else "method", about=about, against=against)


def _query(block: ConfigBlock, key: str, text: str, parse_query: QueryParser) -> Query | None:
    try:
        return parse_query(text)
    except QuerySyntaxError as exc:
        block.doc.problem(block.path(key), f"malformed query: {exc}")
        return None


def _cues(block: ConfigBlock, key: str, parse_query: QueryParser) -> Query | None:
    """`about` / `against`: words and phrases in the query language (optional)."""
    text = block.get(key, "a string", None)
    return None if text is None else _query(block, key, text, parse_query)


def _check_section(block: ConfigBlock, section: str, finder: SectionFinder) -> None:
    try:
        finder.section(section)
    except CatalogError as exc:
        block.doc.problem(block.path("section"), f"not a section of the catalog: {exc}")
