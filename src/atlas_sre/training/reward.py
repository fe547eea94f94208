"""The GRPO reward: a teacher completion → the guided investigation in the simulator → a number.

A completion is what `bench/export.py: teacher_completion` writes: the probe line (`Score: N/5 …`),
then the guidance inside `<teaching>`. It is played by `CompletionTeacher` — the protocol's own
`Probe` and `Correct` steps with a teacher that answers this text, read back with the LLM teacher's
parsers (`parse_probe_score`, `teaching_text`) — so the student receives exactly what it would from
a served teacher that wrote it (a 5/5 probe certifies the plan: the fixed confirmation, no guidance,
as in the bench). The student then re-plans and investigates the served scenario with real kubectl,
and the run is graded. The untaught baseline is not re-run: it is the scenario's cached `Baseline`.

`training_reward` is the number (docs/training.md, "The reward"):

    reward = teaching_reward(baseline correct, guided correct, baseline tokens, guided tokens)
             + FORMAT_REWARD          if the first line is a parseable score (`Score: N/5`)
             - LENGTH_PENALTY × max(0, completion tokens − LENGTH_BUDGET), at most LENGTH_PENALTY_CAP

`teaching_reward` is the ATLAS one the bench reports (−1 degraded, 0 both wrong, the efficiency share
kept, 1 + efficiency improved); the other two terms only shape the answer's form: a teacher whose
probe cannot be read gets the default score 3 (`parse_probe_score`), and a correction longer than
the 200-token budget would be cut by a served teacher's backend.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from atlas_sre.agents.parsing import parse_probe_score, teaching_text
from atlas_sre.agents.tokens import count_tokens
from atlas_sre.agents.types import (
    CapsuleBrief,
    Correction,
    Incident,
    PlanResult,
    ProbeResult,
    strategy_for,
)
from atlas_sre.bench.episode import OBSERVED_AT
from atlas_sre.bench.metrics import teaching_reward
from atlas_sre.protocol.atlas import ATLASInference
from atlas_sre.protocol.episode import Episode
from atlas_sre.protocol.steps import Correct, Investigate, Probe, grade
from atlas_sre.training.dataset import Baseline

LENGTH_BUDGET = 200
"""The correction budget of the protocol (`correction_token_limit`), in the policy's tokens."""
LENGTH_PENALTY = 0.005
"""Per token beyond the budget: 200 tokens over costs 1.0, as much as a degradation."""
LENGTH_PENALTY_CAP = 1.0
FORMAT_REWARD = 0.25
"""For a first line the protocol can read as a score: a quarter of what the smallest improvement earns."""

_SCORE_LINE = re.compile(r"^\s*score\s*:\s*[0-5]\s*/\s*5\b", re.IGNORECASE)


def score_parseable(completion: str) -> bool:
    """Whether the first non-empty line is the probe line the probe template asks for (`Score: N/5 …`)."""
    first = next((line for line in completion.splitlines() if line.strip()), "")
    return bool(_SCORE_LINE.match(first))


def length_penalty(completion_tokens: int, budget: int = LENGTH_BUDGET) -> float:
    """LENGTH_PENALTY per token beyond `budget`, capped at LENGTH_PENALTY_CAP."""
    return min(LENGTH_PENALTY_CAP, LENGTH_PENALTY * max(0, completion_tokens - budget))


def training_reward(baseline_correct: bool, correct: bool, baseline_tokens: int, tokens: int, *,
                    completion_tokens: int, parseable: bool, budget: int = LENGTH_BUDGET) -> float:
    """The ATLAS teaching reward, plus the format reward, minus the length penalty (module docstring)."""
    return (teaching_reward(baseline_correct, correct, baseline_tokens, tokens)
            + (FORMAT_REWARD if parseable else 0.0) - length_penalty(completion_tokens, budget))


class CompletionTeacher:
    """A `Teacher` whose probe and correction are one given completion, read as the LLM teacher reads
    its own replies: the score by `parse_probe_score`, the guidance by `teaching_text`."""

    def __init__(self, completion: str, *, probe_token_limit: int = 50, correction_token_limit: int = 200) -> None:
        self.name = "completion"
        self.completion = completion
        self.probe_token_limit = probe_token_limit
        self.correction_token_limit = correction_token_limit

    def probe(self, incident: Incident, plan: str, capsules: Sequence[CapsuleBrief] = ()) -> ProbeResult:
        score = parse_probe_score(self.completion)
        probe_text = re.split(r"<teaching>", self.completion, maxsplit=1, flags=re.IGNORECASE)[0].strip()
        return ProbeResult(score, probe_text, strategy_for(score))

    def correct(self, incident: Incident, plan: str, probe: ProbeResult,
                capsules: Sequence[CapsuleBrief] = ()) -> Correction:
        return Correction(teaching_text(self.completion), probe.strategy)


@dataclass
class _UsePlan:
    """Episode step: the cached plan the teacher read (the student is not asked again)."""

    baseline: Baseline

    def __call__(self, episode: Episode) -> Episode:
        episode.plan = episode.baseline_plan = PlanResult(self.baseline.plan)
        return episode


