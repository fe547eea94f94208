"""The served objects, indexed for resolving what an answer names (`grading.extract`).

Why a separate index: an answer names objects loosely ("checkout pods", a pod name from an hour
ago, a Service that was deleted). These rules decide which served object, if any, is meant, using
only `(namespace, kind, name)` triples and Kubernetes naming, never the objects' content.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from atlas_sre.grading.topology import CLUSTER_SCOPED_KINDS, normalize_entity
from atlas_sre.kube.names import SAFE_CHAR
from atlas_sre.kube.namespaces import INFRA_NAMESPACES

ObjectRef = tuple[str | None, str, str]
"""A served object: (namespace or None when cluster-scoped, canonical kind, name)."""

WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job")
_OWNED = frozenset({"Pod", "ReplicaSet"})
_UNSERVED_WORD_KINDS = frozenset({"Service", "ConfigMap", "Secret", "DestinationRule", "VirtualService",
                                  "ServiceAccount", "PersistentVolumeClaim", "ServiceEntry"})
"""Kinds a deleted or never-created object is commonly blamed by (a deleted Service is a fault)."""
_DNS = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?")
_GENERATED = re.compile(rf"(?:-{SAFE_CHAR}{{5,10}}){{1,2}}")


def refs_of(objects: Iterable[Mapping[str, Any]]) -> list[ObjectRef]:
    """`(namespace, kind, name)` of Kubernetes object dicts (what a served cluster holds)."""
    return [((o.get("metadata") or {}).get("namespace"), str(o.get("kind", "")),
             str((o.get("metadata") or {}).get("name", ""))) for o in objects]


class Served:
    """An index of the served objects that resolves (kind, name, namespace) to an entity string."""

    def __init__(self, objects: Sequence[ObjectRef], default_namespace: str | None = None) -> None:
        self.default = default_namespace
        self.where: dict[tuple[str, str], list[str | None]] = {}
        for ns, kind, name in objects:
            self.where.setdefault((kind, name.lower()), []).append(ns)
        self.names = {name for _, name in self.where}
        self.namespaces = {name for kind, name in self.where if kind == "Namespace"}
        self.workloads = sorted(((k, n) for k, n in self.where if k in WORKLOAD_KINDS),
                                key=lambda kn: (-len(kn[1]), WORKLOAD_KINDS.index(kn[0])))

    def entity(self, kind: str, name: str, ns: str | None) -> str:
        if kind in CLUSTER_SCOPED_KINDS:
            return f"{kind}/{name}"
        choices = self.where.get((kind, name), [])
        if choices and ns not in choices:
            ns = self.default if self.default in choices else sorted(
                choices, key=lambda c: (c in INFRA_NAMESPACES, c or ""))[0]
        elif not choices:
            ns = ns or self.default or self._ns_of_name(name)
        return normalize_entity(f"{ns}/{kind}/{name}") if ns else f"{kind}/{name}"

    def _ns_of_name(self, name: str) -> str | None:
        for (_, n), spaces in self.where.items():
            if (n == name or n.startswith(name + "-")) and spaces[0]:
                return spaces[0]
        return None

    def owner(self, name: str, lenient: bool) -> tuple[str, str] | None:
        """The workload a pod/ReplicaSet/Job name belongs to by naming (`checkout-7d9f8-x2x4z` → checkout)."""
        for kind, workload in self.workloads:
            if name == workload:
                return self._top(kind, workload)
            rest = name[len(workload):]
            if name.startswith(workload + "-") and (
                    _GENERATED.fullmatch(rest) or (lenient and 1 <= rest.count("-") <= 2)):
                return self._top(kind, workload)
        return None

    def _top(self, kind: str, name: str) -> tuple[str, str]:
        """A Job made by a CronJob (`price-sync-29431` of `price-sync`) is blamed on the CronJob."""
        if kind == "Job":
            for cj_kind, cj in self.workloads:
                if cj_kind == "CronJob" and re.fullmatch(re.escape(cj) + r"-\d+", name):
                    return cj_kind, cj
        return kind, name

    def known(self, name: str) -> bool:
        """A name the cluster knows in some kind, or the stem of a workload (`reviews` of `reviews-v1`)."""
        return name in self.names or any(w.startswith(name + "-") for _, w in self.workloads)

    def resolve(self, kind: str, name: str, ns: str | None, how: str) -> str | None:
        """Entity for a (kind, name) mention; None when the rules do not accept it (see module doc)."""
        name = name.lower()
        if not _DNS.fullmatch(name):
            return None
        if kind in _OWNED or (kind == "Job" and (kind, name) in self.where):
            found = self.owner(name, lenient=True)
            if found:
                return self.entity(found[0], found[1], ns)
        if (kind, name) in self.where:
            return self.entity(kind, name, ns)
        if how == "path" or (kind in _UNSERVED_WORD_KINDS and self.known(name)):
            return self.entity(kind, name, ns)
        return None
