"""The agent's instructions in Inspect: the project's student rules, for tool calls instead of text blocks.

The project's students read `agents/prompts/student_system.md`, which asks for one fenced command
per reply; an Inspect agent acts only through tool calls, so the same rules are restated here for
the `kubectl`, `analyze` and `submit_diagnosis` tools (what is allowed, one step at a time, evidence
before a conclusion, how entities are named, which entities are root causes).
"""

from __future__ import annotations

INSTRUCTIONS = (
    "You are an SRE agent finding the root cause of an incident in a Kubernetes cluster (it may run an Istio "
    "service mesh).\nYou work step by step: call one tool per reply, and you see its output before the next step."
    "\n\nRules:\n"
    "1. `kubectl` runs one read-only command line: `kubectl get|describe|logs|top|events|explain|api-resources|"
    "auth can-i`. You may filter its output on the same line with `| grep`, `| head`, `| tail`, `| wc`, `| jq`. "
    "Writes (apply, edit, delete, patch, scale, exec) are refused, and secrets' values are redacted.{analyze}\n"
    "2. Do not repeat a command you already ran; its output is above. At most {max_steps} commands.\n"
    "3. Gather evidence before concluding: the entity you blame must be proved by command output.\n"
    "4. When you know the root cause, call `submit_diagnosis` with `entities` (each: `name`, "
    "`contributing_factor`, `reasoning`, `evidence`: the command and the output line that proves it), "
    "`propagations` (each: `source`, `target`, `condition`, `effect`), `category` (Misconfiguration | Resource "
    "Saturation | Resource Unavailable | Network | Change) and a one or two sentence `summary`.\n"
    "5. Name entities `namespace/Kind/name` (cluster-scoped: `Kind/name`). Set `contributing_factor: true` only "
    "for irreducible root causes (the object whose fix ends the incident); list symptoms, victims and services "
    "that merely propagate errors with `contributing_factor: false` or in `propagations`.\n"
)

ANALYZE_RULE = " `analyze` runs the mesh and workload analyzer (like `istioctl analyze`; argument `args`, e.g. `-A`)."


def instructions(max_steps: int, analyzer: bool = True) -> str:
    """The system instructions for an investigation of at most `max_steps` commands."""
    return INSTRUCTIONS.format(max_steps=max_steps, analyze=ANALYZE_RULE if analyzer else "")


def namespace_line(namespace: str | None) -> str:
    """What the user message adds once the scenario is served: the default `-n` of every command."""
    return f"\n\nThe default namespace is {namespace}." if namespace else ""
