"""Stage 5: the endpoints and endpointslice controllers.

Every Service with a selector gets an Endpoints object (ready pods in `addresses`, the others in
`notReadyAddresses`, one subset per distinct resolved port set) and EndpointSlices with per
endpoint ready/serving/terminating conditions. Readiness is the pod's Ready condition as the
kubelet stage left it. A selector that matches nothing leaves Endpoints without subsets and one
EndpointSlice with `endpoints: null`, which is what `kubectl describe svc` shows as `<none>`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.objects.index import add_object, index_of
from atlas_sre.sim.objects.meta import created_at, owner_ref, stamp
from atlas_sre.sim.objects.nodes import internal_ip
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.baseline import KUBERNETES_IP
from atlas_sre.sim.workloads.podstatus import pod_ready

MANAGED_BY = "endpointslice-controller.k8s.io"
MAX_PER_SLICE = 100


def resolve_port(pod: Obj, target: Any, protocol: str) -> int | None:
    """A Service targetPort (number, or a container port name) for one pod; None if unresolvable."""
    if isinstance(target, int) or (isinstance(target, str) and target.isdigit()):
        return int(target)
    for c in pod["spec"].get("containers") or []:
        for p in c.get("ports") or []:
            if p.get("name") == target and p.get("protocol", "TCP") == protocol:
                return int(p["containerPort"])
    return None


def _ports(svc: Obj, pod: Obj) -> tuple[tuple[str, int, str], ...]:
    """(name, port, protocol) per Service port this pod can serve, in Service order."""
    out = []
    for sp in svc["spec"].get("ports") or []:
        proto = sp.get("protocol", "TCP")
        port = resolve_port(pod, sp.get("targetPort", sp.get("port")), proto)
        if port is not None:
            out.append((sp.get("name", ""), port, proto))
    return tuple(out)


def _terminating(pod: Obj) -> bool:
    return bool(pod["metadata"].get("deletionTimestamp"))


def _trigger_time(state: ClusterState, svc: Obj, pods: list[Obj]) -> datetime:
    """The last time a pod behind the service changed (endpoints.kubernetes.io/last-change-trigger-time)."""
    times = [created_at(state, svc)]
    for p in pods:
        times.append(created_at(state, p))
        for c in (p.get("status") or {}).get("conditions") or []:
            if c.get("type") == "Ready" and c.get("lastTransitionTime"):
                times.append(parse_time(c["lastTransitionTime"]) - state.clock.shift)
    return max(times)


def _address(pod: Obj, svc: Obj, slice_form: bool) -> dict[str, Any]:
    md, spec = pod["metadata"], pod["spec"]
    ref = {"kind": "Pod", "namespace": md["namespace"], "name": md["name"], "uid": md["uid"]}
    addr: dict[str, Any] = {"addresses": [pod["status"]["podIP"]]} if slice_form else {"ip": pod["status"]["podIP"]}
    if spec.get("hostname") and spec.get("subdomain") == svc["metadata"]["name"]:
        addr["hostname"] = spec["hostname"]
    if spec.get("nodeName"):
        addr["nodeName"] = spec["nodeName"]
    addr["targetRef"] = ref
    return addr


def _eligible(svc: Obj, pods: list[Obj]) -> list[Obj]:
    out = []
    for p in pods:
        status = p.get("status") or {}
        if not status.get("podIP") or status.get("phase") in ("Succeeded", "Failed"):
            continue
        out.append(p)
    return sorted(out, key=lambda p: (tuple(int(x) for x in p["status"]["podIP"].split(".")), p["metadata"]["name"]))


def _write(spec: SimSpec, state: ClusterState, svc: Obj, pods: list[Obj]) -> None:
    md = svc["metadata"]
    publish = bool(svc["spec"].get("publishNotReadyAddresses"))
    groups: dict[tuple, list[Obj]] = {}
    for p in pods:
        groups.setdefault(_ports(svc, p), []).append(p)
    trigger = state.clock.iso(_trigger_time(state, svc, pods))
    labels = dict(md.get("labels") or {})
    if svc["spec"].get("clusterIP") == "None":
        labels["service.kubernetes.io/headless"] = ""
    subsets = []
    for ports, members in groups.items():
        members = [p for p in members if publish or not _terminating(p)]  # Endpoints drop terminating pods
        if not ports or not members:
            continue
        ready = [_address(p, svc, False) for p in members if publish or pod_ready(p)]
        waiting = [_address(p, svc, False) for p in members if not (publish or pod_ready(p))]
        subset: dict[str, Any] = {}
        if ready:
            subset["addresses"] = ready
        if waiting:
            subset["notReadyAddresses"] = waiting
        subset["ports"] = [{**({"name": n} if n else {}), "port": port, "protocol": proto} for n, port, proto in ports]
        subsets.append(subset)
    ep: Obj = {"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": md["name"], "namespace": md["namespace"],
                            "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": trigger}}}
    if labels:
        ep["metadata"]["labels"] = labels
    if subsets:
        ep["subsets"] = subsets
    add_object(state, stamp(state, spec.seed, ep, created_at(state, svc)))
    _slices(spec, state, svc, groups, labels, trigger, publish)


def _slices(spec: SimSpec, state: ClusterState, svc: Obj, groups: dict[tuple, list[Obj]], labels: dict[str, str],
            trigger: str, publish: bool) -> None:
    md = svc["metadata"]
    slice_labels = {**labels, "endpointslice.kubernetes.io/managed-by": MANAGED_BY,
                    "kubernetes.io/service-name": md["name"]}
    chunks: list[tuple[tuple, list[Obj]]] = []
    for ports, members in groups.items():
        for i in range(0, len(members), MAX_PER_SLICE):
            chunks.append((ports, members[i : i + MAX_PER_SLICE]))
    if not chunks:
        chunks = [((), [])]
    taken = index_of(state).names("EndpointSlice", md["namespace"])
    for n, (ports, members) in enumerate(chunks):
        name = f"{md['name']}-{ids.safe_suffix(5, spec.seed, md['namespace'], md['name'], n)}"
        while name in taken:
            name = f"{md['name']}-{ids.safe_suffix(5, spec.seed, name)}"
        endpoints = []
        for p in members:
            serving = publish or pod_ready(p)
            terminating = _terminating(p)
            ep = _address(p, svc, True)
            ep["conditions"] = {"ready": serving and not terminating, "serving": serving, "terminating": terminating}
            endpoints.append(ep)
        obj: Obj = {
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
            "metadata": {"name": name, "generateName": f"{md['name']}-", "namespace": md["namespace"],
                         "labels": slice_labels, "ownerReferences": [owner_ref(svc)],
                         "annotations": {"endpoints.kubernetes.io/last-change-trigger-time": trigger}},
            "endpoints": endpoints or None,
            "ports": [{"name": nm, "port": port, "protocol": proto} for nm, port, proto in ports] or None,
        }
        add_object(state, stamp(state, spec.seed, obj, created_at(state, svc)))


def _apiserver_endpoints(spec: SimSpec, state: ClusterState, svc: Obj) -> None:
    """`default/kubernetes`: the apiserver publishes its own address (the first node's, as on kind)."""
    ip = internal_ip(0)
    created = created_at(state, svc)
    ep: Obj = {"apiVersion": "v1", "kind": "Endpoints",
               "metadata": {"name": "kubernetes", "namespace": "default",
                            "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
               "subsets": [{"addresses": [{"ip": ip}], "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}]}
    sl: Obj = {"apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice", "addressType": "IPv4",
               "metadata": {"name": "kubernetes", "namespace": "default",
                            "labels": {"kubernetes.io/service-name": "kubernetes"}},
               "endpoints": [{"addresses": [ip], "conditions": {"ready": True}}],
               "ports": [{"name": "https", "port": 6443, "protocol": "TCP"}]}
    add_object(state, stamp(state, spec.seed, ep, created))
    add_object(state, stamp(state, spec.seed, sl, created))


def reconcile_endpoints(spec: SimSpec, state: ClusterState) -> None:
    """The endpoints stage: Endpoints and EndpointSlices for every Service that selects pods."""
    idx = index_of(state)
    for svc in idx.list("Service"):
        md, sspec = svc["metadata"], svc.get("spec") or {}
        if md["namespace"] == "default" and md["name"] == "kubernetes" and sspec.get("clusterIP") == KUBERNETES_IP:
            _apiserver_endpoints(spec, state, svc)
            continue
        if not sspec.get("selector") or sspec.get("type") == "ExternalName":
            continue
        if idx.get("Endpoints", md["namespace"], md["name"]) is not None:
            continue
        pods = _eligible(svc, idx.select_pods(md["namespace"], sspec["selector"]))
        _write(spec, state, svc, pods)
