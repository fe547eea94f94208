"""The scheduler's filter plugins and its FitError message, as pure functions.

Wording and structure follow kube-scheduler 1.32: each node fails on the first filter plugin that
rejects it (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit,
PodTopologySpread, InterPodAffinity: own affinity, own anti-affinity, existing pods' anti-affinity);
reasons are counted per node, printed as "<count> <reason>" strings sorted as strings, followed by
the preemption summary (ending in "..", as real events do).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from atlas_sre.kube.labels import expression_matches, workload_selector_matches

UNSCHEDULABLE = "node(s) were unschedulable"
AFFINITY = "node(s) didn't match Pod's node affinity/selector"
# Nodes a PreFilter already excluded (NodeAffinity's matchFields metadata.name, as on DaemonSet pods)
PREFILTERED = "node(s) didn't satisfy plugin(s) [NodeAffinity]"
PORTS = "node(s) didn't have free ports for the requested pod ports"
TOO_MANY_PODS = "Too many pods"
ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules"
EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules"
POD_AFFINITY = "node(s) didn't match pod affinity rules"
SPREAD = "node(s) didn't match pod topology spread constraints"
SPREAD_LABEL = "node(s) didn't match pod topology spread constraints (missing required label)"
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
NO_NODES = "no nodes available to schedule pods"
# Reasons whose plugins return UnschedulableAndUnresolvable: preemption cannot help there.
UNRESOLVABLE = {UNSCHEDULABLE, AFFINITY, SPREAD_LABEL, POD_AFFINITY, PREFILTERED}


def tolerates(tolerations: list[dict[str, Any]], taint: dict[str, Any]) -> bool:
    """Whether any toleration matches a taint (key/operator/value/effect rules of the API)."""
    for t in tolerations:
        if t.get("effect") and t.get("effect") != taint.get("effect"):
            continue
        op = t.get("operator", "Equal")
        if not t.get("key"):
            if op == "Exists":
                return True
            continue
        if t["key"] != taint.get("key"):
            continue
        if op == "Exists" or str(t.get("value", "")) == str(taint.get("value", "")):
            return True
    return False


def untolerated_taint(tolerations: list[dict[str, Any]], taints: list[dict[str, Any]]) -> str | None:
    """The TaintToleration reason for the first NoSchedule/NoExecute taint not tolerated."""
    for taint in taints:
        if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerates(tolerations, taint):
            return f"node(s) had untolerated taint {{{taint.get('key')}: {taint.get('value', '')}}}"
    return None


def _term_matches(term: dict[str, Any], labels: dict[str, str], node_name: str) -> bool:
    exprs = term.get("matchExpressions") or []
    fields = term.get("matchFields") or []
    if not exprs and not fields:
        return False
    if not all(expression_matches(e, labels) for e in exprs):
        return False
    return all(expression_matches(e, {"metadata.name": node_name}) for e in fields)


def node_affinity_matches(pod_spec: dict[str, Any], labels: dict[str, str], node_name: str) -> bool:
    """nodeSelector AND required node affinity (terms ORed, expressions ANDed)."""
    for k, v in (pod_spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    terms = required.get("nodeSelectorTerms") or []
    return not terms or any(_term_matches(t, labels, node_name) for t in terms)


def prefilter_node_names(pod_spec: dict[str, Any]) -> set[str] | None:
    """The node names NodeAffinity's PreFilter restricts the pod to (None: no restriction).

    Only required terms that all pin `metadata.name` with In restrict the candidate set; the other
    nodes are then never filtered and are reported as not satisfying the NodeAffinity plugin.
    """
    required = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
                .get("requiredDuringSchedulingIgnoredDuringExecution") or {})
    names: set[str] = set()
    for term in required.get("nodeSelectorTerms") or []:
        pinned = [f for f in term.get("matchFields") or [] if f.get("key") == "metadata.name"
                  and f.get("operator") == "In"]
        if not pinned:
            return None
        names |= set(pinned[0].get("values") or [])
    return names if required.get("nodeSelectorTerms") else None


def preferred_node_weight(pod_spec: dict[str, Any], labels: dict[str, str], node_name: str) -> int:
    """Sum of the weights of preferred node-affinity terms this node satisfies."""
    prefs = (((pod_spec.get("affinity") or {}).get("nodeAffinity") or {})
             .get("preferredDuringSchedulingIgnoredDuringExecution") or [])
    return sum(int(p.get("weight", 0)) for p in prefs if _term_matches(p.get("preference") or {}, labels, node_name))


def affinity_terms(pod_spec: dict[str, Any], kind: str, required: bool = True) -> list[dict[str, Any]]:
    """Pod (anti-)affinity terms; `kind` is podAffinity or podAntiAffinity."""
    block = ((pod_spec.get("affinity") or {}).get(kind) or {})
    if required:
        return list(block.get("requiredDuringSchedulingIgnoredDuringExecution") or [])
    return [dict(p.get("podAffinityTerm") or {}, weight=p.get("weight", 0))
            for p in block.get("preferredDuringSchedulingIgnoredDuringExecution") or []]


def term_selects(term: dict[str, Any], owner_ns: str, pod: dict[str, Any]) -> bool:
    """Whether an affinity term (declared by a pod in `owner_ns`) selects `pod`."""
    md = pod["metadata"]
    namespaces = term.get("namespaces") or ([] if term.get("namespaceSelector") is not None else [owner_ns])
    if namespaces and md.get("namespace") not in namespaces:
        return False
    selector = term.get("labelSelector")
    if selector is None:
        return False
    labels = md.get("labels") or {}
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        return True
    return workload_selector_matches(selector, labels)


def fit_error(
    num_nodes: int,
    node_reasons: dict[str, list[str]],
    prefilter: str | None = None,
) -> str:
    """The FailedScheduling message: filter histogram, then the preemption summary."""
    if num_nodes == 0:
        return NO_NODES
    head = f"0/{num_nodes} nodes are available:"
    if prefilter:
        body = f" {prefilter}."
        post = f"preemption: 0/{num_nodes} nodes are available: {num_nodes} {NO_VICTIMS}."
        return f"{head}{body} {post}."
    counts: Counter[str] = Counter()
    unhelpful = 0
    for reasons in node_reasons.values():
        counts.update(reasons)
        if any(r in UNRESOLVABLE or r.startswith("node(s) had untolerated taint") for r in reasons):
            unhelpful += 1
    body = " " + ", ".join(sorted(f"{c} {r}" for r, c in counts.items())) + "."
    parts = []
    if unhelpful:
        parts.append(f"{unhelpful} {NOT_HELPFUL}")
    if num_nodes - unhelpful:
        parts.append(f"{num_nodes - unhelpful} {NO_VICTIMS}")
    post = f"preemption: 0/{num_nodes} nodes are available: {', '.join(sorted(parts))}."
    return f"{head}{body} {post}."


def host_ports(pod_spec: dict[str, Any]) -> set[tuple[str, int]]:
    """(protocol, port) pairs the pod binds on its node (hostPort, or every port with hostNetwork)."""
    out: set[tuple[str, int]] = set()
    host_net = bool(pod_spec.get("hostNetwork"))
    for c in pod_spec.get("containers") or []:
        for p in c.get("ports") or []:
            port = p.get("hostPort") or (p.get("containerPort") if host_net else None)
            if port:
                out.add((str(p.get("protocol", "TCP")), int(port)))
    return out
