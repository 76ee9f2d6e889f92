"""Tests for ranking.contribution: what a paper says it contributes, read per kind of section."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arxivwatch.models import Paper
from arxivwatch.query import Doc
from arxivwatch.ranking.contribution import (
    FEATURES,
    KINDS,
    NARROW,
    SPREAD,
    Contribution,
    Read,
    TopicCues,
)
from arxivwatch.ranking.reading import Reading
from tests.topics import make_topic

# Small topics in the shape of config/topics.yaml, one per kind of section.
LORA = make_topic(
    "lora", "LLM Training > Techniques", 'LoRA OR "low-rank adaptation"', kind="method",
    about='LoRA OR QLoRA OR "low-rank adaptation" OR "low-rank adapter"',
    against='"prompt tuning" OR "empirical study" OR survey')
SURVEY = make_topic(
    "compression_survey", "Model Compression > Survey", "ti:survey AND ti:compression",
    kind="survey",
    about='compression OR quantization OR pruning OR distillation OR "efficient inference"',
    against='"speculative decoding" OR "efficient reasoning" OR "long context" OR hardware')
DATASETS = make_topic(
    "instruction_datasets", "LLM Training > Datasets", "ti:dataset OR ti:data", kind="dataset",
    about='dataset OR corpus OR "instruction data" OR "training data"',
    against='"data selection" OR selecting OR vision OR image')
BENCHMARK = make_topic(
    "llm_evaluation", "LLM Evaluation", "ti:benchmark OR ti:evaluation", kind="benchmark",
    about='benchmark OR leaderboard OR "evaluation framework" OR "LLM-as-a-judge"',
    against='vision OR VLM OR VLMs OR multimodal OR image OR "our method"')
MOE = make_topic(
    "moe_inference", "ML System > Inference System", '"mixture of experts" OR MoE', kind="system",
    about='"mixture of experts" OR MoE', against='"expert pruning" OR "multi-task"')


def read(topic: object, title: str, abstract: str = "") -> Read:
    r = Reading(Doc.from_paper(Paper("2401.00001", title, abstract)))
    return Contribution().read(r, TopicCues.of(topic))  # type: ignore[arg-type]


def features(topic: object, title: str, abstract: str = "") -> dict[str, float]:
    return read(topic, title, abstract).values


# -- method: a LoRA method, not a paper that fine-tunes with LoRA ----------------------------------

KEEPLORA = ("KeepLoRA: Continual Learning without Forgetting",
            "Fine-tuning forgets earlier tasks. We propose KeepLoRA, which keeps each LoRA update "
            "orthogonal to past tasks. KeepLoRA beats LoRA and O-LoRA on five task sequences.")
MEDICAL_QA = ("Medical Question Answering with a Fine-tuned Llama",
              "Medical QA needs domain knowledge. We fine-tune Llama with LoRA for medical QA. "
              "The model reaches 71% accuracy on MedQA.")


def test_a_lora_method_reads_as_its_subject() -> None:
    """A coined name holding `lora`, stated as the contribution, is the section's subject."""
    got = read(LORA, *KEEPLORA)
    assert got.values == {
        "subject_title": 1.0, "subject_contribution": 1.0,
        "subject_spread": pytest.approx(1 - math.exp(-2 / SPREAD)), "against_title": 0.0,
        "against_contribution": 0.0, "kind": 1.0, "other_kind": 0.0, "language_model": 0.0}
    assert got.reasons == ("title names lora", "its contribution names LoRA",
                           "method: coins keeplora")


def test_a_paper_that_fine_tunes_with_lora_reads_as_an_application() -> None:
    """'We fine-tune X with LoRA for medical QA': no subject in title or claim, a domain title."""
    got = read(LORA, *MEDICAL_QA)
    assert got.values == {
        "subject_title": 0.0, "subject_contribution": 0.0,
        "subject_spread": pytest.approx(1 - math.exp(-1 / SPREAD)), "against_title": 0.0,
        "against_contribution": 0.0, "kind": 0.0, "other_kind": 1.0, "language_model": 1.0}
    assert got.reasons == ("title reads as application: medical",)


@pytest.mark.parametrize(("title", "other"), [
    ("Team X at SemEval-2025 Task 4: Unlearning with LoRA", 1.0),
    ("LoRA for Legal Contract Review", 1.0),
    ("An Empirical Study of LoRA Ranks", 1.0),
    ("A Survey of LoRA Variants", 1.0),
    ("Rank Allocation for LoRA", 0.0),
    ("LoRA Meets Riemannian Optimisation", 0.0),
])
def test_method_titles_announcing_another_kind(title: str, other: float) -> None:
    """A study, survey, benchmark or application title points away from a method section."""
    assert features(LORA, title)["other_kind"] == other


