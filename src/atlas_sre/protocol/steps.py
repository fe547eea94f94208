"""The pipeline's steps: retrieve → plan → probe → correct → investigate → grade → consolidate.

Each step is a small callable holding what it needs (a student, a teacher, a capsule source, a
store) and taking and returning the `Episode`. Teaching is `Probe` + `Correct`, capsules are
`Retrieve` (+ `Consolidate`), grading is `Grade`: leave any of them out, or swap in your own
callable, and the rest still runs (`run_steps`). The protocol runs no command itself: `Investigate`
hands the student's loop the episode's `Environment`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from atlas_sre.agents.loop import LoopConfig, run_investigation
from atlas_sre.agents.trajectory import Step
from atlas_sre.agents.types import (
    CERTIFIED_GUIDANCE,
    Briefing,
    CapsuleBrief,
    Correction,
    PlanResult,
    ProbeResult,
    Student,
    Teacher,
    Usage,
)
from atlas_sre.capsules import CapsuleRetriever, CapsuleStore, IncidentQuery
from atlas_sre.capsules.consolidate import consolidate
from atlas_sre.environments import ScenarioEnvironment
from atlas_sre.grading.incident import Incident
from atlas_sre.protocol.episode import Episode, EpisodeStep
from atlas_sre.protocol.grading import grade_run
from atlas_sre.protocol.result import protocol_result, trace_records

StepCallback = Callable[[str, Step], None]


def retrieve_capsules(capsules: Any, incident: Incident, top_k: int | None = None) -> tuple[CapsuleBrief, ...]:
    """Capsules for this incident from a list (Capsule / RetrievalHit / CapsuleBrief / dict, all of
    them), or the best `top_k` (default: the retriever's own) from a retriever or a store."""
    if capsules is None:
        return ()
    if hasattr(capsules, "retrieve") or hasattr(capsules, "index_snapshot"):
        retriever = capsules if hasattr(capsules, "retrieve") else CapsuleRetriever(capsules)
        query = IncidentQuery(summary=incident.summary, alerts=[dict(a) for a in incident.alerts])
        hits = retriever.retrieve(query, top_k=top_k)
        return tuple(CapsuleBrief.of(h) for h in hits)
    return tuple(CapsuleBrief.of(c) for c in capsules)


def is_certified(probe: ProbeResult, certify_score: int | None) -> bool:
    """A probe at or above `certify_score` certifies the plan (None: never)."""
    return certify_score is not None and probe.score >= certify_score


def correct_plan(teacher: Teacher, incident: Incident, plan: str, probe: ProbeResult,
                 capsules: tuple[CapsuleBrief, ...], certified: bool) -> Correction:
    """The teacher's correction, or the fixed confirmation for a certified plan (no teacher call)."""
    if certified:
        return Correction(CERTIFIED_GUIDANCE, probe.strategy, Usage())
    return teacher.correct(incident, plan, probe, capsules)


@dataclass
class Retrieve:
    """Capsules from `source` (a list, a store or a retriever; None: none), the best `top_k`."""

    source: Any
    top_k: int | None = 3

    def __call__(self, episode: Episode) -> Episode:
        episode.capsules = retrieve_capsules(self.source, episode.incident, self.top_k)
        return episode


@dataclass
class Plan:
    """The student's plan; with capsules, a second plan that applies them (the one the teacher reads),
    unless the baseline itself is briefed with the capsules (`baseline_uses_capsules`)."""

    student: Student
    baseline_uses_capsules: bool = False

    def __call__(self, episode: Episode) -> Episode:
        incident, capsules = episode.incident, episode.capsules
        episode.baseline_capsules = capsules if self.baseline_uses_capsules else ()
        with episode.timed("plan_s"):
            baseline = self.student.plan(incident, episode.baseline_capsules)
            plan = self.student.plan(incident, capsules) if capsules and not self.baseline_uses_capsules else baseline
        episode.baseline_plan, episode.plan = baseline, plan
        episode.usage["student"]["plan"] = plan.usage if plan is baseline else baseline.usage + plan.usage
        return episode


@dataclass
class Probe:
    """The teacher rates the plan 1–5 (within its probe budget); `certify_score` and above certifies it."""

    teacher: Teacher
    certify_score: int | None = 5

    def __call__(self, episode: Episode) -> Episode:
        assert episode.plan is not None, "Probe needs a plan (run Plan first)"
        with episode.timed("probe_s"):
            episode.probe = self.teacher.probe(episode.incident, episode.plan.text, episode.capsules)
        episode.certified = is_certified(episode.probe, self.certify_score)
        episode.usage["teacher"]["probe"] = episode.probe.usage
        return episode


@dataclass
class Correct:
    """The teacher's guidance sized by the probe's strategy, then the student's plan revised to follow
    it (a certified plan stands as it is: no correction call, no re-plan)."""

    teacher: Teacher
    student: Student

    def __call__(self, episode: Episode) -> Episode:
        assert episode.plan is not None and episode.probe is not None, "Correct needs Plan and Probe first"
        incident, plan, capsules = episode.incident, episode.plan, episode.capsules
        with episode.timed("correct_s"):
            episode.correction = correct_plan(self.teacher, incident, plan.text, episode.probe, capsules,
                                              episode.certified)
        with episode.timed("guided_plan_s"):
            episode.guided_plan = (PlanResult(plan.text) if episode.certified
                                   else self.student.plan(incident, capsules, episode.correction.text))
        episode.usage["teacher"]["correct"] = episode.correction.usage
        episode.usage["student"]["plan_guided"] = episode.guided_plan.usage
        return episode


@dataclass
class Investigate:
    """In the episode's environment (none: nothing to do), the baseline run, then, when teaching
    happened, the guided run (its plan, the guidance and the capsules in the briefing).

    `guided_only`: the untaught control is already known (a trainer caches it per scenario), so only
    the guided run is made."""

    student: Student
    config: LoopConfig
    on_step: StepCallback | None = None
    guided_only: bool = False

    def __call__(self, episode: Episode) -> Episode:
        env = episode.environment
        if env is None:
            return episode
        runs = []
        if not self.guided_only:
            assert episode.baseline_plan is not None, "Investigate needs a plan (run Plan first)"
            runs.append(("baseline", Briefing(episode.incident, episode.baseline_plan.text, None,
                                              episode.baseline_capsules, env.namespace)))
        if episode.correction and episode.guided_plan:
            runs.append(("guided", Briefing(episode.incident, episode.guided_plan.text, episode.correction.text,
                                            episode.capsules, env.namespace)))
        for label, briefing in runs:
            with episode.timed(f"{label}_s"):
                traj = run_investigation(self.student, env, briefing, config=self.config, label=label,
                                         on_step=self._callback(label))
            episode.trajectories.append(traj)
            episode.usage["student"][f"execute_{label}"] = traj.usage
        return episode

    def _callback(self, label: str) -> Callable[[Step], None] | None:
        on_step = self.on_step
        return (lambda s: on_step(label, s)) if on_step else None


def grade(episode: Episode) -> Episode:
    """Each run against the served scenario's ground truth (an environment without one: no grades)."""
    env = episode.environment
    if isinstance(env, ScenarioEnvironment) and env.truth is not None:
        episode.scenario = env.name
        episode.grades = {t.label: grade_run(t, env.truth, env.namespace) for t in episode.trajectories}
    return episode


@dataclass
class Consolidate:
    """Record the applied capsules' outcomes and learn from a correct run into `store` (after Grade)."""

    store: CapsuleStore

    def __call__(self, episode: Episode) -> Episode:
        if episode.trajectories:
            consolidate(self.store, {"result": protocol_result(episode), "records": trace_records(episode)})
        return episode


def run_steps(episode: Episode, steps: Iterable[EpisodeStep]) -> Episode:
    """Run the steps in order, then stamp the total time (`timings["total_s"]`, from `episode.started`)."""
    for step in steps:
        episode = step(episode)
    episode.timings["total_s"] = time.monotonic() - episode.started
    return episode
