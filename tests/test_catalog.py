"""Tests for the markdown catalog: parse, lookup, index, render, insert and check."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arxivwatch.catalog import (
    Catalog,
    check_catalog,
    code_link,
    insert_entry,
    render_entry,
    summarize,
    venue_tag,
)
from arxivwatch.entry import normalize_title, parse_entry
from arxivwatch.errors import CatalogError
from arxivwatch.models import Paper
from arxivwatch.render import printable

FIXTURE = Path(__file__).parent / "fixtures" / "catalog.md"
TEXT = FIXTURE.read_bytes().decode("utf-8")
LOW_RANK = "Compression > Low-rank Factorization"
NEW_LINE = "- [Arxiv 2024] [A New Paper](https://arxiv.org/abs/2405.00001). Does things."


@pytest.fixture
def catalog() -> Catalog:
    return Catalog.parse(TEXT)


# --- parsing -----------------------------------------------------------------------------------


def test_sections_and_counts(catalog: Catalog) -> None:
    """Headings become paths under the document title, each with its own entries only."""
    counts = {s.path_text: len(s.entries) for s in catalog.sections}
    assert catalog.title == "Reading List"
    assert counts == {
        "Reading List": 0, "Fine-tuning": 0, "Fine-tuning > Adapters": 2,
        "Fine-tuning > Data": 2, "Benchmarks": 2, "Compression": 0,
        "Compression > Low-rank Factorization": 2, "Compression > Pruning": 1,
        "Systems": 0, "Systems > Training": 3, "Systems > Serving": 1,
    }


def test_filing_sections_are_those_a_paper_can_go_under(catalog: Catalog) -> None:
    """The picker's list: headings with entries; not the title, not a heading over others."""
    assert [s.path_text for s in catalog.filing_sections()] == [
        "Fine-tuning > Adapters", "Fine-tuning > Data", "Benchmarks",
        "Compression > Low-rank Factorization", "Compression > Pruning", "Systems > Training",
        "Systems > Serving"]


@pytest.mark.parametrize(("text", "paths"), [
    # an empty heading at the level entries are filed at is a place to file the first one
    # ("## B" sits above the level entries are filed at, and holds none)
    ("# T\n## A\n### A1\n- [x](https://arxiv.org/abs/2401.00001). y\n### A2\n## B\n",
     ["A > A1", "A > A2"]),
    # a level-2 heading with entries beside level-3 ones; "## C" groups nothing and holds nothing
    ("## A\n### A1\n- [x](https://arxiv.org/abs/2401.00001). y\n## B\n- [z](u). w\n## C\n",
     ["A > A1", "B", "C"]),
    # nothing filed yet: every heading but the title
    ("# Title\n## A\n## B\n", ["A", "B"]),
])
def test_filing_sections_of_small_catalogs(text: str, paths: list[str]) -> None:
    """Empty leaf headings at a filing level count; the document title never does."""
    assert [s.path_text for s in Catalog.parse(text).filing_sections()] == paths


def test_section_keeps_heading_as_written(catalog: Catalog) -> None:
    """The path folds the double space; title and line number point at the file."""
    section = catalog.section(LOW_RANK)
    assert section.title == "Low-rank  Factorization"
    assert section.path == ("Compression", "Low-rank Factorization")
    assert TEXT.split("\n")[section.line_no - 1] == "### Low-rank  Factorization"
    assert [s.path_text for s in catalog.sections][6] == LOW_RANK


