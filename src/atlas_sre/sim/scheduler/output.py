"""Writing the scheduler's decisions onto pods: nodeName, PodScheduled, IPs and its events.

A refused pod gets its first FailedScheduling event when created, then one aggregated series for
the retries every five minutes (the flush of the unschedulable queue) until it is placed or
observed; a placed pod gets "Successfully assigned ns/pod to node".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from atlas_sre.sim.events import SCHEDULER, emit
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.meta import created_at
from atlas_sre.sim.objects.storage import bind_waiting_claims
from atlas_sre.sim.scheduler.nodes import NodeState
from atlas_sre.sim.state import ClusterState, Obj, SimSpec

RETRY = timedelta(minutes=5)  # unschedulable pods are flushed back to the active queue this often


@dataclass
class Decision:
    """What the scheduler did with one pod."""

    node: str | None = None
    at: datetime | None = None
    failed_at: datetime | None = None
    message: str | None = None
    by_scheduler: bool = True
    nominated: str | None = None  # status.nominatedNodeName: the node preemption made room on


class Decided(Protocol):
    """What writing decisions reads from the scheduler (`core.Scheduler`)."""

    spec: SimSpec
    state: ClusterState
    decisions: dict[str, Decision]  # pod uid -> what was decided
    by_name: dict[str, NodeState]


def write_decisions(sched: Decided) -> None:
    """Write every decided pod, then bind WaitForFirstConsumer claims their pods now use."""
    consumers: dict[tuple[str, str], datetime] = {}
    for pod in index_of(sched.state).list("Pod"):
        d = sched.decisions.get(pod["metadata"]["uid"])
        if d is not None:
            _write(sched, pod, d, consumers)
    bind_waiting_claims(sched.state, sched.spec.seed, consumers)


def _write(sched: Decided, pod: Obj, d: Decision, consumers: dict[tuple[str, str], datetime]) -> None:
    md, status, clock = pod["metadata"], pod.setdefault("status", {}), sched.state.clock
    if d.failed_at and d.message:
        until = d.at or clock.observe_at
        retries = int((until - d.failed_at) / RETRY)
        emit(sched.state, pod, "FailedScheduling", d.message, first=d.failed_at, type_="Warning",
             component=SCHEDULER)
        if retries:
            emit(sched.state, pod, "FailedScheduling", d.message, first=d.failed_at + RETRY,
                 last=d.failed_at + RETRY * retries, count=retries, type_="Warning", component=SCHEDULER,
                 name_salt="series")
    if d.nominated:
        status["nominatedNodeName"] = d.nominated
    if d.node is None:
        if d.message:
            status["conditions"] = [{"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                                     "lastTransitionTime": clock.iso(d.failed_at or created_at(sched.state, pod)),
                                     "reason": "Unschedulable", "message": d.message}]
        return
    node = sched.by_name[d.node]
    pod["spec"]["nodeName"] = node.name
    at = d.at or created_at(sched.state, pod)
    if d.by_scheduler:
        emit(sched.state, pod, "Scheduled", f"Successfully assigned {md['namespace']}/{md['name']} to {node.name}",
             first=at, component=SCHEDULER)
    status["conditions"] = [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                             "lastTransitionTime": clock.iso(at)}]
    status["hostIP"] = node.ip
    status["hostIPs"] = [{"ip": node.ip}]
    ip = node.ip if pod["spec"].get("hostNetwork") else node.pod_ip(md["uid"])
    status["podIP"] = ip
    status["podIPs"] = [{"ip": ip}]
    for vol in pod["spec"].get("volumes") or []:
        claim = (vol.get("persistentVolumeClaim") or {}).get("claimName")
        if claim:
            consumers.setdefault((md["namespace"], claim), at)
