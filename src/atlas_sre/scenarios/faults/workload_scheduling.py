"""Scheduling faults: pods that cannot be placed (a node that does not exist, a cordoned node, an
impossible anti-affinity rule, a PersistentVolumeClaim that does not exist)."""

from __future__ import annotations

import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, fault
from atlas_sre.scenarios.faults.capacity import node_names
from atlas_sre.scenarios.faults.common import main_container, pick, serving_workloads
from atlas_sre.scenarios.faults.quantity import mebibytes, millicores
from atlas_sre.scenarios.faults.topology import kind_objects, pod_spec

HOSTNAME = "kubernetes.io/hostname"
PENDING = Signature(alerts=("KubePodNotReady",), events=("FailedScheduling",), pod=("Pending",))


class NodeArgs(FaultArgs):
    node: str | None = None  # default: a node name that is not in the cluster


def _missing_node(parts: Parts) -> str:
    names = node_names(parts)
    base = names[-1].rstrip("0123456789") if names else "worker"
    i = len(names) + 1
    while f"{base}{i}" in names:
        i += 1
    return f"{base}{i}"


@fault("nonexistent-kubernetes-workload-node",
       "Pin the workload to a node name (nodeSelector) that is not in the cluster.",
       category="Misconfiguration", args=NodeArgs, candidates=serving_workloads, symptom="pending", signature=PENDING,
       draw=lambda parts, target, rng: {"node": _missing_node(parts)})
def NONEXISTENT_NODE(parts: Parts, target: Ref, args: NodeArgs, rng: random.Random) -> Impact:
    node = args.node or _missing_node(parts)
    if node in node_names(parts):
        raise FaultError(f"fault nonexistent-kubernetes-workload-node: node {node!r} exists")
    pod_spec(parts.edit(target))["nodeSelector"] = {HOSTNAME: node}
    return Impact(target, f"nodeSelector pins the pods to node {node}, which does not exist",
                  "new pods Pending (no node matches the selector)")


class CordonArgs(FaultArgs):
    node: str | None = None  # default: the first node


@fault("cordoned-kubernetes-worker-node",
       "Cordon the node a workload is pinned to, so its pods cannot be (re)scheduled.",
       category="Resource Unavailable", args=CordonArgs, candidates=serving_workloads, symptom="pending",
       signature=PENDING, draw=lambda parts, target, rng: {"node": pick(rng, node_names(parts))})
def CORDONED_NODE(parts: Parts, target: Ref, args: CordonArgs, rng: random.Random) -> Impact:
    names = node_names(parts)
    node = args.node or (names[0] if names else None)
    if node not in names:
        raise FaultError(f"fault cordoned-kubernetes-worker-node: node {node!r} is not in the cluster")
    n = parts.edit(Ref("Node", node))
    spec = n.setdefault("spec", {})
    spec["unschedulable"] = True
    taint = {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}
    if taint not in spec.setdefault("taints", []):
        spec["taints"].append(taint)
    pod_spec(parts.edit(target))["nodeSelector"] = {HOSTNAME: node}
    return Impact(Ref("Node", node), f"node {node} is cordoned (SchedulingDisabled) while {target.name} is pinned "
                  "to it, so its new pods cannot be placed", "new pods Pending (node unschedulable)",
                  related=[target], component=target)


class AntiAffinityArgs(FaultArgs):
    replicas: int | None = None  # default: one more than there are nodes
    topologyKey: str = HOSTNAME


@fault("unschedulable-kubernetes-workload-pod-anti-affinity-rule",
       "Require one pod per node (pod anti-affinity) while asking for more replicas than nodes.",
       category="Misconfiguration", args=AntiAffinityArgs, candidates=serving_workloads, symptom="pending",
       signature=PENDING, draw=lambda parts, target, rng: {"replicas": len(node_names(parts)) + rng.choice([1, 2])})
