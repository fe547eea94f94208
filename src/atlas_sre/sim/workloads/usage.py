"""Stage 8: node usage for `kubectl top node`, from pod usage plus what the node itself burns.

A real node is never idle: the kubelet, containerd and the OS use CPU and memory beyond the
pods. NotReady nodes report nothing (metrics-server cannot scrape a node whose kubelet is down).
"""

from __future__ import annotations

from atlas_sre.sim.objects.index import index_of
from atlas_sre.sim.objects.nodes import node_ready
from atlas_sre.sim.state import ClusterState, SimSpec, Usage

SYSTEM_CPU_MILLI = 85
SYSTEM_MEMORY_MI = 610


def rollup_node_usage(spec: SimSpec, state: ClusterState) -> None:
    """`state.node_usage[node]` = sum of its pods' container usage + system overhead."""
    idx = index_of(state)
    totals: dict[str, Usage] = {}
    for node in idx.list("Node"):
        if node_ready(node) == "True":
            totals[node["metadata"]["name"]] = Usage(SYSTEM_CPU_MILLI, SYSTEM_MEMORY_MI)
    for pod in idx.list("Pod"):
        usage = state.pod_usage.get((pod["metadata"]["namespace"], pod["metadata"]["name"]))
        total = totals.get(pod["spec"].get("nodeName") or "")
        if not usage or total is None:
            continue
        for u in usage.values():
            total.cpu_milli += u.cpu_milli
            total.memory_mi += u.memory_mi
    for name, total in totals.items():
        state.node_usage.setdefault(name, total)
