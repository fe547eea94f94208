"""Derived clusters (engine + API together): what kubectl and the Python client read from built-ins.

These use `derive()` on built-in scenarios, so they assert on symptoms the engine computed (the
crash loop and its log, the image that cannot be pulled, the Service without endpoints), served
through the real API path. They skip until the workload engine is importable.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_env import KUBECTL, run_kubectl

from atlas_sre.scenarios.serving import build_state
from atlas_sre.sim.api.serve import SimServer

pytestmark = [
    pytest.mark.kubectl,
    pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed"),
]
NOW = "2026-01-01T12:00:00Z"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def serve(name: str, tmp: Path) -> Iterator[tuple[SimServer, Kubectl]]:
    state, namespace = build_state(name, NOW)
    with SimServer(state, namespace=namespace) as server:
        def run(*args: str) -> subprocess.CompletedProcess[str]:
            return run_kubectl(server.kubeconfig_path, *args, env_home=tmp)

        yield server, run


@pytest.fixture(scope="module")
def crashloop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, Kubectl]]:
    yield from serve("crashloop-missing-env", tmp_path_factory.mktemp("crashloop"))


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, Kubectl]]:
    yield from serve("image-not-found", tmp_path_factory.mktemp("image"))


def pods_by_prefix(kubectl: Kubectl, prefix: str) -> list[list[str]]:
    result = kubectl("get", "pods", "--no-headers")
    assert result.returncode == 0, result.stderr
    return [line.split() for line in result.stdout.splitlines() if line.startswith(prefix)]


def test_crash_loop_is_visible_in_get_logs_and_describe(crashloop: tuple[SimServer, Kubectl]) -> None:
    _, kubectl = crashloop
    rows = pods_by_prefix(kubectl, "checkout-")
    assert rows and all(r[2] in ("CrashLoopBackOff", "Error") for r in rows)
    pod = rows[0][0]
    logs = kubectl("logs", pod)
    assert logs.returncode == 0 and "DATABASE_URL" in logs.stdout
    previous = kubectl("logs", pod, "--previous")
    assert previous.returncode == 0 and "DATABASE_URL" in previous.stdout
    described = kubectl("describe", "pod", pod)
    assert "Events:" in described.stdout and "BackOff" in described.stdout
    svc = kubectl("describe", "svc", "checkout")
    assert svc.returncode == 0 and any(
        line.startswith("Endpoints:") and line.split()[1:] in ([], ["<none>"]) for line in svc.stdout.splitlines())


def test_image_pull_failure_refuses_logs(image: tuple[SimServer, Kubectl]) -> None:
    _, kubectl = image
    rows = pods_by_prefix(kubectl, "catalog-")
    pulling = [r for r in rows if r[2] in ("ImagePullBackOff", "ErrImagePull")]
    assert pulling
    result = kubectl("logs", pulling[0][0])
    assert result.returncode == 1 and "is waiting to start:" in result.stderr
    events = kubectl("describe", "pod", pulling[0][0]).stdout.split("Events:")[1]
    assert "pull" in events and "example.io/shop/catalog" in events


def test_get_all_top_and_events(crashloop: tuple[SimServer, Kubectl]) -> None:
    _, kubectl = crashloop
    everything = kubectl("get", "all", "-A")
    assert everything.returncode == 0 and "deployment.apps/checkout" in everything.stdout
    assert kubectl("get", "events", "--field-selector", "type=Warning").stdout.count("\n") >= 2
    top = kubectl("top", "pods")
    assert top.returncode == 0 and "frontend-" in top.stdout


def test_python_client_deserialises_every_built_in_list(crashloop: tuple[SimServer, Kubectl]) -> None:
    """The official client validates required fields strictly: a missing one fails here first."""
    kubernetes = pytest.importorskip("kubernetes")
    server, _ = crashloop
    client = kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig_path))
    core, apps = kubernetes.client.CoreV1Api(client), kubernetes.client.AppsV1Api(client)
    listed: dict[str, Any] = {
        "pods": core.list_pod_for_all_namespaces(), "services": core.list_service_for_all_namespaces(),
        "endpoints": core.list_endpoints_for_all_namespaces(), "events": core.list_event_for_all_namespaces(),
        "nodes": core.list_node(), "namespaces": core.list_namespace(),
        "configmaps": core.list_config_map_for_all_namespaces(), "secrets": core.list_secret_for_all_namespaces(),
        "deployments": apps.list_deployment_for_all_namespaces(),
        "replicasets": apps.list_replica_set_for_all_namespaces(),
        "endpointslices": kubernetes.client.DiscoveryV1Api(client).list_endpoint_slice_for_all_namespaces(),
    }
    assert listed["pods"].items and listed["deployments"].items and listed["nodes"].items
    checkout = [p for p in listed["pods"].items if p.metadata.name.startswith("checkout-")]
    assert checkout[0].status.container_statuses[0].restart_count > 0
    raw = json.loads(run_kubectl(server.kubeconfig_path, "get", "--raw", "/api/v1/pods",
                                 env_home=server.kubeconfig_path.parent / "raw").stdout)
    assert len(raw["items"]) == len(listed["pods"].items)


def test_same_scenario_served_twice_is_byte_identical(tmp_path: Path) -> None:
    outputs = []
    for i in range(2):
        state, namespace = build_state("crashloop-missing-env", NOW)
        with SimServer(state, namespace=namespace) as server:
            result = run_kubectl(server.kubeconfig_path, "get", "pods", "-o", "json", env_home=tmp_path / str(i))
            assert result.returncode == 0, result.stderr
            outputs.append(result.stdout)
    first_diff = next(((a, b) for a, b in zip(*(o.splitlines() for o in outputs), strict=False) if a != b), None)
    assert outputs[0] == outputs[1], f"first differing line: {first_diff}"