def ANTI_AFFINITY(parts: Parts, target: Ref, args: AntiAffinityArgs, rng: random.Random) -> Impact:
    w = parts.edit(target)
    sel = (w["spec"].get("selector") or {}).get("matchLabels") or {}
    replicas = args.replicas or len(node_names(parts)) + 1
    w["spec"]["replicas"] = replicas
    pod_spec(w)["affinity"] = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": dict(sel)}, "topologyKey": args.topologyKey}]}}
    return Impact(target, f"required pod anti-affinity on {args.topologyKey} allows one pod per node, but "
                  f"{replicas} replicas are requested on {len(node_names(parts))} nodes",
                  "pods Pending (anti-affinity cannot be satisfied)")


class PvcArgs(FaultArgs):
    claimName: str | None = None  # default: the existing claim with a typo, or `<workload>-data`


@fault("nonexistent-kubernetes-workload-persistent-volume-claim", "Mount a PersistentVolumeClaim that does not exist.",
       category="Misconfiguration", args=PvcArgs, candidates=serving_workloads, symptom="pending", signature=PENDING)
def MISSING_PVC(parts: Parts, target: Ref, args: PvcArgs, rng: random.Random) -> Impact:
    w = parts.edit(target)
    spec = pod_spec(w)
    vols = [v for v in spec.get("volumes") or [] if "persistentVolumeClaim" in v]
    claim = args.claimName or (vols[0]["persistentVolumeClaim"]["claimName"].replace("-pvc", "-data-pvc")
                               if vols else f"{target.name}-data")
    if parts.find(Ref("PersistentVolumeClaim", claim, target.namespace)) is not None:
        raise FaultError(f"fault nonexistent-kubernetes-workload-persistent-volume-claim: claim {claim!r} exists")
    if vols:
        vols[0]["persistentVolumeClaim"]["claimName"] = claim
    else:
        spec.setdefault("volumes", []).append({"name": "data", "persistentVolumeClaim": {"claimName": claim}})
        main_container(w).setdefault("volumeMounts", []).append({"name": "data", "mountPath": "/var/lib/data"})
    return Impact(target, f"pod volume references PersistentVolumeClaim {claim}, which does not exist",
                  "new pods Pending (persistentvolumeclaim not found)")



class OversizedArgs(FaultArgs):
    container: str | None = None
    cpu: str | None = None  # default: half again what the largest node can allocate
    memory: str | None = None


def _largest(parts: Parts, resource: str) -> float:
    conv = millicores if resource == "cpu" else mebibytes
    return max((conv(((n.get("status") or {}).get("allocatable") or {}).get(resource, 0))
                for n in kind_objects(parts, "Node")), default=0.0)


@fault("oversized-kubernetes-workload-resource-requests",
       "Raise a container's resource requests above what any node can allocate.",
       category="Misconfiguration", args=OversizedArgs, candidates=serving_workloads, symptom="pending",
       signature=PENDING,
       draw=lambda parts, target, rng: (
           {"cpu": f"{int(_largest(parts, 'cpu') * rng.choice([1.25, 1.5, 2]))}m"} if rng.random() < 0.6 else
           {"memory": f"{int(_largest(parts, 'memory') / 1024 * rng.choice([1.5, 2]))}Gi"}))
def OVERSIZED_REQUESTS(parts: Parts, target: Ref, args: OversizedArgs, rng: random.Random) -> Impact:
    cpu = args.cpu or (None if args.memory else f"{int(_largest(parts, 'cpu') * 1.5)}m")
    c = main_container(parts.edit(target), args.container)
    res = c.setdefault("resources", {})
    asked = []
    for key, value in (("cpu", cpu), ("memory", args.memory)):
        if value:
            res.setdefault("requests", {})[key] = value
            if key in (res.get("limits") or {}):
                res["limits"][key] = value
            asked.append(f"{key} {value}")
    return Impact(target, f"container {c['name']} requests {' and '.join(asked)}, more than any node can allocate",
                  "new pods Pending (Insufficient resources)")


FAULTS = [NONEXISTENT_NODE, CORDONED_NODE, ANTI_AFFINITY, MISSING_PVC, OVERSIZED_REQUESTS]
