"""The MCP tools over an `Environment`: what an outside agent may do, and what it is told back.

Why a separate, transport-free class: the tools are the contract (names, schemas, texts) and must
match what our own agents get — one read-only command line through the same `CommandRunner`
(policy, redaction, truncation, the same refusal text), the same `analyze` tool, the incident as
the briefing shows it, and the diagnosis parsed by the same forgiving `parse_diagnosis` and graded
by the same `grade`. `mcp_server.py` only puts this class on stdio or HTTP, and tests can call it
without a transport.

On a kubeconfig cluster only `kubectl` and `analyze` exist: there is no incident to tell and no
ground truth to grade against. The grade is always computed on a scenario (the operator gets it
through `on_submit`, e.g. the server's stderr log) but is returned to the agent only with
`reveal_grade`, so a benchmark run through MCP cannot learn the answer from the tool result.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any

from mcp.types import CallToolResult, TextContent, Tool, ToolAnnotations

from atlas_sre.commands import FILTER_NAMES, READ_VERBS
from atlas_sre.environments.base import Environment
from atlas_sre.environments.scenario import ScenarioEnvironment
from atlas_sre.grading import Diagnosis, DiagnosisError, Grade, grade, parse_diagnosis
from atlas_sre.grading.schema import diagnosis_schema

KUBECTL, ANALYZE, INCIDENT, SUBMIT = "kubectl", "analyze", "incident", "submit_diagnosis"
ANALYZE_FINDINGS_EXIT = 79
"""`analyze` exits 79 when it reports an Error-level finding (istioctl's convention): a result, not a failure."""

OnSubmit = Callable[[int, Diagnosis, Grade], None]
"""Called with (submission number, diagnosis, grade) for every accepted diagnosis on a scenario."""

_READ_ONLY = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True)
_RUNNABLE = (KUBECTL, ANALYZE)


def _string_schema(key: str, description: str, required: bool) -> dict[str, Any]:
    return {"type": "object", "properties": {key: {"type": "string", "description": description}},
            "required": [key] if required else [], "additionalProperties": False}


def _text(text: str, *, error: bool = False, structured: dict[str, Any] | None = None) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=error,
                          structured_content=structured)


