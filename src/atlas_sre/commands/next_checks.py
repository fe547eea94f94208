"""A different next check for an agent that repeats a command: the repeat's hint, one row per case.

Why: a model that got the evidence (`kubectl logs --previous` showing the panic) and runs the same
command again is stuck, not short of data; "run a different command" does not tell it which. Each
row pairs the shape of the repeated command with the read-only checks that usually come next
(and the reminder that a diagnosis may be enough). Adding a case is one row; first match wins.
"""

from __future__ import annotations

import re

from atlas_sre.commands.hints import line_namespace, line_pod, line_words

# (pattern on the repeated line, what to run next): `{pod}`, `{ns}` come from the line or the default namespace
NEXT_CHECKS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^kubectl\s+logs\b.*(?:-c\s+|--container[= ])istio-proxy"),
     "`analyze -A`, or the routing config of the destination: "
     "`kubectl get virtualservices,destinationrules -n {ns} -o yaml`"),
    (re.compile(r"^kubectl\s+logs\b.*(?:--previous|-p\b)"),
     "`kubectl describe pod {pod} -n {ns}` (last state, events, the env and config it reads)"),
    (re.compile(r"^kubectl\s+logs\b"),
     "`kubectl logs {pod} -n {ns} --previous --tail=50` (the crashed run) or `kubectl describe pod {pod} -n {ns}`"),
    (re.compile(r"^kubectl\s+describe\s+(?:pod|pods|po)\b"),
     "`kubectl logs {pod} -n {ns} --tail=50` or `kubectl get events -n {ns} --field-selector type=Warning`"),
    (re.compile(r"^kubectl\s+get\s+(?:pod|pods|po)\b"),
     "`analyze -A`, or `kubectl describe pod` with the name of a pod that is not Running and Ready in "
     "`kubectl get pods -n {ns}`"),
    (re.compile(r"^(?:atlas-sre\s+)?analyze\b"),
     "`kubectl get KIND NAME -n {ns} -o yaml` for an object the analyzer reported"),
    (re.compile(r""), "`analyze -A` or `kubectl get events -n {ns} --field-selector type=Warning`"),
)


def next_check(line: str, default_namespace: str | None = None) -> str:
    """Read-only checks to run instead of repeating `line` (exact commands, in backticks)."""
    words = line_words(line)
    ns = line_namespace(words) or default_namespace or "NAMESPACE"
    pod = line_pod(words)
    if pod == "POD" and len(words) > 3 and words[:2] == ["kubectl", "describe"]:
        pod = words[3] if not words[3].startswith("-") else "POD"
    text = next(hint for pattern, hint in NEXT_CHECKS if pattern.search(line.strip()))
    if pod == "POD" and "{pod}" in text:  # a model copies an uppercase placeholder literally (measured)
        return (f"`kubectl get pods -n {ns}` to find a real pod name (a command needs the name itself, "
                "not a placeholder), or `analyze -A`")
    return text.format(pod=pod, ns=ns)
