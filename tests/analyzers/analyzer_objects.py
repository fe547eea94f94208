"""Hand-built Kubernetes/Istio objects for analyzer unit tests (plain dicts, as the API returns them).

A `Deployment` comes with its ReplicaSet and pods (ownerReferences wired), so the owner grouping the
analyzers do is exercised the way a real cluster exercises it.
"""

from __future__ import annotations

from typing import Any

from atlas_sre.analyzers import Snapshot

Obj = dict[str, Any]
T0 = "2026-11-26T08:00:00Z"
NOW = "2026-11-26T10:00:00Z"
PROXY = {"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.24.2"}


def meta(name: str, ns: str | None = "shop", **extra: Any) -> dict[str, Any]:
    md: dict[str, Any] = {"name": name, "uid": f"uid-{name}", "creationTimestamp": T0}
    if ns is not None:
        md["namespace"] = ns
    md.update(extra)
    return md


def namespace(name: str = "shop", injected: bool | None = True) -> Obj:
    labels = {} if injected is None else {"istio-injection": "enabled" if injected else "disabled"}
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(name, None, labels=labels)}


def node(name: str = "worker-1", ready: bool = True, cordoned: bool = False, cpu: str = "4") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": meta(name, None),
        "spec": {"unschedulable": True} if cordoned else {},
        "status": {
            "allocatable": {"cpu": cpu, "memory": "16Gi"},
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "reason": "KubeletReady" if ready else "NodeStatusUnknown",
                    "message": "kubelet is posting ready status"
                    if ready
                    else "Kubelet stopped posting node status.",
                }
            ],
        },
    }


def container(name: str, port: int | None = 9080, port_name: str | None = None, **extra: Any) -> Obj:
    c: Obj = {"name": name, "image": f"example.io/{name}:1.0", **extra}
    if port is not None:
        c["ports"] = [{"containerPort": port, **({"name": port_name} if port_name else {})}]
    return c


def running(name: str, restarts: int = 0, ready: bool = True, last: Obj | None = None) -> Obj:
    return {
        "name": name,
        "ready": ready,
        "restartCount": restarts,
        "state": {"running": {"startedAt": T0}},
        "lastState": {"terminated": last} if last else {},
    }


def waiting(name: str, reason: str, message: str = "", restarts: int = 0, last: Obj | None = None) -> Obj:
    return {
        "name": name,
        "ready": False,
        "restartCount": restarts,
        "state": {"waiting": {"reason": reason, **({"message": message} if message else {})}},
        "lastState": {"terminated": last} if last else {},
    }


def deployment(
    name: str,
    ns: str = "shop",
    replicas: int = 1,
    labels: dict[str, str] | None = None,
    containers: list[Obj] | None = None,
    sidecar: bool = True,
    statuses: list[list[Obj]] | None = None,
    pod_phase: str = "Running",
    ready: bool = True,
    spec_extra: Obj | None = None,
    pod_spec_extra: Obj | None = None,
    n_pods: int | None = None,
) -> list[Obj]:
    """A Deployment, its ReplicaSet and its pods; `statuses[i]` are pod i's containerStatuses."""
    labels = labels or {"app": name}
    cs = containers or [container(name)]
    podspec = {"containers": cs + ([PROXY] if sidecar else []), **(pod_spec_extra or {})}
    dep = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta(name, ns, labels=labels),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": podspec},
            **(spec_extra or {}),
        },
        "status": {"replicas": replicas},
    }
    rs_name = f"{name}-5d9c7b8f6c"
    rs = {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": meta(
            rs_name,
            ns,
            labels=labels,
            ownerReferences=[
                {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "controller": True}
            ],
        ),
        "spec": {"replicas": replicas, "selector": {"matchLabels": labels}},
    }
    out = [dep, rs]
    for i in range(replicas if n_pods is None else n_pods):
        pod_cs = (
            statuses[i]
            if statuses and i < len(statuses)
            else [running(c["name"], ready=ready) for c in podspec["containers"]]
        )
        scheduled = pod_phase != "Pending" or any("state" in s for s in pod_cs)
        out.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": meta(
                    f"{rs_name}-p{i}",
                    ns,
                    labels=labels,
                    ownerReferences=[
                        {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": rs_name, "controller": True}
                    ],
                ),
                "spec": {**({"nodeName": "worker-1"} if scheduled else {}), **podspec},
                "status": {
                    "phase": pod_phase,
                    "podIP": f"10.244.0.{10 + i}",
                    "conditions": [
                        {"type": "Ready", "status": "True" if ready else "False", "lastTransitionTime": T0},
                        {"type": "PodScheduled", "status": "True" if scheduled else "False"},
                    ],
                    "containerStatuses": pod_cs if scheduled else [],
                },
            }
        )
    return out


