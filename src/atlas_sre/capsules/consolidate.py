"""Consolidation: a graded investigation becomes a Skill Capsule, or strengthens the one it repeats.

`consolidate(store, record)` (what the benchmark runner calls after every graded taught episode):
1. records the outcome of every capsule the episode applied (`record_outcome`) — stats are updated
   on *every* use, learned or not (pass `record_uses=False` if you already called it);
2. learns only from a correct episode (`correct=True`; an ungraded one when `confirmed=True`,
   i.e. the user said the diagnosis was right): for each root-cause entity whose evidence some
   command printed, it builds a generalised capsule (`build_capsule`) and merges it (`learn`).

Capsule parts — skill `<kind>_<category>_debug` from the root cause; trigger = the incident's
symptom terms; commands = the decisive command (its output holds the diagnosis' evidence), the ones
before it the guidance asked for (no guidance: the outputs that named the culprit) and one later
read of the culprit's own kind that confirms it, all generalised (`generalise.py`); evidence =
signatures of the decisive output (`signals.py`); procedure = the guidance step that asked for each
command (else a sentence written from it), then the proof. Source `teacher_correction` when there
was guidance, else `trajectory`. New capsules are `provisional` until they succeed `promote_after`
times (`outcomes.maybe_promote`).

Merge rule (`find_merge_target`): an existing, not pruned capsule with the *same skill* whose
generalised command set overlaps the new one by Jaccard ≥ `merge_threshold` (0.5) over command keys
(`generalise.command_key`: tool, verb, kind, placeholders, key flags; `-n`/`-o`/`--tail` ignored);
when neither has commands, procedure steps are compared the same way. The best overlap wins (ties:
most uses, then oldest). Merging keeps the old id and statistics, unions triggers, evidence,
commands and procedure steps (capped), and bumps the version (`metadata.episodes` counts the
episodes a capsule was learnt from). The read-merge-write is not atomic across processes: the
runner consolidates in one process, in a fixed order.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atlas_sre.capsules.episode import EntityRecord, EpisodeRecord
from atlas_sre.capsules.generalise import (
    Names,
    command_key,
    generalise_command,
    generalise_text,
    strip_pod_suffix,
)
from atlas_sre.capsules.model import Capsule, CapsuleStatus, EvidencePattern, RootCausePattern, normalise_step
from atlas_sre.capsules.outcomes import ConsolidationConfig, record_outcome
from atlas_sre.capsules.procedure import (
    asked_for,
    confirmation,
    decisive_lines,
    describe_command,
    find_decisive,
    guidance_steps,
    match_step,
    usable,
)
from atlas_sre.capsules.signals import evidence_signature, symptom_terms
from atlas_sre.capsules.store import CapsuleStore

log = logging.getLogger(__name__)

PROOF_PREFIX = "The cause is proved when the output shows"

__all__ = ["ConsolidationConfig", "Draft", "LearnAction", "Learnt", "build_capsule", "collect_names", "consolidate",
           "consolidate_all", "consolidate_report", "find_merge_target", "learn", "learn_action", "merge_capsules",
           "record_outcome", "skill_name"]


LearnAction = Literal["learnt", "merged", "skipped_pruned"]
"""What consolidating one draft did: a new capsule, an old one reinforced, or nothing (pruned id)."""


@dataclass(frozen=True)
class Learnt:
    """One capsule consolidation touched, what it did, and the facts it was learnt from."""

    capsule: Capsule
    action: LearnAction
    entity: str
    decisive_command: str


class Draft(BaseModel):
    """A capsule built from one episode, before merging, with the facts that justify it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    capsule: Capsule
    entity: str
    decisive_command: str = Field(description="the concrete command whose output proved the cause")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "unknown"


def skill_name(kind: str, category: str) -> str:
    """`DestinationRule` + `Misconfiguration` → `destinationrule_misconfiguration_debug`."""
    return f"{_slug(kind)}_{_slug(category)}_debug"


