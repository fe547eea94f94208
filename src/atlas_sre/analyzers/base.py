"""The one result shape (`Finding`), the one interface (`Analyzer`) and the base class (`Check`) every
analyzer shares.

Why this shape: agents read findings as text (`Error [IST0101] (VirtualService shop/reviews) ...`,
istioctl's own line format, so a model that has seen istioctl output reads ours without a lesson),
while grading and the benchmark read the same findings as data (`resource.entity` is the
`namespace/Kind/name` form ground truth uses). Codes are Istio's where istioctl has one
(`IST0101`...) and ours (`ATL1xx` mesh, `ATL2xx` workload) where it does not; docs/analyzers.md
lists them all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, runtime_checkable

if TYPE_CHECKING:
    from atlas_sre.analyzers.snapshot import LogRequest, Obj, Snapshot

CLUSTER_SCOPED = frozenset(
    {
        "Node",
        "Namespace",
        "PersistentVolume",
        "StorageClass",
        "PriorityClass",
        "ClusterRole",
        "ClusterRoleBinding",
        "CustomResourceDefinition",
    }
)


class Level(str, Enum):
    """istioctl's message levels, most severe first."""

    ERROR = "Error"
    WARNING = "Warning"
    INFO = "Info"

    @property
    def rank(self) -> int:
        """0 for Error, 1 for Warning, 2 for Info: the sort order of a report."""
        return _RANK[self]


_RANK = {Level.ERROR: 0, Level.WARNING: 1, Level.INFO: 2}


@dataclass(frozen=True, order=True)
class Resource:
    """The object a finding is about. Cluster-scoped kinds carry no namespace."""

    kind: str
    name: str
    namespace: str | None = None

    @classmethod
    def of(cls, obj: dict[str, Any]) -> Resource:
        """The resource of a Kubernetes object dict."""
        md = obj.get("metadata") or {}
        kind = str(obj.get("kind") or "")
        ns = None if kind in CLUSTER_SCOPED else md.get("namespace")
        return cls(kind, str(md.get("name") or ""), ns)

    @property
    def entity(self) -> str:
        """`namespace/Kind/name` (cluster-scoped: `Kind/name`), the ground-truth spelling."""
        return f"{self.namespace}/{self.kind}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    @property
    def origin(self) -> str:
        """What istioctl prints between parentheses: `VirtualService shop/reviews`, `Namespace shop`."""
        return f"{self.kind} {self.namespace}/{self.name}" if self.namespace else f"{self.kind} {self.name}"

    @property
    def scope(self) -> str | None:
        """The namespace a finding belongs to for `-n NS` (a Namespace belongs to itself)."""
        return self.name if self.kind == "Namespace" else self.namespace


@dataclass(frozen=True)
class Finding:
    """One diagnostic message.

    `evidence` holds the observations that justify it (an event message, a log line), shown with
    `--json` and in the benchmark; `related` lists the other entities the message names (the
    Service a reference points at, the policy a workload violates), so a reader can follow the
    finding to the object that has to change.
    """

    code: str
    level: Level
    resource: Resource
    message: str
    analyzer: str = ""
    evidence: tuple[str, ...] = field(default=(), compare=False)
    related: tuple[str, ...] = field(default=(), compare=False)

    @property
    def line(self) -> str:
        """istioctl's line: `Error [IST0101] (VirtualService shop/reviews) Referenced host not found: "x"`."""
        return f"{self.level.value} [{self.code}] ({self.resource.origin}) {self.message}"

    @property
    def sort_key(self) -> tuple[int, str, str, str]:
        """Deterministic report order: level, code, resource, message."""
        return (self.level.rank, self.code, self.resource.entity, self.message)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (`--json`), field names as istioctl's `-o json` plus ours."""
        out: dict[str, Any] = {
            "code": self.code,
            "level": self.level.value,
            "origin": self.resource.origin,
            "resource": self.resource.entity,
            "kind": self.resource.kind,
            "namespace": self.resource.namespace,
            "name": self.resource.name,
            "message": self.message,
            "analyzer": self.analyzer,
        }
        if self.evidence:
            out["evidence"] = list(self.evidence)
        if self.related:
            out["related"] = list(self.related)
        return out


def finding(
    analyzer: str,
    code: str,
    level: Level,
    obj_or_resource: dict[str, Any] | Resource,
    message: str,
    evidence: list[str] | tuple[str, ...] = (),
    related: list[str] | tuple[str, ...] = (),
) -> Finding:
    """Build a Finding from an object dict or a Resource (the helper every analyzer uses)."""
    res = obj_or_resource if isinstance(obj_or_resource, Resource) else Resource.of(obj_or_resource)
    return Finding(code, level, res, message, analyzer, tuple(evidence), tuple(dict.fromkeys(related)))


@runtime_checkable
class Analyzer(Protocol):
    """A deterministic check over a Snapshot. `codes` lists every code it may emit (for the docs)."""

    name: str
    codes: tuple[str, ...]

    def analyze(self, snapshot: Snapshot) -> list[Finding]:
        """Findings for this snapshot; must not mutate it, must not raise on odd objects."""
        ...


@runtime_checkable
class NeedsLogs(Protocol):
    """An analyzer that also reads container logs (istio-proxy access logs), asked for in advance.

    Fetching is two-phase so the runner can bound and de-duplicate log reads over all analyzers.
    """

    def log_requests(self, snapshot: Snapshot) -> list[LogRequest]:
        """The logs this analyzer would read for this snapshot (may be empty)."""
        ...


class Check:
    """The base of an analyzer: its name and codes, its check as a generator, and a finding helper.

    Why: without it every analyzer repeats the same frame (collect into a list, loop over one
    kind, spell out its name, code, level and object for each finding); with it a file holds only
    its check. A subclass declares itself in one line,
    `class FaultInjection(Check, name="fault-injection", codes=("ATL120",), kind="VirtualService")`,
    and writes `check(snap, obj)` for one object of `kind` at a time, or overrides `findings(snap)`
    when the check walks something else (pods by owner, workloads, two kinds). Findings come out in
    the order they are yielded.
    """

    name: ClassVar[str]
    codes: ClassVar[tuple[str, ...]]
    kind: ClassVar[str] = ""
    """The kind whose objects `check` is called with, in snapshot order ("": `findings` is overridden)."""

    def __init_subclass__(cls, *, name: str, codes: tuple[str, ...], kind: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.name, cls.codes, cls.kind = name, codes, kind

    def analyze(self, snapshot: Snapshot) -> list[Finding]:
        """Findings for this snapshot (the `Analyzer` interface)."""
        return list(self.findings(snapshot))

    def findings(self, snap: Snapshot) -> Iterator[Finding]:
        """By default: `check` every object of `kind`."""
        if not self.kind:
            raise NotImplementedError(f"{type(self).__name__} sets neither `kind` + `check` nor `findings`")
        for obj in snap.of_kind(self.kind):
            yield from self.check(snap, obj)

    def check(self, snap: Snapshot, obj: Obj) -> Iterator[Finding]:
        """The findings about one object of `kind` (a subclass sets `kind` and writes this)."""
        raise NotImplementedError(f"{type(self).__name__} sets `kind` but writes no `check`")

    def finding(self, code: str, level: Level, about: dict[str, Any] | Resource, message: str,
                evidence: Sequence[str] = (), related: Sequence[str] = ()) -> Finding:
        """A Finding of this analyzer (its `name` filled in) about an object dict or a Resource."""
        return finding(self.name, code, level, about, message, evidence, related)
