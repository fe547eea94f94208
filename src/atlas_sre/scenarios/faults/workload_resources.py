"""Resource faults: a memory limit below what the process needs, a ResourceQuota that blocks new pods,
an HPA that scales a workload past what the cluster holds, and a priority class that lets a
batch job preempt a service."""

from __future__ import annotations

import math
import random

from atlas_sre.scenarios.faults.base import FaultArgs, FaultError, Impact, Parts, Ref, Signature, fault
from atlas_sre.scenarios.faults.capacity import (
    allocatable,
    node_names,
    pod_count,
    pod_request,
    requested,
)
from atlas_sre.scenarios.faults.common import behaviour, main_container, pick, restart, serving_workloads
from atlas_sre.scenarios.faults.quantity import mebibytes
from atlas_sre.scenarios.faults.topology import pod_spec
from atlas_sre.sim.images import ImageBehaviour, LogTemplates, Usage


class ResourcesArgs(FaultArgs):
    container: str | None = None
    memoryLimit: str | None = None  # default: about half of what the process uses


def _draw_oom(parts: Parts, target: Ref, rng: random.Random) -> dict[str, object]:
    usage = behaviour(parts, main_container(parts.require(target))).usage.memoryMi
    return {"memoryLimit": f"{max(8, int(usage * rng.choice([0.3, 0.5, 0.6])))}Mi"}


@fault("insufficient-kubernetes-workload-container-resources",
       "Lower a container's memory limit below its working set, so it is OOMKilled.",
       category="Resource Saturation", args=ResourcesArgs, candidates=serving_workloads, symptom="crashloop",
       signature=Signature(alerts=("KubePodCrashLooping",), events=("BackOff",), pod=("OOMKilled", "CrashLoopBackOff")),
       draw=_draw_oom)
def INSUFFICIENT_RESOURCES(parts: Parts, target: Ref, args: ResourcesArgs, rng: random.Random) -> Impact:
    c = main_container(parts.edit(target), args.container)
    usage = behaviour(parts, c).usage.memoryMi
    limit = args.memoryLimit or f"{max(8, int(usage * 0.5))}Mi"
    if mebibytes(limit) >= usage:
        raise FaultError(f"fault insufficient-kubernetes-workload-container-resources: memoryLimit {limit} "
                         f"is not below the {usage}Mi the process uses")
    res = c.setdefault("resources", {})
    res.setdefault("limits", {})["memory"] = limit
    if mebibytes((res.get("requests") or {}).get("memory")) > mebibytes(limit):
        res["requests"]["memory"] = limit
    return Impact(target, f"container {c['name']} memory limit {limit} is below its working set (~{usage}Mi)",
                  "containers are OOMKilled and crash-loop")


class QuotaArgs(FaultArgs):
    name: str = "compute-resources"
    resource: str = "pods"  # pods | requests.cpu | requests.memory


# `pods` by default: a count means the same whether or not admission sees the injected sidecar.


@fault("insufficient-kubernetes-resource-quota",
       "Add a ResourceQuota at the namespace's current usage, then roll the workload: new pods are refused.",
       category="Resource Unavailable", args=QuotaArgs, candidates=serving_workloads, symptom="rollout",
       signature=Signature(alerts=("KubeDeploymentReplicasMismatch", "KubeDeploymentRolloutStuck",
                                   "KubeQuotaFullyUsed"), events=("FailedCreate",)),
       draw=lambda parts, target, rng: {"name": pick(rng, ["compute-resources", "team-quota", "namespace-limits"])})
def INSUFFICIENT_QUOTA(parts: Parts, target: Ref, args: QuotaArgs, rng: random.Random) -> Impact:
    ns = target.namespace or "default"
    if args.resource == "pods":
        hard = str(pod_count(parts, ns))
    elif args.resource in ("requests.cpu", "requests.memory"):
        res = args.resource.split(".")[1]
        used = requested(parts, ns, res)
        hard = f"{int(used)}m" if res == "cpu" else f"{int(used)}Mi"
    else:
        raise FaultError(f"fault insufficient-kubernetes-resource-quota: args.resource: {args.resource!r} "
                         "is not one of pods, requests.cpu, requests.memory")
    quota = {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": {"name": args.name, "namespace": ns},
             "spec": {"hard": {args.resource: hard}}}
    parts.add(quota)
    restart(parts, target)
    return Impact(Ref("ResourceQuota", args.name, ns),
                  f"ResourceQuota {args.name} caps {args.resource} at {hard}, what the namespace already uses; "
                  f"the restarted {target.name} cannot create pods", "FailedCreate: exceeded quota",
                  component=target)


class HpaArgs(FaultArgs):
    name: str | None = None
    minReplicas: int | None = None  # default: maxReplicas (the autoscaler can only scale up to it)
    maxReplicas: int | None = None  # default: more pods than the cluster has CPU for
    averageUtilization: int = 1  # target CPU utilisation in percent


@fault("misconfigured-kubernetes-horizontal-pod-autoscaler",
       "An HPA with a 1% CPU target and a huge maxReplicas scales the workload beyond cluster capacity.",
       category="Misconfiguration", args=HpaArgs,
       candidates=lambda parts: [r for r in serving_workloads(parts)
                                                   if pod_request(parts, parts.require(r), "cpu", False) >= 100],
       symptom="pending",
       signature=Signature(alerts=("KubeHpaMaxedOut", "KubePodNotReady"), events=("FailedScheduling",),
                           pod=("Pending",)),
       draw=lambda parts, target, rng: {"averageUtilization": rng.choice([1, 2, 5])})
