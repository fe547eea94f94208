"""Builders for kubelet tests: already-scheduled pods on a node, config objects, one stage run."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.clock import UTC, SimClock
from atlas_sre.sim.images import ImageBehaviour
from atlas_sre.sim.kubelet.stage import kubelet_stage
from atlas_sre.sim.state import Change, ClusterState, SimSpec

Obj = dict[str, Any]
START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
NS = "shop"
POD_IP = "10.244.0.12"
SEED = 7


def clock(minutes: float = 40) -> SimClock:
    return SimClock(START, START, START + timedelta(minutes=minutes))


def node(name: str = "worker-1") -> Obj:
    return {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
            "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.2"}]}}


def container(name: str, image: str, **extra: Any) -> Obj:
    return {"name": name, "image": image, **extra}


def pod(name: str, containers: list[Obj], *, init: list[Obj] | None = None, volumes: list[Obj] | None = None,
        restart_policy: str | None = None, node_name: str | None = "worker-1", created: datetime = START,
        ns: str = NS, **spec_extra: Any) -> Obj:
    spec: Obj = {"containers": containers, **spec_extra}
    if init:
        spec["initContainers"] = init
    if volumes:
        spec["volumes"] = volumes
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    status: Obj = {"phase": "Pending"}
    if node_name:
        spec["nodeName"] = node_name
        status.update({
            "conditions": [{"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                            "lastTransitionTime": created.strftime("%Y-%m-%dT%H:%M:%SZ")}],
            "hostIP": "172.18.0.2", "hostIPs": [{"ip": "172.18.0.2"}],
            "podIP": POD_IP, "podIPs": [{"ip": POD_IP}],
        })
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "uid": ids.uid(SEED, "Pod", ns, name),
                         "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ")},
            "spec": spec, "status": status}


def configmap(name: str, data: dict[str, str], ns: str = NS) -> Obj:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": ns}, "data": data}


def secret(name: str, data: dict[str, str], ns: str = NS) -> Obj:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": ns}, "type": "Opaque",
            "data": encoded}


def behaviour(**kw: Any) -> ImageBehaviour:
    return ImageBehaviour.model_validate(kw)


def run(objects: list[Obj], registry: dict[str, ImageBehaviour], minutes: float = 40,
        history: dict[str, Change] | None = None) -> ClusterState:
    objs = [node(), *objects]
    spec = SimSpec(manifests=[], registry=registry, clock=clock(minutes), seed=SEED, history=history or {})
    state = ClusterState(clock=spec.clock, objects=objs)
    kubelet_stage(spec, state)
    return state


def get_pod(state: ClusterState, name: str, ns: str = NS) -> Obj:
    found = state.get("Pod", ns, name)
    assert found is not None
    return found


def cstatus(state: ClusterState, pod_name: str, container_name: str | None = None, init: bool = False) -> Obj:
    p = get_pod(state, pod_name)
    statuses = p["status"]["initContainerStatuses" if init else "containerStatuses"]
    if container_name is None:
        return statuses[0]
    return next(s for s in statuses if s["name"] == container_name)


def events(state: ClusterState, pod_name: str) -> dict[tuple[str, str], Obj]:
    """Events about a pod keyed by (reason, message)."""
    return {(e["reason"], e["message"]): e for e in state.find("Event")
            if e["involvedObject"]["name"] == pod_name}


def logs(state: ClusterState, pod_name: str, container_name: str, previous: bool = False) -> list[str] | None:
    from atlas_sre.sim.state import LogKey

    lines = state.logs.get(LogKey(NS, pod_name, container_name, previous))
    return None if lines is None else [line.text for line in sorted(lines, key=lambda x: x.ts)]


def iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")
