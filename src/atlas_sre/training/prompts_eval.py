"""One taught episode per scenario for a set of teacher prompts: what `train prompts` scores and reflects on.

The episode is the benchmark's `atlas` mode without its untaught control: the student plans, the
LLM teacher (with the candidate prompts) probes and corrects, the student investigates the served
scenario with the guidance, the grader scores the diagnosis. The untaught run is skipped because
nothing here reads it: the score is the guided run's correctness, the figure `atlas-sre bench`
reports as the `atlas` mode's accuracy, so a prompt evolution optimises the number it is judged by.

`TaughtRun.verdict` holds the grader's view, ground truth included. It is for the reflection model
at training time only (`prompts_gepa.make_reflective_dataset`); no agent ever reads it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from atlas_sre.agents.factory import make_teacher
from atlas_sre.agents.loop import LoopConfig
from atlas_sre.agents.types import Student
from atlas_sre.bench.config import ScenarioMeta
from atlas_sre.bench.episode import OBSERVED_AT
from atlas_sre.environments import default_tools
from atlas_sre.models.base import ChatModel
from atlas_sre.protocol.atlas import ATLASInference
from atlas_sre.protocol.episode import Episode
from atlas_sre.protocol.steps import Correct, Investigate, Plan, Probe, grade

MAX_COMMANDS_SHOWN = 12


@dataclass(frozen=True)
class TaughtRun:
    """One guided episode as scoring and reflection read it."""

    scenario: str
    correct: bool
    incident: str
    plan: str
    probe: str
    score: int
    strategy: str
    certified: bool
    guidance: str
    commands: list[str] = field(default_factory=list)
    diagnosis: dict[str, Any] | None = None
    outcome: str = ""
    verdict: str = ""  # ground truth: reflection only
    secrets: tuple[str, ...] = ()  # the truth's entities and conditions: what no evolved prompt may quote

    @property
    def templates_used(self) -> set[str]:
        """The teacher templates that shaped this episode (a certified plan gets no correction call)."""
        used = {"teacher_system", "teacher_probe", "teacher_checks"}
        if not self.certified:
            used.add(f"teacher_correct_{self.strategy.lower()}")
        return used

    def summary(self) -> dict[str, Any]:
        """The JSON line `train prompts` keeps per held-out episode (no ground truth)."""
        return {"scenario": self.scenario, "correct": self.correct, "probe_score": self.score,
                "strategy": self.strategy, "certified": self.certified, "commands": len(self.commands),
                "outcome": self.outcome}


def verdict(grade_row: Mapping[str, Any], truth: Any) -> str:
    """The grader's words on one diagnosis, with the true root causes: feedback a reflection model learns from."""
    causes = [f"{c.entity} ({c.category}{': ' + c.condition if c.condition else ''})"
              for c in getattr(truth, "rootCauses", None) or []]
    told = "; ".join(causes) if causes else "nothing is wrong (a no-fault control)"
    if grade_row.get("correct"):
        return f"Correct: the diagnosis found the root cause ({told})."
    if grade_row.get("outcome") not in (None, "submitted"):
        return f"Wrong: the student gave no diagnosis ({grade_row.get('outcome')}). The true root cause: {told}."
    named = ", ".join(grade_row.get("extra") or []) or "nothing the grader recognises"
    missed = ", ".join(grade_row.get("missed") or []) or "-"
    return f"Wrong: the diagnosis blamed {named} and missed {missed}. The true root cause: {told}."


def taught_run(scenario: ScenarioMeta, episode: Episode) -> TaughtRun:
    """A finished guided episode as a `TaughtRun`."""
    trajectory = episode.trajectory("guided")
    grade_row = (episode.grades or {}).get("guided") or {}
    probe, correction = episode.probe, episode.correction
    truth = getattr(episode.environment, "truth", None)
    return TaughtRun(
        scenario=scenario.name, correct=bool(grade_row.get("correct")), incident=episode.incident.text(),
        plan=episode.plan.text if episode.plan else "", probe=probe.response if probe else "",
        score=probe.score if probe else 0, strategy=probe.strategy if probe else "",
        certified=episode.certified, guidance=correction.text if correction else "",
        commands=trajectory.commands if trajectory else [], diagnosis=trajectory.diagnosis if trajectory else None,
        outcome=trajectory.outcome if trajectory else "", verdict=verdict(grade_row, truth), secrets=secrets(truth))


def secrets(truth: Any) -> tuple[str, ...]:
    """The strings of a ground truth specific enough to betray it when a prompt quotes them."""
    found = []
    for cause in getattr(truth, "rootCauses", None) or []:
        found += [cause.entity, cause.condition]
    return tuple(dict.fromkeys(s.strip() for s in found if len(s.strip()) >= 8))


Evaluate = Callable[[Mapping[str, str], ScenarioMeta], TaughtRun]


def episode_evaluator(teacher_model: ChatModel, student: Student, *, max_steps: int = 20,
                      probe_token_limit: int = 50, correction_token_limit: int = 200) -> Evaluate:
    """`evaluate(prompts, scenario)`: one guided episode with `prompts` overriding the teacher's templates.

    The chat model and the student are built once by the caller (a GGUF model loads in seconds) and
    shared by every candidate; each call builds a fresh teacher around them.
    """
    loop = LoopConfig(max_steps=max_steps)

    def evaluate(prompts: Mapping[str, str], scenario: ScenarioMeta) -> TaughtRun:
        teacher = make_teacher(teacher_model, probe_token_limit=probe_token_limit,
                               correction_token_limit=correction_token_limit, prompts=prompts)
        atlas = ATLASInference(student, teacher, probe_token_limit, correction_token_limit, loop_config=loop,
                               tools=default_tools())
        steps = [Plan(atlas.student), Probe(atlas.teacher, atlas.certify_score), Correct(atlas.teacher, atlas.student),
                 Investigate(atlas.student, loop, guided_only=True), grade]
        episode = atlas.run_episode(scenario=scenario.path, anchor=OBSERVED_AT, steps=steps)
        return taught_run(scenario, episode)

    return evaluate


def accuracy(runs: list[TaughtRun]) -> float:
    """The share of guided runs graded correct (0 for none)."""
    return sum(r.correct for r in runs) / len(runs) if runs else 0.0
