"""What the cluster can hold and what workloads ask for, so resource faults size themselves.

Sidecar-injected pods also carry istio-proxy's default requests (100m CPU, 128Mi), which count
against node allocatable and ResourceQuota exactly like the app container's.
"""

from __future__ import annotations

from atlas_sre.scenarios.faults.base import Obj, Parts
from atlas_sre.scenarios.faults.quantity import mebibytes, millicores
from atlas_sre.scenarios.faults.topology import kind_objects, pod_spec, template_labels, workloads

SIDECAR_CPU_M = 100.0
SIDECAR_MEM_MI = 128.0


def injected(parts: Parts, workload: Obj) -> bool:
    """Whether the mesh adds istio-proxy to this workload's pods."""
    ns = workload["metadata"].get("namespace")
    labels = next((n["metadata"].get("labels") or {} for n in kind_objects(parts, "Namespace")
                   if n["metadata"]["name"] == ns), {})
    tmpl = workload["spec"]["template"].get("metadata") or {}
    opt_out = (tmpl.get("annotations") or {}).get("sidecar.istio.io/inject") == "false" or \
        template_labels(workload).get("sidecar.istio.io/inject") == "false"
    return labels.get("istio-injection") == "enabled" and not opt_out


def pod_request(parts: Parts, workload: Obj, resource: str = "cpu", sidecar: bool = True) -> float:
    """One pod's request (millicores or MiB), the injected sidecar's included unless `sidecar=False`."""
    conv = millicores if resource == "cpu" else mebibytes
    total = sum(conv(((c.get("resources") or {}).get("requests") or {}).get(resource))
                for c in pod_spec(workload).get("containers") or [])
    if sidecar and injected(parts, workload):
        total += SIDECAR_CPU_M if resource == "cpu" else SIDECAR_MEM_MI
    return total


def replicas(workload: Obj) -> int:
    return int(workload["spec"].get("replicas", 1) or 0)


def requested(parts: Parts, namespace: str | None = None, resource: str = "cpu", sidecar: bool = True) -> float:
    """All running pods' requests (optionally in one namespace)."""
    return sum(pod_request(parts, w, resource, sidecar) * replicas(w) for w in workloads(parts)
               if namespace is None or w["metadata"].get("namespace") == namespace)


def allocatable(parts: Parts, resource: str = "cpu") -> float:
    """The nodes' allocatable total (millicores or MiB)."""
    conv = millicores if resource == "cpu" else mebibytes
    return sum(conv(((n.get("status") or {}).get("allocatable") or {}).get(resource, 0))
               for n in kind_objects(parts, "Node"))


def pod_count(parts: Parts, namespace: str) -> int:
    return sum(replicas(w) for w in workloads(parts) if w["metadata"].get("namespace") == namespace)


def node_names(parts: Parts) -> list[str]:
    return sorted(n["metadata"]["name"] for n in kind_objects(parts, "Node"))
