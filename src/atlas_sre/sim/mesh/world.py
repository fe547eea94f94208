"""A read-only index over the derived objects, shaped for traffic questions.

The traffic engine asks "which ready pods back this Service port", "does this pod have a sidecar",
"which image behaviour serves this port" thousands of times; this index answers them from one pass
over the objects. Pods are grouped into *instances* (the pods of one ReplicaSet, StatefulSet or a
bare pod): pods of one instance share a spec, so they behave alike and are evaluated once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from atlas_sre.kube.labels import map_matches
from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.images import ImageBehaviour, Registry
from atlas_sre.sim.state import Change, Obj

PROXY = "istio-proxy"
ROOT_NS = "istio-system"


def labels_of(obj: Obj) -> dict[str, str]:
    """An object's labels (never None)."""
    return (obj.get("metadata") or {}).get("labels") or {}


def is_ready(pod: Obj) -> bool:
    """Pod Ready condition True and not being deleted: what puts it into Endpoints."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    status = pod.get("status") or {}
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions") or [])


@dataclass
class Instance:
    """The ready pods of one ReplicaSet/StatefulSet (or one bare pod): one behaviour, many IPs."""

    key: str
    namespace: str
    group: str
    workload: str
    pods: list[Obj]
    labels: dict[str, str]
    sidecar: bool
    service_account: str
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def principal(self) -> str:
        """The SPIFFE identity its sidecar presents over mTLS."""
        return f"cluster.local/ns/{self.namespace}/sa/{self.service_account}"

    @property
    def ips(self) -> list[str]:
        """Pod IPs, in pod-name order."""
        return [(p.get("status") or {}).get("podIP") or "" for p in self.pods]

    def app_containers(self) -> list[dict[str, Any]]:
        """Containers other than the sidecar."""
        return [c for c in self.spec.get("containers") or [] if c.get("name") != PROXY]


def group_of(pod: Obj) -> str:
    owners = pod["metadata"].get("ownerReferences") or []
    return owners[0]["name"] if owners else pod["metadata"]["name"]


class World:
    """Objects indexed by kind/namespace/name, plus instances and the image registry."""

    def __init__(self, objects: list[Obj], registry: Registry, seed: int = 0,
                 sidecar_override: dict[str, bool] | None = None, clock: SimClock | None = None,
                 history: dict[str, Change] | None = None) -> None:
        self.objects = objects
        self.registry = registry
        self.seed = seed
        self.clock = clock
        self.history = history or {}
        self._index: dict[tuple[str, str | None, str], Obj] = {}
        self._kinds: dict[str, list[Obj]] = {}
        for obj in objects:
            md = obj.get("metadata") or {}
            self._index.setdefault((obj.get("kind", ""), md.get("namespace"), md.get("name", "")), obj)
            self._kinds.setdefault(obj.get("kind", ""), []).append(obj)
        self.instances: dict[str, Instance] = {}
        self._by_pod: dict[tuple[str, str], Instance] = {}
        self._build_instances(sidecar_override or {})

    def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        """One object, or None."""
        return self._index.get((kind, namespace, name))

    def list(self, kind: str, namespace: str | None = None) -> list[Obj]:
        """Objects of a kind, in the order they were given (optionally in one namespace)."""
        objs = self._kinds.get(kind, [])
        if namespace is None:
            return objs
        return [o for o in objs if o["metadata"].get("namespace") == namespace]

    def as_of(self, kind: str, namespace: str, name: str, at: datetime | None) -> Obj | None:
        """An object as a process that started at `at` read it (the history's `previous` before a change)."""
        change = self.history.get(f"{namespace}/{kind}/{name}")
        if change is not None and at is not None and at < change.at:
            return change.previous
        return self.get(kind, namespace, name)

    def started(self, inst: Instance, container: str) -> datetime | None:
        """When the container's current instance started in the instance's first pod (scenario time)."""
        if self.clock is None or not inst.pods:
            return None
        for cs in (inst.pods[0].get("status") or {}).get("containerStatuses") or []:
            running = (cs.get("state") or {}).get("running") or {}
            if cs.get("name") == container and running.get("startedAt"):
                return parse_time(running["startedAt"]) - self.clock.shift
        return None

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        """Labels of a Namespace object (empty when it is not declared)."""
        ns = self.get("Namespace", None, namespace)
        return labels_of(ns) if ns else {}

    def behaviour(self, image: str) -> ImageBehaviour | None:
        """The hidden behaviour of an image, if the registry has it."""
        return self.registry.get(image)

    def workload_of(self, pod: Obj) -> str:
        """The Deployment/StatefulSet name a pod belongs to (Istio's `workload` label value)."""
        md = pod["metadata"]
        owners = md.get("ownerReferences") or []
        if not owners:
            return md["name"]
        owner = owners[0]
        if owner.get("kind") == "Job":  # Istio names a CronJob's pods after the CronJob
            job = self.get("Job", md.get("namespace"), owner["name"])
            for ref in (job or {}).get("metadata", {}).get("ownerReferences") or []:
                if ref.get("kind") == "CronJob":
                    return str(ref["name"])
        if owner.get("kind") == "ReplicaSet":
            rs = self.get("ReplicaSet", md.get("namespace"), owner["name"])
            for ref in (rs or {}).get("metadata", {}).get("ownerReferences") or []:
                return str(ref["name"])
            suffix = (md.get("labels") or {}).get("pod-template-hash")
            if suffix and owner["name"].endswith("-" + suffix):
                return str(owner["name"][: -len(suffix) - 1])
        return str(owner["name"])

    def _build_instances(self, override: dict[str, bool]) -> None:
        for pod in sorted(self.list("Pod"), key=lambda p: (p["metadata"].get("namespace", ""),
                                                            p["metadata"]["name"])):
            if not is_ready(pod):
                continue
            ns = pod["metadata"].get("namespace", "default")
            group = group_of(pod)
            key = f"{ns}/{group}"
            inst = self.instances.get(key)
            if inst is None:
                spec = pod.get("spec") or {}
                sidecar = any(c.get("name") == PROXY for c in spec.get("containers") or [])
                inst = Instance(key, ns, group, self.workload_of(pod), [], labels_of(pod),
                                override.get(key, sidecar), spec.get("serviceAccountName") or "default", spec)
                self.instances[key] = inst
            inst.pods.append(pod)
            self._by_pod[(ns, pod["metadata"]["name"])] = inst

    def instance_of(self, namespace: str, pod_name: str) -> Instance | None:
        """The instance a ready pod belongs to."""
        return self._by_pod.get((namespace, pod_name))

    def container_for_port(self, inst: Instance, port: int) -> dict[str, Any] | None:
        """The app container that listens on `port`, per its image behaviour.

        An image whose behaviour lists no `listen` ports is taken to listen on its declared
        containerPorts, so a registry entry need not repeat the manifest.
        """
        for c in inst.app_containers():
            beh = self.behaviour(c.get("image", ""))
            if beh is None:
                continue
            ports = [x.port for x in beh.listen] or [p.get("containerPort") for p in c.get("ports") or []]
            if port in ports:
                return c
        return None

    def target_port(self, inst: Instance, target: Any) -> int | None:
        """A Service targetPort (number or container port name) as a number for this instance."""
        if isinstance(target, int):
            return target
        if isinstance(target, str) and target.isdigit():
            return int(target)
        for c in inst.app_containers():
            for p in c.get("ports") or []:
                if p.get("name") == target:
                    return int(p["containerPort"])
        return None

    def endpoints(self, svc: Obj, svc_port: dict[str, Any]) -> list[tuple[Instance, int]]:
        """Ready instances behind a Service port, each with the numeric targetPort it receives on.

        Computed from pods and the selector (the same rules as the endpoints controller) rather
        than read from Endpoints objects, so a Service can be evaluated as it was before a change.
        """
        ns = svc["metadata"].get("namespace", "default")
        selector = (svc.get("spec") or {}).get("selector")
        target = svc_port.get("targetPort", svc_port.get("port"))
        out: list[tuple[Instance, int]] = []
        if not selector:
            return self._manual_endpoints(svc, svc_port)
        for inst in self.instances.values():
            if inst.namespace == ns and map_matches(selector, inst.labels):
                number = self.target_port(inst, target)
                if number is not None:
                    out.append((inst, number))
        return out

    def _manual_endpoints(self, svc: Obj, svc_port: dict[str, Any]) -> list[tuple[Instance, int]]:
        ep = self.get("Endpoints", svc["metadata"].get("namespace"), svc["metadata"]["name"])
        out: list[tuple[Instance, int]] = []
        for subset in (ep or {}).get("subsets") or []:
            ports = subset.get("ports") or []
            number = next((p["port"] for p in ports if p.get("name") == svc_port.get("name")), None)
            for addr in subset.get("addresses") or []:
                ref = addr.get("targetRef") or {}
                inst = self.instance_of(ref.get("namespace", ""), ref.get("name", ""))
                if inst and number and (inst, number) not in out:
                    out.append((inst, number))
        return out
