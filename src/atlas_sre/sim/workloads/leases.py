"""Leases: the kubelets' heartbeats in kube-node-lease and the control plane's leader locks.

Every kubelet renews a Lease named after its node every 10 s (`leaseDurationSeconds: 40`);
`kubectl describe node` reads it for its `Lease:` block, and a missing one prints "Failed to get
lease", which reads as a broken kubelet. The renew time follows the node: a kubelet that stopped
posting status (Ready=Unknown) stopped renewing then; a NotReady kubelet still renews. The
control-plane components hold their leader-election Leases in kube-system, and each
kube-apiserver its identity Lease, all renewed within their periods before the observation.
"""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.objects.index import add_object, index_of
from atlas_sre.sim.objects.meta import created_at, stamp
from atlas_sre.sim.objects.nodes import node_ready
from atlas_sre.sim.state import ClusterState, Obj, SimSpec
from atlas_sre.sim.workloads.kubeadm import is_control_plane

NODE_LEASE_NS = "kube-node-lease"
API = "coordination.k8s.io/v1"


def _lease(name: str, namespace: str, holder: str, duration: int, renew: str, **extra: Any) -> Obj:
    spec: dict[str, Any] = {"holderIdentity": holder, "leaseDurationSeconds": duration}
    spec.update(extra.pop("spec", {}))
    spec["renewTime"] = renew
    return {"apiVersion": API, "kind": "Lease", "metadata": {"name": name, "namespace": namespace, **extra},
            "spec": spec}


def _last_heartbeat(state: ClusterState, node: Obj) -> datetime:
    """When the kubelet last renewed: the Ready condition's heartbeat once it stopped posting."""
    clock = state.clock
    if node_ready(node) == "Unknown":
        for cond in (node.get("status") or {}).get("conditions") or []:
            if cond.get("type") == "Ready" and cond.get("lastHeartbeatTime"):
                return parse_time(cond["lastHeartbeatTime"]) - clock.shift
    offset = int.from_bytes(ids.digest("lease", node["metadata"]["name"])[:2], "big") % 10_000
    return clock.observe_at - timedelta(milliseconds=offset)


def node_lease(state: ClusterState, node: Obj) -> Obj:
    """The kubelet's Lease for `node`, owned by the Node as the kubelet creates it."""
    md = node["metadata"]
    owner = {"apiVersion": "v1", "kind": "Node", "name": md["name"], "uid": md["uid"]}
    return _lease(md["name"], NODE_LEASE_NS, md["name"], 40, state.clock.iso_micro(_last_heartbeat(state, node)),
                  ownerReferences=[owner])


def _leader_leases(spec: SimSpec, state: ClusterState, node: str) -> list[Obj]:
    """kube-controller-manager's and kube-scheduler's locks, and the apiserver's identity Lease."""
    clock = state.clock
    start = clock.iso_micro(clock.start + timedelta(seconds=14))
    out = []
    for component, offset in (("kube-controller-manager", 900), ("kube-scheduler", 1300)):
        holder = f"{node}_{ids.uid(spec.seed, 'leader', component, node)}"
        out.append(_lease(component, "kube-system", holder, 15,
                          clock.iso_micro(clock.observe_at - timedelta(milliseconds=offset)),
                          spec={"acquireTime": start, "leaseTransitions": 0}))
    # kube-apiserver names it from a base32 hash of its hostname
    identity = f"apiserver-{base64.b32encode(ids.digest(spec.seed, 'apiserver', node)).decode()[:26].lower()}"
    out.append(_lease(identity, "kube-system", f"{identity}_{ids.uid(spec.seed, 'apiserver', None, node)}", 3600,
                      clock.iso_micro(clock.observe_at - timedelta(milliseconds=4200)),
                      labels={"apiserver.kubernetes.io/identity": "kube-apiserver",
                              "kubernetes.io/hostname": node}))
    return out


def add_leases(spec: SimSpec, state: ClusterState, nodes: list[Obj]) -> None:
    """Store one Lease per (completed) node, plus the control plane's, unless declared."""
    objs: list[tuple[Obj, datetime]] = [(node_lease(state, n), created_at(state, n)) for n in nodes]
    control = next((n for n in nodes if is_control_plane(n)), None)
    if control is not None:
        objs += [(o, state.clock.start) for o in _leader_leases(spec, state, control["metadata"]["name"])]
    for obj, created in objs:
        md = obj["metadata"]
        if index_of(state).get("Lease", md["namespace"], md["name"]) is None:
            add_object(state, stamp(state, spec.seed, obj, created))
