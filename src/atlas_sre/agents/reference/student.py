"""The reference student: a rule-based SRE with the seed's habits, no LLM, fully deterministic.

Left alone it investigates like the seed's "flawed approach": `kubectl get pods -A`, describe the
most suspicious pod, read its logs, blame what that shows (or, lacking evidence, guess the worst
pod's workload or the alerting service). Teacher guidance, its plan and Skill Capsule procedures
change what it runs: their words become commands through the phrasebook (`knowledge/phrasebook.yaml`).
Whatever it concludes comes from command output through the evidence rules
(`knowledge/evidence_rules.yaml`, read by `Observer`).

It is told only an `Incident` (summary + alerts) and reads only the loop's messages, so it cannot
know a scenario's name, its ground truth or the simulator's hidden image registry.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Sequence

from atlas_sre.agents.fences import fenced_body
from atlas_sre.agents.prompting import capsule_block, guidance_block, opening_messages
from atlas_sre.agents.reference.data import Phrasebook, ReferenceData
from atlas_sre.agents.reference.kube import SYSTEM_NAMESPACES, PodRow
from atlas_sre.agents.reference.observe import Observer
from atlas_sre.agents.tokens import count_tokens
from atlas_sre.agents.types import Action, Briefing, CapsuleBrief, Incident, PlanResult, Usage
from atlas_sre.models.base import Message

HABITS = ("kubectl get pods -A", "kubectl describe pod {pod} -n {pod_ns}", "kubectl logs {pod} -n {pod_ns} --tail=50")
HABIT_PLAN = ("List the pods in all namespaces (kubectl get pods -A).", "Describe the most suspicious pod.",
              "Read its logs.", "Report the failing workload as the root cause.")
PLACEHOLDER = re.compile(r"\{([a-z_]+)(?::([^}]+))?\}")


def phrase_commands(text: str, book: Phrasebook, tools: frozenset[str] | None = None) -> list[str]:
    """Commands the text's words call for, in the order their phrases first appear (de-duplicated).

    `tools`: the tools besides kubectl that exist (None = all); an entry needing another is skipped.
    """
    lowered = text.lower()
    hits: list[tuple[int, int, str]] = []
    for order, entry in enumerate(book.entries):
        if entry.tool and tools is not None and entry.tool not in tools:
            continue
        positions = [lowered.find(p) for p in entry.phrases if p in lowered]
        if positions:
            hits.extend((min(positions), order * 10 + i, cmd) for i, cmd in enumerate(entry.commands))
    return list(dict.fromkeys(cmd for _, _, cmd in sorted(hits)))


def capsule_plan_lines(capsules: Sequence[CapsuleBrief], book: Phrasebook | None = None,
                       tools: frozenset[str] | None = None) -> list[str]:
    """The plan's lines for applied capsules: the followed capsule's action steps, one line for every proof.

    Capsules for one symptom often share steps (run the analyzer first; two steps are the same when
    they call for the same commands through the phrasebook) and differ in the proof
    that decides between causes. The student follows the best match (the first) and reads the others
    by their commands and proofs (`prompting.capsule_block`). A step that quotes its capsule's evidence is such a
    proof: a criterion, not an action, so the plan states all of them in one line (the first two
    patterns of each and the kind it blames).
    """
    if not capsules:
        return []
    steps: list[str] = []
    seen: set[object] = set()
    for c in capsules[:1]:  # the capsule followed (the best match); the others lend their proofs
        for step in c.procedure:
            text = step.strip().rstrip(".")
            if not text or any(e.lower() in text.lower() for e in c.evidence if e.strip()):
                continue
            calls = tuple(phrase_commands(text, book, tools)) if book else ()
            if book and not calls and phrase_commands(text, book):
                continue  # a step only an absent tool can do
            key = calls or text.lower()  # two wordings of "run the analyzer" call for the same command
            if key not in seen:
                seen.add(key)
                steps.append(text)
    head = f"Apply the Skill Capsules {', '.join(c.skill for c in capsules)}: "
    proofs = ["/".join(f"`{e}`" for e in c.evidence[:2]) + (f" → the {c.root_cause}" if c.root_cause else "")
              for c in capsules if c.evidence]
    proof = "conclude on the first proof an output shows" + (": " + "; ".join(proofs) if proofs else "") + "."
    if not steps:
        return [head + proof]
    return [head + "; ".join(steps) + ".", proof[0].upper() + proof[1:]]


class ReferenceStudent:
    """`reference:student`. One instance per investigation (it keeps what it read)."""

    name = "reference:student"

    def __init__(self, data: ReferenceData | None = None, *, max_commands: int = 12,
                 submit_confidence: float = 0.85, report_confidence: float = 0.8) -> None:
        self.data = data or ReferenceData.load()
        self.max_commands = max_commands
        self.submit_confidence = submit_confidence
        self.report_confidence = report_confidence
        self.incident = Incident("")
        self.observer = Observer(self.data.evidence, "default")
        self._urgent: deque[str] = deque()
        self._agenda: deque[str] = deque()
        self._ran: list[str] = []
        self._pending: str | None = None
        self._read_upto = 0
        self._namespace: str | None = None
        self.available_tools: frozenset[str] | None = None
        """Tools besides kubectl (set by the protocol; None = not told): a capsule step or guidance
        calling for an absent tool is not planned, so no command is spent on a refusal."""

    def _usable(self, command: str) -> bool:
        tool = command.split(maxsplit=1)[0] if command.strip() else ""
        return tool == "kubectl" or self.available_tools is None or tool in self.available_tools

    # -- planning -----------------------------------------------------------------------------------

    def directed_commands(self, capsules: Sequence[CapsuleBrief], guidance: str | None) -> list[str]:
        """Commands from capsule commands and procedures, then from the guidance text."""
        out: list[str] = []
        tools = self.available_tools
        for i, c in enumerate(capsules):  # every capsule's commands; prose steps of the followed one only
            out += [_capsule_template(cmd) for cmd in c.commands]
            if i == 0:
                out += phrase_commands("\n".join(c.procedure), self.data.phrasebook, tools)
        out += phrase_commands(guidance or "", self.data.phrasebook, tools)
        return list(dict.fromkeys(cmd for cmd in out if self._usable(cmd)))

    def plan(self, incident: Incident, capsules: Sequence[CapsuleBrief] = (),
             guidance: str | None = None) -> PlanResult:
        """The habitual plan, preceded by the procedures it was given (capsules, then guidance)."""
        lines = capsule_plan_lines(capsules, self.data.phrasebook, self.available_tools)
        directed = self.directed_commands((), guidance)
        if directed:
            shown = [PLACEHOLDER.sub(lambda m: f"<{m.group(2) or m.group(1)}>", c) for c in directed]
            lines.append("Follow the teacher's guidance: " + "; ".join(f"`{c}`" for c in shown) + ".")
        lines += HABIT_PLAN
        text = "\n".join(f"{i}. {line}" for i, line in enumerate(lines, 1))
        read = incident.text() + capsule_block(capsules) + guidance_block(guidance)
        return PlanResult(text, Usage(count_tokens(read), count_tokens(text)))

    # -- the loop -----------------------------------------------------------------------------------

    def start(self, briefing: Briefing) -> list[Message]:
        """Reset memory, build the agenda (directed commands, then habits), return the opening messages."""
        self.incident = briefing.incident
        self._namespace = briefing.default_namespace
        focus = {str(a["namespace"]) for a in briefing.incident.alerts if a.get("namespace")}
        focus |= {self._namespace} if self._namespace else set()
        self.observer = Observer(self.data.evidence, self._namespace or "default", focus_namespaces=frozenset(focus),
                                 incident_text=briefing.incident.text())
        self._urgent, self._ran, self._pending, self._read_upto = deque(), [], None, 0
        directed = self.directed_commands(briefing.capsules, briefing.guidance)
        self._agenda = deque(dict.fromkeys([*directed, *HABITS]))
        return opening_messages(briefing, self.max_commands)

    def act(self, messages: list[Message]) -> Action:
        """Read the new observation (if any), then run the next command or submit."""
        new = messages[self._read_upto:]
        self._read_upto = len(messages) + 1  # + the reply this call returns
        if self._pending is not None and new and new[-1]["role"] == "user":
            fenced = fenced_body(new[-1]["content"])
            if fenced is not None:
                followups = self.observer.read(self._pending, fenced)
                self._urgent.extendleft(reversed([f for f in followups if f not in self._urgent]))
        self._pending = None
        command = self._next_command()
        text = f"```bash\n{command}\n```" if command else self._diagnosis()
        self._pending = command
        read = sum(count_tokens(m["content"]) for m in new)
        return Action(text, Usage(read, count_tokens(text)))

    def _next_command(self) -> str | None:
        best = self.observer.ranked()
        if best and best[0].confidence >= self.submit_confidence and not self._urgent:
            # Confident, but a glance at every pod's status first: a second failing workload shows there.
            if HABITS[0] in self._ran or len(self._ran) >= self.max_commands:
                return None
            self._ran.append(HABITS[0])
            return HABITS[0]
        while len(self._ran) < self.max_commands and (self._urgent or self._agenda):
            template = (self._urgent or self._agenda).popleft()
            command = self._render(template)
            if command == "":
                continue
            if command is None:  # needs the pod list first
                if "kubectl get pods -A" in self._ran:
                    continue
                (self._urgent if self._urgent else self._agenda).appendleft(template)
                command = "kubectl get pods -A"
            if command in self._ran:
                continue
            self._ran.append(command)
            return command
        return None

    # -- placeholders -------------------------------------------------------------------------------

    def _render(self, template: str) -> str | None:
        """Fill placeholders from observations: None = pods not listed yet, "" = cannot be filled."""
        values: dict[str, str] = {}
        for m in PLACEHOLDER.finditer(template):
            key, arg = m.group(1), m.group(2)
            value = self._value(key, arg)
            if value is None:
                return None if not self.observer.pods else ""
            values[m.group(0)] = value
        for key, value in values.items():
            template = template.replace(key, value)
        return template

    def _value(self, key: str, arg: str | None) -> str | None:
        if key == "namespace":
            focus = self._focus()
            return self._namespace or (focus.namespace if focus else None)
        if key in ("pod", "pod_ns"):
            row = self._focus()
            return None if row is None else row.name if key == "pod" else row.namespace
        if key in ("caller_pod", "caller_ns"):
            row = self._caller()
            return None if row is None else row.name if key == "caller_pod" else row.namespace
        if key == "pod_of" and arg:
            ns, _, svc = arg.partition("/")
            rows = self.observer.pods_of(svc, ns)
            return rows[0].name if rows else None
        if key == "service":
            return self._alert_labels("service")[0] if self._alert_labels("service") else None
        return None

    def _alert_labels(self, label: str) -> list[str]:
        return list(dict.fromkeys(str(a[label]) for a in self.incident.alerts if a.get(label)))

    def _app_pods(self) -> list[PodRow]:
        return [r for r in self.observer.suspicious_pods() if r.namespace not in SYSTEM_NAMESPACES]

    def _focus(self) -> PodRow | None:
        """The most suspicious pod: an unhealthy one, else one the alerts or the summary point at."""
        pods = self._app_pods()
        if not pods:
            return None
        worst = pods[0]
        if worst.abnormal:
            return worst
        for label in ("pod", "deployment", "service"):
            for name in self._alert_labels(label):
                rows = [r for r in pods if r.name == name] or self.observer.pods_of(name)
                if rows:
                    return rows[0]
        words = re.findall(r"[a-z][a-z0-9-]{2,}", self.incident.summary.lower())
        for word in words:
            rows = self.observer.pods_of(word)
            if rows:
                return rows[0]
        return worst

    def _caller(self) -> PodRow | None:
        """A sidecar-injected pod of the alerting service (the caller whose proxy log shows the failures)."""
        for name in self._alert_labels("service"):
            rows = [r for r in self.observer.pods_of(name) if r.total >= 2]
            if rows:
                return rows[0]
        gateway = self.observer.pods_of("istio-ingressgateway")
        if gateway:
            return gateway[0]
        meshed = [r for r in self._app_pods() if r.total >= 2]
        return meshed[0] if meshed else None

    # -- the answer ---------------------------------------------------------------------------------

    def _diagnosis(self) -> str:
        ranked = self.observer.ranked()
        # Weak evidence (a Warning, a risk) or a guess names a cause only when something fails now: an alert
        # fires or a workload is unhealthy. Without a symptom, "no fault found" is the honest answer.
        symptom = bool(self.incident.alerts) or bool(self._failing_workloads())
        roots = [c for c in ranked if c.confidence >= self.report_confidence][:3] or [
            c for c in ranked[:1] if c.confidence >= 0.3 and symptom]
        entities = [{"name": c.entity, "contributing_factor": True, "reasoning": f"evidence rule {c.rule}",
                     "evidence": c.evidence} for c in roots]
        if not entities and symptom:
            guess = self._guess()
            if guess:
                entities = [{"name": guess, "contributing_factor": True, "reasoning": "no direct evidence; best guess",
                             "evidence": ""}]
        category = roots[0].category if roots else ("Misconfiguration" if entities else "")
        services = self._alert_labels("service")
        ns = self._namespace
        propagations = [{"source": e["name"], "target": f"{ns}/Service/{services[0]}", "condition": "fault at source",
                         "effect": "errors at the alerting service"}
                        for e in entities[:1] if services and ns and e["name"] != f"{ns}/Service/{services[0]}"]
        summary = (f"Root cause: {', '.join(e['name'] for e in entities)}." if entities
                   else "No fault found: no command output showed an abnormal signal.")
        body = {"entities": entities, "propagations": propagations, "category": category, "summary": summary}
        return "```json\n" + json.dumps(body, indent=1) + "\n```"

    def _failing_workloads(self) -> list[str]:
        """Workloads failing now, worst first: a pod's bad status, unready container or recent restart, when
        the workload matters here (not a one-off Job, not another team's namespace)."""
        owners = (self.observer.owner(row.namespace, row.name) for row in self._app_pods() if row.abnormal)
        return list(dict.fromkeys(o for o in owners if self.observer.relevance(o) == 1.0))

    def _guess(self) -> str | None:
        """The habit's fallback: the worst workload failing now (a restart hours ago on a pod ready since is
        not a failure), else the alerting service."""
        failing = self._failing_workloads()
        if failing:
            return failing[0]
        services, ns = self._alert_labels("service"), self._namespace
        return f"{ns}/Service/{services[0]}" if services and ns else None


def _capsule_template(command: str) -> str:
    """A capsule command's `{namespace}`/`{service}`/`{workload}` in the student's placeholder language."""
    return command.replace("{workload}", "{pod}")
