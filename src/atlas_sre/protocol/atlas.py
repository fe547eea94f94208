"""`ATLASInference`: the ATLAS protocol (plan → probe → correct → execute) with its baseline control.

Seed-compatible: `ATLASInference(student_model, teacher_model, probe_token_limit=50)` and
`run_full_protocol(incident)` returning `diagnostic`, `learning`, `baseline_response` and
`guided_response` (without a cluster the two responses are the student's plans, as in the seed).
Given `scenario=` (served by the simulator for the duration) or a kubeconfig, both runs also
investigate the cluster through the loop, and the result adds diagnoses, commands, tokens per role
and phase, timings and (scenario only) grades. The protocol runs no command itself: the loop does,
through the session's `CommandRunner`.

Certification (`certify_score`, default 5): a plan the probe rates at that score or above is
certified — the correction is the fixed confirmation, with no second teacher call, and the student
proceeds with the plan it has. This is the ATLAS runtime's "auto" lane for a confident probe, and
it is how a plan that already covers an applied Skill Capsule's procedure costs the teacher only
its probe. `certify_score=None` always runs the correction call.

From a store or retriever, the best `capsule_top_k` (3) capsules are applied: capsules for one
symptom often differ only in the proof that decides between causes, and every one applied
lengthens the plan the teacher reads and the agenda the student runs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from atlas_sre.agents.factory import make_student, make_teacher, resolve_model
from atlas_sre.agents.loop import LoopConfig, run_investigation
from atlas_sre.agents.trajectory import TRAJECTORY_FORMAT, Step, Trajectory
from atlas_sre.agents.types import (
    CERTIFIED_GUIDANCE,
    Briefing,
    CapsuleBrief,
    Correction,
    Incident,
    PlanResult,
    ProbeResult,
    Usage,
)
from atlas_sre.protocol.cluster import ClusterSession, open_kubeconfig, open_scenario
from atlas_sre.protocol.grading import grade_run

StepCallback = Callable[[str, Step], None]


def _model(model: Any, tokenizer: Any) -> Any:
    """Keep agent objects and spec strings as they are; pair a transformers model with its tokenizer."""
    return resolve_model(model, tokenizer) if tokenizer is not None else model


def retrieve_capsules(capsules: Any, incident: Incident, top_k: int | None = None) -> tuple[CapsuleBrief, ...]:
    """Capsules for this incident from a list (Capsule / RetrievalHit / CapsuleBrief / dict, all of
    them), or the best `top_k` (default: the retriever's own) from a retriever or a store."""
    if capsules is None:
        return ()
    if hasattr(capsules, "retrieve") or hasattr(capsules, "index_snapshot"):
        from atlas_sre.capsules import CapsuleRetriever, IncidentQuery

        retriever = capsules if hasattr(capsules, "retrieve") else CapsuleRetriever(capsules)
        query = IncidentQuery(summary=incident.summary, alerts=[dict(a) for a in incident.alerts])
        hits = retriever.retrieve(query, top_k=top_k)
        return tuple(CapsuleBrief.of(h) for h in hits)
    return tuple(CapsuleBrief.of(c) for c in capsules)


class ATLASInference:
    """The teacher-coached investigator. Models: ChatModel, spec string, or a transformers model (+ tokenizer)."""

    def __init__(self, student_model: Any = "reference:student", teacher_model: Any = "reference:teacher",
                 probe_token_limit: int = 50, correction_token_limit: int = 200, *, student_tokenizer: Any = None,
                 teacher_tokenizer: Any = None, max_steps: int = 20, loop_config: LoopConfig | None = None,
                 on_step: StepCallback | None = None, baseline_uses_capsules: bool = False,
                 certify_score: int | None = 5, capsule_top_k: int = 3) -> None:
        if certify_score is not None and not 1 <= certify_score <= 5:
            raise ValueError(f"certify_score must be 1-5 or None, got {certify_score}")
        self.loop_config = loop_config or LoopConfig(max_steps=max_steps)
        self._student_model = _model(student_model, student_tokenizer)
        self.student = make_student(self._student_model, max_steps=self.loop_config.max_steps)
        self.teacher = make_teacher(_model(teacher_model, teacher_tokenizer), probe_token_limit=probe_token_limit,
                                    correction_token_limit=correction_token_limit)
        self.probe_token_limit = probe_token_limit
        self.correction_token_limit = correction_token_limit
        self.on_step = on_step
        self.baseline_uses_capsules = baseline_uses_capsules
        self.certify_score = certify_score
        self.capsule_top_k = capsule_top_k
        self.trajectories: list[Trajectory] = []
        self.teaching_record: dict[str, Any] = {}

    # -- the seed's phases --------------------------------------------------------------------------

    def diagnostic_probe(self, incident: Incident, plan: str, capsules: Sequence[CapsuleBrief] = ()) -> ProbeResult:
        return self.teacher.probe(incident, plan, capsules)

    def certified(self, probe: ProbeResult) -> bool:
        """Whether the probe's score certifies the plan (no correction call; see the module docstring)."""
        return self.certify_score is not None and probe.score >= self.certify_score

    def adaptive_learning(self, incident: Incident, plan: str, probe: ProbeResult,
                          capsules: Sequence[CapsuleBrief] = ()) -> Correction:
        if self.certified(probe):
            return Correction(CERTIFIED_GUIDANCE, probe.strategy, Usage())
        return self.teacher.correct(incident, plan, probe, capsules)

    # -- the protocol -------------------------------------------------------------------------------

    def run_full_protocol(self, incident: str | Incident = "", scenario: Any = None, kubeconfig: str | None = None,
                          context: str | None = None, namespace: str | None = None, capsules: Any = None,
                          *, teach: bool = True, alerts: Sequence[dict[str, Any]] | None = None,
                          use_default_kubeconfig: bool = False, anchor: datetime | None = None) -> dict[str, Any]:
        """Plan, probe, correct; and with a cluster, investigate without and with the teaching.

        A cluster is a `scenario` (served for the call), or `kubeconfig`/`context`, or, with
        `use_default_kubeconfig`, whatever `$KUBECONFIG` / `~/.kube/config` points at (as kubectl does).
        `anchor` pins a scenario's observation instant (default: now, so ages read true); pin it for
        byte-identical, reproducible runs.
        """
        started = time.monotonic()
        session: ClusterSession | None = None
        if scenario is not None:
            session = open_scenario(scenario, anchor=anchor)
        elif kubeconfig is not None or context is not None or use_default_kubeconfig:
            session = open_kubeconfig(kubeconfig, context, namespace)
        try:
            return self._run(incident, session, namespace, capsules, teach, alerts, started)
        finally:
            if session is not None:
                session.close()

    def _run(self, incident: str | Incident, session: ClusterSession | None, namespace: str | None, capsules: Any,
             teach: bool, alerts: Sequence[dict[str, Any]] | None, started: float) -> dict[str, Any]:
        if not isinstance(incident, Incident):
            summary = str(incident or "").strip() or (session.summary if session else "") or ""
            incident = Incident.of(summary, alerts if alerts is not None else (session.alerts if session else []))
        briefs = retrieve_capsules(capsules, incident, self.capsule_top_k)
        times: dict[str, float] = {}
        tick = time.monotonic()
        baseline_plan = self.student.plan(incident, briefs if self.baseline_uses_capsules else ())
        plan = self.student.plan(incident, briefs) if briefs and not self.baseline_uses_capsules else baseline_plan
        times["plan_s"] = time.monotonic() - tick
        probe, correction, guided_plan = None, None, None
        if teach:
            tick = time.monotonic()
            probe = self.diagnostic_probe(incident, plan.text, briefs)
            times["probe_s"] = time.monotonic() - tick
            tick = time.monotonic()
            correction = self.adaptive_learning(incident, plan.text, probe, briefs)
            times["correct_s"] = time.monotonic() - tick
            tick = time.monotonic()
            guided_plan = (PlanResult(plan.text) if self.certified(probe)
                           else self.student.plan(incident, briefs, correction.text))
            times["guided_plan_s"] = time.monotonic() - tick
        result = _teaching_keys(incident, probe, correction, baseline_plan, guided_plan)
        result["capsules"] = [b.to_dict() for b in briefs]
        result["certified"] = bool(probe and self.certified(probe))
        tokens: dict[str, dict[str, Any]] = {"student": {"plan": (plan.usage if plan is baseline_plan else
                                                                  baseline_plan.usage + plan.usage).to_dict()},
                                             "teacher": {}}
        if teach and probe and correction and guided_plan:
            tokens["student"]["plan_guided"] = guided_plan.usage.to_dict()
            tokens["teacher"] = {"probe": probe.usage.to_dict(), "correct": correction.usage.to_dict()}
        self.trajectories = []
        self.teaching_record = {"type": "teaching", "trajectory_format": TRAJECTORY_FORMAT,
                                "incident": incident.text(), "plan": plan.text,
                                "probe": probe.response if probe else None, "score": probe.score if probe else None,
                                "strategy": probe.strategy if probe else None,
                                "certified": bool(probe and self.certified(probe)),
                                "guidance": correction.text if correction else None,
                                "capsules": result["capsules"]}
        if session is not None:
            runs = [("baseline", Briefing(incident, baseline_plan.text, None,
                                          briefs if self.baseline_uses_capsules else (), session.namespace))]
            if teach and correction and guided_plan:
                runs.append(("guided", Briefing(incident, guided_plan.text, correction.text, briefs,
                                                session.namespace)))
            for label, briefing in runs:
                tick = time.monotonic()
                traj = run_investigation(self.student, session.runner, briefing, config=self.loop_config, label=label,
                                         on_step=(lambda s, _l=label: self.on_step(_l, s)) if self.on_step else None)
                times[f"{label}_s"] = time.monotonic() - tick
                self.trajectories.append(traj)
                tokens["student"][f"execute_{label}"] = traj.usage.to_dict()
                result[f"{label}_diagnosis"] = traj.diagnosis
                result[f"{label}_run"] = traj.summary()
            result.setdefault("guided_diagnosis", None)
            result["commands"] = {t.label: t.commands for t in self.trajectories}
            result["namespace"] = session.namespace
            if session.truth is not None:
                result["scenario"] = session.name
                result["grades"] = {t.label: grade_run(t, session.truth, session.namespace) for t in self.trajectories}
        result["tokens"] = tokens
        result["tokens_by_role"] = {role: _sum(phases) for role, phases in tokens.items()}
        times["total_s"] = time.monotonic() - started
        result["timings"] = {k: round(v, 4) for k, v in times.items()}
        return result

    def trace_records(self) -> list[dict[str, Any]]:
        """JSONL records of the last run: the teaching phase, then each investigation's trajectory."""
        records: list[dict[str, Any]] = [self.teaching_record] if self.teaching_record else []
        for traj in self.trajectories:
            records += traj.to_records()
        return records


def _sum(phases: dict[str, dict[str, Any]]) -> dict[str, int]:
    total = Usage()
    for usage in phases.values():
        total = total + Usage(usage["prompt_tokens"], usage["completion_tokens"])
    return {"prompt_tokens": total.prompt_tokens, "completion_tokens": total.completion_tokens,
            "total_tokens": total.total}


def _teaching_keys(incident: Incident, probe: ProbeResult | None, correction: Correction | None,
                   baseline_plan: PlanResult, guided_plan: PlanResult | None) -> dict[str, Any]:
    """The seed's keys, shaped exactly as `ATLASInference.run_full_protocol` returned them."""
    return {
        "problem": incident.summary,
        "diagnostic": {"capability_score": probe.score if probe else None,
                       "probe_response": probe.response if probe else "",
                       "learning_strategy": probe.strategy if probe else None},
        "learning": {"learning_guidance": correction.text if correction else "",
                     "strategy": correction.strategy if correction else None,
                     "capability_score": probe.score if probe else None},
        "baseline_response": baseline_plan.text,
        "guided_response": guided_plan.text if guided_plan else "",
    }
