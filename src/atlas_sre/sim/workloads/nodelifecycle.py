"""The node lifecycle and taint-eviction controllers: what a lost node does to its pods.

When history says a node stopped being Ready at `at`, the node controller notices after the
40s grace period, taints it NoExecute and marks its pods not Ready; each pod is then evicted once
its toleration for the taint runs out (300s by default) and stays Terminating (its kubelet cannot
confirm), while a ReplicaSet creates a replacement elsewhere. StatefulSet pods are not replaced
until they are really gone, DaemonSet pods tolerate the taint forever.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from atlas_sre.sim.events import emit
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.meta import created_at
from atlas_sre.sim.objects.nodes import HISTORY_KEY, NodeBefore
from atlas_sre.sim.scheduler.core import scheduler_of
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.replicasets import RUNS_KEY, scale_to

MONITOR_GRACE = timedelta(seconds=40)  # --node-monitor-grace-period
EVICTED_KEY = "evicted"
EVICTOR = "taint-eviction-controller"


def lost_nodes(state: ClusterState) -> dict[str, NodeBefore]:
    """Nodes that stopped being Ready at a known time (from history)."""
    return {name: b for name, b in state.extras.get(HISTORY_KEY, {}).items() if b.ready_after != "True"}


def _toleration_seconds(pod: Obj, key: str) -> int | None:
    """How long the pod tolerates the NoExecute taint `key` (None: forever, 0: not at all)."""
    for t in pod["spec"].get("tolerations") or []:
        if t.get("effect") not in (None, "", "NoExecute"):
            continue
        if (not t.get("key") and t.get("operator") == "Exists") or t.get("key") == key:
            seconds = t.get("tolerationSeconds")
            return None if seconds is None else max(int(seconds), 0)
    return 0


def _evict(spec: SimSpec, state: ClusterState, pod: Obj, at: datetime) -> None:
    md = pod["metadata"]
    state.extras.setdefault(EVICTED_KEY, {})[md["uid"]] = at
    emit(state, pod, "TaintManagerEviction", f"Marking for deletion Pod {md['namespace']}/{md['name']}",
         first=at, component=EVICTOR)
    owners = md.get("ownerReferences") or []
    run = state.extras.get(RUNS_KEY, {}).get(owners[0]["uid"]) if owners else None
    if run is not None and pod in run.pods:
        run.pods.remove(pod)  # a terminating pod no longer counts: the ReplicaSet replaces it
        scale_to(spec, state, run, int(run.rs["spec"].get("replicas", 0)), at)


def eviction_actions(spec: SimSpec, state: ClusterState) -> list[tuple[datetime, Callable[[], None]]]:
    """Deferred controller work: evict pods from each lost node once their tolerations run out."""
    actions: list[tuple[datetime, Callable[[], None]]] = []
    for name, before in lost_nodes(state).items():
        noticed = before.at + MONITOR_GRACE
        key = "node.kubernetes.io/unreachable" if before.ready_after == "Unknown" else "node.kubernetes.io/not-ready"

        def evict_all(name: str = name, before: NodeBefore = before, noticed: datetime = noticed,
                      key: str = key) -> None:
            sched = scheduler_of(spec, state)
            for pod in index_of(state).list("Pod"):
                node = sched.pod_node.get(pod["metadata"]["uid"])
                if node is None or node.name != name or created_at(state, pod) >= before.at:
                    continue
                seconds = _toleration_seconds(pod, key)
                if seconds is not None and noticed + timedelta(seconds=seconds) <= state.clock.observe_at:
                    _evict(spec, state, pod, noticed + timedelta(seconds=seconds))

        actions.append((noticed, evict_all))
    return actions


def mark_lost_pods(spec: SimSpec, state: ClusterState) -> None:
    """After the kubelet stage: pods of lost nodes are not Ready; evicted ones are Terminating."""
    lost = lost_nodes(state)
    evicted = state.extras.get(EVICTED_KEY, {})
    clock = state.clock
    for pod in index_of(state).list("Pod"):
        before = lost.get(pod["spec"].get("nodeName") or "")
        if before is None:
            continue
        status = pod.setdefault("status", {})
        since = max(before.at + MONITOR_GRACE, created_at(state, pod))
        conditions = [c for c in status.get("conditions") or [] if c.get("type") != "Ready"]
        conditions.append({"type": "Ready", "status": "False", "lastProbeTime": None,
                           "lastTransitionTime": clock.iso(since)})
        at = evicted.get(pod["metadata"]["uid"])
        if at is not None:
            conditions.append({"type": "DisruptionTarget", "status": "True", "lastProbeTime": None,
                               "lastTransitionTime": clock.iso(at), "reason": "DeletionByTaintManager",
                               "message": "Taint manager: deleting due to NoExecute taint"})
            grace = int(pod["spec"].get("terminationGracePeriodSeconds", 30))
            pod["metadata"]["deletionTimestamp"] = clock.iso(at + timedelta(seconds=grace))
            pod["metadata"]["deletionGracePeriodSeconds"] = grace
        status["conditions"] = conditions
