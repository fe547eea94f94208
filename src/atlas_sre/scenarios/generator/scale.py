"""`--scale N`: grow an app to about N pods for benchmarks, adding worker nodes to hold them.

Replicas of every workload are multiplied by one factor (at least one each), and nodes are added
like the app's own (same allocatable, zone labels rotated) until requests fit at ~70% CPU and
~60 pods per node, so a large scenario is as healthy as the small one.
"""

from __future__ import annotations

import copy
import math

from atlas_sre.scenarios.faults.base import Parts
from atlas_sre.scenarios.faults.capacity import allocatable, requested
from atlas_sre.scenarios.faults.topology import kind_objects, workloads

PODS_PER_NODE = 60
CPU_FILL = 0.7


def app_pods(parts: Parts) -> int:
    return sum(int(w["spec"].get("replicas", 1) or 0) for w in workloads(parts))


def scale_parts(parts: Parts, pods: int) -> None:
    """Scale replicas towards `pods` in place and add nodes so everything still schedules."""
    current = max(app_pods(parts), 1)
    factor = pods / current
    for w in workloads(parts):
        r = int(w["spec"].get("replicas", 1) or 0)
        w["spec"]["replicas"] = max(1, int(round(r * factor))) if r else 0
    nodes = kind_objects(parts, "Node")
    if not nodes:
        return
    template = nodes[-1]
    need = max(math.ceil(app_pods(parts) / PODS_PER_NODE),
               math.ceil(requested(parts, None, "cpu") / (allocatable(parts, "cpu") / len(nodes) * CPU_FILL)))
    zones = sorted({(n["metadata"].get("labels") or {}).get("topology.kubernetes.io/zone", "") for n in nodes})
    base = template["metadata"]["name"].rstrip("0123456789")
    i = len(nodes) + 1
    while len(kind_objects(parts, "Node")) < need:
        node = copy.deepcopy(template)
        name = f"{base}{i}"
        labels = node["metadata"].setdefault("labels", {})
        labels["kubernetes.io/hostname"] = name
        if zones and zones[0]:
            labels["topology.kubernetes.io/zone"] = zones[i % len(zones)]
        node["metadata"]["name"] = name
        parts.manifests.append(node)
        i += 1
