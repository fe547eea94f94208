"""A small meshed app for the mesh/traffic/alert tests, and helpers to read what the engine derived.

frontend (behind the ingress gateway, host shop.example.com) → backend → db, all in namespace
`shop` with `istio-injection=enabled`. Each test changes one object or behaviour and derives.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from atlas_sre.sim.clock import UTC, SimClock
from atlas_sre.sim.engine import derive
from atlas_sre.sim.images import Address, Call, DependencyErrorPolicy, Health, ImageBehaviour, Listen, LogTemplates
from atlas_sre.sim.state import Change, ClusterState, SimSpec

Obj = dict[str, Any]
NS = "shop"
START = datetime(2026, 11, 26, 8, 0, tzinfo=UTC)
FAULT = datetime(2026, 11, 26, 9, 20, tzinfo=UTC)
OBSERVE = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
FRONTEND, BACKEND, DB = "example.io/shop/frontend:1.0", "example.io/shop/backend:1.0", "example.io/shop/db:1.0"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
IP = r"10\.\d+\.\d+\.\d+"
STAMP = r"\[2026-11-26T\d\d:\d\d:\d\d\.\d{3}Z\]"


def registry(db_latency: float = 5.0, backend_latency: float = 20.0) -> dict[str, ImageBehaviour]:
    """The hidden behaviour of the three images."""
    return {
        FRONTEND: ImageBehaviour(
            listen=[Listen(port=8080)], health=Health(), latencyMs=10,
            calls=[Call(name="backend", address=Address(env="BACKEND_ADDR"), path="/api/items")],
            onDependencyError=DependencyErrorPolicy(status=503, log="ERROR [frontend] call to {dependency} failed: "
                                                                    "{status} {body}"),
            logs=LogTemplates(request='INFO [frontend] "{method} {path}" {status} {latencyMs}ms')),
        BACKEND: ImageBehaviour(
            listen=[Listen(port=8080)], health=Health(), latencyMs=backend_latency,
            calls=[Call(name="db", address=Address(env="DB_ADDR", default="db:5000"), path="/query")],
            onDependencyError=DependencyErrorPolicy(status=500, log="ERROR [backend] db unavailable: {status}"),
            logs=LogTemplates(request='INFO [backend] "{method} {path}" {status}')),
        DB: ImageBehaviour(listen=[Listen(port=5000)], health=Health(), latencyMs=db_latency),
    }


def deployment(name: str, image: str, port: int, env: list[Obj] | None = None, replicas: int = 1,
               labels: dict[str, str] | None = None) -> Obj:
    pod_labels = {"app": name, "version": "v1", **(labels or {})}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": f"{name}-v1", "namespace": NS, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name, "version": "v1"}},
                     "template": {"metadata": {"labels": pod_labels},
                                  "spec": {"containers": [{"name": name, "image": image, "env": env or [],
                                                           "ports": [{"containerPort": port, "name": "http"}],
                                                           "readinessProbe": {"httpGet": {"path": "/health",
                                                                                          "port": port}}}]}}}}


def service(name: str, port: int, port_name: str = "http", target: Any = None) -> Obj:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS, "labels": {"app": name}},
            "spec": {"selector": {"app": name},
                     "ports": [{"name": port_name, "port": port, "targetPort": target or port}]}}


def manifests() -> list[Obj]:
    """The healthy app."""
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {"istio-injection": "enabled"}}},
        {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "worker-1"},
         "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"}}},
        deployment("frontend", FRONTEND, 8080, [{"name": "BACKEND_ADDR", "value": "backend:8080"}]),
        deployment("backend", BACKEND, 8080, [{"name": "DB_ADDR", "value": "http://db.shop:5000"}], replicas=2),
        deployment("db", DB, 5000),
        service("frontend", 8080), service("backend", 8080), service("db", 5000),
        {"apiVersion": "networking.istio.io/v1", "kind": "Gateway",
         "metadata": {"name": "shop-gateway", "namespace": NS},
         "spec": {"selector": {"istio": "ingressgateway"},
                  "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"},
                               "hosts": ["shop.example.com"]}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
         "metadata": {"name": "frontend", "namespace": NS},
         "spec": {"hosts": ["shop.example.com"], "gateways": ["shop-gateway"],
                  "http": [{"match": [{"uri": {"prefix": "/"}}],
                            "route": [{"destination": {"host": "frontend", "port": {"number": 8080}}}]}]}},
    ]


def entry(rps: float = 10.0, host: str = "shop.example.com", path: str = "/") -> dict[str, Any]:
    return {"entrypoints": [{"gateway": "istio-system/istio-ingressgateway", "host": host, "path": path, "rps": rps}]}


def make_spec(objs: list[Obj] | None = None, reg: dict[str, ImageBehaviour] | None = None,
              traffic: dict[str, Any] | None = None, history: dict[str, Change] | None = None,
              seed: int = 7) -> SimSpec:
    return SimSpec(manifests=copy.deepcopy(objs if objs is not None else manifests()), registry=reg or registry(),
                   clock=SimClock(START, FAULT, OBSERVE), seed=seed, traffic=traffic or entry(),
                   history=history or {})


def run(objs: list[Obj] | None = None, **kw: Any) -> ClusterState:
    return derive(make_spec(objs, **kw))


def edit(objs: list[Obj], kind: str, name: str, change: Callable[[Obj], None]) -> list[Obj]:
    """Apply `change` to the manifest of `kind`/`name` (in place) and return the list."""
    for o in objs:
        if o["kind"] == kind and o["metadata"]["name"] == name:
            change(o)
            return objs
    raise KeyError(f"{kind}/{name}")


def env_of(dep: Obj) -> list[Obj]:
    return dep["spec"]["template"]["spec"]["containers"][0]["env"]


def pods(state: ClusterState, app: str, ns: str = NS) -> list[Obj]:
    return [p for p in state.find("Pod", ns) if (p["metadata"].get("labels") or {}).get("app") == app]


def lines(state: ClusterState, app: str, container: str, ns: str = NS) -> list[str]:
    """Every line of `container` across the pods of `app`, in time order."""
    out = []
    for p in pods(state, app, ns):
        out += state.logs.get(_key(ns, p["metadata"]["name"], container), [])
    return [line.text for line in sorted(out, key=lambda line: (line.ts, line.text))]


def gateway_lines(state: ClusterState) -> list[str]:
    return [t for t in lines(state, "istio-ingressgateway", "istio-proxy", "istio-system") if t.startswith("[")]


def access(state: ClusterState, app: str) -> list[str]:
    """The istio-proxy access-log lines (not start-up lines) of an app's pods."""
    return [t for t in lines(state, app, "istio-proxy") if t.startswith("[")]