ENTRY_LINES = [
    (
        "- [Arxiv 2024] [DoRA: Weight-Decomposed Low-Rank Adaptation](https://arxiv.org/abs/2402.09353)"
        ". Splitting weights. [Code](https://github.com/NVlabs/DoRA)",
        dict(venue="Arxiv 2024", title="DoRA: Weight-Decomposed Low-Rank Adaptation",
             link="https://arxiv.org/abs/2402.09353", summary="Splitting weights.",
             code="https://github.com/NVlabs/DoRA", arxiv_ids=("2402.09353",)),
    ),
    (
        "- [dolly dataset.](https://github.com/databrickslabs/dolly) 15k instructions.",
        dict(venue=None, title="dolly dataset.", link="https://github.com/databrickslabs/dolly",
             summary="15k instructions.", code=None, arxiv_ids=()),
    ),
    (
        "- [tinyMMLU](https://huggingface.co/tinyBenchmarks/tinyMMLU), "
        "[paper](https://arxiv.org/abs/2402.14992). A small MMLU. ",
        dict(venue=None, title="tinyMMLU", link="https://huggingface.co/tinyBenchmarks/tinyMMLU",
             code=None, arxiv_ids=("2402.14992",)),
    ),
    (
        "- [OSDI 2020] [A Unified Architecture](https://www.usenix.org/conference/osdi20/x) "
        "[Code](https://github.com/bytedance/byteps)",
        dict(venue="OSDI 2020", title="A Unified Architecture", summary="",
             code="https://github.com/bytedance/byteps", arxiv_ids=()),
    ),
    (
        r"- [Arxiv 2024] [A \[Bracketed\] Title](https://arxiv.org/abs/2401.00001v2).",
        dict(title="A [Bracketed] Title", arxiv_ids=("2401.00001",), summary=""),
    ),
    (
        "- [Wiki](https://en.wikipedia.org/wiki/Foo_(bar)). Balanced parens in a link.",
        dict(title="Wiki", link="https://en.wikipedia.org/wiki/Foo_(bar)"),
    ),
    (
        "* just some words, no link",
        dict(title="just some words, no link", link=None, venue=None),
    ),
]


@pytest.mark.parametrize(("line", "fields"), ENTRY_LINES)
def test_parse_entry_fields(line: str, fields: dict[str, object]) -> None:
    """Venue, title, link, summary, code and arXiv ids come out of real-looking lines."""
    entry = parse_entry(line, 7)
    assert entry is not None
    assert entry.raw == line
    assert entry.line_no == 7
    for name, value in fields.items():
        assert getattr(entry, name) == value, name


@pytest.mark.parametrize("line", ["", "plain text", "## heading", "-no space", "  indented text"])
def test_parse_entry_ignores_non_items(line: str) -> None:
    """Lines that are not list items are not entries."""
    assert parse_entry(line, 1) is None


def test_parse_ignores_headings_in_code_fences_and_rules() -> None:
    """A `#` line inside a fenced block is not a heading, and `- - -` is not an entry."""
    text = ("## A\n```\n## not a heading\n- not an entry\n```\n"
            "- [x](https://arxiv.org/abs/2401.00001)\n- - -\n")
    catalog = Catalog.parse(text)
    assert [s.path_text for s in catalog.sections] == ["A"]
    assert [e.line_no for e in catalog.sections[0].entries] == [6]


@given(st.text())
def test_parse_never_fails_and_round_trips(text: str) -> None:
    """Any text parses, and rendering an unchanged catalog gives back the same string."""
    assert Catalog.parse(text).render() == text


def test_round_trip_bytes_of_fixture() -> None:
    """The fixture's bytes survive parse and render, trailing spaces and Chinese included."""
    assert Catalog.parse(TEXT).render().encode("utf-8") == FIXTURE.read_bytes()


# --- section lookup ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Compression > Low-rank Factorization", LOW_RANK),
        ("compression>low-rank   factorization", LOW_RANK),
        ("  COMPRESSION  >  LOW-RANK FACTORIZATION ", LOW_RANK),
        ("Low-rank Factorization", LOW_RANK),
        ("Low-rank  Factorization", LOW_RANK),
        ("Reading List > Compression > Pruning", "Compression > Pruning"),
        ("Benchmarks", "Benchmarks"),
        ("benchmarks ", "Benchmarks"),
        ("Serving", "Systems > Serving"),
    ],
)
def test_section_lookup(catalog: Catalog, query: str, expected: str) -> None:
    """Paths match ignoring case and runs of spaces; a unique last part is enough."""
    assert catalog.section(query).path_text == expected


def test_missing_section_lists_close_matches(catalog: Catalog) -> None:
    """A missing section is an error naming the closest headings."""
    with pytest.raises(CatalogError, match="no section 'Compresion > Low rank'") as info:
        catalog.section("Compresion > Low rank")
    assert info.value.close_matches[0] == LOW_RANK
    assert LOW_RANK in str(info.value)


