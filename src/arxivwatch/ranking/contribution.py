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
from collections.abc import Mapping
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
    "training": (
        '"instruction tuning" OR "instruction-tuning" OR "fine-tuning" OR finetuning OR'
        ' pretraining OR "pre-training" OR "supervised fine-tuning" OR SFT OR "post-training" OR'
        ' alignment OR "training data" OR "train LLMs" OR "training LLMs" OR "for training"'),
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
        'medical OR clinical OR biomedical OR healthcare OR radiology OR patient OR disease OR'
        ' diagnosis OR cancer OR ECG OR EEG OR medicine OR legal OR "law" OR financial OR finance'
        ' OR education OR educational OR student OR agriculture OR chemistry OR chemical OR'
        ' molecule OR molecular OR protein OR drug OR genomic OR speech OR ASR OR sentiment OR'
        ' hate OR sexism OR emotion OR dialect OR "mental health" OR cybersecurity OR malware OR'
        ' robot OR robotic OR "autonomous driving" OR satellite OR weather OR climate OR music'
        ' OR game OR physics OR e-commerce OR customer OR industrial OR manufacturing OR'
        ' "time series" OR tabular OR recommendation OR recommender OR news OR tweet OR'
        ' misinformation OR "text-to-SQL" OR "named entity" OR "relation extraction" OR'
        ' "sentiment analysis" OR "shared task" OR SemEval OR "question answering"'
        ' OR "code generation" OR translation OR summarization OR classification OR detection'
        ' OR segmentation'),
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
    "dataset": ("benchmark", "survey", "multimodal"),
    "benchmark": ("survey", "multimodal", "study"),
}
FEATURES = ("subject_title", "subject_contribution", "subject_spread", "against_title",
            "against_contribution", "kind", "other_kind", "language_model")
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

    def read(self, reading: Reading, cues: TopicCues) -> Read:
        """The features of `reading` for a topic with `cues`."""
        if self._last is not reading:    # select() scores one paper for each topic in a row
            self._last, self._families = reading, {}
        values = dict.fromkeys(FEATURES, 0.0)
        reasons: list[str] = []
        about = cues.about.in_title(reading)
        if about:
            values["subject_title"] = 1.0
            reasons.append(f"title names {about}")
        stated = cues.about.find_any(reading, reading.contribution)
        if stated:
            values["subject_contribution"] = 1.0
            reasons.append(f"its contribution names {stated}")
        spread = cues.about.count(reading, reading.sentences)
        values["subject_spread"] = 1.0 - math.exp(-spread / SPREAD)
        self._against(reading, cues, values, reasons)
        self._kind(reading, cues.kind, values, reasons)
        values["language_model"] = float(self._family(reading, "language_model", anywhere=True)
                                         is not None)
        return Read(values, tuple(reasons))

    def _against(self, reading: Reading, cues: TopicCues, values: dict[str, float],
                 reasons: list[str]) -> None:
        title = cues.against.find(reading.title, reading.squeezed_title)
        if title:
            values["against_title"] = 1.0
            reasons.append(f"title points elsewhere: {title}")
        stated = cues.against.find_any(reading, reading.contribution)
        if stated:
            values["against_contribution"] = 1.0
            reasons.append(f"contribution points elsewhere: {stated}")

    def _kind(self, reading: Reading, kind: str, values: dict[str, float],
              reasons: list[str]) -> None:
        found = self._kind_cue(reading, kind)
        if found:
            values["kind"] = 1.0
            reasons.append(f"{kind}: {found}")
        for other in _OTHER_KINDS.get(kind, ()):
            label = self._family(reading, other)
            if label:
                values["other_kind"] = 1.0
                reasons.append(f"title reads as {other}: {label}")
                break

    def _kind_cue(self, reading: Reading, kind: str) -> str | None:
        if kind == "method":
            named = reading.names and reading.names[0]
            return f"coins {named}" if named else self._family(reading, "method")
        if kind == "system":
            return self._family(reading, "system") or self._stated(reading, "system")
        if kind == "dataset":
            data = self._family(reading, "dataset")
            use = self._stated(reading, "release") or self._stated(reading, "training")
            return f"{data}, {use}" if data and use else None
        return self._family(reading, kind)

    def _family(self, reading: Reading, name: str, *, anywhere: bool = False) -> str | None:
        """A built-in family's cue in the title (or, with `anywhere`, the abstract too)."""
        key = f"{name}:all" if anywhere else name
        if key not in self._families:
            cues = FAMILIES[name]
            found = cues.find(reading.title, reading.squeezed_title)
            if found is None and anywhere:
                found = cues.find_any(reading, reading.sentences)
            self._families[key] = found
        return self._families[key]

    def _stated(self, reading: Reading, name: str) -> str | None:
        key = f"{name}:stated"
        if key not in self._families:
            self._families[key] = FAMILIES[name].find_any(reading, reading.sentences)
        return self._families[key]
