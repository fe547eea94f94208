"""The reference teacher: expertise as a curriculum of expert procedures, no LLM, deterministic.

It reads what any teacher reads (the incident text: summary + alerts; the student's plan; a
one-line digest of each applied Skill Capsule, whose steps are in the plan), classifies the
incident by symptom words into curriculum classes (`knowledge/curriculum.yaml`), scores the plan by how
much of the class's expert procedure it covers (1–5), and writes guidance from the procedure steps:
Light (confirm, or one hint), Medium (the missing checks), Heavy (the whole procedure). It never
sees an answer, so it cannot give one.

The steps are words the reference student translates into commands through its phrasebook. A
language model does not translate reliably: it copies a command it is shown, and turns prose into
invented ones (`kubectl logs shop-productpage-<pod-name>`). So for a model student (`name_commands`,
set by the protocol) each step carries the exact command the same phrasebook gives for its words,
with the incident's namespace filled in and `POD` where only the student can know the pod.

Token counts use `agents.tokens.count_tokens`; the probe and the correction are built step by step
so they never exceed `probe_token_limit` / `correction_token_limit` by that count.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from atlas_sre.agents.prompting import capsule_digest_block
from atlas_sre.agents.reference.data import ReferenceData, Step, SymptomClass
from atlas_sre.agents.reference.student import PLACEHOLDER, phrase_commands
from atlas_sre.agents.tokens import clip_tokens, count_tokens
from atlas_sre.agents.types import CapsuleBrief, Correction, Incident, ProbeResult, Usage, strategy_for

_NAMESPACE_FLAG = re.compile(r" -n \{(?:namespace|[a-z]+_ns)\}")


@dataclass(frozen=True)
class Assessment:
    """The teacher's reading of a plan: which classes, which steps, which of them the plan covers."""

    classes: tuple[SymptomClass, ...]
    steps: tuple[Step, ...]
    covered: tuple[bool, ...]
    proven: tuple[str, ...] = ()
    bonus: int = 0

    @property
    def label(self) -> str:
        return " + ".join(c.label for c in self.classes)

    @property
    def score(self) -> int:
        """1 + 4 × coverage, rounded (nothing covered → 1, everything → 5), plus the track-record bonus."""
        base = 1 + round(4 * sum(self.covered) / len(self.steps)) if self.steps else 3
        return min(5, base + (self.bonus if self.proven else 0))

    @property
    def missing(self) -> list[Step]:
        return [s for s, c in zip(self.steps, self.covered, strict=True) if not c]