def MISCONFIGURED_HPA(parts: Parts, target: Ref, args: HpaArgs, rng: random.Random) -> Impact:
    w = parts.require(target)
    # Sized on the app containers alone: even if sidecar requests were not counted, the pods overflow.
    per_pod = max(pod_request(parts, w, "cpu", sidecar=False), 50.0)
    free = allocatable(parts, "cpu") - requested(parts, None, "cpu", sidecar=False)
    most = args.maxReplicas or int(math.ceil(free / per_pod)) + 8
    least = args.minReplicas or most
    if least > most:
        raise FaultError("fault misconfigured-kubernetes-horizontal-pod-autoscaler: minReplicas > maxReplicas")
    name = args.name or target.name
    hpa = {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
           "metadata": {"name": name, "namespace": target.namespace},
           "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": target.kind, "name": target.name},
                    "minReplicas": least, "maxReplicas": most,
                    "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                        "type": "Utilization", "averageUtilization": args.averageUtilization}}}]}}
    parts.add(hpa)
    return Impact(Ref("HorizontalPodAutoscaler", name, target.namespace or "default"),
                  f"HPA {name} holds {target.name} at minReplicas {least} (maxReplicas {most}, CPU target "
                  f"{args.averageUtilization}%), more pods than the nodes can hold",
                  "replicas Pending (Insufficient cpu)", component=target)


class PreemptionArgs(FaultArgs):
    batchNamespace: str = "batch"
    batchName: str = "nightly-report-builder"
    highPriority: int = 1000000
    lowPriority: int = -10


def behaviour_for_batch() -> ImageBehaviour:
    """A CPU-hungry reporting job: it never serves traffic, it only needs the nodes."""
    return ImageBehaviour(entrypoint=["/usr/bin/report-builder"], usage=Usage(memoryMi=380, cpuMilli=900),
                          logs=LogTemplates(startup=["INFO report-builder 3.4.1: building 412 partner reports",
                                                     "INFO worker pool size=16"]))


@fault("priority-kubernetes-workload-priority-preemption",
       "Give the workload a low PriorityClass while a high-priority batch job claims the cluster's CPU.",
       category="Resource Unavailable", args=PreemptionArgs, candidates=serving_workloads, symptom="pending",
       signature=Signature(alerts=("KubePodNotReady",), events=("FailedScheduling",), pod=("Pending",)),
       draw=lambda parts, target, rng: {"batchName": pick(rng, ["nightly-report-builder", "ml-feature-backfill",
                                                                "invoice-batch"])})
def PRIORITY_PREEMPTION(parts: Parts, target: Ref, args: PreemptionArgs, rng: random.Random) -> Impact:
    w = parts.edit(target)
    nodes = node_names(parts)
    # Sized on app containers alone: the batch fits beside everything that runs, leaving less than one
    # more pod of the target, so the target's next pods (its rollout) find no room.
    one = pod_request(parts, w, "cpu", sidecar=False)
    spare = allocatable(parts, "cpu") - requested(parts, None, "cpu", sidecar=False) - one / 2
    per_node = int(spare / max(len(nodes), 1))
    if per_node < 100:
        raise FaultError("fault priority-kubernetes-workload-priority-preemption: the cluster has no room "
                         "for the batch workload")
    pod_spec(w)["priorityClassName"] = "best-effort"
    image = "registry.example.com/analytics/report-builder:3.4.1"
    parts.add_image(image, behaviour_for_batch())
    labels = {"app": args.batchName}
    parts.add({"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"name": args.batchName, "namespace": args.batchNamespace, "labels": labels},
               "spec": {"replicas": len(nodes), "selector": {"matchLabels": labels},
                        "template": {"metadata": {"labels": labels}, "spec": {
                            "priorityClassName": "batch-critical",
                            "containers": [{"name": "builder", "image": image, "resources": {
                                "requests": {"cpu": f"{per_node}m", "memory": "512Mi"},
                                "limits": {"memory": "1Gi"}}}]}}}}, first=True)
    if not any(o["kind"] == "Namespace" and o["metadata"]["name"] == args.batchNamespace for o in parts.manifests):
        parts.add({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": args.batchNamespace}}, first=True)
    parts.add({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "batch-critical"},
               "value": args.highPriority, "description": "Reporting jobs that must finish overnight."}, first=True)
    parts.add({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "best-effort"},
               "value": args.lowPriority, "description": "Workloads that may be preempted."}, first=True)
    return Impact(Ref("Deployment", args.batchName, args.batchNamespace),
                  f"high-priority {args.batchName} takes the CPU that {target.name} (priority class best-effort, "
                  f"{args.lowPriority}) needs; {target.name}'s new pods cannot be placed",
                  "pods Pending (Insufficient cpu)", related=[Ref("PriorityClass", "best-effort"),
                                                              Ref("PriorityClass", "batch-critical")],
                  component=target)


FAULTS = [INSUFFICIENT_RESOURCES, INSUFFICIENT_QUOTA, MISCONFIGURED_HPA, PRIORITY_PREEMPTION]
