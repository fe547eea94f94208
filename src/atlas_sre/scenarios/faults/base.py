"""The fault-injector contract: a fault is an object change, plus the ground truth that change implies.

Injectors never write symptoms. They edit manifests (or add an image to the registry, as a new
release would) through `Parts`, which snapshots every object before its first edit so the engine
can start symptoms at the fault time (`Change(at=faultAt, previous=...)`), and they return an
`Impact` that says which entity is to blame and which component's callers will notice.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from atlas_sre.scenarios.manifests import CLUSTER_SCOPED
from atlas_sre.sim.images import ImageBehaviour
from atlas_sre.sim.state import Change

Obj = dict[str, Any]
CATEGORIES = ("Misconfiguration", "Resource Saturation", "Resource Unavailable", "Change", "Network")


class FaultError(ValueError):
    """A fault that cannot be applied as asked; `str()` is one line naming the fault and the problem."""


class FaultArgs(BaseModel):
    """Base of every fault's arguments: unknown keys are errors, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Ref:
    """An entity `namespace/Kind/name` (cluster-scoped kinds: `Kind/name`)."""

    kind: str
    name: str
    namespace: str | None = None

    @classmethod
    def parse(cls, text: str) -> Ref:
        parts = text.split("/")
        if len(parts) == 3 and all(parts):
            return cls(parts[1], parts[2], parts[0])
        if len(parts) == 2 and all(parts) and parts[0] in CLUSTER_SCOPED:
            return cls(parts[0], parts[1])
        raise FaultError(f"target {text!r} is not namespace/Kind/name (cluster-scoped: Kind/name)")

    def __str__(self) -> str:
        return f"{self.namespace}/{self.kind}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"


def ref_of(obj: Obj) -> Ref:
    """The entity reference of a manifest."""
    md = obj["metadata"]
    ns = None if obj["kind"] in CLUSTER_SCOPED else md.get("namespace")
    return Ref(obj["kind"], md["name"], ns)


@dataclass
class Parts:
    """The mutable scenario parts a fault edits, with the history of what it changed."""

    manifests: list[Obj]
    registry: dict[str, ImageBehaviour]
    traffic: dict[str, Any]
    fault_at: datetime
    changes: dict[str, Change] = field(default_factory=dict)

    def find(self, ref: Ref) -> Obj | None:
        """The live manifest for `ref`, or None."""
        for obj in self.manifests:
            if ref_of(obj) == ref:
                return obj
        return None

    def require(self, ref: Ref) -> Obj:
        obj = self.find(ref)
        if obj is None:
            raise FaultError(f"{ref} does not exist in the scenario")
        return obj

    def _record(self, ref: Ref, previous: Obj | None) -> None:
        key = str(ref)
        if key not in self.changes:  # the first fault to touch an object defines what it was before
            self.changes[key] = Change(at=self.fault_at, previous=copy.deepcopy(previous))

    def edit(self, ref: Ref) -> Obj:
        """The live object, snapshotted before its first edit."""
        obj = self.require(ref)
        self._record(ref, obj)
        return obj

    def add(self, obj: Obj, first: bool = False) -> Obj:
        """Create an object (or replace one with the same identity); `first` puts it before the others,
        so controllers that reconcile in manifest order see it first."""
        ref = ref_of(obj)
        old = self.find(ref)
        self._record(ref, old)
        if old is not None:
            self.manifests[self.manifests.index(old)] = obj
        elif first:
            self.manifests.insert(0, obj)
        else:
            self.manifests.append(obj)
        return obj

    def remove(self, ref: Ref) -> Obj:
        """Delete an object; its history keeps what it was."""
        obj = self.require(ref)
        self._record(ref, obj)
        self.manifests.remove(obj)
        return obj

    def prune(self) -> None:
        """Forget edits that changed nothing (an injector that only read through `edit`)."""
        for key, change in list(self.changes.items()):
            current = self.find(Ref.parse(key))
            if current is not None and current == change.previous:
                del self.changes[key]

    def add_image(self, image: str, behaviour: ImageBehaviour) -> None:
        """Publish an image to the simulated registry (a new release, a tool image)."""
        self.registry[image] = behaviour


