"""The DaemonSet controller: one pod per eligible node, pinned there by node affinity.

Eligibility is the DaemonSet's own node selector/affinity and the node's NoSchedule/NoExecute
taints against the pod's tolerations (plus the ones every DaemonSet pod gets). Each pod carries
a `matchFields metadata.name` node-affinity term and goes through the default scheduler, as in
Kubernetes since 1.12, so a full node leaves its daemon pod Pending with a FailedScheduling event.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import add_object, index_of
from atlas_sre.sim.objects.meta import born, clone, owner_ref
from atlas_sre.sim.scheduler import filters as f
from atlas_sre.sim.scheduler.core import scheduler_of
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.failures import record_failures
from atlas_sre.sim.workloads.podgen import admit_template, new_pod, unique_suffix
from atlas_sre.sim.workloads.quota import ledger

DS_CONTROLLER = "daemonset-controller"
_DS_TOLERATIONS = [
    ("node.kubernetes.io/not-ready", "NoExecute"), ("node.kubernetes.io/unreachable", "NoExecute"),
    ("node.kubernetes.io/disk-pressure", "NoSchedule"), ("node.kubernetes.io/memory-pressure", "NoSchedule"),
    ("node.kubernetes.io/pid-pressure", "NoSchedule"), ("node.kubernetes.io/unschedulable", "NoSchedule"),
]


def _with_tolerations(template: dict[str, Any]) -> dict[str, Any]:
    tmpl = clone(template)
    spec = tmpl.setdefault("spec", {})
    tolerations = spec.setdefault("tolerations", [])
    extra = list(_DS_TOLERATIONS)
    if spec.get("hostNetwork"):
        extra.append(("node.kubernetes.io/network-unavailable", "NoSchedule"))
    for key, effect in extra:
        if not any(t.get("key") == key and t.get("effect") == effect for t in tolerations):
            tolerations.append({"key": key, "operator": "Exists", "effect": effect})
    return tmpl


def _pin(spec: dict[str, Any], node: str) -> dict[str, Any]:
    affinity = clone(spec.get("affinity") or {})
    affinity.setdefault("nodeAffinity", {})["requiredDuringSchedulingIgnoredDuringExecution"] = {
        "nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [node]}]}]}
    return affinity


def revision_hash(seed: int, template: dict[str, Any]) -> str:
    """The `controller-revision-hash` of a DaemonSet template (its ControllerRevision's suffix)."""
    return ids.pod_template_hash(seed, _with_tolerations(template))


def daemon_nodes(state: ClusterState, pod_spec: dict[str, Any]) -> list[Obj]:
    """Nodes a daemon pod of this spec should run on."""
    out = []
    for node in index_of(state).list("Node"):
        labels = node["metadata"].get("labels") or {}
        if not f.node_affinity_matches(pod_spec, labels, node["metadata"]["name"]):
            continue
        taints = (node.get("spec") or {}).get("taints") or []
        if f.untolerated_taint(pod_spec.get("tolerations") or [], taints):
            continue
        out.append(node)
    return out


def reconcile_daemonset(spec: SimSpec, state: ClusterState, ds: Obj) -> list:
    """Create one pod per eligible node at the cluster's start."""
    md = ds["metadata"]
    start = born(state, ds)
    template = _with_tolerations(ds["spec"]["template"])
    admitted = admit_template(state, template, md["namespace"], start, sim=spec, owner=owner_ref(ds))
    revision = revision_hash(spec.seed, ds["spec"]["template"])
    nodes = daemon_nodes(state, admitted.spec)
    state.extras.setdefault("daemon_nodes", {})[md["uid"]] = [n["metadata"]["name"] for n in nodes]
    idx, sched = index_of(state), scheduler_of(spec, state)
    base = f"{md['name']}-"
    failure: str | None = None
    for node in nodes:
        node_name = node["metadata"]["name"]
        name = unique_suffix(spec.seed, base, ("node", node_name), idx.names("Pod", md["namespace"]))
        err = f'pods "{name}" is forbidden: {admitted.error}' if admitted.error else None
        err = err or ledger(state).admit(admitted, name, start)
        if err:
            failure = failure or err
            continue
        labels = {"controller-revision-hash": revision, "pod-template-generation": str(md.get("generation", 1))}
        pod = new_pod(state, spec.seed, admitted, name, start, labels=labels, owner=owner_ref(ds),
                      generate_name=base, spec_patch={"affinity": _pin(admitted.spec, node_name)})
        add_object(state, pod)
        emit(state, ds, "SuccessfulCreate", f"Created pod: {name}", first=start, component=DS_CONTROLLER)
        sched.schedule(pod, start)
    if failure:
        record_failures(state, ds, start, lambda _k: f"Error creating: {failure}", component=DS_CONTROLLER)
    return []
