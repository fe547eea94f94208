"""From an episode to a capsule's parts: the decisive commands and the human procedure.

The *decisive* command is the one whose output shows the diagnosis' evidence: the cited string
itself (case-insensitive; a `subject: ` prefix the agent added is ignored), else the command whose
output holds the largest share (at least `MIN_OVERLAP`) of the evidence's words, earliest on ties
(later commands only re-read the same proof). The commands kept before it are those the teacher's
guidance asked for (their topic words occur in the guidance); without guidance, those whose output
named the culprit (the breadcrumb trail); after it, one read of the culprit's own kind that shows
its name confirms the finding (`confirmation`). The procedure pairs each kept command with the guidance
step that asked for it (or a sentence written from the command) and ends with the proof.
"""

from __future__ import annotations

import re

from atlas_sre.capsules.episode import CommandRecord, EntityRecord
from atlas_sre.capsules.generalise import canonical_type

MIN_OVERLAP = 0.6
_WORD = re.compile(r"[A-Za-z0-9_]{2,}")
_FAILED_OUTPUT = re.compile(
    r"^\s*(?:Error from server|error:|Error: unknown|unknown command|No resources found)", re.IGNORECASE)
_META = re.compile(r"^(?:your plan|the plan|good plan|everything looks|proceed|decide from|then decide|"
                   r"run them before|do not guess|don't guess|report )", re.IGNORECASE)
_TYPE_TOPICS: dict[str, tuple[str, ...]] = {
    "virtualservices": ("virtualservice", "virtual service", "route", "routing"),
    "destinationrules": ("destinationrule", "destination rule", "subset", "traffic polic", "connection pool",
                         "outlier", "circuit break"),
    "peerauthentications": ("peerauthentication", "peer authentication", "mtls", "tls mode"),
    "authorizationpolicies": ("authorizationpolic", "authorization polic", "rbac"),
    "endpoints": ("endpoint", "ready address", "selector"),
    "services": ("service definition", "service port", "selector", "target port", "targetport"),
    "networkpolicies": ("networkpolic", "network polic"),
    "events": ("event",),
    "pods": ("pod status", "get pods", "list pods", "list the pods", "pods in all namespaces", "not ready"),
    "nodes": ("node", "taint", "cordon"),
    "deployments": ("deployment", "rollout", "image", "replicas"),
    "replicasets": ("replicaset", "rollout"),
    "configmaps": ("configmap", "config map"),
    "secrets": ("secret", "credential"),
    "persistentvolumeclaims": ("pvc", "persistentvolumeclaim", "persistent volume", "volume"),
    "resourcequotas": ("quota", "limitrange"),
    "horizontalpodautoscalers": ("hpa", "autoscal"),
    "gateways": ("gateway",),
    "serviceentries": ("serviceentr", "service entr", "external host"),
    "sidecars": ("sidecar resource", "sidecar egress", "egress host"),
    "namespaces": ("namespace label", "injection label", "sidecar injection"),
    "priorityclasses": ("priority",),
}


def evidence_score(evidence: str, observation: str) -> float:
    """1.0 when the output holds the evidence string, else the share of its words found there."""
    if not evidence.strip() or not observation:
        return 0.0
    low = observation.lower()
    variants = [evidence]
    if ": " in evidence:
        variants.append(evidence.split(": ", 1)[1])
    if any(v.strip().lower() in low for v in variants if len(v.strip()) >= 4):
        return 1.0
    words = {w.lower() for w in _WORD.findall(evidence)}
    if not words:
        return 0.0
    seen = {w.lower() for w in _WORD.findall(observation)}
    return len(words & seen) / len(words)


def usable(cmd: CommandRecord) -> bool:
    """A command worth repeating: it ran and printed something that is not an error."""
    return bool(cmd.observation.strip()) and not _FAILED_OUTPUT.match(cmd.observation)


def find_decisive(commands: list[CommandRecord], entity: EntityRecord) -> int | None:
    """Index of the command that produced `entity`'s evidence (module docstring), or None."""
    best, best_score = None, 0.0
    for i, cmd in enumerate(commands):
        score = evidence_score(entity.evidence, cmd.observation)
        if score > best_score:
            best, best_score = i, score
    if best is not None and best_score >= MIN_OVERLAP:
        return best
    short = entity.name.split("/")[-1]
    named = [i for i, c in enumerate(commands) if usable(c) and short and short in c.observation]
    # a read of the culprit's own kind that names it beats an earlier listing that merely mentions the name
    own = [i for i in named if command_kind(commands[i].line) == canonical_type(entity.kind)]
    return (own or named)[0] if named else None