@dataclass
class Impact:
    """What a fault did, in grading terms.

    `root` is the entity to blame, `related` are other entities a correct answer may name instead
    (the VirtualService beside a DestinationRule, the workload a policy selects), `impacted` is the
    Service whose callers see the failure (None: the failure is at the workload itself), `effect`
    is what those callers see ("503 UH", "pods Pending").
    """

    root: Ref
    condition: str
    effect: str
    impacted: Ref | None = None
    related: list[Ref] = field(default_factory=list)
    component: Ref | None = None  # the Deployment whose pods/ReplicaSets count as aliases of the root


@dataclass(frozen=True)
class Signature:
    """What the fault must produce once simulated (checked by tests and docs, never by the engine).

    `events`: Warning event reasons; `flags`: Envoy response flags or RBAC details in access logs;
    `proxy`: whose istio-proxy logs the flag (`client`, `server`, `gateway`); `alerts`: alert names of
    which at least one must fire; `pod`: pod STATUS words expected on the target's new pods.
    """

    alerts: tuple[str, ...]
    events: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    proxy: str | None = None
    pod: tuple[str, ...] = ()

    def text(self) -> str:
        """One line for docs: `events BackOff; pod CrashLoopBackOff; alert KubePodCrashLooping`."""
        bits = []
        if self.pod:
            bits.append("pod " + "/".join(self.pod))
        if self.events:
            bits.append("events " + ", ".join(self.events))
        if self.flags:
            bits.append(f"{self.proxy or 'proxy'} log " + ", ".join(self.flags))
        bits.append("alert " + " or ".join(self.alerts))
        return "; ".join(bits)


Applier = Callable[[Parts, Ref, Any, random.Random], Impact]
Candidates = Callable[[Parts], list[Ref]]
Drawer = Callable[[Parts, Ref, random.Random], dict[str, Any]]


@dataclass(frozen=True)
class Fault:
    """One catalogue entry.

    `symptom` is the user-visible effect class (`errors`, `forbidden`, `not-found`, `timeouts`,
    `rollout`, `crashloop`, `pending`, `unavailable`) used to word an incident without naming the cause.
    """

    id: str
    description: str
    category: str
    domain: str
    target_kind: str
    args: type[FaultArgs]
    apply: Applier
    candidates: Candidates
    signature: Signature
    symptom: str
    draw: Drawer | None = None

    def validate_args(self, raw: dict[str, Any] | None) -> FaultArgs:
        """Parsed arguments, or a FaultError whose message is one line."""
        try:
            return self.args.model_validate(raw or {})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"]) or "args"
            msg = "unknown argument" if err["type"] == "extra_forbidden" else err["msg"]
            raise FaultError(f"fault {self.id}: args.{where}: {msg}") from None


def fault(
    fault_id: str,
    description: str,
    *,
    category: str,
    args: type[FaultArgs],
    candidates: Candidates,
    symptom: str,
    signature: Signature,
    target_kind: str = "Deployment",
    domain: str = "kubernetes",
    draw: Drawer | None = None,
) -> Callable[[Applier], Fault]:
    """Declare a catalogue entry on its apply function, so one fault is one block of code.

    The decorated name becomes the `Fault` (list it in its module's `FAULTS`). Defaults are the
    common case: a Kubernetes fault aimed at a Deployment.
    """

    def declare(apply: Applier) -> Fault:
        return Fault(id=fault_id, description=description, category=category, domain=domain,
                     target_kind=target_kind, args=args, apply=apply, candidates=candidates,
                     signature=signature, symptom=symptom, draw=draw)

    return declare
