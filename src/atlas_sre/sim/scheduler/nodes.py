"""Per-node scheduler bookkeeping: allocatable, what is requested, ports, owners, pod IPs.

Plus the filters whose answer changes as pods are placed (NodePorts, NodeResourcesFit,
PodTopologySpread, InterPodAffinity) and the score that picks among feasible nodes.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from atlas_sre.kube.labels import workload_selector_matches
from atlas_sre.kube.quantity import amount
from atlas_sre.kube.requests import NON_ZERO_CPU_MILLI, NON_ZERO_MEMORY
from atlas_sre.sim import ids
from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.nodes import HISTORY_KEY, NodeBefore, node_address, node_ready
from atlas_sre.sim.scheduler import filters as f
from atlas_sre.sim.state import ClusterState, Obj

Verdict = tuple["NodeState", str | None, int, int]  # node, static reason, preferred weight, soft taints

class Placements(Protocol):
    """What the node filters read from the scheduler (`core.Scheduler`): the state, the nodes, the bindings."""

    state: ClusterState
    nodes: list[NodeState]
    pod_node: dict[str, NodeState]  # pod uid -> the node it is bound to


@dataclass
class NodeState:
    """One node as the scheduler's cache sees it."""

    name: str
    index: int
    labels: dict[str, str]
    taints: list[dict[str, Any]]
    unschedulable: bool
    ready: str
    ip: str
    alloc: dict[str, int]
    requested: Counter = field(default_factory=Counter)
    nonzero_cpu: int = 0
    nonzero_mem: int = 0
    pods: int = 0
    ports: set[tuple[str, int]] = field(default_factory=set)
    owners: Counter = field(default_factory=Counter)
    ips: dict[str, str] = field(default_factory=dict)
    next_ip: int = 0
    max_pods: int = 110
    version: int = 0  # bumped whenever a pod is added or removed (scores cached elsewhere go stale)
    before: NodeBefore | None = None  # taints/cordon before the node's change (history)

    def add(self, pod: Obj, requests: dict[str, int]) -> None:
        """Account a pod bound to this node."""
        self.version += 1
        self.requested.update(requests)
        self.nonzero_cpu += requests.get("cpu") or NON_ZERO_CPU_MILLI
        self.nonzero_mem += requests.get("memory") or NON_ZERO_MEMORY
        self.pods += 1
        self.ports |= f.host_ports(pod["spec"])
        owners = pod["metadata"].get("ownerReferences") or []
        if owners:
            self.owners[owners[0]["uid"]] += 1
        if not pod["spec"].get("hostNetwork"):
            uid = pod["metadata"]["uid"]
            self.ips[uid] = ids.ip_in("10.244", self.index * 254 + 1 + self.next_ip % 252)
            self.next_ip += 1

    def remove(self, pod: Obj, requests: dict[str, int]) -> None:
        """Release a pod that was deleted."""
        self.version += 1
        self.requested.subtract(requests)
        self.nonzero_cpu -= requests.get("cpu") or NON_ZERO_CPU_MILLI
        self.nonzero_mem -= requests.get("memory") or NON_ZERO_MEMORY
        self.pods -= 1
        self.ports -= f.host_ports(pod["spec"])
        owners = pod["metadata"].get("ownerReferences") or []
        if owners:
            self.owners[owners[0]["uid"]] -= 1

    def pod_ip(self, uid: str) -> str:
        """The IP given to a pod bound here (10.244.<node index>.x, as kindnet hands them out)."""
        return self.ips.get(uid) or ids.ip_in("10.244", self.index * 254 + 1)

    def fit_reasons(self, requests: dict[str, int]) -> list[str]:
        """NodeResourcesFit: too many pods, then each insufficient resource."""
        reasons = []
        if self.pods + 1 > self.max_pods:
            reasons.append(f.TOO_MANY_PODS)
        for r, v in requests.items():
            if v > 0 and v > self.alloc.get(r, 0) - self.requested.get(r, 0):
                reasons.append(f"Insufficient {r}")
        return reasons

    def score_key(self, weight: int, soft: int, spread: int, nz_cpu: int, nz_mem: int) -> tuple:
        """Smaller is better: preferred affinity, spreading, PreferNoSchedule, least requested, order."""
        cpu = self.alloc.get("cpu", 1) or 1
        mem = self.alloc.get("memory", 1) or 1
        free = (cpu - self.nonzero_cpu - nz_cpu) / cpu + (mem - self.nonzero_mem - nz_mem) / mem
        return (-weight, spread, soft, -int(free * 50), self.index)


def static_verdict(node: NodeState, spec: dict[str, Any], pinned: set[str] | None,
                   at: datetime) -> tuple[str | None, int, int]:
    """(filter reason or None, preferred node-affinity weight, untolerated PreferNoSchedule taints).

    Everything here depends only on the pod spec, the node and whether the node had already
    changed at `at`, so callers cache it per template and node epoch. `pinned` is the PreFilter's
    node-name set (see `sched_filters.prefilter_node_names`).
    """
    tolerations = spec.get("tolerations") or []
    earlier = node.before is not None and at < node.before.at
    taints = node.before.taints if earlier and node.before else node.taints
    unschedulable = node.before.unschedulable if earlier and node.before else node.unschedulable
    reason = None
    if pinned is not None and node.name not in pinned:
        reason = f.PREFILTERED
    elif unschedulable and not f.tolerates(tolerations, {"key": "node.kubernetes.io/unschedulable",
                                                         "effect": "NoSchedule"}):
        reason = f.UNSCHEDULABLE
    else:
        reason = f.untolerated_taint(tolerations, taints)
        if reason is None and not f.node_affinity_matches(spec, node.labels, node.name):
            reason = f.AFFINITY
    weight = f.preferred_node_weight(spec, node.labels, node.name)
    soft = sum(1 for t in taints if t.get("effect") == "PreferNoSchedule" and not f.tolerates(tolerations, t))
    return reason, weight, soft


