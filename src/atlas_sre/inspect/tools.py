"""The Inspect tools of one sample: `kubectl`, `analyze` and `submit_diagnosis`, bound to its environment.

They are `ToolDef`s built per sample around the served scenario's `Environment`, so every call goes
through the command layer (`Environment.execute` → `CommandRunner.run`: the read-only policy, the
filters, redaction, truncation) and never through a shell. Their names, argument names and result
texts are those the project's own LLM student gets (`agents.llm.tools`, `agents.loop`), so a model
is measured on the same interface in Inspect as in `atlas-sre bench`.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
from inspect_ai.tool import ToolDef, ToolError, ToolParams
from inspect_ai.util import JSONSchema

from atlas_sre.agents.llm.tools import ANALYZE, KUBECTL, SUBMIT, diagnosis_schema
from atlas_sre.agents.loop import observation_message
from atlas_sre.agents.prompting import render
from atlas_sre.environments import Environment
from atlas_sre.grading import DiagnosisError, parse_diagnosis

_RUNNABLE = (KUBECTL, ANALYZE)


def command_line(text: str, tool: str) -> str:
    """The line as the model wrote it, with the tool's name put in front when it left it out."""
    line = text.strip()
    return line if line.split(" ", 1)[0] in _RUNNABLE else f"{tool} {line}".strip()


class StepBudget:
    """The commands one sample may run (`max_steps`, the loop's step limit), shared by its tools."""

    def __init__(self, max_steps: int) -> None:
        self.max_steps = max_steps
        self.used = 0

    def take(self) -> str | None:
        """None while a step is left (and counts it); else what the model is told instead of an output."""
        if self.used >= self.max_steps:
            return (render("limit_reached", reason=f"the step limit ({self.max_steps} commands) was reached").strip()
                    + f" No more commands will run: call `{SUBMIT}` now with the diagnosis the output above proves.")
        self.used += 1
        return None


async def run_line(env: Environment, line: str, budget: StepBudget | None = None) -> str:
    """One command line through the environment (in a worker thread: kubectl is a subprocess), as the
    loop would show it: `Exit code: N (L lines)` and the output, or the refusal and what to do instead."""
    stopped = budget.take() if budget is not None else None
    if stopped is not None:
        return stopped
    result = await anyio.to_thread.run_sync(env.execute, line)
    observation = str(result.observation)
    if result.refused:
        return render("refused_command", observation=observation.strip())
    lines = observation.count("\n") + (1 if observation and not observation.endswith("\n") else 0)
    return observation_message(observation, result.exit_code, lines, result.truncated)


def kubectl_tool(env: Environment, budget: StepBudget | None = None) -> ToolDef:
    """`kubectl(command)`: one read-only kubectl line, filters after `|` allowed, writes refused."""

    async def kubectl(command: str) -> str:
        """Run one read-only kubectl command and see its output.

        Args:
            command: one read-only kubectl command line, e.g. `kubectl get pods -A`;
                | grep, head, tail, wc or jq filters may follow on the same line
        """
        return await run_line(env, command_line(command, KUBECTL), budget)

    return ToolDef(kubectl, name=KUBECTL)


def analyze_tool(env: Environment, budget: StepBudget | None = None) -> ToolDef:
    """`analyze(args)`: the built-in mesh and workload analyzers (istioctl-analyze style codes)."""

    async def analyze(args: str = "") -> str:
        """Run the mesh and workload analyzer (like istioctl analyze).

        Args:
            args: analyzer arguments, e.g. -A or -n NAMESPACE
        """
        extra = args.strip()
        return await run_line(env, f"{ANALYZE} {extra}".strip(), budget)

    return ToolDef(analyze, name=ANALYZE)


PARAMETER_DOCS = {
    "entities": "the entities you name, `namespace/Kind/name`; contributing_factor true only for root causes",
    "propagations": "how the fault spreads: source's condition causes target's effect",
    "category": "Misconfiguration | Resource Saturation | Resource Unavailable | Network | Change",
    "summary": "one or two sentences",
}


def _diagnosis_params() -> ToolParams:
    """The diagnosis schema (`grading.Diagnosis`, as the project's LLM student is offered it), described."""
    properties = diagnosis_schema()["properties"]
    return ToolParams(properties={k: JSONSchema.model_validate({**v, "description": PARAMETER_DOCS[k]})
                                  for k, v in properties.items()},
                      required=["entities", "category", "summary"])


def submit_tool(namespace: str | None) -> ToolDef:
    """`submit_diagnosis(entities, propagations, category, summary)`: the project's diagnosis schema.

    The answer is read with the grader's own forgiving parser (`Kind/name` gets the served default
    `namespace`); what cannot be read goes back to the model as a one-line tool error to fix, and
    what can becomes the sample's completion: the diagnosis JSON the scorer grades.
    """

    async def submit_diagnosis(entities: list[Any], category: str = "", summary: str = "",
                               propagations: list[Any] | None = None) -> str:
        """Submit the final root-cause diagnosis once the evidence proves it."""
        payload = {"entities": entities, "propagations": propagations or [], "category": category,
                   "summary": summary}
        try:
            diagnosis = parse_diagnosis(json.dumps(payload, ensure_ascii=False), default_namespace=namespace)
        except DiagnosisError as exc:
            raise ToolError(str(exc)) from None
        return diagnosis.model_dump_json()

    return ToolDef(submit_diagnosis, name=SUBMIT, description="Submit the final root-cause diagnosis once the "
                   "evidence proves it: the entities you blame as namespace/Kind/name (contributing_factor true "
                   "for root causes only), how the fault propagates, its category and a short summary.",
                   parameters=_diagnosis_params())


def sample_tools(env: Environment, max_steps: int, *, analyzer: bool = True) -> list[ToolDef]:
    """The investigation tools for one served scenario, `max_steps` commands between them (`analyze`
    left out with `analyzer=False`)."""
    budget = StepBudget(max_steps)
    return [kubectl_tool(env, budget), *([analyze_tool(env, budget)] if analyzer else [])]