def collect_names(record: EpisodeRecord) -> Names:
    """Every name of this incident: record fields, alert labels, diagnosis entities, command slots."""
    names = Names()
    for ns in record.namespaces:
        names.add_namespace(ns)
    names.workloads |= {w for w in record.workloads if w}
    names.services |= {s for s in record.services if s}
    for alert in record.alerts:
        labels = {**(alert.get("labels") or {}), **alert}
        if labels.get("namespace"):
            names.add_namespace(str(labels["namespace"]))
        for key in ("service", "destination_service_name", "source_workload", "destination_workload"):
            if labels.get(key):
                names.services.add(str(labels[key]))
        for key in ("deployment", "workload", "statefulset", "daemonset", "app", "container"):
            if labels.get(key):
                names.workloads.add(str(labels[key]))
        if labels.get("pod"):
            names.pods.add(str(labels["pod"]))
            names.workloads.add(strip_pod_suffix(str(labels["pod"])))
    for entity in record.diagnosis.entities if record.diagnosis else []:
        names.add_entity(entity.name)
    for cmd in record.commands:
        words = cmd.line.split()
        for flag, value in zip(words, words[1:], strict=False):
            if flag in ("-n", "--namespace"):
                names.add_namespace(value)
        if len(words) >= 3 and words[:2] in (["kubectl", "logs"], ["kubectl", "log"]) \
                and not words[2].startswith("-"):
            pod = words[2].split("/")[-1]
            names.pods.add(pod)
            names.workloads.add(strip_pod_suffix(pod))
    names.workloads.discard("")
    return names


def _kept_commands(record: EpisodeRecord, decisive: int, entity: EntityRecord) -> list[int]:
    """Before the decisive command: what the guidance asked for, else the breadcrumb trail (the last
    two outputs that named the culprit); after it: one confirmation of the culprit's own kind."""
    culprit = entity.name.split("/")[-1]
    before = [i for i in range(decisive) if usable(record.commands[i])]
    if record.guidance.strip():
        kept = [i for i in before if asked_for(record.commands[i].line, record.guidance)]
    else:
        kept = [i for i in before if culprit and culprit in record.commands[i].observation][-2:]
    after = confirmation(record.commands, decisive, entity)
    return [*kept, decisive, *([after] if after is not None else [])]


def build_capsule(record: EpisodeRecord, entity: EntityRecord, cfg: ConsolidationConfig | None = None,
                  names: Names | None = None) -> Draft | None:
    """The capsule this episode teaches about `entity`, or None when no command printed its evidence."""
    cfg = cfg or ConsolidationConfig()
    names = names or collect_names(record)
    decisive = find_decisive(record.commands, entity)
    if decisive is None:
        log.info("no command output shows the evidence for %s: nothing to learn", entity.name)
        return None
    commands: list[str] = []
    keys: set[str] = set()
    for i in _kept_commands(record, decisive, entity):
        cmd = generalise_command(record.commands[i].line, names)
        if command_key(cmd) not in keys:
            keys.add(command_key(cmd))
            commands.append(cmd)
    commands = commands[-cfg.max_commands:]
    steps_src = guidance_steps(record.guidance)
    used: set[int] = set()
    procedure: list[str] = []
    for cmd in commands:
        j = match_step(cmd, steps_src, used)
        if j is not None:
            used.add(j)
            procedure.append(generalise_text(steps_src[j], names))
        else:
            procedure.append(describe_command(cmd))
    category = (record.diagnosis.category if record.diagnosis else "") or "Unknown"
    lines = decisive_lines(record.commands[decisive].observation, entity.evidence)
    evidence = evidence_signature(entity.evidence, lines, names, cfg.max_evidence)
    procedure = procedure[: cfg.max_steps - 1]
    root = RootCausePattern(kind=entity.kind, category=category)
    procedure.append(proof_step(evidence, root))
    terms = symptom_terms(record.incident, record.alerts, names)[: cfg.max_trigger_terms]
    skill = skill_name(entity.kind, category)
    guidance = record.guidance.strip()
    capsule = Capsule(
        skill=skill, trigger="; ".join(terms) or f"{entity.kind} {category}", procedure=procedure,
        commands=commands, evidence=evidence, root_cause=root,
        status=CapsuleStatus.PROVISIONAL, source="teacher_correction" if guidance else "trajectory",
        metadata={"episodes": 1, **({"guidance_digests": [_digest(guidance)]} if guidance else {})},
    )
    return Draft(capsule=capsule, entity=entity.name, decisive_command=record.commands[decisive].line)


