"""The `Episode`: one investigation's typed state, filled in by the pipeline's steps.

Inspect's shape: a task state flows through solvers. Here the state is everything one
investigation produces — the incident, the capsules applied, the plans, the teacher's probe and
correction, the trajectories (baseline and guided), the grades, the tokens per role and phase and
the timings — and each step (`steps.py`) reads what earlier steps left and adds its part. The
seed-compatible dict of `ATLASInference.run_full_protocol` is a view of it (`result.py`).

The environment stays on the episode for the steps that run commands (investigate) or need the
ground truth (grade); agents are only ever handed the `Incident`, plans and teacher text.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Protocol

from atlas_sre.agents.trajectory import Trajectory
from atlas_sre.agents.types import CapsuleBrief, Correction, PlanResult, ProbeResult, Usage
from atlas_sre.environments import Environment
from atlas_sre.grading.incident import Incident


@dataclass
class Episode:
    """One investigation, step by step. Only `incident` (and an `environment` to run commands in) is
    given; every other field is a step's output, None or empty until that step has run."""

    incident: Incident
    environment: Environment | None = None
    capsules: tuple[CapsuleBrief, ...] = ()  # retrieve: applied to the plan (and the guided run)
    baseline_capsules: tuple[CapsuleBrief, ...] = ()  # plan: what the untaught baseline was briefed with
    baseline_plan: PlanResult | None = None  # plan: the student's own plan (the baseline's)
    plan: PlanResult | None = None  # plan: the plan the teacher reads (with the capsules)
    probe: ProbeResult | None = None  # probe
    certified: bool = False  # probe: the score certifies the plan (no correction call)
    correction: Correction | None = None  # correct
    guided_plan: PlanResult | None = None  # correct: the plan revised to follow the guidance
    trajectories: list[Trajectory] = field(default_factory=list)  # investigate: baseline, then guided
    scenario: str | None = None  # grade: the graded scenario's name
    grades: dict[str, dict[str, object]] | None = None  # grade: per trajectory label
    usage: dict[str, dict[str, Usage]] = field(default_factory=lambda: {"student": {}, "teacher": {}})
    timings: dict[str, float] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @contextmanager
    def timed(self, key: str) -> Iterator[None]:
        """Adds the block's wall time to `timings[key]` (seconds)."""
        tick = time.monotonic()
        try:
            yield
        finally:
            self.timings[key] = time.monotonic() - tick

    def trajectory(self, label: str) -> Trajectory | None:
        """The run labelled `baseline` or `guided`, if it ran."""
        return next((t for t in self.trajectories if t.label == label), None)


class EpisodeStep(Protocol):
    """One step of the pipeline: takes the episode, adds its part, returns it."""

    def __call__(self, episode: Episode) -> Episode: ...
