"""GEPA's view of the LLM teacher: a candidate is a dict of teacher templates, a data point a scenario.

Why the standalone `gepa` package and not DSPy's GEPA: the teacher is not a DSPy program, and its
prompts are files rendered by our own code; `gepa.optimize` takes any system through a small adapter
(evaluate a candidate on a batch, build the reflective records), which is exactly this module.

- `evaluate`: one guided episode per scenario (`prompts_eval`), score 1.0 when the grader calls the
  diagnosis correct, else 0.0 (the `atlas` mode's accuracy, the figure the evolution is judged by).
- `make_reflective_dataset`: for the failed episodes that used the template being rewritten, what
  the teacher read (incident, plan), what it wrote (probe, guidance), what the student then did
  (commands, diagnosis) and the grader's verdict, **with the true root cause**. That is GEPA's
  method: the reflection model learns from the answer at training time. The teacher never sees it:
  at inference the templates are filled with the incident and the plan only, and the reflection
  prompt forbids writing incident-specific answers into the template.
- `check_no_leak`: a candidate quoting a training incident's ground truth (a small reflection model may
  copy its feedback verbatim) scores 0 without being run, so it can never be selected.
- `UsedComponents`: reflect on a template a failed episode actually used (round robin among those),
  since a correction template the probe never selected has nothing to learn from that batch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from atlas_sre.agents.llm.teacher_prompts import allowed_placeholders, as_template, checked_prompts, placeholders
from atlas_sre.bench.config import ScenarioMeta
from atlas_sre.models.base import ChatModel
from atlas_sre.training.prompts_eval import MAX_COMMANDS_SHOWN, Evaluate, TaughtRun

ROLES: dict[str, str] = {
    "teacher_system": "the teacher's system message, sent with every probe and correction",
    "teacher_probe": ("the probe prompt: the teacher rates the student's investigation plan in at most 50 tokens; "
                      "the reply must contain `Score: N/5`. 1 selects a heavy correction, 2-3 a medium one, 4 a "
                      "light one, and 5 certifies the plan (no correction at all)"),
    "teacher_correct_light": ("the correction prompt after a probe score of 4: the teacher writes at most 200 "
                              "tokens of guidance inside <teaching></teaching>; only that part reaches the student"),
    "teacher_correct_medium": ("the correction prompt after a probe score of 2 or 3: at most 200 tokens of guidance "
                               "inside <teaching></teaching>; only that part reaches the student"),
    "teacher_correct_heavy": ("the correction prompt after a probe score of 1: at most 200 tokens of guidance "
                              "inside <teaching></teaching>; only that part reaches the student"),
    "teacher_checks": ("the lettered list of expert checks (words and an exact read-only command each) that both the "
                       "probe and the correction prompts show the teacher"),
}

REFLECTION_TEMPLATE = """I coach a student agent that diagnoses Kubernetes and Istio incidents with read-only \
commands (kubectl, and `analyze` for the mesh). A teacher language model reads each incident and the student's \
plan, and its words decide which commands the student runs. This is ROLE. PLACEHOLDERS
```
<curr_param>
```

Below are incidents where the student, taught through this template, was graded. Each shows what the teacher \
read, what it wrote, what the student then ran and concluded, and the grader's feedback with the true root cause:
```
<side_info>
```

Write an improved version of the template so that the teacher's words lead the student to the evidence that \
decides incidents like these. Rules:
- Keep every placeholder the current template uses, spelled exactly ($name); add no other $word \
(write $$ for a literal dollar sign).
- The teacher never learns the true root cause: do not put answers, object names or causes specific to these \
examples into the template. Write general investigation guidance that transfers to new incidents.
- Keep it short: the teacher is a small model with a 50-token probe and a 200-token correction.