def proof_step(evidence: list[EvidencePattern], root: RootCausePattern | None) -> str:
    """The procedure's last step: what output proves the cause, and what to name."""
    shown = ", ".join(f"`{e.pattern}`" for e in evidence[:4]) or "the evidence above"
    what = f"the {root.kind} it names ({root.category.lower()})" if root else "the object it names"
    return f"{PROOF_PREFIX} {shown}; the root cause is {what}."


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def overlap(a: Capsule, b: Capsule) -> float:
    """Jaccard of command keys, or of normalised procedure steps when neither has commands."""
    if a.commands or b.commands:
        return _jaccard({command_key(c) for c in a.commands}, {command_key(c) for c in b.commands})
    return _jaccard({normalise_step(s) for s in a.procedure}, {normalise_step(s) for s in b.procedure})


def find_merge_target(store: CapsuleStore, new: Capsule,
                      cfg: ConsolidationConfig | None = None) -> Capsule | None:
    """The stored capsule `new` repeats (module docstring), or None."""
    cfg = cfg or ConsolidationConfig()
    live = [CapsuleStatus.ACTIVE, CapsuleStatus.PROVISIONAL, CapsuleStatus.DEPRECATED]
    scored = [(overlap(new, c), c) for c in store.list(live) if c.skill == new.skill]
    scored = [(s, c) for s, c in scored if s >= cfg.merge_threshold]
    if not scored:
        same_id = store.get(new.id)
        return same_id if same_id is not None and same_id.status is not CapsuleStatus.PRUNED else None
    return max(scored, key=lambda sc: (sc[0], sc[1].uses, -sc[1].created_at.timestamp()))[1]


def _union(old: list[Any], new: list[Any], cap: int, key: Any = lambda x: x) -> list[Any]:
    seen = {key(x) for x in old}
    out = list(old)
    for x in new:
        if key(x) not in seen:
            seen.add(key(x))
            out.append(x)
    return out[:cap]


def merge_capsules(old: Capsule, new: Capsule, cfg: ConsolidationConfig | None = None) -> Capsule:
    """`old` (its id, statistics, status) enriched with `new`'s triggers, evidence, commands and steps."""
    cfg = cfg or ConsolidationConfig()
    terms = _union([t.strip() for t in old.trigger.split(";")], [t.strip() for t in new.trigger.split(";")],
                   cfg.max_trigger_terms, key=str.lower)
    old_steps = [s for s in old.procedure if not s.startswith(PROOF_PREFIX)]
    new_steps = [s for s in new.procedure if not s.startswith(PROOF_PREFIX)]
    if len(new_steps) == len(new.commands):  # a draft: step i explains command i
        known = {command_key(c) for c in old.commands}
        new_steps = [s for c, s in zip(new.commands, new_steps, strict=True) if command_key(c) not in known]
    steps = _union(old_steps, new_steps, cfg.max_steps - 1, key=normalise_step)
    evidence = _union(old.evidence, new.evidence, cfg.max_evidence,
                      key=lambda e: (e.pattern.lower(), e.regex))
    root = old.root_cause or new.root_cause
    meta = dict(old.metadata)
    meta["episodes"] = int(meta.get("episodes", 1)) + int(new.metadata.get("episodes", 1))
    digests = _union(list(meta.get("guidance_digests", [])),
                     list(new.metadata.get("guidance_digests", [])), 20)
    if digests:
        meta["guidance_digests"] = digests
    return old.model_copy(update={
        "trigger": "; ".join(t for t in terms if t), "procedure": [*steps, proof_step(evidence, root)],
        "commands": _union(old.commands, new.commands, cfg.max_commands, key=command_key),
        "evidence": evidence, "root_cause": root, "metadata": meta,
    })