def test_scaling_laws_are_not_a_legal_application() -> None:
    """A LoRA analysis titled with scaling laws is not a legal application (sections.md: in)."""
    assert features(LORA, "Scaling Laws for Low-Rank Adaptation")["other_kind"] == 0.0


@pytest.mark.parametrize(("title", "abstract", "title_against", "claim_against"), [
    ("Prompt Tuning versus LoRA", "We compare both.", 1.0, 0.0),
    ("Adapters", "We propose a prompt tuning method.", 0.0, 1.0),
    ("Adapters", "Prompt tuning is popular. Results improve.", 0.0, 0.0),   # not the claim
])
def test_against_cues_are_read_in_the_title_and_the_claim(
    title: str, abstract: str, title_against: float, claim_against: float,
) -> None:
    """`against` counts in the title and in the contribution sentences only."""
    got = features(LORA, title, abstract)
    assert (got["against_title"], got["against_contribution"]) == (title_against, claim_against)


@pytest.mark.parametrize(("n", "abstract"), [
    (0, "Adapters are cheap. They work."),
    (1, "LoRA is cheap. It works."),
    (2, "LoRA is cheap. LoRA works. It is fine."),
    (3, "LoRA. QLoRA. Low-rank adaptation. Done."),
])
def test_subject_spread_counts_sentences_naming_the_subject(n: int, abstract: str) -> None:
    """subject_spread is 1 - exp(-sentences / SPREAD), one count per sentence."""
    assert features(LORA, "X", abstract)["subject_spread"] == pytest.approx(
        1 - math.exp(-n / SPREAD))


# -- survey: of LLM compression, not of a neighbouring topic ---------------------------------------


def test_a_survey_of_llm_compression_reads_as_one() -> None:
    """Subject in the title and the claim, survey genre, a language model named."""
    got = features(SURVEY, "A Survey on Model Compression for Large Language Models",
                   "LLMs are large. This survey reviews quantization, pruning and distillation "
                   "for LLMs.")
    assert (got["subject_title"], got["subject_contribution"], got["kind"],
            got["against_title"], got["against_contribution"], got["language_model"]) == (
        1.0, 1.0, 1.0, 0.0, 0.0, 1.0)


def test_a_survey_of_speculative_decoding_points_elsewhere() -> None:
    """A survey of a neighbouring topic is a survey, but its title and claim point elsewhere."""
    got = features(SURVEY, "A Survey of Speculative Decoding for Efficient LLM Inference",
                   "Decoding is slow. This survey reviews speculative decoding methods.")
    assert (got["kind"], got["against_title"], got["against_contribution"],
            got["subject_title"]) == (1.0, 1.0, 1.0, 0.0)


@pytest.mark.parametrize(("title", "kind"), [
    ("A Survey on Model Compression", 1.0),
    ("Model Compression: A Comprehensive Review", 1.0),
    ("Quantization of LLMs: An Overview", 1.0),
    ("Model Compression for Large Language Models", 0.0),
    ("Peer Review with Compressed Models", 0.0),        # "review" alone is not the genre
])
def test_survey_kind_is_the_genre_word_of_the_title(title: str, kind: float) -> None:
    """'A Survey of', ': A Review', 'An Overview' are surveys; a method or 'peer review' is not."""
    assert features(SURVEY, title)["kind"] == kind


@pytest.mark.parametrize(("title", "abstract", "value"), [
    ("A Survey of LLM Compression", "", 1.0),
    ("A Survey of Model Compression", "This survey reviews pruning of large language models.",
     1.0),
    ("A Survey of Model Compression", "Models are large. GPT models grow.", 0.5),
    ("A Survey of Model Compression for CNNs", "Convolutional networks are large.", 0.0),
])
def test_survey_language_model_counts_in_title_or_claim(title: str, abstract: str,
                                                        value: float) -> None:
    """For surveys, an LLM named in the title or claim is 1, elsewhere only 0.5, nowhere 0."""
    assert features(SURVEY, title, abstract)["language_model"] == value


# -- dataset: released training data, not a data-selection method ----------------------------------