def test_ambiguous_section_is_an_error() -> None:
    """A last part shared by two sections must be qualified."""
    catalog = Catalog.parse("## A\n### Survey\n## B\n### Survey\n")
    with pytest.raises(CatalogError, match="ambiguous") as info:
        catalog.section("survey")
    assert info.value.close_matches == ("A > Survey", "B > Survey")
    assert catalog.section("b > survey").line_no == 4


@pytest.mark.parametrize("query", ["", " > ", ">"])
def test_empty_section_path_is_an_error(catalog: Catalog, query: str) -> None:
    """An empty path is refused with a hint at the expected form."""
    with pytest.raises(CatalogError, match="empty section path"):
        catalog.section(query)


# --- index -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("paper_id", "title", "present"),
    [
        ("2402.09353", None, True),
        ("arXiv:2402.09353v3", None, True),
        ("2106.09685", None, True),            # linked with a version
        ("2403.07378", None, True),            # linked as a pdf URL
        ("2402.14992", None, True),            # the [paper] link after a non-arXiv link
        ("2401.99999", None, False),
        (None, "SmartMoE: Efficiently training sparsely-activated models through combining "
               "offline and online parallelization", True),
        (None, "janus:  a unified distributed training framework for sparse "
               "mixture of experts models", True),
        (None, "Janus", False),
        ("2401.99999", "LoRA: Low-Rank Adaptation of Large Language Models", True),
        (None, "LoRA: LowRank Adaptation of Large Language Models", True),   # hyphen apart
        (None, "LoRA - Low Rank Adaptation of Large Language-Models!", True),
        (None, None, False),
        (None, "   ", False),
    ],
)
def test_index_contains(
    catalog: Catalog, paper_id: str | None, title: str | None, present: bool,
) -> None:
    """Papers are known by id in any URL form, or by normalised title."""
    assert catalog.index().contains(paper_id, title) is present


def test_index_knows_a_paper_by_id_or_folded_title(catalog: Catalog) -> None:
    """`knows`, the poll's and the backtest's test, agrees with `contains` on id and title."""
    index = catalog.index()
    assert index.knows(Paper("2402.09353", "Another title"))
    assert index.knows(Paper("2401.99999", "LoRA: LowRank Adaptation of Large Language Models"))
    assert not index.knows(Paper("2401.99999", "LoRA: Low-Rank Adaptation of Small Models"))
    assert not index.knows(Paper("2401.99999", " -- "))


def test_index_sections_of_paper_in_two_sections(catalog: Catalog) -> None:
    """A paper filed twice on purpose is found in both sections, in file order."""
    index = catalog.index()
    assert index.sections_of("2306.11222") == [
        ("Compression", "Low-rank Factorization"), ("Compression", "Pruning")]
    assert "2402.14992" in index.ids


@pytest.mark.parametrize(
    ("title", "folded"),
    [
        ("LoRA+: Efficient Low Rank", "lora efficient low rank"),
        ("  Mixture-of-Experts\tat  Scale. ", "mixture of experts at scale"),
        ("ＬｏＲＡ：大模型", "lora 大模型"),
        ("“Quoted” — Title!", "quoted title"),
    ],
)
def test_normalize_title(title: str, folded: str) -> None:
    """Case, punctuation, symbols and spacing fold away; letters in any script stay."""
    assert normalize_title(title) == folded


# --- insertion ---------------------------------------------------------------------------------


def _added_lines(before: str, after: str) -> list[tuple[int, str]]:
    old, new = before.split("\n"), after.split("\n")
    assert len(new) == len(old) + 1
    at = next(i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b)
    assert new[:at] + new[at + 1:] == old
    return [(at + 1, new[at])]


def test_insert_top_adds_one_line_under_heading() -> None:
    """Top: the new line goes before the section's first entry; nothing else changes."""
    after = insert_entry(TEXT, LOW_RANK, NEW_LINE)
    assert _added_lines(TEXT, after) == [(21, NEW_LINE)]


