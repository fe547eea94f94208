"""Nodes as the kubelet and the node lifecycle controller leave them.

A scenario writes the little it cares about (name, labels, allocatable, maybe a NotReady
condition or `spec.unschedulable`); everything `kubectl get/describe node` shows is filled in
here. Conditions come only from the manifest: the engine never invents a broken node.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.meta import entity
from atlas_sre.sim.state import ClusterState, Obj, SimSpec

KUBELET_VERSION = "v1.32.2"
HISTORY_KEY = "node_history"


@dataclass(frozen=True)
class NodeBefore:
    """A node's scheduling-relevant state before its change at `at` (and its Ready status after)."""

    at: datetime
    taints: list[dict[str, Any]]
    unschedulable: bool
    ready_after: str

DEFAULT_NODE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "worker-1"},
    "status": {"capacity": {"cpu": "4", "memory": "16Gi", "pods": "110"}},
}
_DEFAULT_RESOURCES = {"ephemeral-storage": "102626232Ki", "hugepages-1Gi": "0", "hugepages-2Mi": "0", "pods": "110"}
_HEALTHY = {
    "MemoryPressure": ("False", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    "DiskPressure": ("False", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    "PIDPressure": ("False", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
    "Ready": ("True", "KubeletReady", "kubelet is posting ready status"),
}
_PRESSURE = {
    "MemoryPressure": ("KubeletHasInsufficientMemory", "kubelet has insufficient memory available",
                       "node.kubernetes.io/memory-pressure"),
    "DiskPressure": ("KubeletHasDiskPressure", "kubelet has disk pressure", "node.kubernetes.io/disk-pressure"),
    "PIDPressure": ("KubeletHasInsufficientPID", "kubelet has insufficient PID available",
                    "node.kubernetes.io/pid-pressure"),
}
_NOT_READY_MESSAGE = (
    "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady "
    "message:Network plugin returns error: cni plugin not initialized"
)


def internal_ip(index: int) -> str:
    """Node addresses as on a kind docker network: 172.18.0.2, .3, ..."""
    return f"172.18.0.{index + 2}"


def node_ready(node: Obj) -> str:
    """The node's Ready condition status ("True", "False", "Unknown")."""
    for c in (node.get("status") or {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return str(c.get("status", "True"))
    return "True"


def _conditions(state: ClusterState, node: Obj, since: datetime, index: int) -> list[dict[str, Any]]:
    """Every node condition, keeping what the manifest states and filling the kubelet's wording."""
    given = {c["type"]: dict(c) for c in (node.get("status") or {}).get("conditions") or [] if c.get("type")}
    clock = state.clock
    heartbeat = clock.observe_at - timedelta(seconds=(index * 13) % 50 + 5)
    ready = str(given.get("Ready", {}).get("status", "True"))
    out = []
    for ctype, (status, reason, message) in _HEALTHY.items():
        cond = given.pop(ctype, {"type": ctype, "status": status})
        st = str(cond.get("status", status))
        if ready == "Unknown":
            st, reason, message = "Unknown", "NodeStatusUnknown", "Kubelet stopped posting node status."
            cond.setdefault("lastHeartbeatTime", clock.iso(since))
            cond.setdefault("lastTransitionTime", clock.iso(since + timedelta(seconds=40)))
        elif ctype == "Ready" and st == "False":
            reason, message = "KubeletNotReady", _NOT_READY_MESSAGE
        elif ctype in _PRESSURE and st == "True":
            reason, message = _PRESSURE[ctype][0], _PRESSURE[ctype][1]
        changed = st != status
        cond["status"] = st
        cond.setdefault("reason", reason)
        cond.setdefault("message", message)
        cond.setdefault("lastHeartbeatTime", clock.iso(heartbeat))
        cond.setdefault("lastTransitionTime", clock.iso(since if changed else state.clock.start))
        out.append({k: cond[k] for k in ("type", "status", "lastHeartbeatTime", "lastTransitionTime",
                                         "reason", "message")})
    out.extend(given.values())
    return out


def _taints(state: ClusterState, node: Obj, since: datetime) -> list[dict[str, Any]]:
    """Manifest taints plus the ones Kubernetes adds for cordon, NotReady and node pressure."""
    taints = list((node.get("spec") or {}).get("taints") or [])
    keys = {(t.get("key"), t.get("effect")) for t in taints}

    def add(key: str, effect: str) -> None:
        if (key, effect) not in keys:
            taint = {"key": key, "effect": effect}
            if effect == "NoExecute" or key == "node.kubernetes.io/unschedulable":
                taint["timeAdded"] = state.clock.iso(since)
            taints.append(taint)
            keys.add((key, effect))

    if (node.get("spec") or {}).get("unschedulable"):
        add("node.kubernetes.io/unschedulable", "NoSchedule")
    ready = node_ready(node)
    if ready != "True":
        key = "node.kubernetes.io/unreachable" if ready == "Unknown" else "node.kubernetes.io/not-ready"
        since = since + timedelta(seconds=40) if since > state.clock.start else since  # node-monitor grace
        add(key, "NoSchedule")
        add(key, "NoExecute")
    for cond in node["status"]["conditions"]:
        if cond["type"] in _PRESSURE and cond["status"] == "True":
            add(_PRESSURE[cond["type"]][2], "NoSchedule")
    return taints


def _resources(status: dict[str, Any]) -> None:
    cap = dict(status.get("capacity") or status.get("allocatable") or {})
    alloc = dict(status.get("allocatable") or cap)
    for k, v in _DEFAULT_RESOURCES.items():
        cap.setdefault(k, v)
        alloc.setdefault(k, cap[k])
    status["capacity"], status["allocatable"] = cap, alloc


def complete_node(spec: SimSpec, state: ClusterState, node: Obj, index: int) -> None:
    """Fill labels, spec, addresses, conditions, taints and nodeInfo of one Node in place."""
    md = node["metadata"]
    name = md["name"]
    change = spec.history.get(entity("Node", None, name))
    since = change.at if change else state.clock.start
    labels = md.setdefault("labels", {})
    for k, v in {"beta.kubernetes.io/arch": "amd64", "beta.kubernetes.io/os": "linux",
                 "kubernetes.io/arch": "amd64", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}.items():
        labels.setdefault(k, v)
    ann = md.setdefault("annotations", {})
    ann.setdefault("kubeadm.alpha.kubernetes.io/cri-socket", "unix:///run/containerd/containerd.sock")
    ann.setdefault("node.alpha.kubernetes.io/ttl", "0")
    ann.setdefault("volumes.kubernetes.io/controller-managed-attach-detach", "true")
    nspec = node.setdefault("spec", {})
    nspec.setdefault("podCIDR", f"10.244.{index}.0/24")
    nspec.setdefault("podCIDRs", [nspec["podCIDR"]])
    nspec.setdefault("providerID", f"kind://docker/kind/{name}")
    status = node.setdefault("status", {})
    _resources(status)
    status["conditions"] = _conditions(state, node, since, index)
    declared = list(nspec.get("taints") or [])
    taints = _taints(state, node, since)
    if taints:
        nspec["taints"] = taints
    if change is not None:
        _remember_before(state, node, change.previous, declared, change.at)
    status.setdefault("addresses", [{"type": "InternalIP", "address": internal_ip(index)},
                                    {"type": "Hostname", "address": name}])
    status.setdefault("daemonEndpoints", {"kubeletEndpoint": {"Port": 10250}})
    hexid = ids.digest(spec.seed, "node", name).hex()
    info = status.setdefault("nodeInfo", {})
    for k, v in {
        "architecture": "amd64", "bootID": str(ids.uid(spec.seed, "boot", None, name)),
        "containerRuntimeVersion": "containerd://1.7.24", "kernelVersion": "6.8.0-1021-gcp",
        "kubeProxyVersion": KUBELET_VERSION, "kubeletVersion": KUBELET_VERSION, "machineID": hexid[:32],
        "operatingSystem": "linux", "osImage": "Debian GNU/Linux 12 (bookworm)",
        "systemUUID": str(ids.uid(spec.seed, "system", None, name)),
    }.items():
        info.setdefault(k, v)
    if node_ready(node) != "True":
        emit(state, node, "NodeNotReady", f"Node {name} status is now: NodeNotReady",
             first=since + timedelta(seconds=40), component="node-controller")


def _remember_before(state: ClusterState, node: Obj, previous: Obj | None, declared: list[dict[str, Any]],
                     at: datetime) -> None:
    """Keep the node's schedulability before its change, for pods scheduled earlier (sched_nodes)."""
    prev = previous or {"spec": {"taints": declared}}
    taints = list((prev.get("spec") or {}).get("taints") or [])
    unschedulable = bool((prev.get("spec") or {}).get("unschedulable"))
    if unschedulable:
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    state.extras.setdefault(HISTORY_KEY, {})[node["metadata"]["name"]] = NodeBefore(at, taints, unschedulable,
                                                                                  node_ready(node))


def node_address(node: Obj) -> str:
    """The node's InternalIP (what pods report as hostIP)."""
    for a in (node.get("status") or {}).get("addresses") or []:
        if a.get("type") == "InternalIP":
            return str(a["address"])
    return ""