def _key(ns: str, pod: str, container: str) -> Any:
    from atlas_sre.sim.state import LogKey
    return LogKey(ns, pod, container)


def entry_codes(state: ClusterState) -> dict[str, float]:
    return state.extras["mesh_entrypoints"][0]["codes"]


def alerts(state: ClusterState, name: str | None = None) -> list[dict[str, Any]]:
    return [a for a in state.extras["alerts"] if name is None or a["alertname"] == name]


def series(state: ClusterState, **labels: Any) -> list[dict[str, Any]]:
    return [m for m in state.extras["mesh_metrics"] if all(m.get(k) == v for k, v in labels.items())]


def outbound(code: str, flags: str, details: str, authority: str, upstream: str, cluster: str, route: str,
             path: str = "/api/items", transport: str = "-") -> re.Pattern[str]:
    """An exact pattern for a sidecar's outbound access-log line (numbers and ids left open)."""
    return re.compile(
        rf'^{STAMP} "GET {re.escape(path)} HTTP/1\.1" {code} {re.escape(flags)} {re.escape(details)} - '
        rf'"{re.escape(transport)}" 0 \d+ \d+ (\d+|-) "-" "Go-http-client/1\.1" "{UUID}" "{re.escape(authority)}" '
        rf'"{upstream}" {re.escape(cluster)} ({IP}:\d+|-) {IP}:\d+ {IP}:\d+ - {re.escape(route)}$')


def test_fixture_app_is_meshed() -> None:
    state = run()
    assert [c["name"] for c in pods(state, "frontend")[0]["spec"]["containers"]] == ["frontend", "istio-proxy"]
    assert len(pods(state, "backend")) == 2
    assert state.extras["mesh_entrypoints"][0]["entry"] == "GET shop.example.com/"
