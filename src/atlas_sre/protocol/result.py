"""The seed-compatible view of an `Episode`: `run_full_protocol`'s dict and the JSONL trace records.

Keys and their order are the seed's and the earlier releases' (scripts, the benchmark and traces
read them): `problem`, `diagnostic`, `learning`, `baseline_response`, `guided_response`, `capsules`,
`certified`; with an environment `<label>_diagnosis`, `<label>_run`, `commands`, `namespace`, and
when graded `scenario`, `grades`; always `tokens`, `tokens_by_role`, `timings`.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.agents.trajectory import TRAJECTORY_FORMAT
from atlas_sre.agents.types import Usage
from atlas_sre.protocol.episode import Episode


def teaching_keys(episode: Episode) -> dict[str, Any]:
    """The seed's keys (without a cluster the two responses are the student's plans, as in the seed)."""
    probe, correction, guided = episode.probe, episode.correction, episode.guided_plan
    return {
        "problem": episode.incident.summary,
        "diagnostic": {"capability_score": probe.score if probe else None,
                       "probe_response": probe.response if probe else "",
                       "learning_strategy": probe.strategy if probe else None},
        "learning": {"learning_guidance": correction.text if correction else "",
                     "strategy": correction.strategy if correction else None,
                     "capability_score": probe.score if probe else None},
        "baseline_response": episode.baseline_plan.text if episode.baseline_plan else "",
        "guided_response": guided.text if guided else "",
    }


def _by_role(phases: dict[str, Usage]) -> dict[str, int]:
    total = Usage()
    for usage in phases.values():
        total = total + usage
    return {"prompt_tokens": total.prompt_tokens, "completion_tokens": total.completion_tokens,
            "total_tokens": total.total}


def protocol_result(episode: Episode) -> dict[str, Any]:
    """`ATLASInference.run_full_protocol`'s dict for a finished episode."""
    result = teaching_keys(episode)
    result["capsules"] = [b.to_dict() for b in episode.capsules]
    result["certified"] = episode.certified
    env = episode.environment
    if env is not None:
        for traj in episode.trajectories:
            result[f"{traj.label}_diagnosis"] = traj.diagnosis
            result[f"{traj.label}_run"] = traj.summary()
        result.setdefault("guided_diagnosis", None)
        result["commands"] = {t.label: t.commands for t in episode.trajectories}
        result["namespace"] = env.namespace
        if episode.grades is not None:
            result["scenario"] = episode.scenario
            result["grades"] = episode.grades
    result["tokens"] = {role: {phase: u.to_dict() for phase, u in phases.items()}
                        for role, phases in episode.usage.items()}
    result["tokens_by_role"] = {role: _by_role(phases) for role, phases in episode.usage.items()}
    result["timings"] = {k: round(v, 4) for k, v in episode.timings.items()}
    return result


def teaching_record(episode: Episode) -> dict[str, Any]:
    """The trace's first record: what the teacher read and said."""
    probe, correction = episode.probe, episode.correction
    return {"type": "teaching", "trajectory_format": TRAJECTORY_FORMAT, "incident": episode.incident.text(),
            "plan": episode.plan.text if episode.plan else "",
            "probe": probe.response if probe else None, "score": probe.score if probe else None,
            "strategy": probe.strategy if probe else None, "certified": episode.certified,
            "guidance": correction.text if correction else None,
            "capsules": [b.to_dict() for b in episode.capsules]}


def trace_records(episode: Episode) -> list[dict[str, Any]]:
    """JSONL records: the teaching phase, then each investigation's trajectory."""
    records = [teaching_record(episode)]
    for traj in episode.trajectories:
        records += traj.to_records()
    return records
