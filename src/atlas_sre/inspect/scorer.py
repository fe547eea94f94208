"""The scorer: the project's grader (`grading.grade`) on the diagnosis the agent submitted.

It is the only part of the task that reads a scenario's ground truth, and it reads it from the
scenario file named in the sample's metadata, after the agent has finished. The rules are the
protocol's (`protocol.grading.grade_run`): the diagnosis is read with the forgiving parser, and a
sample that ended without a `submit_diagnosis` call is graded as the answer it left but never
counts as correct, not even on a no-fault control, because the agent did not answer.

Metrics: `correct` (every true root cause found, alias-aware; accuracy ± stderr) and `strict`
(root-cause F1 that also charges extra entities; mean ± stderr), plus `f1`. The whole grade
(precision, recall, category match, propagation F1, proximity, matched / missed / extra entities)
is in each score's metadata.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import ChatMessageTool
from inspect_ai.scorer import Score, Scorer, Target, accuracy, mean, scorer, stderr
from inspect_ai.solver import TaskState

from atlas_sre.agents.llm.tools import SUBMIT
from atlas_sre.environments import load_scenario
from atlas_sre.grading import Diagnosis, DiagnosisError, grade, parse_diagnosis


def submitted(state: TaskState) -> bool:
    """Whether a `submit_diagnosis` call succeeded (one the tool rejected is an error the model was
    told to fix, not an answer)."""
    return any(isinstance(m, ChatMessageTool) and m.function == SUBMIT and m.error is None for m in state.messages)


def read_diagnosis(state: TaskState) -> tuple[Diagnosis, str]:
    """The diagnosis in the sample's completion, or an empty one and why."""
    try:
        return parse_diagnosis(state.output.completion), ""
    except DiagnosisError as exc:
        return Diagnosis(), str(exc)


def grade_sample(state: TaskState) -> dict[str, Any]:
    """`grading.grade` of the sample's answer against its scenario's ground truth, as a dict."""
    truth = load_scenario(state.metadata["scenario_path"]).spec.groundTruth
    answered = submitted(state)
    diagnosis, problem = read_diagnosis(state) if answered else (Diagnosis(), "no diagnosis submitted")
    result = grade(diagnosis, truth).model_dump()
    result["correct"] = bool(result["correct"]) and answered
    result["problem"] = problem
    result["root_causes"] = diagnosis.root_causes
    return result


@scorer(metrics={"correct": [accuracy(), stderr()], "strict": [mean(), stderr()], "f1": [mean()]})
def rca_grader() -> Scorer:
    """Grade each sample's submitted diagnosis with the project's grader (see the module docstring)."""

    async def score(state: TaskState, target: Target) -> Score:
        result = grade_sample(state)
        explanation = (f"matched {result['matched'] or '-'}; missed {result['missed'] or '-'}; "
                       f"extra {result['extra'] or '-'}" + (f"; {result['problem']}" if result["problem"] else ""))
        return Score(value={"correct": 1.0 if result["correct"] else 0.0, "strict": float(result["strict"]),
                            "f1": float(result["f1"])},
                     answer=", ".join(result["root_causes"]) or "(none)", explanation=explanation,
                     metadata={"grade": result})

    return score