def decisive_lines(observation: str, evidence: str, limit: int = 6) -> list[str]:
    """The output lines that carry the evidence (where signatures are read)."""
    lines = [ln for ln in observation.splitlines() if ln.strip()]
    words = {w.lower() for w in _WORD.findall(evidence)}
    if not words:
        return lines[:limit]
    scored = [(len(words & {w.lower() for w in _WORD.findall(ln)}), i) for i, ln in enumerate(lines)]
    top = max((s for s, _ in scored), default=0)
    return [lines[i] for s, i in scored if top and s >= max(1, top // 2)][:limit]


def command_kind(command: str) -> str | None:
    """The resource type a `kubectl get|describe TYPE …` reads (canonical plural), else None."""
    words = command.split()
    if len(words) >= 3 and words[0] == "kubectl" and words[1] in ("get", "describe"):
        return canonical_type(words[2].split("/")[0].split(",")[0])
    return None


def confirmation(commands: list[CommandRecord], decisive: int, entity: EntityRecord) -> int | None:
    """The first later command that reads the culprit's own kind and shows its name (the check that
    confirms what the decisive output pointed at, e.g. the DestinationRule after a `NC` log line)."""
    kind, name = canonical_type(entity.kind), entity.name.split("/")[-1]
    for i in range(decisive + 1, len(commands)):
        cmd = commands[i]
        if command_kind(cmd.line) == kind and usable(cmd) and name and name in cmd.observation:
            return i
    return None


def command_topics(command: str) -> set[str]:
    """Words a teacher would use to ask for this command (`istio-proxy`, `destination rule`, …)."""
    words = command.lower().split()
    topics: set[str] = set()
    if words and words[0] in ("analyze", "istioctl") or "analyze" in words:
        topics |= {"analyze", "analyzer", "istioctl"}
    if "logs" in words or "log" in words:
        topics |= {"logs", "log"}
        if "istio-proxy" in command:
            topics |= {"istio-proxy", "proxy log", "envoy", "access log", "response flag"}
        if "--previous" in words or "-p" in words:
            topics |= {"previous", "crash log", "last terminated", "exit code"}
    if len(words) >= 3 and words[0] == "kubectl" and words[1] in ("get", "describe", "top"):
        kind = canonical_type(words[2].split("/")[0].split(",")[0])
        topics |= set(_TYPE_TOPICS.get(kind, (kind.rstrip("s"),)))
        if words[1] == "describe":
            topics |= {"describe"}
            if kind == "pods":
                topics |= {"pod events", "container state", "last state", "waiting reason"}
        if words[1] == "top":
            topics |= {"usage", "top"}
    return topics


def asked_for(command: str, guidance: str) -> bool:
    low = guidance.lower()
    return any(t in low for t in command_topics(command))


def guidance_steps(guidance: str) -> list[str]:
    """Numbered items (`1. …`), else sentences; meta sentences ("Your plan misses…") dropped."""
    text = " ".join(guidance.split())
    parts = re.split(r"(?:^|\s)\d{1,2}[.)]\s+", text)
    items = parts[1:] if len(parts) > 1 else re.split(r"(?<=[.!?])\s+", text)
    steps = []
    for item in items:
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", item.strip()) if s.strip()]
        kept = [s for s in sentences if not _META.match(s)]
        if kept:
            steps.append(" ".join(kept[:2]).rstrip())
    return steps


def describe_command(command: str) -> str:
    """A procedure sentence for a command no guidance step covered."""
    words = command.split()
    if words and words[0] == "analyze":
        return f"Run the built-in analyzers (`{command}`) and read every Error line."
    if "logs" in words and "istio-proxy" in command:
        return f"Read the caller's istio-proxy access log (`{command}`) and note the Envoy response flags."
    if "logs" in words:
        return f"Read the container logs (`{command}`)."
    if len(words) >= 3 and words[1] == "describe":
        return f"Describe the {words[2]} and read its state and events (`{command}`)."
    if len(words) >= 3 and words[1] == "get" and command_kind(command) == "pods":
        return f"List the pods (`{command}`) and pick those not Running and Ready or restarting."
    if len(words) >= 3 and words[1] == "get":
        return f"Read the {command_kind(command)} (`{command}`)."
    return f"Run `{command}`."


def match_step(command: str, steps: list[str], used: set[int]) -> int | None:
    """The unused guidance step that mentions most of the command's topic words."""
    topics = command_topics(command)
    best, best_n = None, 0
    for i, step in enumerate(steps):
        n = sum(t in step.lower() for t in topics)
        if n > best_n and i not in used:
            best, best_n = i, n
    return best
