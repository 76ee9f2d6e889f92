"""Writes one topic's query into topics.yaml, keeping the rest of the file as it was.

The file goes through ruamel.yaml's round trip (comments, key order, quoting and flow style kept;
the indentation is measured from the file), only `topics[i].query` changes, and it keeps its
style (a folded `>-` block stays folded, wrapped near the width of the file's other lines). The
result must load as a valid config with the new query, and must mean the same as the old file
everywhere else, before it replaces the file (atomically, same permissions); otherwise the file is
left untouched and the problems are raised.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import os
import re
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)
from ruamel.yaml.util import load_yaml_guess_indent

from arxivwatch.config import load as load_config
from arxivwatch.config.settings import ConfigErrors, Loader, Settings
from arxivwatch.errors import ConfigError

WRAP = 90            # folded queries are wrapped before this column
_OPERATOR = re.compile(r"(AND|OR|ANDNOT)\b")
_LOCK = threading.Lock()   # one edit at a time in this process


def set_topic_query(path: Path, topic: str, query: str, env: Mapping[str, str], *,
                    load: Loader | None = None) -> tuple[Settings, bool]:
    """Write `query` as topic `topic`'s query in the config at `path`; (new settings, changed).

    Raises ConfigError (ConfigErrors listing every problem) when the topic is not in the file or
    the edited file would not be a valid config; the file is then unchanged.
    """
    query = " ".join(query.split())
    if not query:
        raise ConfigError("the query is empty", file=str(path), key="topics")
    loader = load or load_config
    with _LOCK:
        text = _read(path)
        new_text = edit_query(text, topic, query, file=str(path))
        if new_text == text:
            return loader(path, env), False
        _check_same_elsewhere(text, new_text, topic, file=str(path))
        settings = _validated(path, new_text, env, loader)
        if settings.topic(topic).query_text.split() != query.split():
            raise ConfigError(f"the edited file does not give topic {topic!r} the new query; "
                              "nothing was written", file=str(path), key="topics")
        if _read(path) != text:   # edited by someone else meanwhile: theirs wins, try again
            raise ConfigError("the file changed while the query was being saved; nothing was "
                              "written: save again", file=str(path))
        _replace(path, new_text)
        return settings, True


def edit_query(text: str, topic: str, query: str, *, file: str = "topics.yaml") -> str:
    """The config text with topic `topic`'s query replaced by `query` (pure)."""
    yml, data = _round_trip(text, file)
    item = _topic_item(data, topic, file)
    old = item.get("query")
    if isinstance(old, str) and " ".join(old.split()) == query:
        return text
    item["query"] = styled(old, query, indent=_value_indent(item, text))
    out = io.StringIO()
    yml.dump(data, out)
    return out.getvalue()


def styled(old: Any, query: str, *, indent: int = 6) -> Any:
    """`query` as a scalar in the style of `old`: folded stays folded, quoted stays quoted."""
    if isinstance(old, FoldedScalarString | LiteralScalarString):
        folded = FoldedScalarString(query)
        folded.fold_pos = _fold_positions(query, WRAP - indent)
        return folded
    if isinstance(old, DoubleQuotedScalarString) and '"' not in query:
        return DoubleQuotedScalarString(query)
    if isinstance(old, SingleQuotedScalarString | DoubleQuotedScalarString):
        return SingleQuotedScalarString(query)  # ruamel doubles a ' inside, as YAML wants
    return query   # plain: ruamel quotes it when YAML needs quotes


def _fold_positions(text: str, width: int) -> list[int]:
    """Spaces to fold at so that no line is longer than `width` (if it can be), preferring the
    space before an operator, as the shipped config wraps its queries."""
    folds, start = [], 0
    while len(text) - start > width:
        spaces = [m.start() for m in re.finditer(" ", text[start:start + width + 1])]
        spaces = [start + i for i in spaces if i > 0]
        if not spaces:
            later = text.find(" ", start + width)
            if later == -1:
                break
            spaces = [later]
        before_op = [i for i in spaces if _OPERATOR.match(text, i + 1)]
        space = (before_op or spaces)[-1]
        folds.append(space)
        start = space + 1
    return folds


def _round_trip(text: str, file: str) -> tuple[YAML, Any]:
    try:
        _, sequence, offset = load_yaml_guess_indent(text)
        yml = YAML()                          # round trip: comments, order, styles kept
        yml.preserve_quotes = True
        yml.width = 4096                      # never re-wrap a long line nobody touched
        yml.indent(mapping=_mapping_indent(text), sequence=sequence or 2, offset=offset or 0)
        return yml, yml.load(text)
    except YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=file) from None


def _mapping_indent(text: str) -> int:
    """The indentation of the first nested mapping key (2 when the file has none)."""
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    for line, below in itertools.pairwise(lines):
        outer = len(line) - len(line.lstrip())
        inner = len(below) - len(below.lstrip())
        if re.fullmatch(r"\s*[\w.-]+:\s*(#.*)?", line) and inner > outer \
                and not below.lstrip().startswith("- "):
            return inner - outer
    return 2


def _topic_item(data: Any, topic: str, file: str) -> Any:
    topics = data.get("topics") if hasattr(data, "get") else None
    for item in topics or []:
        if hasattr(item, "get") and item.get("name") == topic:
            return item
    names = ", ".join(str(t.get("name")) for t in topics or [] if hasattr(t, "get"))
    raise ConfigError(f"no topic named {topic!r} in the file; topics: {names}", file=file,
                      key="topics")


def _value_indent(item: Any, text: str) -> int:
    """The column a folded query's lines start at (the key's column plus the mapping indent)."""
    try:
        _, column = item.lc.key("query")
    except (AttributeError, KeyError, TypeError):
        return 6
    return int(column) + _mapping_indent(text)


def _check_same_elsewhere(old: str, new: str, topic: str, *, file: str) -> None:
    """The edited text means what the old one meant, but for the one query (a safety net)."""
    before, after = yaml.safe_load(old), yaml.safe_load(new)
    for data in (before, after):
        for item in data.get("topics") or []:
            if isinstance(item, dict) and item.get("name") == topic:
                item.pop("query", None)
    if before != after:
        raise ConfigError("saving the query would change other settings of the file (a YAML "
                          "round-trip problem); nothing was written: edit it by hand", file=file)


def _validated(path: Path, text: str, env: Mapping[str, str], load: Loader) -> Settings:
    """The settings the edited text gives, loaded from a file beside `path` (same root)."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".check", dir=path.parent)
    temp = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        settings = load(temp, env)
    except ConfigErrors as exc:   # name the real file, not the one checked in its place
        raise ConfigErrors([ConfigError(p.message, file=str(path), key=p.key, line=p.line)
                            for p in exc.problems]) from None
    finally:
        temp.unlink(missing_ok=True)
    return dataclasses.replace(settings, config_path=path.absolute())


def _read(path: Path) -> str:
    try:
        with path.open(encoding="utf-8", newline="") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the config file: {exc}", file=str(path)) from None


def _replace(path: Path, text: str) -> None:
    """Write `text` to a temp file beside `path` (its mode kept), then rename it over `path`."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temp = Path(name)
    try:
        os.chmod(temp, path.stat().st_mode & 0o7777)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ConfigError(f"cannot write the config file: {exc}", file=str(path)) from None
