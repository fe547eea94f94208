"""The fields the apiserver fills in on create, so `-o yaml` and `describe` look like a real cluster.

`kubectl describe pod` prints "timeout=1s period=10s #success=1 #failure=3" from fields a
scenario author never writes; agents read those strings, so they must be there.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.sim import ids
from atlas_sre.sim.state import Obj

_PROBES = ("livenessProbe", "readinessProbe", "startupProbe")


def image_pull_policy(image: str) -> str:
    """Always for `:latest` or an untagged image, IfNotPresent otherwise (digests included)."""
    if "@" in image:
        return "IfNotPresent"
    last = image.rsplit("/", 1)[-1]
    if ":" not in last or last.endswith(":latest"):
        return "Always"
    return "IfNotPresent"


def default_probe(probe: dict[str, Any]) -> None:
    """Probe defaults: timeout 1s, period 10s, success 1, failure 3, HTTP scheme."""
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    if isinstance(probe.get("httpGet"), dict):
        probe["httpGet"].setdefault("scheme", "HTTP")


def default_container(c: dict[str, Any]) -> None:
    """Container defaults the apiserver applies on create."""
    c.setdefault("imagePullPolicy", image_pull_policy(str(c.get("image", ""))))
    c.setdefault("terminationMessagePath", "/dev/termination-log")
    c.setdefault("terminationMessagePolicy", "File")
    c.setdefault("resources", {})
    for port in c.get("ports") or []:
        port.setdefault("protocol", "TCP")
    for key in _PROBES:
        if isinstance(c.get(key), dict):
            default_probe(c[key])
    res = c["resources"]
    # API defaulting: a limit without a request means request == limit.
    for k, v in (res.get("limits") or {}).items():
        res.setdefault("requests", {}).setdefault(k, v)


def default_pod_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """Pod spec defaults (for pods and pod templates alike); mutates and returns `spec`."""
    spec.setdefault("restartPolicy", "Always")
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    for key in ("initContainers", "containers"):
        for c in spec.get(key) or []:
            default_container(c)
    for vol in spec.get("volumes") or []:
        for src in ("configMap", "secret"):
            if isinstance(vol.get(src), dict):
                vol[src].setdefault("defaultMode", 420)
    return spec


def _default_template(obj: Obj) -> None:
    tmpl = obj["spec"].setdefault("template", {})
    tmpl.setdefault("metadata", {})
    tmpl["metadata"].setdefault("creationTimestamp", None)
    default_pod_spec(tmpl.setdefault("spec", {}))


def default_workload(obj: Obj) -> None:
    """Controller-object defaults: replicas, strategies, history limits, template pod defaults."""
    kind = obj["kind"]
    spec = obj.setdefault("spec", {})
    if kind in ("Deployment", "ReplicaSet", "StatefulSet"):
        spec.setdefault("replicas", 1)
    if kind == "Deployment":
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        strategy = spec.setdefault("strategy", {"type": "RollingUpdate"})
        if strategy.get("type", "RollingUpdate") == "RollingUpdate":
            strategy["type"] = "RollingUpdate"
            ru = strategy.setdefault("rollingUpdate", {})
            ru.setdefault("maxSurge", "25%")
            ru.setdefault("maxUnavailable", "25%")
    elif kind == "StatefulSet":
        spec.setdefault("podManagementPolicy", "OrderedReady")
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("updateStrategy", {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        spec.setdefault("persistentVolumeClaimRetentionPolicy", {"whenDeleted": "Retain", "whenScaled": "Retain"})
        for tmpl in spec.get("volumeClaimTemplates") or []:
            tmpl.setdefault("apiVersion", "v1")
            tmpl.setdefault("kind", "PersistentVolumeClaim")
            tmpl.setdefault("spec", {}).setdefault("volumeMode", "Filesystem")
    elif kind == "DaemonSet":
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("updateStrategy", {"type": "RollingUpdate",
                                           "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
    elif kind == "Job":
        spec.setdefault("parallelism", 1)
        spec.setdefault("completions", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        spec.setdefault("podReplacementPolicy", "TerminatingOrFailed")
    elif kind == "CronJob":
        spec.setdefault("concurrencyPolicy", "Allow")
        spec.setdefault("suspend", False)
        spec.setdefault("successfulJobsHistoryLimit", 3)
        spec.setdefault("failedJobsHistoryLimit", 1)
        return
    if kind in ("Deployment", "ReplicaSet", "StatefulSet", "DaemonSet", "Job"):
        _default_template(obj)


def default_service(obj: Obj, seed: int, taken: set[str]) -> None:
    """Service defaults: ClusterIP type and address, IPv4 single stack, TCP ports, targetPort=port."""
    spec = obj.setdefault("spec", {})
    md = obj["metadata"]
    spec.setdefault("type", "ClusterIP")
    if spec["type"] == "ExternalName":
        spec.setdefault("sessionAffinity", "None")
        obj.setdefault("status", {"loadBalancer": {}})
        return
    if not spec.get("clusterIP"):
        salt = 0
        ip = ids.cluster_ip(seed, md["namespace"], md["name"])
        while ip in taken:
            salt += 1
            ip = ids.cluster_ip(seed, md["namespace"], f"{md['name']}#{salt}")
        spec["clusterIP"] = ip
    if spec["clusterIP"] != "None":
        taken.add(spec["clusterIP"])
    spec.setdefault("clusterIPs", [spec["clusterIP"]])
    spec.setdefault("ipFamilies", ["IPv4"])
    spec.setdefault("ipFamilyPolicy", "SingleStack")
    spec.setdefault("sessionAffinity", "None")
    spec.setdefault("internalTrafficPolicy", "Cluster")
    external = spec["type"] in ("NodePort", "LoadBalancer")
    if external:
        spec.setdefault("externalTrafficPolicy", "Cluster")
    for i, port in enumerate(spec.get("ports") or []):
        port.setdefault("protocol", "TCP")
        port.setdefault("targetPort", port.get("port"))
        if external and "nodePort" not in port:
            raw = ids.digest(seed, "nodeport", md["namespace"], md["name"], i)
            port["nodePort"] = 30000 + int.from_bytes(raw[:2], "big") % 2768
    if spec["type"] == "LoadBalancer":
        spec.setdefault("allocateLoadBalancerNodePorts", True)
    obj.setdefault("status", {"loadBalancer": {}})
