"""`ATLASInference`: the ATLAS protocol (plan → probe → correct → execute) with its baseline control.

Seed-compatible: `ATLASInference(student_model, teacher_model, probe_token_limit=50)` and
`run_full_protocol(incident)` returning `diagnostic`, `learning`, `baseline_response` and
`guided_response` (without a cluster the two responses are the student's plans, as in the seed).
Given `scenario=` (served by the simulator for the duration) or a kubeconfig, both runs also
investigate the cluster through the loop, and the result adds diagnoses, commands, tokens per role
and phase, timings and (scenario only) grades.

It is an adapter over the step pipeline: it opens the environment, builds an `Episode`, runs
`steps()` (retrieve → plan → probe → correct → investigate → grade) and returns the episode's
seed-compatible view (`result.protocol_result`). `run_episode` gives the typed `Episode` itself.

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

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from atlas_sre.agents.factory import make_student, make_teacher, resolve_model
from atlas_sre.agents.loop import LoopConfig
from atlas_sre.agents.trajectory import Trajectory
from atlas_sre.agents.types import CapsuleBrief, Correction, ProbeResult
from atlas_sre.commands import Tool
from atlas_sre.environments import Environment, default_tools, open_kubeconfig, open_scenario
from atlas_sre.grading.incident import Incident
from atlas_sre.protocol.episode import Episode, EpisodeStep
from atlas_sre.protocol.result import protocol_result, trace_records
from atlas_sre.protocol.steps import (
    Correct,
    Investigate,
    Plan,
    Probe,
    Retrieve,
    StepCallback,
    correct_plan,
    grade,
    is_certified,
    retrieve_capsules,
    run_steps,
)

__all__ = ["ATLASInference", "StepCallback", "retrieve_capsules"]


def _model(model: Any, tokenizer: Any) -> Any:
    """Keep agent objects and spec strings as they are; pair a transformers model with its tokenizer."""
    return resolve_model(model, tokenizer) if tokenizer is not None and not isinstance(model, str) else model


class ATLASInference:
    """The teacher-coached investigator. Models: ChatModel, spec string, or a transformers model (+ tokenizer).

    `tools` are the in-process commands the student may run besides kubectl (default: `analyze`).
    """

    def __init__(self, student_model: Any = "reference:student", teacher_model: Any = "reference:teacher",
                 probe_token_limit: int = 50, correction_token_limit: int = 200, *, student_tokenizer: Any = None,
                 teacher_tokenizer: Any = None, max_steps: int = 20, loop_config: LoopConfig | None = None,
                 on_step: StepCallback | None = None, baseline_uses_capsules: bool = False,
                 certify_score: int | None = 5, capsule_top_k: int = 3,
                 tools: Mapping[str, Tool] | None = None) -> None:
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
        self.tools = dict(tools) if tools is not None else default_tools()
        for agent in (self.student, self.teacher):  # what exists, never what is true: a teacher must
            if hasattr(agent, "available_tools"):   # not send the student to a tool it does not have
                agent.available_tools = frozenset(self.tools)
        if hasattr(self.teacher, "name_commands"):  # a model copies commands; the reference student translates words
            self.teacher.name_commands = bool(getattr(self.student, "copies_commands", False))
        self.episode: Episode | None = None

    # -- the seed's phases --------------------------------------------------------------------------

    def diagnostic_probe(self, incident: Incident, plan: str, capsules: Sequence[CapsuleBrief] = ()) -> ProbeResult:
        return self.teacher.probe(incident, plan, capsules)

    def certified(self, probe: ProbeResult) -> bool:
        """Whether the probe's score certifies the plan (no correction call; see the module docstring)."""
        return is_certified(probe, self.certify_score)

    def adaptive_learning(self, incident: Incident, plan: str, probe: ProbeResult,
                          capsules: Sequence[CapsuleBrief] = ()) -> Correction:
        return correct_plan(self.teacher, incident, plan, probe, tuple(capsules), self.certified(probe))

    # -- the protocol -------------------------------------------------------------------------------

    def steps(self, capsules: Any = None, *, teach: bool = True, grading: bool = True) -> list[EpisodeStep]:
        """The pipeline this instance runs: retrieve → plan → [probe → correct] → investigate → [grade]."""
        steps: list[EpisodeStep] = [Retrieve(capsules, self.capsule_top_k),
                                    Plan(self.student, self.baseline_uses_capsules)]
        if teach:
            steps += [Probe(self.teacher, self.certify_score), Correct(self.teacher, self.student)]
        steps.append(Investigate(self.student, self.loop_config, self.on_step))
        if grading:
            steps.append(grade)
        return steps

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
        episode = self.run_episode(incident, scenario, kubeconfig, context, namespace, capsules, teach=teach,
                                   alerts=alerts, use_default_kubeconfig=use_default_kubeconfig, anchor=anchor)
        return protocol_result(episode)

    def run_episode(self, incident: str | Incident = "", scenario: Any = None, kubeconfig: str | None = None,
                    context: str | None = None, namespace: str | None = None, capsules: Any = None,
                    *, teach: bool = True, alerts: Sequence[dict[str, Any]] | None = None,
                    use_default_kubeconfig: bool = False, anchor: datetime | None = None,
                    steps: Sequence[EpisodeStep] | None = None) -> Episode:
        """`run_full_protocol` as the typed `Episode` (`steps` replaces the default pipeline)."""
        episode = Episode(Incident(""))
        env: Environment | None = None
        if scenario is not None:
            env = open_scenario(scenario, anchor=anchor, tools=self.tools)
        elif kubeconfig is not None or context is not None or use_default_kubeconfig:
            env = open_kubeconfig(kubeconfig, context, namespace, tools=self.tools)
        try:
            episode.environment = env
            episode.incident = _incident(incident, env, alerts)
            self.episode = run_steps(episode, steps if steps is not None else self.steps(capsules, teach=teach))
        finally:
            if env is not None:
                env.close()
        return self.episode

    @property
    def trajectories(self) -> list[Trajectory]:
        """The last run's investigations (baseline, then guided)."""
        return self.episode.trajectories if self.episode else []

    def trace_records(self) -> list[dict[str, Any]]:
        """JSONL records of the last run: the teaching phase, then each investigation's trajectory."""
        return trace_records(self.episode) if self.episode else []


def _incident(incident: str | Incident, env: Environment | None, alerts: Sequence[dict[str, Any]] | None) -> Incident:
    """The incident as given, else the environment's (a scenario's summary and alerts) filling the gaps."""
    if isinstance(incident, Incident):
        return incident
    told = env.incident if env is not None else None
    summary = str(incident or "").strip() or (told.summary if told else "") or ""
    return Incident.of(summary, alerts if alerts is not None else (told.alerts if told else []))
