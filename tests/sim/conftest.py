"""Shared helpers for the simulator tests: small SimSpecs with a fixed clock.

`make_spec` builds the engine's input straight from manifests (no scenario file), with a clock
whose start is 50 minutes before observation so start-time events are still inside the
apiserver's one-hour event TTL.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.engine import derive
from atlas_sre.sim.images import ImageBehaviour, Listen
from atlas_sre.sim.state import Change, ClusterState, SimSpec

START = parse_time("2026-11-26T09:10:00Z")
FAULT = START + timedelta(minutes=20)
OBSERVE = START + timedelta(minutes=50)
ANCHOR = parse_time("2026-01-01T12:00:00Z")
APP_IMAGE = "example.io/app:1.0"


def clock() -> SimClock:
    """The tests' fixed clock (anchored, so rendered times are reproducible)."""
    return SimClock(START, FAULT, OBSERVE, ANCHOR)


def server(port: int = 8080) -> ImageBehaviour:
    """A well-behaved HTTP server image listening on `port`."""
    return ImageBehaviour(listen=[Listen(port=port)], health={"path": "/health"})


def make_spec(manifests: list[dict[str, Any]], registry: dict[str, ImageBehaviour] | None = None, *,
              seed: int = 1, history: dict[str, Change] | None = None) -> SimSpec:
    """A SimSpec from plain manifests (default registry: APP_IMAGE as a healthy server)."""
    return SimSpec(manifests=manifests, registry=registry if registry is not None else {APP_IMAGE: server()},
                   clock=clock(), seed=seed, history=history or {})


def derive_state(spec: SimSpec) -> ClusterState:
    """The full derivation (every stage, the kubelet's included when it exists)."""
    return derive(spec)


def node(name: str, cpu: str = "4", memory: str = "16Gi", pods: str = "110", **extra: Any) -> dict[str, Any]:
    """A Node manifest with allocatable resources (labels/spec/status merged from `extra`)."""
    obj: dict[str, Any] = {"apiVersion": "v1", "kind": "Node",
                           "metadata": {"name": name, "labels": dict(extra.pop("labels", {}))},
                           "status": {"allocatable": {"cpu": cpu, "memory": memory, "pods": pods}}}
    if "spec" in extra:
        obj["spec"] = extra.pop("spec")
    if "conditions" in extra:
        obj["status"]["conditions"] = extra.pop("conditions")
    return obj


def namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def deployment(name: str, ns: str = "shop", replicas: int = 2, image: str = APP_IMAGE,
               resources: dict[str, Any] | None = None, **pod: Any) -> dict[str, Any]:
    """A Deployment manifest with one container named `app` (extra pod spec fields in `pod`)."""
    container: dict[str, Any] = {"name": "app", "image": image, "ports": [{"containerPort": 8080, "name": "http"}]}
    if resources is not None:
        container["resources"] = resources
    container.update(pod.pop("container", {}))
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [container], **pod}}}}


def service(name: str, ns: str = "shop", selector: dict[str, str] | None = None,
            ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": ns},
            "spec": {"selector": selector if selector is not None else {"app": name},
                     "ports": ports or [{"name": "http", "port": 80, "targetPort": 8080}]}}


def of_kind(state: ClusterState, kind: str, ns: str | None = None) -> list[dict[str, Any]]:
    return [o for o in state.objects if o.get("kind") == kind
            and (ns is None or o["metadata"].get("namespace") == ns)]


def get(state: ClusterState, kind: str, ns: str | None, name: str) -> dict[str, Any]:
    found = state.get(kind, ns, name)
    assert found is not None, f"{kind} {ns}/{name} not found"
    return found


def events_for(state: ClusterState, obj: dict[str, Any], reason: str | None = None) -> list[dict[str, Any]]:
    uid = obj["metadata"]["uid"]
    return [e for e in of_kind(state, "Event") if e["involvedObject"].get("uid") == uid
            and (reason is None or e["reason"] == reason)]


def pods_of(state: ClusterState, ns: str, prefix: str) -> list[dict[str, Any]]:
    return sorted((p for p in of_kind(state, "Pod", ns) if p["metadata"]["name"].startswith(prefix)),
                  key=lambda p: p["metadata"]["name"])


@pytest.fixture
def shop() -> list[dict[str, Any]]:
    """The namespace most tests put their objects in."""
    return [namespace("shop")]


@pytest.fixture(scope="module")
def kubectl(sim: Any, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Real kubectl against the module's `sim` server (each test module defines `sim`), own HOME per module."""
    from kubectl_env import run_kubectl  # the kubectl helpers stay out of the modules that never run kubectl

    home = tmp_path_factory.mktemp("kube-home")
    return lambda *args, **kw: run_kubectl(sim.kubeconfig_path, *args, env_home=home, **kw)