@dataclass(frozen=True)
class Scored:
    """One completion's reward and where it came from (a line of `completions.jsonl`)."""

    scenario: str
    split: str  # the scenario's half: "test" lines come from evaluation
    reward: float
    teaching: float
    format: float
    length_penalty: float
    completion_tokens: int
    score: int
    certified: bool
    guidance: str
    baseline_correct: bool
    guided_correct: bool
    baseline_tokens: int
    guided_tokens: int
    commands: list[str]
    outcome: str
    wall_s: float


class TeachingReward:
    """The GRPO reward function (TRL's `reward_funcs` signature): one guided investigation per completion.

    `atlas` holds the student (any student spec) and the tools; `baselines` map scenario names to
    their cached control. Each scored completion is appended to `log_path` (JSONL) with the trainer
    step, its reward terms, the guided grade and the commands the student ran.
    """

    __name__ = "atlas_reward"  # the name TRL logs the reward under (`rewards/atlas_reward/mean`)

    def __init__(self, atlas: ATLASInference, baselines: Mapping[str, Baseline], *, budget: int = LENGTH_BUDGET,
                 log_path: Path | None = None, certify_score: int | None = 5,
                 on_scored: Callable[[Scored], None] | None = None) -> None:
        self.atlas = atlas
        self.baselines = dict(baselines)
        self.budget = budget
        self.log_path = log_path
        self.certify_score = certify_score
        self.on_scored = on_scored
        self.calls = 0
        self._lock = threading.Lock()

    def score(self, scenario: str, completion: str, completion_tokens: int | None = None) -> Scored:
        """Run the guided investigation of `scenario` with `completion` as the teacher's answer, and score it."""
        base = self.baselines.get(scenario)
        if base is None:
            raise KeyError(f"no baseline for scenario {scenario!r}")
        n_tokens = completion_tokens if completion_tokens is not None else count_tokens(completion)
        teacher = CompletionTeacher(completion)
        student = self.atlas.student
        steps = [_UsePlan(base), Probe(teacher, self.certify_score), Correct(teacher, student),
                 Investigate(student, self.atlas.loop_config, guided_only=True), grade]
        episode = self.atlas.run_episode(scenario=base.path, anchor=OBSERVED_AT, steps=steps)
        run = episode.trajectory("guided")
        assert run is not None and episode.grades is not None and episode.correction is not None
        correct = bool(episode.grades["guided"]["correct"])
        guided_plan = episode.usage["student"].get("plan_guided")
        tokens = (episode.usage["student"]["execute_guided"].total + (guided_plan.total if guided_plan else 0)
                  + base.plan_tokens)  # counted as the bench counts a taught episode's student
        parseable = score_parseable(completion)
        teaching = teaching_reward(base.correct, correct, base.student_tokens, tokens)
        reward = training_reward(base.correct, correct, base.student_tokens, tokens, completion_tokens=n_tokens,
                                 parseable=parseable, budget=self.budget)
        return Scored(scenario=scenario, split=base.split, reward=round(reward, 6), teaching=round(teaching, 6),
                      format=FORMAT_REWARD if parseable else 0.0,
                      length_penalty=round(length_penalty(n_tokens, self.budget), 6), completion_tokens=n_tokens,
                      score=episode.probe.score if episode.probe else 0, certified=episode.certified,
                      guidance=episode.correction.text, baseline_correct=base.correct, guided_correct=correct,
                      baseline_tokens=base.student_tokens, guided_tokens=tokens,
                      commands=[s.command for s in run.steps if s.command], outcome=str(run.outcome),
                      wall_s=round(episode.timings.get("total_s", 0.0), 3))

    def __call__(self, prompts: Sequence[Any], completions: Sequence[Any], completion_ids: Sequence[Any] | None = None,
                 scenario: Sequence[str] | None = None, trainer_state: Any = None,
                 log_metric: Callable[[str, float], None] | None = None, **_: Any) -> list[float]:
        if scenario is None:
            raise ValueError("the reward needs the dataset's 'scenario' column")
        step = int(getattr(trainer_state, "global_step", 0)) + 1 if trainer_state is not None else None
        out, scored = [], []
        for i, (name, completion) in enumerate(zip(scenario, completions, strict=True)):
            text = _text(completion)
            n = len(completion_ids[i]) if completion_ids is not None else None
            s = self.score(name, text, n)
            scored.append(s)
            out.append(s.reward)
            self._log(step, s, text)
            if self.on_scored:
                self.on_scored(s)
        self.calls += 1
        if log_metric is not None and scored:
            for key in ("teaching", "format", "length_penalty"):
                log_metric(f"atlas/{key}", sum(getattr(s, key) for s in scored) / len(scored))
            log_metric("atlas/guided_accuracy", sum(s.guided_correct for s in scored) / len(scored))
        return out

    def _log(self, step: int | None, scored: Scored, completion: str) -> None:
        if self.log_path is None:
            return
        line = {"step": step, **asdict(scored), "completion": completion}
        with self._lock, self.log_path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(line, ensure_ascii=False) + "\n")


def _text(completion: Any) -> str:
    """A TRL completion (conversational: a list with one assistant message; standard: a string) as text."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, list) and completion:
        return str(completion[-1].get("content") or "")
    return ""
