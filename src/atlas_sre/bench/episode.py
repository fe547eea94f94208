"""The real episode function: `ATLASInference.run_full_protocol` on the scenario's own simulator.

Each call serves the scenario on a fresh 127.0.0.1 port with its own kubeconfig and kubectl cache
directory (the protocol's `open_scenario` session), so episodes in parallel workers never share a
cluster. The protocol already runs the untaught baseline beside the taught run; the taught run is
what the episode reports, the baseline becomes its in-episode control. The `capsules` mode is the
student alone with capsules in its briefing (`baseline_uses_capsules`).

Models are built once per worker process and reused (a GGUF model takes seconds to load).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from atlas_sre.agents.factory import make_student, make_teacher
from atlas_sre.agents.loop import LoopConfig
from atlas_sre.bench.config import (
    BaselineFields,
    EpisodeResult,
    EpisodeTask,
    GradeFields,
    Outcome,
    TokenUse,
)
from atlas_sre.capsules import CapsuleStore
from atlas_sre.environments import default_tools
from atlas_sre.protocol.atlas import ATLASInference

_AGENTS: dict[tuple[Any, ...], Any] = {}


def outcome_of(run_outcome: str | None) -> Outcome:
    """Loop outcome → episode outcome: submitted; a budget or format/refusal ending → limits; else error."""
    if run_outcome == "submitted":
        return "submitted"
    if run_outcome and (run_outcome.endswith("limit") or run_outcome in ("format_error", "format_errors", "refused")):
        return "limits"
    return "error"


def _use(usage: dict[str, Any] | None) -> TokenUse:
    usage = usage or {}
    return TokenUse(prompt=int(usage.get("prompt_tokens", 0)), completion=int(usage.get("completion_tokens", 0)))


def episode_tokens(tokens: dict[str, dict[str, Any]], taught: bool) -> dict[str, TokenUse]:
    """The reported path's tokens per `role.phase` (the taught path when taught, else the baseline)."""
    student, teacher = tokens.get("student", {}), tokens.get("teacher", {})
    out = {"student.plan": _use(student.get("plan"))}
    if taught:
        out["teacher.probe"] = _use(teacher.get("probe"))
        out["teacher.correct"] = _use(teacher.get("correct"))
        out["student.plan_guided"] = _use(student.get("plan_guided"))
        out["student.execute"] = _use(student.get("execute_guided"))
    else:
        out["student.execute"] = _use(student.get("execute_baseline"))
    return out


def _baseline(result: dict[str, Any]) -> BaselineFields | None:
    grade = (result.get("grades") or {}).get("baseline")
    if grade is None:
        return None
    student = result.get("tokens", {}).get("student", {})
    tokens = _use(student.get("plan")).total + _use(student.get("execute_baseline")).total
    run = result.get("baseline_run") or {}
    return BaselineFields(correct=bool(grade.get("correct")), strict=float(grade.get("strict", 0.0)),
                          f1=float(grade.get("f1", 0.0)), student_tokens=tokens,
                          commands=len((result.get("commands") or {}).get("baseline", [])),
                          outcome=outcome_of(run.get("outcome")))


def to_episode_result(task: EpisodeTask, result: dict[str, Any], output_lines: int,
                      trace: str | None = None) -> EpisodeResult:
    """An `EpisodeResult` from `run_full_protocol`'s dict (the taught run if there was one)."""
    label = "guided" if task.teach and result.get("guided_run") else "baseline"
    run = result.get(f"{label}_run") or {}
    grade = (result.get("grades") or {}).get(label)
    m = task.scenario
    diagnostic = result.get("diagnostic") or {}
    capsule_ids = [c["id"] for c in result.get("capsules") or []]
    return EpisodeResult(
        key=task.key, phase=task.phase, scenario=m.name, faults=m.faults, category=m.category,
        complexity=m.complexity, domain=m.domain, mode=task.mode, iteration=task.iteration,
        repeat=task.repeat, seed=task.seed, outcome=outcome_of(run.get("outcome")),
        message=str(run.get("detail") or "")[:500], diagnosis=result.get(f"{label}_diagnosis"),
        grade=GradeFields.model_validate(grade) if grade else None,
        baseline=_baseline(result) if label == "guided" else None,
        tokens=episode_tokens(result.get("tokens") or {}, label == "guided"),
        commands=len((result.get("commands") or {}).get(label, [])), output_lines=output_lines,
        wall_s=float((result.get("timings") or {}).get("total_s", 0.0)),
        capsules_used=capsule_ids, capsules_retrieved=capsule_ids,
        teaching=None if label != "guided" else {
            "capability_score": diagnostic.get("capability_score"), "strategy": diagnostic.get("learning_strategy"),
            "guidance": (result.get("learning") or {}).get("learning_guidance", "")},
        trace=trace,
    )


OBSERVED_AT = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
"""The instant every benchmark incident is observed at: ages, timestamps and so the tokens an agent
reads never depend on the wall clock, and the served clock stays frozen for the whole episode."""


class ProtocolEpisodeRunner(BaseModel):
    """`EpisodeRunner` over `ATLASInference` (picklable: holds only settings)."""

    write_traces: bool = True

    def _agent(self, task: EpisodeTask) -> Any:
        prompts = tuple(sorted((task.teacher_prompts or {}).items()))
        key = (task.student, task.teacher, task.probe_token_limit, task.correction_token_limit,
               task.max_steps, task.mode == "capsules", task.tool_mode, task.no_analyzer, prompts)
        if key not in _AGENTS:
            options: dict[str, Any] = {"baseline_uses_capsules": task.mode == "capsules",
                                       "tools": default_tools(analyzer=not task.no_analyzer)}
            if task.max_steps:
                options["max_steps"] = task.max_steps
            student = make_student(task.student, max_steps=task.max_steps or LoopConfig().max_steps,
                                   tool_mode=task.tool_mode)
            teacher = (make_teacher(task.teacher, probe_token_limit=task.probe_token_limit,
                                    correction_token_limit=task.correction_token_limit,
                                    prompts=task.teacher_prompts) if task.teacher_prompts else task.teacher)
            _AGENTS[key] = ATLASInference(student, teacher, task.probe_token_limit,
                                          task.correction_token_limit, **options)
        return _AGENTS[key]

    def run(self, task: EpisodeTask) -> EpisodeResult:
        atlas = self._agent(task)
        store = None
        if task.capsule_store:
            store = CapsuleStore(task.capsule_store)
        try:
            result = atlas.run_full_protocol(scenario=task.scenario.path, capsules=store, teach=task.teach,
                                             anchor=OBSERVED_AT)
        finally:
            if store is not None:
                store.close()
        label = "guided" if task.teach and result.get("guided_run") else "baseline"
        lines = sum(s.observation_lines for t in atlas.trajectories if t.label == label for s in t.steps)
        trace = None
        if self.write_traces and task.trace_path:
            path = Path(task.trace_path)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps({"task": task.model_dump(), "result": result,
                                        "records": atlas.trace_records()}, default=str) + "\n", encoding="utf-8")
            trace = str(path.relative_to(task.run_dir)) if path.is_relative_to(task.run_dir) else str(path)
        return to_episode_result(task, result, lines, trace)
