"""Stage 1: the scenario's manifests, plus what any cluster already has, as stored API objects.

Objects get the metadata and defaults the apiserver would give them on create. Namespaces a
cluster always has (and any an object lives in) exist, every namespace has its `default`
ServiceAccount and `kube-root-ca.crt`, nodes are completed, and kube-system runs its baseline.
"""

from __future__ import annotations

from datetime import datetime

from atlas_sre.kube.namespaces import INITIAL_NAMESPACES
from atlas_sre.sim import ids
from atlas_sre.sim.objects.index import add_object, index_of
from atlas_sre.sim.objects.meta import CLUSTER_SCOPED, born, clone, entity, stamp
from atlas_sre.sim.objects.nodes import DEFAULT_NODE, complete_node
from atlas_sre.sim.objects.secrets import store_secret
from atlas_sre.sim.objects.storage import bind_claim
from atlas_sre.sim.state import Change, ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.baseline import (
    KUBE_DNS_IP,
    KUBERNETES_IP,
    baseline_manifests,
    cluster_objects,
    kubernetes_service,
    registry,
)
from atlas_sre.sim.workloads.defaults import default_service, default_workload
from atlas_sre.sim.workloads.kubeadm import control_plane_node, static_pods
from atlas_sre.sim.workloads.leases import add_leases

_WORKLOADS = {"Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job", "CronJob"}


def _key(obj: Obj) -> tuple[str, str | None, str]:
    md = obj["metadata"]
    return obj["kind"], md.get("namespace"), md["name"]


def _ca_bundle(seed: int) -> str:
    """A certificate-shaped, deterministic (and meaningless) CA bundle for kube-root-ca.crt."""
    body = "".join(ids.digest(seed, "ca", i).hex() for i in range(12))
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return "-----BEGIN CERTIFICATE-----\n" + "\n".join(lines) + "\n-----END CERTIFICATE-----\n"


def _namespace(name: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _complete_namespace(ns: Obj) -> None:
    md = ns["metadata"]
    md.setdefault("labels", {})["kubernetes.io/metadata.name"] = md["name"]
    ns.setdefault("spec", {}).setdefault("finalizers", ["kubernetes"])
    ns.setdefault("status", {}).setdefault("phase", "Active")


def _per_namespace(name: str, seed: int) -> list[Obj]:
    return [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default", "namespace": name}},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "kube-root-ca.crt", "namespace": name,
                      "annotations": {"kubernetes.io/description": "Contains a CA bundle that can be used to verify "
                                      "the kube-apiserver when using internal endpoints such as the internal service "
                                      "IP or kubernetes.default.svc. No other usage is guaranteed across "
                                      "distributions of Kubernetes clusters."}},
         "data": {"ca.crt": _ca_bundle(seed)}},
    ]


def _ordered_objects(spec: SimSpec) -> list[Obj]:
    """Every object to store, manifests first in their order, then what the cluster adds."""
    manifests = [clone(m) for m in spec.manifests]
    for m in manifests:
        md = m.setdefault("metadata", {})
        if m.get("kind") not in CLUSTER_SCOPED:
            md.setdefault("namespace", "default")
    declared = {_key(m) for m in manifests}
    extra: list[Obj] = []
    if not any(m.get("kind") == "Node" for m in manifests):
        extra.append(clone(DEFAULT_NODE))
    nodes = [o for o in manifests + extra if o.get("kind") == "Node"]
    control = control_plane_node(nodes)
    if control is not None:  # after the workers: their addresses and pod CIDRs stay as they were
        seen = spec.clock.iso_micro(spec.clock.start)[:-1] + "000Z"  # the kubelet writes nanoseconds
        pods = static_pods(spec.seed, control["metadata"]["name"], len(nodes), seen)
        extra += [control, *(p for p in pods if _key(p) not in declared)]
    extra += [o for o in cluster_objects() if _key(o) not in declared]
    extra += [o for o in [*baseline_manifests(), kubernetes_service()] if _key(o) not in declared]
    objects = manifests + extra
    ns_names = list(INITIAL_NAMESPACES)
    for o in objects:
        ns = o["metadata"].get("namespace")
        if ns and ns not in ns_names:
            ns_names.append(ns)
    declared_ns = {m["metadata"]["name"] for m in manifests if m.get("kind") == "Namespace"}
    implicit = [_namespace(n) for n in ns_names if n not in declared_ns]
    known = {_key(o) for o in objects}
    per_ns = [o for n in ns_names for o in _per_namespace(n, spec.seed) if _key(o) not in known]
    return implicit + objects + per_ns


def _creation(state: ClusterState, kind: str, change: Change | None) -> tuple[datetime, int]:
    """(creationTimestamp, generation) of a stored object, given its history entry.

    A fault-created object (`previous` None) did not exist before `change.at`; an edited one was
    there from the start and its spec changed once (generation 2). Pods cannot be edited in
    place, so a changed Pod is a new one created at `change.at`.
    """
    if change is None:
        return state.clock.start, 1
    if change.previous is None or kind == "Pod":
        return change.at, 1
    return state.clock.start, 2


def materialize(spec: SimSpec, state: ClusterState) -> None:
    """Store every object with metadata and defaults; bind claims; complete nodes."""
    index_of(state)
    registry(spec, state)
    taken_ips: set[str] = {KUBERNETES_IP, KUBE_DNS_IP}
    node_index = 0
    # nothing lives in a namespace before the namespace exists (its default ServiceAccount included)
    ns_born = {key.split("/", 1)[1]: c.at for key, c in spec.history.items()
               if key.startswith("Namespace/") and c.previous is None}
    for obj in _ordered_objects(spec):
        kind, ns, name = _key(obj)
        change = spec.history.get(entity(kind, ns, name))
        created, generation = _creation(state, kind, change)
        if ns in ns_born:
            created = max(created, ns_born[ns])
        stamp(state, spec.seed, obj, created, generation=generation)
        if kind == "Namespace":
            _complete_namespace(obj)
        elif kind == "Node":
            complete_node(spec, state, obj, node_index)
            node_index += 1
        elif kind == "Service":
            default_service(obj, spec.seed, taken_ips)
        elif kind in _WORKLOADS:
            default_workload(obj)
        elif kind == "Secret":
            store_secret(obj)
        elif kind == "PersistentVolume":
            obj.setdefault("status", {}).setdefault("phase", "Available")
        add_object(state, obj)
    for pvc in index_of(state).list("PersistentVolumeClaim"):
        bind_claim(state, spec.seed, pvc, born(state, pvc))
    add_leases(spec, state, index_of(state).list("Node"))