def test_a_released_instruction_dataset_reads_as_a_dataset() -> None:
    """Data named, released, and for training: kind 1, nothing pointing elsewhere."""
    got = read(DATASETS, "OpenInstruct: A Dataset for Instruction Tuning of LLMs",
               "Instruction data is scarce. We release OpenInstruct, a dataset of 800K "
               "instruction pairs for instruction tuning of LLMs.")
    assert (got.values["kind"], got.values["other_kind"], got.values["against_title"]) == (
        1.0, 0.0, 0.0)
    assert 'dataset: dataset, released: "we release"' in got.reasons
    assert 'dataset: dataset, for "instruction tuning"' in got.reasons


def test_a_data_selection_method_reads_as_another_kind() -> None:
    """A method that selects instruction data is data about data: other kind, against title."""
    got = features(DATASETS, "Less is More: Data Selection for Instruction Tuning",
                   "We propose a data selection method that picks 5% of the instruction data "
                   "and matches full-data instruction tuning of LLMs.")
    assert (got["kind"], got["other_kind"], got["against_title"]) == (0.5, 1.0, 1.0)


@pytest.mark.parametrize(("title", "abstract", "kind"), [
    ("WebCorpus", "We build a corpus of 73B tokens.", 0.5),
    ("WebCorpus", "We build a corpus, available at https://example.org.", 0.5),
    ("WebCorpus", "We build a corpus. It is available at https://example.org.", 0.0),
    ("WebCorpus", "We build a corpus for pretraining LLMs.", 0.5),
    ("WebCorpus", "We build a corpus of 2T tokens for pretraining.", 1.0),
    ("WebCorpus", "Models are trained on web text.", 0.0),
])
def test_dataset_kind_adds_release_or_size_and_training_use(title: str, abstract: str,
                                                            kind: float) -> None:
    """Half for data released or sized (in one sentence with the data), half for training use."""
    assert features(DATASETS, title, abstract)["kind"] == kind


@pytest.mark.parametrize(("title", "other"), [
    ("A Dataset for Sentiment Classification", NARROW),       # one end task: filed after
    ("ImageText: A Multimodal Dataset", 1.0),
    ("A Fine-tuning Dataset and Benchmark for LLMs", 0.0),    # training data first
    ("A Benchmark Dataset for LLM Evaluation", 1.0),
    ("A Survey of Instruction Datasets", 1.0),
])
def test_dataset_titles_of_another_kind_or_one_task(title: str, other: float) -> None:
    """Surveys, multimodal data, data methods and benchmarks point away; one task narrows."""
    assert features(DATASETS, title)["other_kind"] == other


# -- benchmark: of language models, not of vision-language models ---------------------------------


def test_a_benchmark_of_llms_reads_as_one() -> None:
    """A benchmark for language models: kind, subject, a language model, nothing elsewhere."""
    got = features(BENCHMARK, "LawBench: A Benchmark for Large Language Models",
                   "We introduce a benchmark of 5,000 questions to evaluate large language "
                   "models.")
    assert (got["kind"], got["subject_title"], got["language_model"], got["other_kind"],
            got["against_title"]) == (1.0, 1.0, 1.0, 0.0, 0.0)


def test_a_vlm_benchmark_points_elsewhere() -> None:
    """A benchmark of vision-language models: multimodal title, against title and claim."""
    got = read(BENCHMARK, "VisBench: A Benchmark for Vision-Language Models",
               "We introduce a benchmark to evaluate VLMs on charts.")
    assert (got.values["kind"], got.values["other_kind"], got.values["against_title"],
            got.values["against_contribution"]) == (1.0, 1.0, 1.0, 1.0)
    assert "title reads as multimodal: vision" in got.reasons


@pytest.mark.parametrize(("title", "abstract", "other"), [
    ("A Benchmark for Medical LLMs", "We introduce a benchmark for LLMs.", NARROW),
    ("Evaluating ChatGPT on Bar Exams: A Case Study", "We try ChatGPT.", 1.0),
    ("A Survey of LLM Benchmarks", "", 1.0),
    ("A Benchmark for LLMs", "We introduce a benchmark for LLMs.", 0.0),
])
def test_benchmark_titles_narrow_or_point_elsewhere(title: str, abstract: str,
                                                    other: float) -> None:
    """A field-specific benchmark counts half; a one-off trial or a survey counts fully."""
    assert features(BENCHMARK, title, abstract)["other_kind"] == other