def test_insert_bottom_adds_after_last_entry() -> None:
    """Bottom: after the last entry, before the blank lines and the next heading."""
    after = insert_entry(TEXT, LOW_RANK, NEW_LINE, where="bottom")
    assert _added_lines(TEXT, after) == [(23, NEW_LINE)]


def test_insert_into_section_without_entries_goes_under_heading() -> None:
    """A section with no entries gets the line right after its heading."""
    after = insert_entry(TEXT, "Systems", NEW_LINE, where="bottom")
    assert _added_lines(TEXT, after) == [(29, NEW_LINE)]


def test_insert_twice_changes_nothing_more() -> None:
    """Inserting the same paper again into the same section returns the text unchanged."""
    once = insert_entry(TEXT, LOW_RANK, NEW_LINE)
    assert insert_entry(once, LOW_RANK, NEW_LINE) == once
    assert insert_entry(once, LOW_RANK, NEW_LINE.replace("2405.00001", "2405.00001v2")) == once


@pytest.mark.parametrize(
    ("section", "line"),
    [
        (LOW_RANK, "- [Arxiv 2023] [Other words](https://arxiv.org/pdf/2306.11222v1.pdf)."),
        ("Systems > Training", "- [Arxiv 2023] [SmartMoE: efficiently training "
         "sparsely-activated models through combining offline and online parallelization]"
         "(https://arxiv.org/abs/2311.00001)."),
        ("Benchmarks", "- [tinyMMLU again](https://arxiv.org/abs/2402.14992)."),
    ],
)
def test_insert_of_paper_already_in_section_is_noop(section: str, line: str) -> None:
    """Already present by id (any URL form) or by title: the text is returned as is."""
    assert insert_entry(TEXT, section, line) == TEXT


def test_same_paper_may_go_into_a_second_section() -> None:
    """A paper already in one section is still filed into another on purpose."""
    line = "- [Arxiv 2024] [DoRA](https://arxiv.org/abs/2402.09353)."
    after = insert_entry(TEXT, "Compression > Pruning", line)
    assert _added_lines(TEXT, after) == [(25, line)]


def test_insert_keeps_crlf_and_missing_final_newline() -> None:
    """CRLF files get a CRLF line; a file without a final newline still has none."""
    crlf = TEXT.replace("\n", "\r\n").rstrip("\r\n")
    after = insert_entry(crlf, "Systems > Serving", NEW_LINE, where="bottom")
    assert after == crlf + "\r\n" + NEW_LINE
    top = insert_entry(crlf, "Systems > Serving", NEW_LINE)
    assert top.count("\r\n") == crlf.count("\r\n") + 1
    assert "\r\n" + NEW_LINE + "\r\n- [Arxiv 2024] [MoE-Lightning" in top


def test_insert_under_last_heading_without_newline_keeps_crlf() -> None:
    """A CRLF file ending in a bare heading gets a CRLF before the new line."""
    text = "## A\r\n- [x](https://arxiv.org/abs/2401.00001)\r\n## B"
    assert insert_entry(text, "B", NEW_LINE) == text + "\r\n" + NEW_LINE


def test_insert_bottom_keeps_continuation_lines_with_their_entry() -> None:
    """Indented lines under the last entry stay attached to it."""
    text = "## A\n- [x](https://arxiv.org/abs/2401.00001)\n  more about x\n\n## B\n"
    after = insert_entry(text, "A", NEW_LINE, where="bottom")
    assert after == text.replace("more about x\n", f"more about x\n{NEW_LINE}\n")


def test_insert_bottom_keeps_lazy_wrapped_lines_with_their_entry() -> None:
    """A hard-wrapped entry whose next line is not indented is still one entry."""
    text = "## A\n- [x](https://arxiv.org/abs/2401.00001). A long\nsummary of x.\n\n## B\n"
    after = insert_entry(text, "A", NEW_LINE, where="bottom")
    assert after == text.replace("summary of x.\n", f"summary of x.\n{NEW_LINE}\n")


