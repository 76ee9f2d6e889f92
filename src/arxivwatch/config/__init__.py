"""topics.yaml + environment -> one frozen, validated Settings.

`load(path, env)` is the only way in. Validation is strict and collects every problem before it
raises one `ConfigErrors`, so `arxivwatch check` can list them all; each names the file, the key
path (`topics[2].query`) and the line.

Relative paths (catalog.path, templates_dir, a `sqlite:///relative.db` state url) resolve against
the project ROOT: the directory holding the config file, or its parent when that directory is
named `config`. So `config/topics.yaml` with `catalog/README.md` works from any working directory.

Secrets never come from the file: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and SLACK_APP_TOKEN are
read from the `env` mapping the CLI passes in (nothing here reads os.environ).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from arxivwatch.catalog import Catalog
from arxivwatch.config import _sections
from arxivwatch.config._reader import ConfigBlock, ConfigFile
from arxivwatch.config._sections import CatalogParser, QueryParser, SectionFinder
from arxivwatch.config.settings import (
    DEFAULT_CATEGORIES,
    SECRET_ENV,
    ArxivSettings,
    CatalogSettings,
    ConfigErrors,
    DigestSettings,
    ScheduleSettings,
    Settings,
    SlackSettings,
    StateSettings,
    cron_trigger,
    project_root,
)
from arxivwatch.query import parse

__all__ = [
    "DEFAULT_CATEGORIES", "SECRET_ENV", "ArxivSettings", "CatalogParser",
    "CatalogSettings", "ConfigErrors", "DigestSettings", "QueryParser", "ScheduleSettings",
    "SectionFinder", "Settings", "SlackSettings", "StateSettings", "cron_trigger", "load",
    "load_catalog_settings", "load_state_settings", "project_root",
]


def load(
    path: Path, env: Mapping[str, str], *, parse_query: QueryParser | None = None,
    parse_catalog: CatalogParser | None = None,
) -> Settings:
    """Read and validate `path`; raise ConfigErrors listing every problem found."""
    doc = ConfigFile(path.absolute())
    data = doc.read()
    settings = _sections.build(doc, data, env, parse_query or _default_query_parser(),
                                  parse_catalog or _default_catalog_parser())
    doc.raise_if_any()
    assert settings is not None
    return settings


def load_catalog_settings(path: Path) -> tuple[CatalogSettings, Path | None]:
    """Only the `catalog` block and templates dir: what the `catalog` commands need."""
    doc = ConfigFile(path.absolute())
    top = ConfigBlock(doc, doc.read(), "", _sections.TOP_KEYS)
    catalog = _sections.catalog_block(doc, top)
    templates = _sections.templates_dir(doc, top)
    doc.raise_if_any()
    return catalog, templates


def load_state_settings(path: Path) -> StateSettings:
    """Only the `state` block: where the state is, also when the rest of the file is broken."""
    doc = ConfigFile(path.absolute())
    top = ConfigBlock(doc, doc.read(), "", _sections.TOP_KEYS)
    state = _sections._state(doc, top)   # the package's own reader of that block
    wrong = [p for p in doc.problems if (p.key or "").startswith("state")]
    if wrong:
        raise ConfigErrors(wrong)
    return state


def _default_query_parser() -> QueryParser:
    return parse


def _default_catalog_parser() -> CatalogParser:
    return Catalog.parse
