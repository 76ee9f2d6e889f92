"""Jinja2 environments for the catalog (Markdown) and Slack (mrkdwn), with their escaping.

Autoescape is off on purpose: HTML escaping turns `'` into `&#39;`, which neither Markdown nor
Slack wants. Slack templates escape every `{{ }}` value through `finalize` instead, and values that
are already mrkdwn (links) are marked `SlackSafe` so they pass through once.

Every escaping here (Slack, Markdown, terminal) starts from the one cleaner, `cleaner.visible`:
control, zero-width and bidi characters are gone the same way whatever the target.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateSyntaxError,
)

from arxivwatch.cleaner import one_line, visible


class SlackSafe(str):
    """A string that is already valid Slack mrkdwn and must not be escaped again."""

    __slots__ = ()


def slack_escape(value: object) -> str:
    """Cleans, then escapes `&`, `<`, `>` for Slack: `<!channel>`, `<url|label>` are disarmed."""
    if isinstance(value, SlackSafe):
        return value
    return visible(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def slack_link(url: object, label: object = None) -> SlackSafe:
    """Builds a Slack link `<url|label>` whose url and label cannot break out of it."""
    safe_url = visible(url).replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    # `|` in a label is fine for Slack, but a newline would end the link.
    text = "" if label is None else slack_escape(one_line(label))
    return SlackSafe(f"<{safe_url}|{text}>" if text else f"<{safe_url}>")


def terminal_line(text: object) -> str:
    """One cleaned line, so a paper title cannot drive the terminal or reorder what it shows."""
    return one_line(text)


# Backslash only where it would otherwise escape the next character (or our closing `]`).
_MD_BACKSLASH = re.compile(r"\\(?=[!-/:-@\[-`{-~]|$)")
_MD_SPECIAL = re.compile(r"[\[\]`<>]")
_MD_AUTOLINK = re.compile(r"://|\bwww\.", re.IGNORECASE)


# The catalog line's text (entry.py renders the title with it): the same cleaner as Slack's.
printable = one_line


def md_escape(value: object) -> str:
    """Makes text safe inside one Markdown line: one line, no link, code span or autolink."""
    text = one_line(value)
    text = _MD_BACKSLASH.sub(r"\\\\", text)
    text = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return _MD_AUTOLINK.sub(_break_autolink, text)


def _break_autolink(match: re.Match[str]) -> str:
    # `http\://x` and `www\.x` render as typed but are no longer links in GFM.
    return "\\" + match.group(0) if match.group(0) == "://" else match.group(0)[:3] + "\\."


# Parens a link destination may keep: one level, each opened before it closes (the shape
# `entry.parse_entry` reads back). Anything else could end the link early.
_MD_URL_PARENS = re.compile(r"(?:[^()]|\([^()]*\))*")


def md_url(value: object) -> str:
    """Makes a URL safe as a Markdown link destination (spaces, `<>` and stray parens)."""
    url = "".join(visible(value).split())
    url = url.replace("<", "%3C").replace(">", "%3E")
    if not _MD_URL_PARENS.fullmatch(url):
        url = url.replace("(", "%28").replace(")", "%29")
    return url


def default_templates_dir() -> Path:
    """The shipped templates: the repo's `templates/` in a checkout, else the packaged copy."""
    checkout = Path(__file__).resolve().parents[2] / "templates"
    if (checkout / "catalog_entry.md.j2").is_file():
        return checkout
    return Path(str(resources.files("arxivwatch") / "templates"))


def make_env(user_dir: Path | None, *, slack: bool) -> Environment:
    """Builds the environment: the user's templates first, then the shipped ones."""
    loaders: list[BaseLoader] = []
    if user_dir is not None:
        loaders.append(FileSystemLoader(user_dir))  # a missing folder is skipped silently
    loaders.append(FileSystemLoader(default_templates_dir()))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=False,  # noqa: S701 -- Markdown and Slack, not HTML: see module docstring
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_slack_finalize if slack else _md_finalize,
    )
    env.filters.update(slack_escape=slack_escape, md_escape=md_escape, md_url=md_url)
    env.globals["link"] = slack_link
    return env


def _slack_finalize(value: Any) -> str:
    return "" if value is None else slack_escape(value)


def _md_finalize(value: Any) -> Any:
    return "" if value is None else value


def check_templates(user_dir: Path | None) -> list[str]:
    """One message per problem: a missing override folder, a template that does not parse."""
    problems: list[str] = []
    if user_dir is not None and not user_dir.is_dir():
        problems.append(f"{user_dir.resolve()}: template folder does not exist")
    env = make_env(user_dir, slack=False)
    for name in env.list_templates():
        source, filename, _ = env.loader.get_source(env, name)  # type: ignore[union-attr]
        try:
            env.parse(source, name, filename)
        except TemplateSyntaxError as exc:
            problems.append(f"{filename}:{exc.lineno}: {exc.message}")
    return problems


def template_location(exc: BaseException) -> str | None:
    """`file:line` in the template where a render failed (jinja2 maps its frames there)."""
    found, tb = None, exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if name.endswith(".j2"):
            found = f"{name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return found
