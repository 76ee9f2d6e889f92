"""Built-in summaries in the catalog's voice: detectors, voice, fitting to length (issue 18)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arxivwatch.summary import ELLIPSIS, cut_mid_phrase, first_person, fit, summarize
from arxivwatch.voice import catalog_voice, gerund, tier

# Endings the shipped summariser produced on real abstracts (issue 18), and whole sentences.
CUTS = [
    ("…low-rank adaptation to the target model and.", True),
    ("…such as logical reasoning and.", True),
    ("…by incorporating long-term fairness constraints into a.", True),
    ("…integrates Deep Canonical Correlation Analysis (DCCA) for.", True),
    ("A method (with an open bracket and more.", True),
    ("Models, specifically.", True),
    ("A cut marked as such, but on a function word of…", True),
    ("Applying different learning rate to adapter matrices A and B in LoRA.", False),
    ("Proposing a novel contact-based object representation to tackle this.", False),
    ("Serving models in 6G networks and beyond.", False),
    ("Learning within ITS.", False),
    ("A marked cut that stops on a content word…", False),
    ("", False),
]


@pytest.mark.parametrize(("text", "cut"), CUTS)
def test_cut_mid_phrase(text: str, cut: bool) -> None:
    """A summary that stops on a function word or inside brackets is cut; a whole one is not."""
    assert cut_mid_phrase(text) is cut


@pytest.mark.parametrize(("text", "first"), [
    ("We propose X.", True), ("Our method wins.", True), ("It lets us do X.", True),
    ("I argue that X.", True), ("Proposing X for US hospitals.", False),
    ("Applying LoRA to Phase I trials.", False), ("Proposing X, which is ours.", True),
])
def test_first_person(text: str, first: bool) -> None:
    """We, our, us, my and "I <verb>" are the authors speaking; "US" and "Phase I" are not."""
    assert first_person(text) is first


VOICE = [
    ("To address this problem, we propose X, which adapts Y.", "Proposing X, which adapts Y."),
    ("Here, we introduce MoE-Lens, a serving system.", "Introducing MoE-Lens, a serving system."),
    ("Here we introduce a geometric framework.", "Introducing a geometric framework."),
    ("In this paper, we present L-MARS, a system.", "Presenting L-MARS, a system."),
    ("This paper presents a framework for ASR.", "Presenting a framework for ASR."),
    ("This work proposes X and discusses Y.", "Proposing X and discussing Y."),
    ("We design, implement, and evaluate Z.", "Designing, implementing, and evaluating Z."),
    ("We introduce and formalize the SLS problem.", "Introducing and formalizing the SLS problem."),
    ("We have developed a tool.", "Developing a tool."),
    ("In this study, we aimed to improve AA.", "Improving AA."),
    ("We propose to model puzzles as graphs.", "Modeling puzzles as graphs."),
    ("We propose to jointly fine-tune and compress it.", "Fine-tuning and compressing it."),
    ("We further show that our method scales.", "Showing that the method scales."),
    ("We propose X, which we call Y, and we show that it works.",
     "Proposing X, called Y, and showing that it works."),
    ("To the best of our knowledge, we are the first to do X.",
     "We are the first to do X."),  # left as it is: summarize passes over it
    ("I argue that formal ontologies are not formal.",
     "Arguing that formal ontologies are not formal."),
    ("Phase I trials show that X works.", "Phase I trials show that X works."),
    ("The work of Smith et al. showed X.", "The work of Smith et al. showed X."),
    ("We embed graphs into a sphere.", "Embedding graphs into a sphere."),
    ("We don't know why.", "We don't know why."),
]


@pytest.mark.parametrize(("sentence", "voiced"), VOICE)
def test_catalog_voice(sentence: str, voiced: str) -> None:
    """Lead-ins go, the authors' verb becomes a gerund, "our" becomes "the"."""
    assert catalog_voice(sentence) == voiced


