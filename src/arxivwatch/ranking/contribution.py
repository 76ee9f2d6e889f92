"""Does the paper contribute what its topic's section collects?

The curator files a paper by its main contribution (`sections.md`): a LoRA method, not a medical
QA model fine-tuned with LoRA; a survey of compression, not a survey of speculative decoding; a
released training set, not a data-selection method. Each topic names its subject (`about`, by
default the query's terms), what points elsewhere (`against`), and the kind of contribution its
section holds (`kind`). This scorer reads where those appear — the title and its coined names,
the sentences that state the contribution, the rest of the abstract — and returns the features
the ranking weighs (see `ranking.model`), each in [0, 1], with the reasons a person reads.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import NamedTuple

from arxivwatch.models import Topic
from arxivwatch.ranking.reading import Cues, Reading

KINDS = ("method", "system", "survey", "dataset", "benchmark")

# Built-in cue families: wording that says what kind of contribution a title announces, what
# an application names, and what a language model is. Written in the query language.
_FAMILIES = {
    "study": (
        'empirical OR "case study" OR comparative OR comparison OR investigating OR investigation'
        ' OR "a study" OR "an analysis" OR lessons OR insights OR "in practice" OR evaluating'
        ' OR assessing OR assessment OR "how well" OR "how do" OR "can large language models"'
        ' OR "do large language models" OR "can LLMs" OR "do LLMs"'),
    "survey": (
        'survey OR review OR overview OR tutorial OR taxonomy OR "systematic literature review"'
        ' OR roadmap OR primer OR "state of the art" OR "literature review"'),
    "benchmark": (
        'benchmark OR benchmarks OR benchmarking OR bench OR leaderboard OR arena OR'
        ' "evaluation suite" OR "evaluation framework" OR "evaluation harness" OR "test suite"'
        ' OR testbed OR evaluation OR evaluating OR eval OR exam OR "test set"'),
    "dataset": (
        'dataset OR corpus OR corpora OR "data collection" OR "instruction data" OR'
        ' "training data" OR "pretraining data" OR "pre-training data" OR "synthetic data" OR'
        ' "preference data" OR "instruction tuning data" OR "data synthesis"'),
    "release": (
        '"we release" OR "we open-source" OR "we open source" OR "publicly available" OR'
        ' "open-source" OR "open source" OR "publicly release" OR "available at" OR huggingface'
        ' OR "hugging face" OR github OR "will be released" OR "are released" OR "is released"'
        ' OR "will be made available" OR "made available" OR "make available"'),
    "system": (
        'system OR systems OR serving OR runtime OR engine OR kernel OR GPU OR cluster OR'
        ' throughput OR latency OR speedup OR scheduling OR scheduler OR parallelism OR'
        ' communication OR offloading OR "all-to-all" OR hardware OR accelerator OR FPGA OR'
        ' distributed OR "end-to-end" OR cache OR caching OR prefetching OR batching'),
    "method": (
        'method OR approach OR framework OR technique OR algorithm OR strategy OR scheme'),
    "multimodal": (
        'vision OR visual OR image OR video OR multimodal OR "multi-modal" OR VLM OR MLLM OR'
        ' LVLM OR "vision-language" OR "text-to-image" OR "3D" OR "point cloud" OR audio OR'
        ' speech OR ViT OR CNN OR "vision transformer" OR "remote sensing"'),
    "application": (
        'medical OR clinical OR biomedical OR healthcare OR radiology OR patient OR disease'
        ' OR diagnosis OR cancer OR ECG OR EEG OR medicine OR legal OR lawyer OR court OR'
        ' financial OR finance OR education OR educational OR student OR agriculture OR'
        ' chemistry OR chemical OR molecule OR molecular OR protein OR drug OR genomic OR'
        ' speech OR ASR OR sentiment OR hate OR sexism OR emotion OR dialect OR'
        ' "mental health" OR cybersecurity OR malware OR robot OR robotic OR'
        ' "autonomous driving" OR satellite OR weather OR climate OR music OR game OR physics'
        ' OR e-commerce OR customer OR industrial OR manufacturing OR "time series" OR tabular'
        ' OR recommendation OR recommender OR news OR tweet OR misinformation OR "text-to-SQL"'
        ' OR "named entity" OR "relation extraction" OR "sentiment analysis" OR "shared task"'
        ' OR SemEval OR "question answering" OR "code generation" OR translation OR'
        ' summarization OR classification OR detection OR segmentation'),
    # The genre word of a survey title ("A Survey of", ": A Review"), not "peer review".
    "survey_genre": (
        'survey OR surveys OR overview OR tutorial OR taxonomy OR primer OR roadmap OR'
        ' "literature review" OR "systematic review" OR "scoping review" OR "a review" OR'
        ' "comprehensive review" OR "brief review" OR "critical review" OR "review of" OR'
        ' "review on"'),
    # What a dataset is for: training a model (not testing one).
    "training_use": (
        '"instruction tuning" OR "instruction-tuning" OR "instruction data" OR'
        ' "instruction dataset" OR "fine-tuning" OR finetuning OR "fine-tune" OR pretraining'
        ' OR "pre-training" OR pretrain OR "continual pretraining" OR "supervised fine-tuning"'
        ' OR SFT OR "post-training" OR alignment OR "preference data" OR "preference dataset"'
        ' OR RLHF OR DPO OR "for training" OR "to train" OR "train LLMs" OR "training LLMs" OR'
        ' "training set" OR "training resources" OR "language modeling"'),
    # Methods about data rather than data: choosing, mixing, weighing or filtering examples.
    "data_method": (
        '"data selection" OR "selecting" OR "select" OR "data mixture" OR "data mixing" OR'
        ' "data pruning" OR coreset OR "data valuation" OR "data attribution" OR "influence"'
        ' OR "data efficiency" OR "data-efficient" OR curriculum OR "data augmentation"'),
    # The words that name data as a thing (for pairing with a release or a size in one sentence).
    "data_noun": (
        'dataset OR datasets OR data OR corpus OR corpora OR collection OR resources OR'
        ' "instruction pairs" OR "question-answer pairs"'),
    # How big the offered data is: a dataset is described by its size, a method is not.
    "scale": (
        'million OR millions OR billion OR billions OR trillion OR "large-scale" OR "web-scale"'
        ' OR largest OR tokens'),
    # A dataset made for one end task (a classifier, an extractor, a QA system): narrower than
    # training data for language models in general.
    "task": (
        'classification OR detection OR recognition OR extraction OR prediction OR "question'
        ' answering" OR summarization OR identification OR "named entity" OR parsing OR sentiment'
        ' OR "fact-checking" OR "fact checking" OR retrieval'),
    # An evaluation resource offered for reuse.
    "evaluation_resource": (
        'benchmark OR benchmarks OR leaderboard OR arena OR "evaluation suite" OR'
        ' "evaluation framework" OR "evaluation harness" OR "evaluation protocol" OR'
        ' "evaluation methodology" OR "evaluation pipeline" OR "evaluation toolkit" OR toolkit'
        ' OR "test suite" OR testbed OR "test set" OR metric OR metrics OR "LLM-as-a-judge" OR'
        ' "LLM-as-judge" OR judge OR evaluator OR dataset OR "python package" OR library'),
    # A one-off trial of some models on one task rather than a reusable resource.
    "trial": (
        '"case study" OR "feasibility study" OR "pilot study" OR "a report" OR "report on" OR'
        ' "zero-shot" OR "few-shot" OR comparative OR "a comparison" OR "in practice" OR'
        ' "lessons" OR "real-world deployment" OR ChatGPT OR "GPT-4" OR "GPT-4o" OR "GPT-5" OR'
        ' DeepSeek OR Gemini OR Claude OR "LLaMA 2" OR "Llama-2" OR "LLaMA 3"'),
    "language_model": (
        'LLM OR "language model" OR transformer OR GPT OR LLaMA OR BERT OR "foundation model"'
        ' OR Mistral OR Qwen OR DeepSeek OR Gemma OR "mixture of experts" OR MoE'),
}
FAMILIES: Mapping[str, Cues] = {name: Cues.parse(text) for name, text in _FAMILIES.items()}

# What a title announcing another kind of contribution looks like, per kind of section.
_OTHER_KINDS: Mapping[str, tuple[str, ...]] = {
    "method": ("study", "survey", "benchmark", "application"),
    "system": ("study", "survey", "benchmark", "application"),
    "survey": ("benchmark", "dataset"),
    "dataset": ("survey", "multimodal", "data_method", "benchmark"),
    "benchmark": ("survey", "multimodal", "trial"),
}
# A contribution of the section's kind, but for one field only (a medical benchmark): filed, but
# after the general ones, so it counts as a fraction of another kind.
_NARROWER: Mapping[str, str] = {"benchmark": "application", "dataset": "task"}
NARROW = 0.5
FEATURES = ("subject_title", "subject_contribution", "subject_spread", "against_title",
            "against_contribution", "kind", "other_kind", "language_model")
# A size figure counting data: "800K question-answer pairs", "73B tokens", "52,000 instructions".
_SIZE = re.compile(
    r"\b\d[\d,.]*\s?(?:[kmbt]\b|million|billion|trillion|thousand)?\+?\s*(?:[a-z-]+\s){0,2}"
    r"(?:samples|examples|instances|pairs|questions|problems|instructions|tokens?|documents|"
    r"dialogues|conversations|entries|records|sentences|words|texts|items|tasks|trajectories|"
    r"responses|prompts|articles|pages|hours|images|files|solutions|proofs|theorems)\b",
    re.IGNORECASE)
SPREAD = 2.0        # sentences naming the subject at which subject_spread reaches 1 - 1/e


@dataclass(frozen=True)
class TopicCues:
    """A topic's cues: its subject, what points elsewhere, and its section's kind."""

    about: Cues
    against: Cues
    kind: str = "method"

    @classmethod
    def of(cls, topic: Topic) -> TopicCues:
        """A topic's cues: `about` (else its query's terms), `against` and `kind`."""
        return cls(Cues.of(topic.about or topic.query), Cues.of(topic.against), topic.kind)


class Read(NamedTuple):
    """The features of one paper for one topic, and the reasons behind the non-zero ones."""

    values: dict[str, float]
    reasons: tuple[str, ...]


class Contribution:
    """Reads a paper's title and contribution sentences against a topic's cues."""

    def __init__(self) -> None:
        self._last: Reading | None = None
        self._families: dict[str, str | None] = {}

    def read(self, reading: Reading, cues: TopicCues, *, skip: Collection[str] = ()) -> Read:
        """The features of `reading` for a topic with `cues`, and why; those named in `skip`
        are left at 0, not computed (a ranker skips what its kind's model does not weigh)."""
        if self._last is not reading:    # select() scores one paper for each topic in a row
            self._last, self._families = reading, {}
        values = dict.fromkeys(FEATURES, 0.0)
        reasons: list[str] = []
        about = cues.about
        if "subject_title" not in skip and (named := about.in_title(reading)):
            values["subject_title"] = 1.0
            reasons.append(f"title names {named}")
        if "subject_contribution" not in skip and (stated := about.find_claimed(reading)):
            values["subject_contribution"] = 1.0
            reasons.append(f"its contribution names {stated}")
        if "subject_spread" not in skip:
            values["subject_spread"] = 1.0 - math.exp(-about.count(reading) / SPREAD)
        self._against(reading, cues, values, reasons, skip)
        if "kind" not in skip:
            self._kind(reading, cues.kind, values, reasons)
        if "other_kind" not in skip:
            self._other_kind(reading, cues.kind, values, reasons)
        if "language_model" not in skip:
            values["language_model"] = self._language_model(reading, cues.kind)
        return Read(values, tuple(reasons))

    def _language_model(self, reading: Reading, kind: str) -> float:
        """1 when a language model is named; for surveys, datasets and benchmarks (whose object
        must be a language model) 1 only in the title or the contribution, 0.5 elsewhere."""
        anywhere = self._family(reading, "language_model", anywhere=True) is not None
        if kind in ("method", "system") or not anywhere:
            return float(anywhere)
        named = self._family(reading, "language_model") or self._claimed(reading, "language_model")
        return 1.0 if named else 0.5

    def _against(self, reading: Reading, cues: TopicCues, values: dict[str, float],
                 reasons: list[str], skip: Collection[str]) -> None:
        against = cues.against
        if "against_title" not in skip and (
                title := against.find(reading.title, reading.squeezed_title)):
            values["against_title"] = 1.0
            reasons.append(f"title points elsewhere: {title}")
        if "against_contribution" not in skip and (stated := against.find_claimed(reading)):
            values["against_contribution"] = 1.0
            reasons.append(f"contribution points elsewhere: {stated}")

    def _kind(self, reading: Reading, kind: str, values: dict[str, float],
              reasons: list[str]) -> None:
        if kind == "dataset":
            values["kind"] = self._dataset_value(reading, reasons)
        else:
            found = self._kind_cue(reading, kind)
            if found:
                values["kind"] = 1.0
                reasons.append(f"{kind}: {found}")

    def _other_kind(self, reading: Reading, kind: str, values: dict[str, float],
                    reasons: list[str]) -> None:
        for other in _OTHER_KINDS.get(kind, ()):
            if kind == "dataset" and other == "benchmark" and self._family(reading, "training_use"):
                continue        # "A Fine-tuning Dataset and Benchmark": training data first
            label = self._family(reading, other)
            if label:
                values["other_kind"] = 1.0
                reasons.append(f"title reads as {other}: {label}")
                break
        else:
            narrow = _NARROWER.get(kind)
            label = narrow and self._family(reading, narrow)
            if label:
                values["other_kind"] = NARROW
                reasons.append(f"title narrows to one field: {label}")

    def _kind_cue(self, reading: Reading, kind: str) -> str | None:
        if kind == "method":
            named = reading.names and reading.names[0]
            return f"coins {named}" if named else self._family(reading, "method")
        if kind == "system":
            return self._family(reading, "system", anywhere=True)
        if kind == "survey":
            return self._family(reading, "survey_genre")
        if kind == "benchmark":
            return self._benchmark(reading)
        return self._family(reading, kind)

    def _dataset_value(self, reading: Reading, reasons: list[str]) -> float:
        """Data offered (named in the title or the contribution), worth half as much again when
        it is released or sized ("we release", "800K pairs") and half when it is for training."""
        data = self._family(reading, "dataset") or self._claimed(reading, "dataset")
        if not data:
            return 0.0
        value = 0.0
        released = self._released(reading)
        if released:
            value += 0.5
            reasons.append(f"dataset: {data}, {released}")
        use = self._family(reading, "training_use") or self._claimed(reading, "training_use")
        if use:
            value += 0.5
            reasons.append(f"dataset: {data}, for {use}")
        return value

    def _released(self, reading: Reading) -> str | None:
        """A sentence that releases data or gives its size, or a contribution naming its scale."""
        key = "released"
        if key not in self._families:
            self._families[key] = self._release_or_size(reading) or (
                f"scale: {label}" if (label := self._family(reading, "scale")
                                      or self._claimed(reading, "scale")) else None)
        return self._families[key]

    @staticmethod
    def _release_or_size(reading: Reading) -> str | None:
        """The first of title and sentences naming data with a release cue or a data size."""
        nouns, release = FAMILIES["data_noun"], FAMILIES["release"]
        title = (reading.title, reading.squeezed_title)
        if nouns.find(*title) and (label := release.find(*title)):
            return f"released: {label}"
        for at, sentence in enumerate(reading.sentences):
            if nouns.find_at(reading, at) is None:
                continue
            label = release.find_at(reading, at)
            if label:
                return f"released: {label}"
            size = _SIZE.search(sentence)
            if size:
                return f"sized: {size.group(0).strip()}"
        return None

    def _benchmark(self, reading: Reading) -> str | None:
        """An evaluation resource: named in the title, or offered in the contribution."""
        return self._family(reading, "benchmark") or self._claimed(reading, "evaluation_resource")

    def _family(self, reading: Reading, name: str, *, anywhere: bool = False) -> str | None:
        """A built-in family's cue in the title (or, with `anywhere`, the abstract too)."""
        key = f"{name}:all" if anywhere else name
        if key not in self._families:
            cues = FAMILIES[name]
            if anywhere:   # the title's answer is the one kept without `anywhere`
                found = self._family(reading, name) or cues.find_anywhere(reading)
            else:
                found = cues.find(reading.title, reading.squeezed_title)
            self._families[key] = found
        return self._families[key]

    def _claimed(self, reading: Reading, name: str) -> str | None:
        """A built-in family's cue in the sentences that state the contribution."""
        key = f"{name}:claimed"
        if key not in self._families:
            self._families[key] = FAMILIES[name].find_claimed(reading)
        return self._families[key]
