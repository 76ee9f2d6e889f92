"""The validating reader: a YAML file with the line of every key path, read block by block.

Every problem is recorded (file, key path, line) rather than raised, so one run reports them all.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import yaml

from arxivwatch.config.settings import SECRET_ENV, ConfigErrors, project_root
from arxivwatch.errors import ConfigError

_SECRET_KEY = re.compile(r"token|secret|password|api_?key", re.I)
_SECRET_VALUE = re.compile(r"^(xox[abposr]-|xapp-|sk-[A-Za-z0-9_-]{16,})")


class ConfigFile:
    """One config file being validated: its data, the line of every key path, the problems."""

    def __init__(self, path: Path) -> None:
        self.path, self.root = path, project_root(path)
        self.lines: dict[str, int] = {}
        self.problems: list[ConfigError] = []

    def read(self) -> Any:
        """The parsed YAML; an unreadable file or broken YAML raises at once."""
        text = self._text()
        loader = yaml.SafeLoader(text)   # parsed once: the nodes give the lines, then the data
        try:
            node = loader.get_single_node()
            data = None if node is None else loader.construct_document(node)  # as safe_load
        except yaml.YAMLError as exc:
            self.problem("", _yaml_message(exc), line=_mark_line(exc, "problem_mark"))
            raise self.error() from None
        finally:
            loader.dispose()
        if node is not None:
            self._walk(node, "")
        return data

    def _text(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self.problem("", f"config file not found: {self.path}; pass --config PATH or set "
                             "ARXIVWATCH_CONFIG")
        except (OSError, UnicodeDecodeError) as exc:
            self.problem("", f"cannot read the config file: {exc}")
        raise self.error()

    def _walk(self, node: yaml.Node, path: str) -> None:
        self.lines.setdefault(path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key_node, value in node.value:
                key = f"{path}.{key_node.value}" if path else str(key_node.value)
                line = key_node.start_mark.line + 1
                if key in seen:
                    self.problem(key, "duplicate key: the later value would silently win; keep "
                                      "one", line=line)
                seen.add(key)
                self.lines[key] = line
                self._walk(value, key)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, f"{path}[{i}]")
        elif isinstance(node.value, str) and _SECRET_VALUE.match(node.value) \
                and not _SECRET_KEY.search(path.rsplit(".", 1)[-1]):  # reported as a key
            self.problem(path, "looks like a Slack token or an API key: secrets must not be in "
                               "the config file; set SLACK_BOT_TOKEN / SLACK_APP_TOKEN / "
                               "ARXIVWATCH_LLM_API_KEY in the environment")

    def line(self, key: str) -> int | None:
        """The line of `key`, or of its nearest ancestor present in the file."""
        while key and key not in self.lines:
            parent = re.match(r"^(.*?)(\.[^.\[\]]+|\[\d+\])$", key)
            key = parent.group(1) if parent else ""
        return self.lines.get(key)

    def problem(self, key: str, message: str, *, line: int | None = None) -> None:
        """Record one problem at `key`."""
        self.problems.append(ConfigError(
            message, file=str(self.path), key=key or None, line=line or self.line(key)))

    def resolve(self, value: str) -> Path:
        """An absolute path: `value` itself, or relative to the project root."""
        return (self.root / Path(value).expanduser()).resolve()

    def error(self) -> ConfigErrors:
        """Every problem recorded, in file order."""
        return ConfigErrors(sorted(self.problems, key=lambda p: p.line or 0))

    def raise_if_any(self) -> None:
        if self.problems:
            raise self.error()


_KINDS: dict[str, Callable[[Any], bool]] = {
    "a string": lambda v: isinstance(v, str),
    "true or false": lambda v: isinstance(v, bool),
    "an integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "a number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "a list": lambda v: isinstance(v, list),
    "a mapping": lambda v: isinstance(v, dict),
}


class ConfigBlock:
    """One mapping in the file (`slack`, `topics[2]`...), read key by key with type checks."""

    def __init__(self, doc: ConfigFile, value: Any, key: str, allowed: Sequence[str]) -> None:
        self.doc, self.key = doc, key
        if value is not None and not isinstance(value, dict):
            doc.problem(key, f"expected a mapping of keys, got {describe(value)}")
        self.data: dict[Any, Any] = value if isinstance(value, dict) else {}
        for k in self.data:
            if k not in allowed:
                self._unknown(str(k), allowed)

    def _unknown(self, k: str, allowed: Sequence[str]) -> None:
        if _SECRET_KEY.search(k):
            msg = f"secrets must not be in the config file; set {', '.join(SECRET_ENV)} in the " \
                  "environment instead"
        else:
            close = difflib.get_close_matches(k, allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(allowed)}"
            msg = f"unknown key {k!r}; {hint}"
        self.doc.problem(self.path(k), msg)

    def path(self, k: str) -> str:
        return f"{self.key}.{k}" if self.key else k

    def get(self, k: str, kind: str, default: Any, *, required: bool = False) -> Any:
        """The value of `k` if it has the right kind, else `default` (problem recorded)."""
        value = self.data.get(k)
        if value is None:
            if required:
                self.doc.problem(self.path(k), f"missing required key {k!r}")
            return default
        if not _KINDS[kind](value):
            self.doc.problem(self.path(k), f"expected {kind}, got {describe(value)}")
            return default
        return value

    def block(self, k: str, allowed: Sequence[str]) -> ConfigBlock:
        return ConfigBlock(self.doc, self.data.get(k), self.path(k), allowed)

    def strings(self, k: str, default: Sequence[str], pattern: re.Pattern[str] | None = None,
                what: str = "") -> tuple[str, ...]:
        """A list of strings, each optionally matching `pattern` (described by `what`)."""
        items = self.get(k, "a list", None)
        if items is None:
            return tuple(default)
        ok = True
        for i, item in enumerate(items):
            if not isinstance(item, str):
                ok = False
                self.doc.problem(f"{self.path(k)}[{i}]", f"expected a string, got "
                                                          f"{describe(item)}")
            elif pattern is not None and not pattern.match(item):
                ok = False
                self.doc.problem(f"{self.path(k)}[{i}]", f"{item!r} is not {what}")
        return tuple(items) if ok else tuple(default)

    def choice(self, k: str, choices: Sequence[str], default: str) -> str:
        value: str = self.get(k, "a string", default)
        if value not in choices:
            self.doc.problem(self.path(k), f"{value!r} is not one of: {', '.join(choices)}")
            return default
        return value

    def number(self, k: str, default: Any, *, minimum: float, integer: bool = False,
               above: bool = False) -> Any:
        """A number >= minimum (> when `above`); ints only when `integer`."""
        value = self.get(k, "an integer" if integer else "a number", default)
        if value is None or value > minimum or (value == minimum and not above):
            return value if integer or value is None else float(value)
        bound = f"greater than {minimum:g}" if above else f"at least {minimum:g}"
        self.doc.problem(self.path(k), f"must be {bound}, got {value}")
        return default

    def url(self, k: str, default: str) -> str:
        value: str = self.get(k, "a string", default)
        if not value.startswith(("http://", "https://")):
            self.doc.problem(self.path(k), f"expected an http(s) URL, got {value!r}")
        return value


def describe(value: Any) -> str:
    kind = {bool: "true/false", int: "an integer", float: "a number", str: "a string",
            list: "a list", dict: "a mapping"}.get(type(value), type(value).__name__)
    shown = repr(value) if len(repr(value)) <= 40 else repr(value)[:37] + "..."
    return f"{kind} ({shown})"


def _mark_line(exc: yaml.YAMLError, which: str) -> int | None:
    mark = getattr(exc, which, None)
    return mark.line + 1 if mark is not None else None


def _yaml_message(exc: yaml.YAMLError) -> str:
    """PyYAML's problem, plus what it was parsing and where that started."""
    message = f"not valid YAML: {getattr(exc, 'problem', None) or exc}"
    context, line = getattr(exc, "context", None), _mark_line(exc, "context_mark")
    return message + (f" ({context} started at line {line})" if context and line else "")