def test_a_benchmark_offered_in_the_claim_counts_without_the_title() -> None:
    """An evaluation resource offered in the contribution sentences is the benchmark kind."""
    assert features(BENCHMARK, "How Well Do LLMs Count?",
                    "We release a test suite of counting tasks.")["kind"] == 1.0
    assert features(BENCHMARK, "How Well Do LLMs Count?",
                    "Counting is hard. Models fail.")["kind"] == 0.0


# -- system -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "abstract", "kind"), [
    ("MoE-Lightning: High-Throughput MoE Inference on GPUs", "We present MoE-Lightning.", 1.0),
    ("Fast MoE", "Experts are large. We build a serving system with expert offloading.", 1.0),
    ("Mixture of LoRA Experts for Multi-task Learning",
     "We propose a mixture of experts of LoRA modules.", 0.0),
])
def test_system_kind_is_system_wording_in_the_title_or_any_sentence(title: str, abstract: str,
                                                                    kind: float) -> None:
    """Serving, offloading, GPUs: a system contribution; a modelling idea is not."""
    assert features(MOE, title, abstract)["kind"] == kind


@pytest.mark.parametrize(("title", "other"), [
    ("WDMoE: Wireless Distributed Large Language Models with Mixture of Experts", 0.0),
    ("Serving MoE Models on IoT and Mobile Edge Devices", 0.0),
    ("MoE for Clinical Note Summarization", 1.0),
])
def test_where_a_system_runs_is_not_an_application(title: str, other: float) -> None:
    """Wireless, IoT, edge are settings a system runs in; a clinical task is an application."""
    assert features(MOE, title)["other_kind"] == other


# -- every kind -------------------------------------------------------------------------------------

TOPICS = (LORA, SURVEY, DATASETS, BENCHMARK, MOE)
PAPERS = [KEEPLORA, MEDICAL_QA,
          ("A Survey of Speculative Decoding", "This survey reviews speculative decoding."),
          ("OpenInstruct: A Dataset", "We release 800K instruction pairs for SFT of LLMs."),
          ("VisBench: A Benchmark for VLMs", "We introduce a benchmark to evaluate VLMs.")]


def test_one_contribution_reads_a_paper_for_every_topic_as_fresh_ones_do() -> None:
    """Reading one paper for several topics in a row gives what a fresh reader gives."""
    shared = Contribution()
    for title, abstract in PAPERS:
        r = Reading(Doc.from_paper(Paper("2401.00001", title, abstract)))
        for topic in (*TOPICS, *reversed(TOPICS)):
            assert shared.read(r, TopicCues.of(topic)) == read(topic, title, abstract)


def test_topic_cues_default_to_the_querys_terms() -> None:
    """Without `about`, the query's words are the subject; kind and against come along."""
    topic = make_topic("t", "A > B", 'ti:QLoRA OR "low-rank adapter"', kind="survey",
                       against="medical")
    cues = TopicCues.of(topic)
    assert cues.kind == "survey"
    assert [c.label for c in cues.about.cues] == ["QLoRA", '"low-rank adapter"']
    assert [c.label for c in cues.against.cues] == ["medical"]
    assert features(topic, "QLoRA for everyone")["subject_title"] == 1.0


def test_topic_cues_default_leaves_out_andnot_terms() -> None:
    """Words a query excludes (ANDNOT) are not the section's subject."""
    topic = make_topic("t", "A > B", "LoRA ANDNOT ti:medical")
    assert features(topic, "Efficient adapters",
                    "We propose a medical adapter. It is medical.")["subject_contribution"] == 0.0


_TEXT_WORDS = ["We", "propose", "release", "LoRA", "KeepLoRA", "survey", "dataset", "benchmark",
               "LLMs", "800K", "pairs", "medical", "vision", "MoE", "GPU", "serving", ".", ",",
               "e.g.", "This", "paper", "data", "selection", "tokens", "of", "a", "\n", "$x$"]
texts = st.lists(st.sampled_from(_TEXT_WORDS), max_size=30).map(" ".join) | st.text(max_size=80)


@settings(max_examples=100, deadline=None)
@given(texts, texts)
def test_features_are_always_in_the_unit_interval(title: str, abstract: str) -> None:
    """On any paper and any kind, every feature is in [0, 1] and each has a value."""
    for topic in TOPICS:
        got = features(topic, title, abstract)
        assert set(got) == set(FEATURES)
        assert all(0.0 <= v <= 1.0 for v in got.values())
    assert {t.kind for t in TOPICS} == set(KINDS)