@pytest.mark.parametrize("where", ["top", "bottom"])
def test_html_comments_hide_headings_and_entries(where: Literal["top", "bottom"]) -> None:
    """Lines inside `<!-- -->` are neither sections nor entries, and never receive a line."""
    text = ("## A\n<!--\n- [old](https://arxiv.org/abs/2401.00009)\n## Drafts\n-->\n"
            "- [x](https://arxiv.org/abs/2401.00001) <!-- keep -->\n")
    catalog = Catalog.parse(text)
    assert [s.path_text for s in catalog.sections] == ["A"]
    assert [e.line_no for e in catalog.sections[0].entries] == [6]
    after = insert_entry(text, "A", NEW_LINE, where=where)
    at = 6 if where == "top" else 7
    assert _added_lines(text, after) == [(at, NEW_LINE)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(section_path="Nowhere", line=NEW_LINE), "no section 'Nowhere'"),
        (dict(section_path=LOW_RANK, line=NEW_LINE, where="middle"), "'top' or 'bottom'"),
        (dict(section_path=LOW_RANK, line="- a\n- b"), "single line"),
    ],
)
def test_insert_refusals(kwargs: dict[str, str], message: str) -> None:
    """A missing section, a bad position or a multi-line entry is a CatalogError."""
    with pytest.raises(CatalogError, match=message):
        insert_entry(TEXT, **kwargs)  # type: ignore[arg-type]


SECTIONS = [s.path_text for s in Catalog.parse(TEXT).sections]
ids = st.builds(lambda m, n: f"24{m:02d}.{n:05d}", st.integers(1, 12), st.integers(0, 99999))


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(
    section=st.sampled_from(SECTIONS), paper_id=ids, title=st.text(min_size=1, max_size=60),
    where=st.sampled_from(["top", "bottom"]), crlf=st.booleans(), final_newline=st.booleans(),
)
def test_insert_twice_equals_insert_once(
    section: str, paper_id: str, title: str, where: str, crlf: bool, final_newline: bool,
) -> None:
    """For any section, paper, position and line-ending style: insert twice == insert once."""
    text = TEXT if final_newline else TEXT.rstrip("\n")
    text = text.replace("\n", "\r\n") if crlf else text
    line = render_entry(Paper(id=paper_id, title=title))
    once = insert_entry(text, section, line, where)  # type: ignore[arg-type]
    assert insert_entry(once, section, line, where) == once  # type: ignore[arg-type]
    assert len(once) == len(text) + len(line) + (2 if crlf else 1)
    assert once.endswith("\n") == text.endswith("\n")
    assert Catalog.parse(once).index().sections_of(paper_id)[0] == Catalog.parse(text).section(
        section).path


# --- rendering ---------------------------------------------------------------------------------


def test_render_entry_in_catalog_style() -> None:
    """The line reads `- [Venue] [Title](abs URL). Summary. [Code](url)`."""
    paper = Paper(
        id="2402.12354", title="LoRA+: Efficient Low Rank\n  Adaptation of Large Models",
        abstract="LoRA is popular. We propose LoRA+, which sets different learning rates "
                 "for A and B. Code: https://github.com/nikhil-ghosh-berkeley/loraplus.",
    )
    assert render_entry(paper) == (
        "- [Arxiv 2024] [LoRA+: Efficient Low Rank Adaptation of Large Models]"
        "(https://arxiv.org/abs/2402.12354). Proposing LoRA+, which sets different learning "
        "rates for A and B. [Code](https://github.com/nikhil-ghosh-berkeley/loraplus)")


def test_render_entry_without_code_or_summary() -> None:
    """No code link means no `[Code]` part; no abstract means the line ends after the link."""
    paper = Paper(id="2308.07633", title="A Survey", comments="Accepted at TMLR")
    assert render_entry(paper) == "- [TMLR 2023] [A Survey](https://arxiv.org/abs/2308.07633)."


def test_render_entry_explicit_values_win() -> None:
    """An approver's summary, venue and code replace the derived ones."""
    paper = Paper(id="2402.12354", title="T", abstract="We propose x. https://github.com/a/b")
    line = render_entry(paper, summary="Mine", venue="ICML 2024", code="https://gitlab.com/c/d")
    assert line == "- [ICML 2024] [T](https://arxiv.org/abs/2402.12354). Mine. [Code](https://gitlab.com/c/d)"


