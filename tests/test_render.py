"""Tests for the Jinja2 environments and the Slack and Markdown escaping."""

from __future__ import annotations

from pathlib import Path

import pytest
from jinja2 import UndefinedError

from arxivwatch.catalog import render_entry
from arxivwatch.models import Paper
from arxivwatch.render import (
    SlackSafe,
    check_templates,
    default_templates_dir,
    make_env,
    md_escape,
    md_url,
    slack_escape,
    slack_link,
    terminal_line,
)

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<!channel>", "&lt;!channel&gt;"),
        ("<https://evil|click me>", "&lt;https://evil|click me&gt;"),
        ("x < y & z > 0", "x &lt; y &amp; z &gt; 0"),
        ("&amp;", "&amp;amp;"),
        ("it's \"fine\"", "it's \"fine\""),
        (42, "42"),
    ],
)
def test_slack_escape(raw: object, escaped: str) -> None:
    """Only `&`, `<` and `>` are escaped, which disarms mentions and links."""
    assert slack_escape(raw) == escaped


def test_slack_escape_leaves_safe_strings() -> None:
    """A SlackSafe value is already mrkdwn and passes through untouched."""
    assert slack_escape(SlackSafe("<https://a|b>")) == "<https://a|b>"


@pytest.mark.parametrize(
    ("url", "label", "link"),
    [
        ("https://arxiv.org/abs/2402.12354", None, "<https://arxiv.org/abs/2402.12354>"),
        ("https://arxiv.org/abs/2402.12354", "abs", "<https://arxiv.org/abs/2402.12354|abs>"),
        ("https://x.org/a|b>c", "a <b> & c", "<https://x.org/a%7Cb%3Ec|a &lt;b&gt; &amp; c>"),
        ("https://x.org", "two\nlines", "<https://x.org|two lines>"),
    ],
)
def test_slack_link(url: str, label: str | None, link: str) -> None:
    """Links cannot be broken out of by their url or label."""
    assert slack_link(url, label) == link
    assert isinstance(slack_link(url, label), SlackSafe)


def test_slack_env_escapes_every_value_but_keeps_links() -> None:
    """In a Slack template every `{{ }}` value is escaped; links made with link() stay links."""
    env = make_env(None, slack=True)
    template = env.from_string("*{{ title }}* {{ link(url, 'abs/' ~ pid) }} {{ none }} by <@U1>")
    out = template.render(title="<!channel> <https://evil|click me> & co", none=None,
                          url="https://arxiv.org/abs/2402.12354", pid="2402.12354")
    assert out == ("*&lt;!channel&gt; &lt;https://evil|click me&gt; &amp; co* "
                   "<https://arxiv.org/abs/2402.12354|abs/2402.12354>  by <@U1>")


def test_markdown_env_does_not_html_escape() -> None:
    """Markdown output keeps quotes and ampersands as typed (no HTML autoescape)."""
    env = make_env(None, slack=False)
    out = env.from_string("{{ t }}|{{ n }}").render(t="it's \"A & B\"", n=None)
    assert out == "it's \"A & B\"|"


def test_undefined_values_fail_loudly() -> None:
    """A misspelt variable in a template is an error, not an empty string."""
    with pytest.raises(UndefinedError):
        make_env(None, slack=False).from_string("{{ titel }}").render(title="x")


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("title: with-dashes, dots. and (parens)", "title: with-dashes, dots. and (parens)"),
        ("a [b] c", r"a \[b\] c"),
        ("](http://evil)", r"\](http\://evil)"),
        ("two\nlines\r\n here", "two lines here"),
        ("`tick`", r"\`tick\`"),
        ("<b>", r"\<b\>"),
        ("see www.evil.com", r"see www\.evil.com"),
        ("ends with \\", "ends with \\\\"),
        ("\\alpha stays", "\\alpha stays"),
        ("\\[x", "\\\\\\[x"),
    ],
)
def test_md_escape(raw: str, escaped: str) -> None:
    """Brackets, backticks, angle brackets, autolinks and line breaks are neutralised."""
    assert md_escape(raw) == escaped


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("LoRA \x00\x07\x1b[31mred\x1b[0m", r"LoRA \[31mred \[0m"),
        ("title \x1b]0;pwned\x07 end", r"title \]0;pwned end"),
        ("C1 \x9b control", "C1 control"),
        ("LoRA \u202eevil\u202c and \u2066iso\u2069", "LoRA evil and iso"),
        ("\u0645\u0631\u062d\u0628\u0627 stays", "\u0645\u0631\u062d\u0628\u0627 stays"),
    ],
)
def test_md_escape_drops_control_and_bidi_override_characters(raw: str, escaped: str) -> None:
    """A hostile title cannot put terminal escapes or text-reordering controls in the catalog."""
    assert md_escape(raw) == escaped


