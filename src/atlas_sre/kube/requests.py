"""A pod's resource requests as Kubernetes computes them: per container, per pod, and its QoS class.

The scheduler, the kubelet's admission, quota and the HPA all use these rules, so they live in one
place beside the quantities they add up (CPU in millicores, everything else in plain units).
"""

from __future__ import annotations

from typing import Any

from atlas_sre.kube.quantity import amount

# Kubernetes' scheduler scores pods without requests as if they asked for this much.
NON_ZERO_CPU_MILLI = 100
NON_ZERO_MEMORY = 200 * 2**20


def container_resources(container: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """(requests, limits) of one container: CPU in millicores, the rest in plain units."""
    res = container.get("resources") or {}
    req = {k: amount(k, v) for k, v in (res.get("requests") or {}).items()}
    lim = {k: amount(k, v) for k, v in (res.get("limits") or {}).items()}
    return req, lim


def pod_totals(pod_spec: dict[str, Any]) -> tuple[dict[str, int], dict[str, int]]:
    """A pod's effective (requests, limits): sum over containers, at least the largest init container.

    This is the rule the scheduler, the kubelet's admission and quota all use.
    """
    req: dict[str, int] = {}
    lim: dict[str, int] = {}
    for c in pod_spec.get("containers") or []:
        r, lm = container_resources(c)
        for k, v in r.items():
            req[k] = req.get(k, 0) + v
        for k, v in lm.items():
            lim[k] = lim.get(k, 0) + v
    for c in pod_spec.get("initContainers") or []:
        r, lm = container_resources(c)
        for k, v in r.items():
            req[k] = max(req.get(k, 0), v)
        for k, v in lm.items():
            lim[k] = max(lim.get(k, 0), v)
    for k, v in (pod_spec.get("overhead") or {}).items():
        req[k] = req.get(k, 0) + amount(k, v)
    return req, lim


def qos_class(pod_spec: dict[str, Any]) -> str:
    """Guaranteed, Burstable or BestEffort, as the apiserver computes `status.qosClass`."""
    containers = list(pod_spec.get("containers") or []) + list(pod_spec.get("initContainers") or [])
    any_set = False
    guaranteed = True
    for c in containers:
        req, lim = container_resources(c)
        req = {k: v for k, v in req.items() if k in ("cpu", "memory")}
        lim = {k: v for k, v in lim.items() if k in ("cpu", "memory")}
        if req or lim:
            any_set = True
        if set(lim) != {"cpu", "memory"} or any(req.get(k, lim[k]) != lim[k] for k in lim):
            guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"
