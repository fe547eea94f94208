"""Grading a finished run against a scenario's ground truth (the protocol's side of `eval.grade`).

Lives in the protocol, not in the agents: ground truth never crosses into the agents room. A run
that ended without a diagnosis (a budget, a model failure) is graded as an empty answer but never
counts as correct, not even on a no-fault control, because the agent did not answer.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.agents.trajectory import Trajectory
from atlas_sre.grading import Diagnosis, grade


def grade_run(traj: Trajectory, truth: Any, namespace: str | None = None) -> dict[str, Any]:
    """`eval.grade` of the run's diagnosis, as a dict with the run's outcome added."""
    diagnosis = Diagnosis.model_validate(traj.diagnosis) if traj.diagnosis else Diagnosis()
    result = grade(diagnosis, truth).model_dump()
    if traj.outcome != "submitted":
        result["correct"] = False
    result["outcome"] = traj.outcome
    return result