@pytest.mark.parametrize(
    "title",
    [
        "Evil](http://evil.example) [x",
        "[Click me](http://evil.example)",
        "line one\nline two\r\nthree",
        "back\\slash at end\\",
        "`code ] span`",
        "http://looks.like/a/link",
        "<script>alert(1)</script>",
    ],
)
def test_render_entry_escapes_hostile_titles(title: str) -> None:
    """A title can neither break out of the link text nor add a link or a line."""
    line = render_entry(Paper(id="2401.00001", title=title, abstract="[x](http://evil.example)"))
    entry = parse_entry(line, 1)
    assert "\n" not in line
    assert "\r" not in line
    assert entry is not None
    assert entry.link == "https://arxiv.org/abs/2401.00001"
    assert entry.title == " ".join(title.split())
    assert "](http://evil" not in line


hostile = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=80) | (
    st.sampled_from(
        ["](http://evil)", "[a](b)", "\n\n", "\\", "`", "<!channel>", "https://github.com/x/y)."]))
papers = st.builds(
    Paper, id=ids, title=hostile, abstract=hostile, comments=st.none() | hostile,
    journal_ref=st.none() | hostile,
)


@given(paper=papers, summary=st.none() | hostile)
def test_render_entry_never_raises_and_is_one_line(paper: Paper, summary: str | None) -> None:
    """On any paper the result is one parseable line linking to the paper's abstract page."""
    line = render_entry(paper, summary=summary)
    entry = parse_entry(line, 1)
    assert "\n" not in line
    assert "\r" not in line
    assert entry is not None
    assert entry.link == paper.url
    assert paper.id in entry.arxiv_ids
    assert entry.title == (printable(paper.title) or paper.id)


VENUES = [
    ("Accepted at OSDI 2024", None, 2024, "OSDI 2024"),
    ("NeurIPS 2024", None, 2024, "NeurIPS 2024"),
    ("ICML'24", None, 2024, "ICML 2024"),
    ("Accepted to ICML’24 (oral)", None, 2024, "ICML 2024"),
    ("EMNLP 2023 Findings", None, 2023, "EMNLP 2023 Findings"),
    ("Findings of ACL 2024, 9 pages", None, 2024, "ACL 2024 Findings"),
    ("Published in TMLR", None, 2024, "TMLR 2024"),
    ("Published in Transactions on Machine Learning Research (05/2024)", None, 2023, "TMLR 2024"),
    ("to appear in MLSys 2025", None, 2024, "MLSys 2025"),
    ("ACL 2024 main", None, 2024, "ACL 2024"),
    ("camera-ready version for USENIX ATC '23", None, 2023, "ATC 2023"),
    ("14 pages, 7 figures. ICLR 2025 camera ready", None, 2024, "ICLR 2025"),
    ("Workshop paper at NeurIPS 2023 ENLSP", None, 2023, "NeurIPS 2023 Workshop"),
    (None, "Proc. VLDB 2024", 2023, "VLDB 2024"),
    (None, "Proceedings of the VLDB Endowment, 17(11): 3051-3064, 2024", 2023, "VLDB 2024"),
    (None, "Advances in Neural Information Processing Systems 36 (NeurIPS 2023)", 2023,
     "NeurIPS 2023"),
    ("Submitted to NeurIPS 2024", None, 2024, "Arxiv 2024"),
    ("Under review at ICLR 2025", None, 2024, "Arxiv 2024"),
    ("NeurIPS 2024 submission", None, 2024, "Arxiv 2024"),
    ("Submitted to NeurIPS 2023. Accepted at ICLR 2024", None, 2023, "ICLR 2024"),
    ("12 pages, 5 figures", None, 2024, "Arxiv 2024"),
    ("Technical report. Code at https://github.com/a/b", None, 2022, "Arxiv 2022"),
    ("this paper is about acl tears", None, 2024, "Arxiv 2024"),
    ("Computer Science MICRO-benchmarks", None, 2024, "Arxiv 2024"),
    (None, None, None, "Arxiv"),
    ("", "", 2021, "Arxiv 2021"),
]


@pytest.mark.parametrize(("comments", "journal_ref", "year", "tag"), VENUES)
def test_venue_tag(
    comments: str | None, journal_ref: str | None, year: int | None, tag: str,
) -> None:
    """Accepted venues become the tag; submissions and unknowns fall back to `Arxiv YEAR`."""
    assert venue_tag(comments, journal_ref, year) == tag