class McpTools:
    """The tools one environment offers over MCP; `call` never raises (errors are `is_error` results)."""

    def __init__(self, env: Environment, *, reveal_grade: bool = False, on_submit: OnSubmit | None = None) -> None:
        self.env = env
        self.reveal_grade = reveal_grade
        self.on_submit = on_submit
        self.submissions = 0
        self.scenario = isinstance(env, ScenarioEnvironment)  # incident and submit_diagnosis exist
        self._lock = threading.Lock()  # one command at a time: the runner's secret learning is not thread-safe

    def tools(self) -> list[Tool]:
        """`kubectl`, `analyze`, and on a scenario `incident` and `submit_diagnosis`."""
        listed = [
            Tool(name=KUBECTL, description=(
                "Run one read-only kubectl command line against the cluster and return its output. Only the "
                f"read verbs {', '.join(sorted(READ_VERBS))} are allowed; writes, exec and port-forward are "
                f"refused. Filters ({', '.join(FILTER_NAMES)}) may follow after `|` on the same line. No shell "
                "is involved."),
                input_schema=_string_schema("command", "one read-only kubectl command line, e.g. "
                                            "`kubectl get pods -A` (the leading `kubectl` may be left out)", True),
                annotations=_READ_ONLY),
            Tool(name=ANALYZE, description=(
                "Run the built-in analyzers (istioctl-analyze codes IST*, ours ATL*: mesh routing, mTLS, "
                "selectors, probes, quotas, ...) over the cluster's objects and return the findings."),
                input_schema=_string_schema("args", "analyzer arguments, e.g. `-A` (all namespaces), "
                                            "`-n NAMESPACE`, `--json`, `--help`", False),
                annotations=_READ_ONLY),
        ]
        if self.scenario:
            listed += [
                Tool(name=INCIDENT, description=(
                    "The incident to investigate: the report's summary and the firing alerts, and the default "
                    "namespace kubectl commands use. Read it first."),
                    input_schema={"type": "object", "properties": {}, "additionalProperties": False},
                    annotations=_READ_ONLY),
                Tool(name=SUBMIT, description=(
                    "Submit the final root-cause diagnosis once the evidence proves it. Entities are written "
                    "`namespace/Kind/name` (cluster-scoped: `Kind/name`); `contributing_factor: true` marks a "
                    "root cause, false a symptom. Propagations are the hops from cause to the alerted service."),
                    input_schema=diagnosis_schema(),
                    annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False,
                                                idempotent_hint=False)),
            ]
        return listed

    def call(self, name: str, arguments: Mapping[str, Any] | None) -> CallToolResult:
        """Run the tool `name`; unknown tools and bad arguments are one-line error results."""
        args = dict(arguments or {})
        if name == KUBECTL:
            command = args.get("command")
            if not isinstance(command, str) or not command.strip():
                return _text("error: kubectl needs a `command` string, e.g. `kubectl get pods -A`", error=True)
            line = command.strip()
            return self._run(line if line.split(" ", 1)[0] in _RUNNABLE else f"{KUBECTL} {line}")
        if name == ANALYZE:
            extra = args.get("args", "")
            if not isinstance(extra, str):
                return _text("error: analyze takes `args` as one string, e.g. `-A`", error=True)
            return self._run(f"{ANALYZE} {extra.strip()}".strip(), ok_codes=(0, ANALYZE_FINDINGS_EXIT))
        if self.scenario and name == INCIDENT:
            return _text(self.incident_text())
        if self.scenario and name == SUBMIT:
            return self._submit(args)
        names = ", ".join(t.name for t in self.tools())
        return _text(f"error: unknown tool {name!r}; the tools are {names}", error=True)

    def incident_text(self) -> str:
        """The incident as our agents' briefing shows it, plus the default namespace; never ground truth."""
        incident = self.env.incident
        text = incident.text() if incident is not None else "(no incident reported)"
        if self.env.namespace:
            text += f"\n\nThe default namespace is {self.env.namespace} (commands without -n use it)."
        return text + "\n"

    def _run(self, line: str, ok_codes: tuple[int, ...] = (0,)) -> CallToolResult:
        with self._lock:
            result = self.env.execute(line)
        text = result.observation
        if result.refused:
            return _text(text.rstrip("\n") + "\nRun a read-only command instead.\n", error=True)
        if result.exit_code not in ok_codes:
            text = text.rstrip("\n") + f"\n(exit code {result.exit_code})\n"
        return _text(text, error=result.exit_code not in ok_codes)

    def _submit(self, args: dict[str, Any]) -> CallToolResult:
        env = self.env
        assert isinstance(env, ScenarioEnvironment)
        try:
            diagnosis = parse_diagnosis(json.dumps(args), env.namespace)
        except DiagnosisError as exc:
            return _text(f"error: diagnosis not accepted: {exc}. Fix it and submit again.", error=True)
        self.submissions += 1
        number = self.submissions
        graded = grade(diagnosis, env.truth)
        if self.on_submit is not None:
            self.on_submit(number, diagnosis, graded)
        roots = ", ".join(diagnosis.root_causes) or "none (no fault)"
        head = f"Diagnosis #{number} received: root causes {roots}; category {diagnosis.category or 'not given'}."
        if not self.reveal_grade:
            return _text(head + " It will be graded by the operator; the grade is not shown here.\n",
                         structured={"submission": number, "root_causes": diagnosis.root_causes})
        fields = graded.model_dump()
        return _text(f"{head}\nGrade: {json.dumps(fields)}\n",
                     structured={"submission": number, "root_causes": diagnosis.root_causes, "grade": fields})