Return only the new template inside ``` blocks."""

REQUIRED_INPUTS = frozenset({"incident", "plan"})
"""Placeholders a rewritten template must keep where its packaged original has them."""


def reflection_templates(names: Sequence[str]) -> dict[str, str]:
    """GEPA's reflection prompt per component: its role and the placeholders it must keep."""
    out = {}
    for name in names:
        kept = ", ".join(f"${p}" for p in sorted(allowed_placeholders(name)))
        said = (f"It is a template: {kept} are filled in for every incident." if kept
                else "It is plain text, sent as it is.")
        out[name] = REFLECTION_TEMPLATE.replace("ROLE", ROLES[name]).replace("PLACEHOLDERS", said)
    return out


def _clip(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


def reflective_record(run: TaughtRun) -> dict[str, Any]:
    """One episode as the reflection model reads it (GEPA's Inputs / Generated Outputs / Feedback)."""
    commands = run.commands[:MAX_COMMANDS_SHOWN] + (["…"] if len(run.commands) > MAX_COMMANDS_SHOWN else [])
    probe = f"{_clip(run.probe, 300)} (read as {run.score}/5: {run.strategy} correction" + (
        "; certified, so no correction was written)" if run.certified else ")")
    diagnosis = json.dumps(run.diagnosis, ensure_ascii=False) if run.diagnosis else "(no diagnosis)"
    return {
        "Inputs": {"Incident": _clip(run.incident, 800), "Student's plan": _clip(run.plan, 800)},
        "Generated Outputs": {
            "Teacher's probe": probe,
            "Teacher's guidance": _clip(run.guidance, 1000) or "(none)",
            "Commands the student ran": "\n".join(commands) or "(none)",
            "Student's diagnosis": _clip(diagnosis, 600),
        },
        "Feedback": run.verdict,
    }


def unusable(scenario: ScenarioMeta, reason: str) -> TaughtRun:
    """The failed run of a candidate that cannot be rendered (so it never reaches the teacher)."""
    return TaughtRun(scenario=scenario.name, correct=False, incident="", plan="", probe="", score=0, strategy="",
                     certified=True, guidance="", verdict=f"Wrong: the template cannot be used ({reason}).")


class TeacherPromptAdapter:
    """`gepa.core.adapter.GEPAAdapter` over guided episodes (`evaluate` from `prompts_eval.episode_evaluator`)."""

    propose_new_texts = None  # GEPA's own proposer, with `reflection_templates`

    def __init__(self, evaluate: Evaluate, *, max_records: int = 3) -> None:
        self._evaluate = evaluate
        self.max_records = max_records
        self.secrets: set[str] = set()
        """Ground-truth strings the reflection model has been shown (lower case)."""

    def get_adapter_state(self) -> dict[str, Any]:
        """What GEPA checkpoints with its state: the secrets, so a resumed run still refuses leaks."""
        return {"secrets": sorted(self.secrets)}

    def set_adapter_state(self, state: dict[str, Any]) -> None:
        self.secrets = set(state.get("secrets", []))

    def check_no_leak(self, prompts: Mapping[str, str]) -> None:
        """A ValueError when a template quotes ground truth the reflection model saw.

        The reflection prompt forbids it, but a small model may copy its feedback verbatim; such a
        template would hand training answers to the teacher at inference, so it is never evaluated
        (it scores 0 and cannot be selected).
        """
        for name, text in prompts.items():
            lowered = text.lower()
            quoted = next((s for s in sorted(self.secrets) if s in lowered), None)
            if quoted is not None or "true root cause" in lowered:
                raise ValueError(f"{name} quotes the ground truth of a training incident "
                                 f"({quoted or 'true root cause'!r}); templates must stay general")

    @staticmethod
    def check_inputs_kept(prompts: Mapping[str, str]) -> None:
        """A ValueError when a template no longer shows the teacher what it is asked about.

        A small reflection model may answer with the template's *values* filled in for one incident
        (seen: a JSON object of `incident`, `plan`, `checks` for the example it was shown) instead of
        a template. Such a text teaches about one past incident whatever the current one is; it is
        refused before any episode is spent on it."""
        for name, text in prompts.items():
            present = set(placeholders(text))
            dropped = sorted(p for p in REQUIRED_INPUTS & allowed_placeholders(name) if p not in present)
            if dropped:
                raise ValueError(f"{name} no longer contains ${dropped[0]}: a template must show the teacher "
                                 f"the current incident and plan")

    def evaluate(self, batch: list[ScenarioMeta], candidate: dict[str, str], capture_traces: bool = False) -> Any:
        from gepa.core.adapter import EvaluationBatch

        prompts = {name: as_template(name, text) for name, text in candidate.items()}
        try:
            checked_prompts(prompts)
            self.check_inputs_kept(prompts)
            self.check_no_leak(prompts)
        except ValueError as exc:  # a failed candidate, not a failed optimisation
            runs = [unusable(scenario, str(exc)) for scenario in batch]
        else:
            runs = [self._evaluate(prompts, scenario) for scenario in batch]
            for run in runs:
                self.secrets.update(s.lower() for s in run.secrets)
        return EvaluationBatch(outputs=[r.summary() for r in runs], scores=[1.0 if r.correct else 0.0 for r in runs],
                               trajectories=runs if capture_traces else None)

    def make_reflective_dataset(self, candidate: dict[str, str], eval_batch: Any,
                                components_to_update: list[str]) -> Mapping[str, Sequence[Mapping[str, Any]]]:
        runs: list[TaughtRun] = list(eval_batch.trajectories or [])
        dataset = {}
        for name in components_to_update:
            used = [r for r in runs if name in r.templates_used]
            failed = [r for r in used if not r.correct]
            chosen = (failed or used or runs)[: self.max_records]
            dataset[name] = [reflective_record(r) for r in chosen]
        return dataset


class UsedComponents:
    """GEPA component selector: round robin over the templates the minibatch's failed episodes used."""

    def __init__(self) -> None:
        self.turn = 0

    def __call__(self, state: Any, trajectories: list[TaughtRun], subsample_scores: list[float],
                 candidate_idx: int, candidate: dict[str, str]) -> list[str]:
        failed = [t for t, s in zip(trajectories, subsample_scores, strict=True) if s < 1.0] or list(trajectories)
        used = set().union(*(t.templates_used for t in failed)) if failed else set(candidate)
        names = [n for n in candidate if n in used] or list(candidate)
        chosen = names[self.turn % len(names)]
        self.turn += 1
        return [chosen]


def reflection_lm(model: ChatModel, max_tokens: int) -> Any:
    """GEPA's `LanguageModel` (a prompt in, text out) over any `ChatModel`."""

    def call(prompt: str | list[dict[str, Any]]) -> str:
        messages = prompt if isinstance(prompt, list) else [{"role": "user", "content": prompt}]
        return model.complete(messages, max_tokens=max_tokens).text  # type: ignore[arg-type]

    return call