CODE_LINKS = [
    (("Code is available at https://github.com/a/b.",), "https://github.com/a/b"),
    (("Code: https://github.com/a/b).",), "https://github.com/a/b"),
    (("(see https://gitlab.com/group/proj; also X)",), "https://gitlab.com/group/proj"),
    (("models at https://huggingface.co/org/model-7B\"",), "https://huggingface.co/org/model-7B"),
    (("code at \\url{https://github.com/a/b\\_c}",), "https://github.com/a/b_c"),
    (("repo: github.com/a/b, data elsewhere",), "https://github.com/a/b"),
    (("https://bitbucket.org/team/repo>",), "https://bitbucket.org/team/repo"),
    (("https://github.com/a/b_(v2)",), "https://github.com/a/b_(v2)"),
    (("https://github.com/a/b_(v2)).",), "https://github.com/a/b_(v2)"),
    (("[code](https://github.com/a/b)]",), "https://github.com/a/b"),
    (("no link here", "but here: https://github.com/c/d"), "https://github.com/c/d"),
    (("https://huggingface.co/papers/2402.12354",), None),
    (("see https://github.com/ only",), None),
    (("https://notgithub.com/a/b",), None),
    (("https://example.org/code",), None),
    ((None, ""), None),
]


@pytest.mark.parametrize(("texts", "url"), CODE_LINKS)
def test_code_link(texts: tuple[str | None, ...], url: str | None) -> None:
    """The first code-host URL, cleaned of trailing punctuation and LaTeX, or None."""
    assert code_link(*texts) == url


SUMMARIES = [
    ("", ""),
    ("Short one", "Short one."),
    ("LLMs are large. We propose \\textbf{X}, a $\\alpha$-tuned adapter. It works.",
     "Proposing X, a alpha-tuned adapter."),
    ("Adapters, e.g. LoRA, are popular. They are cheap.", "Adapters, e.g. LoRA, are popular."),
    ("In this paper, we introduce Y (see https://github.com/a/b). Results.", "Introducing Y."),
]


@pytest.mark.parametrize(("abstract", "summary"), SUMMARIES)
def test_summarize(abstract: str, summary: str) -> None:
    """The contribution in the catalog's voice (else the first sentence), LaTeX and URLs out."""
    assert summarize(abstract) == summary


@given(st.text(max_size=2000))
def test_summarize_is_short_and_ends_with_period(abstract: str) -> None:
    """Any abstract gives at most 200 characters ending with a sentence mark or "…", or nothing."""
    summary = summarize(abstract)
    assert len(summary) <= 200
    assert summary == "" or summary[-1] in ".!?…"


# --- checks ------------------------------------------------------------------------------------


def test_check_catalog_reports_each_kind() -> None:
    """Malformed lines and duplicates are errors; non-arXiv links are warnings."""
    text = (
        "## A\n"
        "- [x](https://arxiv.org/abs/2401.00001)\n"
        "- no link at all\n"
        "- [X again](https://arxiv.org/pdf/2401.00001v2.pdf)\n"
        "- [Conf paper](https://www.usenix.org/x)\n"
        "- [conf  PAPER!](https://dl.acm.org/y)\n"
        "## B\n"
        "- [x](https://arxiv.org/abs/2401.00001)\n"
    )
    problems = [(p.line_no, p.kind, p.severity) for p in check_catalog(Catalog.parse(text))]
    assert problems == [
        (3, "malformed", "error"), (4, "duplicate", "error"), (5, "not-arxiv", "warning"),
        (6, "not-arxiv", "warning"), (6, "duplicate", "error"),
    ]
    assert "line 4" in str(check_catalog(Catalog.parse(text))[1])


def test_check_fixture_has_only_warnings(catalog: Catalog) -> None:
    """The fixture's conference and dataset links are warnings, nothing worse."""
    problems = check_catalog(catalog)
    assert {p.kind for p in problems} == {"not-arxiv"}
    assert [p.line_no for p in problems] == [11, 12, 15, 30, 31, 32]