def learn_action(store: CapsuleStore, draft: Capsule,
                 cfg: ConsolidationConfig | None = None) -> tuple[Capsule, LearnAction]:
    """Insert `draft` or merge it into the capsule it repeats; the stored capsule and what happened.

    The action is returned, not only logged, so callers (a user's `--learn`, the benchmark's
    per-stage counts) can say whether the store grew or an old capsule was reinforced.
    """
    target = find_merge_target(store, draft, cfg)
    existing = store.get(draft.id) if target is None else None
    if existing is not None and existing.status is CapsuleStatus.PRUNED:
        log.info("capsule %s (%s) was pruned: not relearnt", existing.id, existing.skill)
        return existing, "skipped_pruned"
    if target is None:
        stored = store.upsert(draft)
        log.info("capsule %s (%s) learnt: %d commands, evidence %s", stored.id, stored.skill,
                 len(stored.commands), [e.pattern for e in stored.evidence])
        return stored, "learnt"
    stored = store.upsert(merge_capsules(target, draft, cfg))
    log.info("capsule %s (%s) reinforced: version %d, %d episodes", stored.id, stored.skill, stored.version,
             stored.metadata.get("episodes", 0))
    return stored, "merged"


def learn(store: CapsuleStore, draft: Capsule, cfg: ConsolidationConfig | None = None) -> Capsule:
    """Insert `draft`, or merge it into the capsule it repeats; returns the stored capsule."""
    return learn_action(store, draft, cfg)[0]


def consolidate_report(store: CapsuleStore, record: EpisodeRecord | Mapping[str, Any],
                       cfg: ConsolidationConfig | None = None, *, confirmed: bool | None = None,
                       record_uses: bool = True) -> list[Learnt]:
    """`consolidate_all` with what happened to each capsule (learnt, merged, skipped as pruned)."""
    cfg = cfg or ConsolidationConfig()
    rec = EpisodeRecord.of(record)
    if record_uses:
        record_outcome(store, rec, cfg)
    good = rec.correct if confirmed is None else confirmed
    if good is not True or rec.diagnosis is None:
        return []
    names = collect_names(rec)
    learnt: list[Learnt] = []
    for entity in rec.diagnosis.root_causes:
        draft = build_capsule(rec, entity, cfg, names)
        if draft is not None:
            capsule, action = learn_action(store, draft.capsule, cfg)
            learnt.append(Learnt(capsule, action, entity.name, draft.decisive_command))
    return learnt


def consolidate_all(store: CapsuleStore, record: EpisodeRecord | Mapping[str, Any],
                    cfg: ConsolidationConfig | None = None, *, confirmed: bool | None = None,
                    record_uses: bool = True) -> list[Capsule]:
    """Record applied capsules' outcomes, then learn one capsule per proved root cause."""
    return [x.capsule for x in consolidate_report(store, record, cfg, confirmed=confirmed, record_uses=record_uses)]


def consolidate(store: CapsuleStore, record: EpisodeRecord | Mapping[str, Any],
                cfg: ConsolidationConfig | None = None, *, confirmed: bool | None = None,
                record_uses: bool = True) -> Capsule | None:
    """The runner's hook: `consolidate_all` and the first capsule learnt (None if nothing was)."""
    learnt = consolidate_all(store, record, cfg, confirmed=confirmed, record_uses=record_uses)
    return learnt[0] if learnt else None