def service(
    name: str,
    ns: str = "shop",
    selector: dict[str, str] | None = None,
    port: int = 9080,
    target: int | str | None = None,
    port_name: str = "http",
) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta(name, ns),
        "spec": {
            "selector": selector if selector is not None else {"app": name},
            "clusterIP": "10.96.0.20",
            "ports": [{"name": port_name, "port": port, "targetPort": port if target is None else target}],
        },
    }


def istio(kind: str, name: str, spec: Obj, ns: str = "shop") -> Obj:
    group = (
        "security.istio.io/v1"
        if kind in ("PeerAuthentication", "AuthorizationPolicy")
        else "networking.istio.io/v1"
    )
    return {"apiVersion": group, "kind": kind, "metadata": meta(name, ns), "spec": spec}


def event(obj: Obj, reason: str, message: str, count: int = 1, type_: str = "Warning") -> Obj:
    md = obj["metadata"]
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": meta(f"{md['name']}.{reason.lower()}", md.get("namespace")),
        "involvedObject": {"kind": obj["kind"], "namespace": md.get("namespace"), "name": md["name"]},
        "reason": reason,
        "message": message,
        "count": count,
        "type": type_,
        "firstTimestamp": T0,
        "lastTimestamp": NOW,
    }


def pods(objs: list[Obj]) -> list[Obj]:
    return [o for o in objs if o["kind"] == "Pod"]


def access(
    code: int,
    flags: str,
    details: str,
    duration: int,
    cluster: str,
    authority: str = "reviews:9080",
    path: str = "/reviews/0",
) -> str:
    """One istio-proxy access-log line in Istio's default format."""
    return (
        f'[2026-11-26T09:59:51.789Z] "GET {path} HTTP/1.1" {code} {flags} {details} - "-" 0 19 {duration} '
        f'{duration} "-" "Go-http-client/1.1" "7a43ebf7-5029" "{authority}" "10.244.0.7:9080" {cluster} '
        "10.244.0.5:44890 10.96.210.119:9080 10.244.0.5:40708 - default"
    )


def snap(*groups: Obj | list[Obj], **kwargs: Any) -> Snapshot:
    """A Snapshot from objects and lists of objects."""
    flat: list[Obj] = []
    for g in groups:
        flat += g if isinstance(g, list) else [g]
    return Snapshot.from_objects(flat, **kwargs)


def healthy_mesh() -> list[Obj]:
    """A small meshed app that every analyzer must find nothing wrong with."""
    objs: list[Obj] = [
        namespace(),
        node(),
        istio("PeerAuthentication", "default", {"mtls": {"mode": "STRICT"}}),
    ]
    objs += deployment(
        "frontend",
        containers=[container("frontend", env=[{"name": "REVIEWS_ADDR", "value": "reviews:9080"}])],
    )
    objs += deployment(
        "reviews-v1", labels={"app": "reviews", "version": "v1"}, containers=[container("reviews")]
    )
    objs += [service("frontend"), service("reviews")]
    objs += [
        istio(
            "VirtualService",
            "reviews",
            {
                "hosts": ["reviews"],
                "http": [
                    {
                        "route": [
                            {"destination": {"host": "reviews", "subset": "v1", "port": {"number": 9080}}}
                        ],
                        "timeout": "2s",
                    }
                ],
            },
        ),
        istio(
            "DestinationRule",
            "reviews",
            {"host": "reviews", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]},
        ),
        istio(
            "Gateway",
            "shop-gateway",
            {
                "selector": {"istio": "ingressgateway"},
                "servers": [
                    {
                        "port": {"number": 80, "name": "http", "protocol": "HTTP"},
                        "hosts": ["shop.example.com"],
                    }
                ],
            },
        ),
        istio(
            "VirtualService",
            "frontend",
            {
                "hosts": ["shop.example.com"],
                "gateways": ["shop-gateway"],
                "http": [{"route": [{"destination": {"host": "frontend"}}]}],
            },
        ),
    ]
    objs += deployment(
        "istio-ingressgateway",
        ns="istio-system",
        labels={"istio": "ingressgateway"},
        containers=[],
        sidecar=True,
    )
    return objs