def fits(node: NodeState, requests: dict[str, int]) -> bool:
    """NodeResourcesFit without building reasons (the hot path)."""
    if node.pods >= node.max_pods:
        return False
    alloc, used = node.alloc, node.requested
    return all(v <= 0 or v <= alloc.get(r, 0) - used.get(r, 0) for r, v in requests.items())


def build_nodes(state: ClusterState) -> list[NodeState]:
    """Scheduler nodes from the Node objects, in their stored order."""
    out = []
    history = state.extras.get(HISTORY_KEY, {})
    for i, node in enumerate(index_of(state).list("Node")):
        status = node.get("status") or {}
        alloc = {k: amount(k, v) for k, v in (status.get("allocatable") or {}).items()}
        spec = node.get("spec") or {}
        out.append(NodeState(node["metadata"]["name"], i, dict(node["metadata"].get("labels") or {}),
                             list(spec.get("taints") or []), bool(spec.get("unschedulable")), node_ready(node),
                             node_address(node), alloc, max_pods=alloc.get("pods", 110),
                             before=history.get(node["metadata"]["name"])))
    return out


def _matching_nodes(sched: Placements, term: dict[str, Any], owner_ns: str) -> list[NodeState]:
    """Nodes hosting a pod the affinity term selects."""
    idx = index_of(sched.state)
    namespaces = term.get("namespaces") or ([owner_ns] if term.get("namespaceSelector") is None
                                            else idx.namespaces())
    out = []
    for ns in namespaces:
        for p in idx.select_pods(ns, term.get("labelSelector") or {}):
            node = sched.pod_node.get(p["metadata"]["uid"])
            if node is not None:
                out.append(node)
    return out


def domain_nodes(ctx: dict[str, Any], term: dict[str, Any], tag: str) -> set[str]:
    """Names of nodes in a topology domain that holds a pod the term selects (memoised per pod)."""
    memo = ctx.setdefault(tag, {})
    key = id(term)
    if key not in memo:
        sched, ns = ctx["_sched"], ctx["_ns"]
        tkey = term.get("topologyKey", "")
        values = {n.labels.get(tkey) for n in _matching_nodes(sched, term, ns)} - {None}
        memo[key] = {n.name for n in sched.nodes if n.labels.get(tkey) in values}
    return memo[key]


def _spread_reason(sched: Placements, node: NodeState, pod: Obj, ctx: dict[str, Any]) -> str | None:
    for c in ctx["spread"]:
        tkey = c.get("topologyKey", "")
        if tkey not in node.labels:
            return f.SPREAD_LABEL
        counts: Counter = Counter()
        eligible = [n for n in sched.nodes if tkey in n.labels
                    and f.node_affinity_matches(pod["spec"], n.labels, n.name)]
        for n in eligible:
            counts[n.labels[tkey]] += 0
        selector = c.get("labelSelector") or {}
        for p in index_of(sched.state).select_pods(pod["metadata"]["namespace"], selector):
            n = sched.pod_node.get(p["metadata"]["uid"])
            if n is not None and tkey in n.labels:
                counts[n.labels[tkey]] += 1
        self_match = 1 if workload_selector_matches(selector, pod["metadata"].get("labels") or {}) else 0
        low = min(counts.values()) if counts else 0
        if counts[node.labels[tkey]] + self_match - low > int(c.get("maxSkew", 1)):
            return f.SPREAD
    return None


def dynamic_reasons(sched: Placements, node: NodeState, pod: Obj, requests: dict[str, int],
                    ctx: dict[str, Any]) -> list[str]:
    """Reasons from the state-dependent filters, first failing plugin only (plugin order kept)."""
    ports = ctx["ports"]
    if ports and ports & node.ports:
        return [f.PORTS]
    fit = node.fit_reasons(requests)
    if fit:
        return fit
    if ctx["spread"]:
        reason = _spread_reason(sched, node, pod, ctx)
        if reason:
            return [reason]
    # InterPodAffinity checks, in its order: the pod's affinity, its anti-affinity, then existing pods'
    for term in ctx["affinity"]:
        allowed = domain_nodes(ctx, term, "_aff")
        if node.name not in allowed:
            own = f.term_selects(term, pod["metadata"]["namespace"], pod)
            if not (own and not allowed and term.get("topologyKey", "") in node.labels):
                return [f.POD_AFFINITY]
    for term in ctx["anti"]:
        if node.name in domain_nodes(ctx, term, "_anti"):
            return [f.ANTI_AFFINITY]
    if node.name in ctx["existing_anti"]:
        return [f.EXISTING_ANTI_AFFINITY]
    return []