@pytest.mark.parametrize(("word", "third", "ing"), [
    ("propose", False, "proposing"), ("proposes", True, "proposing"),
    ("proposed", False, "proposing"), ("studies", True, "studying"),
    ("addresses", True, "addressing"), ("run", False, "running"), ("submit", False, "submitting"),
    ("train", False, "training"), ("fine-tune", False, "fine-tuning"), ("built", False, "building"),
    ("used", False, "using"), ("model", False, "modeling"), ("focuses", True, "focusing"),
])
def test_gerund(word: str, third: bool, ing: str) -> None:
    """The -ing form from a base, third-person or past form."""
    assert gerund(word, third_person=third) == ing


def test_tier_orders_contribution_before_results() -> None:
    """Proposes before studies before shows before other first person before background."""
    assert [tier(s) for s in ("We propose X.", "We study X.", "We find X.", "We hope X.",
                              "LLMs are large.", "We propose to jointly train X.")] == [
        0, 1, 2, 3, 4, 0]


def test_summary_keeps_the_method_name_and_drops_the_lead_in() -> None:
    """The contribution sentence, its lead-in and "we" turned into the catalog's form."""
    abstract = ("Large models are costly to adapt. To address this problem, we propose "
                "LoRA-X, a low-rank adapter that shares factors across layers. Experiments "
                "show that our method matches full fine-tuning.")
    assert summarize(abstract) == ("Proposing LoRA-X, a low-rank adapter that shares factors "
                                   "across layers.")


def test_long_sentence_ends_at_a_clause_boundary() -> None:
    """A sentence over the limit ends at a clause, a whole phrase, never with "and." glued on."""
    sentence = ("We propose TITAN, a multimodal whole slide foundation model pretrained using "
                "335,645 WSIs via visual self-supervised learning and vision-language alignment "
                "with corresponding pathology reports and 423,122 synthetic captions generated "
                "from a multimodal generative AI copilot for pathology.")
    summary = summarize(sentence)
    assert summary == ("Proposing TITAN, a multimodal whole slide foundation model pretrained "
                       "using 335,645 WSIs via visual self-supervised learning and "
                       "vision-language alignment with corresponding pathology reports.")
    assert not cut_mid_phrase(summary)


def test_a_cut_does_not_leave_a_participle_behind() -> None:
    """Not "…task types, supported." of "supported by a pipeline": the comma before it."""
    text = ("Introducing ViewSpatial-Bench, the first comprehensive benchmark designed "
            "specifically for multi-viewpoint spatial localization recognition evaluation across "
            "five distinct task types, supported by an automated 3D annotation pipeline.")
    assert fit(text, 200) == (
        "Introducing ViewSpatial-Bench, the first comprehensive benchmark designed specifically "
        "for multi-viewpoint spatial localization recognition evaluation across five distinct "
        "task types.")


def test_unbreakable_sentence_is_marked_with_an_ellipsis() -> None:
    """Without a clause boundary the cut is marked "…", after a content word."""
    text = "Proposing " + " ".join(f"word{i}" for i in range(60))
    cut = fit(text, 120)
    assert cut.endswith(ELLIPSIS)
    assert len(cut) <= 120
    assert not cut_mid_phrase(cut)


def test_code_sentence_gives_way_to_the_contribution() -> None:
    """A sentence with a URL loses to one of the same tier without; its husk goes with it."""
    abstract = ("We release code at https://github.com/a/b. We propose Z, a pruning method.")
    assert summarize(abstract) == "Proposing Z, a pruning method."
    assert summarize("We release the code at https://github.com/a/b.") == "Releasing the code."


def test_first_person_sentence_loses_to_a_clean_one() -> None:
    """A contribution that cannot be said without "we" gives way to the next sentence."""
    abstract = "We are the first to study X. We propose Y, a method for Z."
    assert summarize(abstract) == "Proposing Y, a method for Z."


@given(st.text(max_size=600))
def test_fit_never_glues_a_stop_to_half_a_phrase(text: str) -> None:
    """Whatever the text, a shortened summary fits and is not cut mid-phrase by fit itself."""
    out = fit(text, 120)
    assert len(out) <= 120
    if out and len(" ".join(text.split())) >= 120:
        assert out.endswith((".", ELLIPSIS))