class ReferenceTeacher:
    """`reference:teacher`."""

    name = "reference:teacher"

    def __init__(self, data: ReferenceData | None = None, *, probe_token_limit: int = 50,
                 correction_token_limit: int = 200) -> None:
        self.data = data or ReferenceData.load()
        self.probe_token_limit = probe_token_limit
        self.correction_token_limit = correction_token_limit
        self.available_tools: frozenset[str] | None = None
        """Tools the student has besides kubectl (set by the protocol; None = not told, assume all).
        A step that needs an absent tool (`Step.tool`) is left out of the procedure, as an expert
        would not send a student to a tool it does not have."""
        self.name_commands = False
        """Whether each step names its exact command (set by the protocol for a model student, which
        copies commands but does not translate prose into them; module docstring)."""

    def usable(self, step: Step) -> bool:
        """Whether the student can run this check (its tool exists, or it needs none)."""
        return step.tool is None or self.available_tools is None or step.tool in self.available_tools

    def classify(self, incident: Incident) -> list[SymptomClass]:
        """Best class (and the runner-up scoring at least half as much) by symptom words in the incident."""
        summary, alerts = incident.summary.lower(), "\n".join(incident.alert_lines()).lower()
        scored = []
        for order, cls in enumerate(self.data.curriculum.classes):
            score = sum(2 * (s.lower() in summary) + (s.lower() in alerts) for s in cls.signals)
            if score:
                scored.append((-score, order, cls))
        scored.sort(key=lambda t: (t[0], t[1]))
        if not scored:
            generic = [c for c in self.data.curriculum.classes if c.id == "generic"]
            return generic or self.data.curriculum.classes[:1]
        top = -scored[0][0]
        return [cls for neg, _, cls in scored[:2] if -neg * 2 >= top]

    def assess(self, incident: Incident, plan: str, capsules: Sequence[CapsuleBrief] = ()) -> Assessment:
        """Merge the classes' procedures (first class first, no duplicate checks), mark what the plan
        covers, and note the applied capsules the plan names whose record is proven (`track_record`)."""
        classes = self.classify(incident)
        steps: list[Step] = []
        for cls in classes:
            for step in filter(self.usable, cls.steps):
                if not any(set(step.keys) & set(s.keys) for s in steps):
                    steps.append(step)
        text = plan.lower()  # the plan is what will run: a capsule counts only through the steps it put there
        covered = tuple(any(k.lower() in text for k in step.keys) for step in steps)
        record = self.data.curriculum.track_record
        proven = tuple(c.skill for c in capsules if c.skill and c.skill.lower() in text
                       and c.record[0] >= record.min_uses and c.record[1] >= record.min_success)
        return Assessment(tuple(classes), tuple(steps), covered, proven, record.bonus)

    def _read(self, incident: Incident, plan: str, capsules: Sequence[CapsuleBrief]) -> int:
        return count_tokens(incident.text() + plan + capsule_digest_block(capsules))

    def probe(self, incident: Incident, plan: str, capsules: Sequence[CapsuleBrief] = ()) -> ProbeResult:
        """`Score: N/5. The plan covers k of n expert checks for <class>; missing: …` within the probe budget."""
        a = self.assess(incident, plan, capsules)
        missing = [s.name for s in a.missing]
        tail = f"; proven capsule: {a.proven[0]}" if a.proven else ""
        tail += f"; missing: {', '.join(missing)}" if missing else ""
        text = self.data.curriculum.templates["probe"].format(score=a.score, covered=sum(a.covered),
                                                              total=len(a.steps), label=a.label, missing=tail)
        text = clip_tokens(text, self.probe_token_limit)
        return ProbeResult(a.score, text, strategy_for(a.score),
                           Usage(self._read(incident, plan, capsules), count_tokens(text)))

    def correct(self, incident: Incident, plan: str, probe: ProbeResult,
                capsules: Sequence[CapsuleBrief] = ()) -> Correction:
        """Guidance sized by `probe.strategy`, written from procedure steps, within the correction budget."""
        a = self.assess(incident, plan, capsules)
        templates = self.data.curriculum.templates
        if probe.strategy == "Light":
            text = (templates["light_hint"].format(first=self._say(a.missing[0], incident, set())) if a.missing
                    else templates["light_ok"])
        else:
            steps = list(a.steps) if probe.strategy == "Heavy" else (a.missing or list(a.steps))
            key = "heavy" if probe.strategy == "Heavy" else "medium"
            named: set[str] = set()
            text = self._fit(templates[key], [self._say(s, incident, named) for s in steps])
        if self.name_commands and "POD" in text:  # say what POD stands for, when the budget allows
            scope = f"-n {incident.namespace}" if incident.namespace else "-A"
            note = text + " " + templates["pod_note"].format(scope=scope)
            text = note if count_tokens(note) <= self.correction_token_limit else text
        text = clip_tokens(text, self.correction_token_limit)
        return Correction(text, probe.strategy, Usage(self._read(incident, plan, capsules), count_tokens(text)))

    def _say(self, step: Step, incident: Incident, named: set[str]) -> str:
        """The step's words; for a model student also its exact commands (`name_commands`): those its
        words call for that an earlier step has not named (`named`, updated), `get`s of several kinds
        with the same flags as one command, at most two commands."""
        if not self.name_commands:
            return step.text
        commands = [c for c in phrase_commands(step.text, self.data.phrasebook, self.available_tools)
                    if c not in named]
        if not commands:
            return step.text
        named.update(commands)
        shown = " and ".join(f"`{command_for_model(c, incident)}`" for c in merge_gets(commands)[:2])
        return f"{step.text.rstrip('.')}: {shown}."

    def _fit(self, template: str, steps: list[str]) -> str:
        """The template with as many numbered steps as fit the correction budget (whole steps only)."""
        text = template.format(steps="")
        for n in range(1, len(steps) + 1):
            numbered = " ".join(f"{i}. {s}" for i, s in enumerate(steps[:n], 1))
            candidate = template.format(steps=numbered)
            if count_tokens(candidate) > self.correction_token_limit:
                break
            text = candidate
        return text


def command_for_model(template: str, incident: Incident) -> str:
    """A phrasebook command as a teacher can state it: the incident's namespace in every namespace slot,
    `POD` in a pod slot (which pod, only the student's own `kubectl get pods` can tell). With no namespace
    in the incident a `get` covers all namespaces (`-A`) and any other command keeps kubectl's default."""
    namespace = incident.namespace
    if namespace is None:
        scope = "-A" if template.startswith("kubectl get ") else ""
        template = _NAMESPACE_FLAG.sub(f" {scope}" if scope else "", template)

    def fill(match: re.Match[str]) -> str:
        key = match.group(1)
        return str(namespace) if key == "namespace" or key.endswith("_ns") else key.split("_")[-1].upper()

    return PLACEHOLDER.sub(fill, template)


def merge_gets(commands: Sequence[str]) -> list[str]:
    """`kubectl get a -A -o yaml` + `kubectl get b -A -o yaml` → `kubectl get a,b -A -o yaml` (kubectl's own
    syntax for several kinds): one command a model copies instead of two it may drop one of."""
    merged: dict[tuple[str, ...], list[str]] = {}
    for command in commands:
        words = command.split()
        if len(words) > 3 and words[:2] == ["kubectl", "get"] and not words[2].startswith("-") and "/" not in words[2]:
            merged.setdefault(("get", *words[3:]), []).append(words[2])
        else:
            merged.setdefault((command,), [])
    return [f"kubectl get {','.join(dict.fromkeys(kinds))} {' '.join(key[1:])}" if kinds else key[0]
            for key, kinds in merged.items()]
