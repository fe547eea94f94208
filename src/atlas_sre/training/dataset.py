"""The GRPO prompt set: one prompt per scenario, what the LLM teacher reads — incident + the student's plan.

Why one prompt per scenario, built from a real untaught run: the reward of a teacher answer is the
guided run against the *untaught* run of the same student on the same incident (`bench/metrics.py`),
so both the plan the teacher reads and the baseline it is measured against come from one run of the
student alone (`ATLASInference.run_episode(teach=False)`, the bench's `OBSERVED_AT` instant). With
the reference student both are deterministic, so they are computed once per scenario and cached in
the output folder (`baselines.json`): a resumed run reads them back instead of re-running them, and
keeps the same split and the same pinned scenario files (`bench/plan.py: resolve_scenarios`).

The prompt is `bench/export.py: teacher_prompt(one_reply=True)`: the LLM teacher's system prompt,
incident, plan and lettered checks, asking for the score line and the guidance in one reply. The
probe prompt alone asks for "exactly one line", and a model that obeys it never writes guidance, so
no completion could change the student's run: the reward would only ever see the format term.
The split is by scenario (`bench/plan.py: split_scenarios`, fault-stratified and seeded):
no incident of the test half is ever seen in training. Ground-truth-derived fields (the baseline's
correctness) stay in `Baseline`, which only the reward reads; a prompt row holds the messages and
the scenario's name.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from atlas_sre.bench.config import ScenarioMeta
from atlas_sre.bench.episode import OBSERVED_AT
from atlas_sre.bench.export import teacher_prompt
from atlas_sre.bench.plan import resolve_scenarios, split_scenarios
from atlas_sre.models.base import Message
from atlas_sre.protocol.atlas import ATLASInference

BASELINES_FILE = "baselines.json"
Log = Callable[[str], None]


class TrainError(ValueError):
    """A user error in training: its message is the one line the CLI prints."""


@dataclass(frozen=True)
class Baseline:
    """One scenario's untaught run: the plan the teacher reads, and the control its answer is scored against."""

    scenario: str
    path: str
    split: str  # "train" or "test"
    incident: str  # Incident.text(): summary + firing alerts, what every agent reads
    plan: str
    correct: bool
    plan_tokens: int  # the plan's own tokens: part of both runs' counts (the guided run reuses this plan)
    student_tokens: int  # plan + untaught investigation, as the bench counts the control's tokens
    outcome: str

    @property
    def prompt(self) -> list[Message]:
        """The LLM teacher's messages for this incident and plan, asking for score and guidance in one reply
        (no capsules: none are applied here)."""
        return teacher_prompt({"incident": self.incident, "plan": self.plan, "capsules": []}, one_reply=True)


def run_baseline(atlas: ATLASInference, meta: ScenarioMeta, split: str) -> Baseline:
    """The student alone on `meta`'s scenario: plan, investigation, grade (the reward's control)."""
    episode = atlas.run_episode(scenario=meta.path, teach=False, anchor=OBSERVED_AT)
    run = episode.trajectory("baseline")
    assert run is not None and episode.plan is not None and episode.grades is not None
    plan_tokens = episode.usage["student"]["plan"].total
    return Baseline(scenario=meta.name, path=meta.path, split=split, incident=episode.incident.text(),
                    plan=episode.plan.text, correct=bool(episode.grades["baseline"]["correct"]),
                    plan_tokens=plan_tokens, student_tokens=plan_tokens + run.usage.total, outcome=str(run.outcome))


def _read_cache(out: Path, prepared: dict[str, Any]) -> list[Baseline] | None:
    """The cached baselines, if `out` has them for the same student, scenarios, split and seed."""
    path = out / BASELINES_FILE
    if not path.exists():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    for key, value in prepared.items():
        if data.get(key) != value:
            raise TrainError(f"{out} was prepared with {key} {data.get(key)!r}, not {value!r}: "
                             "use the same settings or another --out")
    return [Baseline(**b) for b in data["baselines"]]


def _write_cache(out: Path, prepared: dict[str, Any], baselines: Sequence[Baseline]) -> None:
    path = out / BASELINES_FILE
    tmp = path.with_suffix(".tmp")
    data = {**prepared, "baselines": [asdict(b) for b in baselines]}
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def prepare_baselines(atlas: ATLASInference, student: str, scenarios: Sequence[str], out: Path, *,
                      split: str = "0.5", seed: int = 0, log: Log | None = None) -> list[Baseline]:
    """Every scenario's baseline (train and test), from `out`'s cache or by running them (then cached).

    `split` is `bench/plan.py`'s: a fraction (`0.5`) or counts (`6:6`) of train:test scenarios; `all`
    trains on every scenario and holds none out.
    """
    prepared = {"student": student, "scenarios": list(scenarios), "split": split, "seed": seed}
    cached = _read_cache(out, prepared)
    if cached is not None:
        return cached
    try:
        metas = resolve_scenarios(list(scenarios), out)
        if split == "all":
            train, test = list(metas), []
        else:
            train, test = split_scenarios(metas, split, seed)
    except ValueError as exc:
        raise TrainError(" ".join(str(exc).split())) from None
    baselines = []
    todo = [(m, "train") for m in train] + [(m, "test") for m in test]
    for i, (meta, half) in enumerate(todo, 1):
        baselines.append(run_baseline(atlas, meta, half))
        if log:
            b = baselines[-1]
            log(f"baseline {i}/{len(todo)} {b.scenario} ({half}): "
                f"{'correct' if b.correct else 'wrong'}, {b.student_tokens} student tokens")
    _write_cache(out, prepared, baselines)
    return baselines


def prompt_rows(baselines: Sequence[Baseline], split: str) -> list[dict[str, Any]]:
    """TRL's conversational prompt rows of one half: `{"prompt": messages, "scenario": name}`."""
    return [{"prompt": b.prompt, "scenario": b.scenario} for b in baselines if b.split == split]