HIDDEN = {
    "right-to-left override": "\u202e", "left-to-right isolate": "\u2066",
    "right-to-left mark": "\u200f", "zero-width space": "\u200b", "zero-width joiner": "\u200d",
    "byte order mark": "\ufeff", "bell": "\x07", "escape": "\x1b", "C1 CSI": "\x9b",
    "null": "\x00",
}


@pytest.mark.parametrize("char", HIDDEN.values(), ids=HIDDEN.keys())
def test_slack_catalog_and_terminal_text_are_cleaned_alike(char: str) -> None:
    """What the catalog line drops, Slack and the terminal drop too: the same words remain."""
    raw = f"LoRA-RTL: harmless{char}exe.txt by Eve{char}"
    catalog, slack, terminal = md_escape(raw), slack_escape(raw).strip(), terminal_line(raw)
    assert char not in catalog + slack + terminal
    assert catalog == slack == terminal
    assert "harmless" in catalog
    assert str(slack_link("https://arxiv.org/abs/2611.00001", raw)).count(char) == 0


def test_a_label_of_invisible_characters_is_no_label() -> None:
    """A link whose label cleans to nothing shows its url, not an empty label."""
    assert slack_link("https://arxiv.org/abs/1", "\u200b\u202e") == "<https://arxiv.org/abs/1>"


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("https://github.com/a/b", "https://github.com/a/b"),
        ("https://en.wikipedia.org/wiki/A_(b)", "https://en.wikipedia.org/wiki/A_(b)"),
        ("https://x.org/a)b", "https://x.org/a%29b"),
        ("https://x.org/a b <c>", "https://x.org/ab%3Cc%3E"),
        # balanced in number but closing first: the link would end at `b)` and plant another
        ("https://github.com/a/b)[x](javascript:alert(1)",
         "https://github.com/a/b%29[x]%28javascript:alert%281%29"),
        ("https://x.org/a)(b", "https://x.org/a%29%28b"),
        ("https://x.org/((a))", "https://x.org/%28%28a%29%29"),
    ],
)
def test_md_url(raw: str, safe: str) -> None:
    """A link destination keeps balanced parens and cannot end the link early."""
    assert md_url(raw) == safe


def test_default_templates_dir_is_the_repo_folder_in_a_checkout() -> None:
    """In a source checkout the shipped templates are the repo's `templates/`."""
    assert default_templates_dir() == REPO / "templates"
    assert (default_templates_dir() / "catalog_entry.md.j2").is_file()


def test_user_override_dir_wins(tmp_path: Path) -> None:
    """A template of the same name in the user's folder replaces the shipped one."""
    (tmp_path / "catalog_entry.md.j2").write_text(
        "* {{ title | md_escape }} <{{ url }}>\n{% if code %}code: {{ code }}{% endif %}\n")
    paper = Paper(id="2402.12354", title="A [b]", abstract="https://github.com/a/b")
    line = render_entry(paper, env=make_env(tmp_path, slack=False))
    assert line == r"* A \[b\] <https://arxiv.org/abs/2402.12354> code: https://github.com/a/b"


def test_missing_user_dir_falls_back_to_shipped(tmp_path: Path) -> None:
    """A user folder that does not exist is skipped; the shipped templates still load."""
    env = make_env(tmp_path / "nope", slack=False)
    assert "catalog_entry.md.j2" in env.list_templates()


def test_check_templates_passes_on_shipped() -> None:
    """Every shipped template parses."""
    assert check_templates(None) == []


def test_check_templates_reports_broken_and_missing(tmp_path: Path) -> None:
    """A template that does not parse is named with its line; a missing folder is reported."""
    (tmp_path / "catalog_entry.md.j2").write_text("ok\n{% if x %}\nno endif\n")
    problems = check_templates(tmp_path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{tmp_path / 'catalog_entry.md.j2'}:")
    assert "endif" in problems[0] or "end of template" in problems[0]
    missing = check_templates(tmp_path / "missing")
    assert missing == [f"{(tmp_path / 'missing').resolve()}: template folder does not exist"]


def test_hostile_code_url_stays_one_link() -> None:
    """A code URL that closes its parenthesis early cannot plant a second link in the line."""
    from arxivwatch.entry import parse_entry

    paper = Paper(id="2402.12354", title="T")
    line = render_entry(paper, summary="S", code="https://github.com/a/b)[x](javascript:alert(1)")
    entry = parse_entry(line, 1)
    assert entry is not None
    assert line.count("](") == 2          # the title link and the code link, nothing more
    assert entry.code is not None
    assert entry.code.startswith("https://github.com/a/b%29")
