"""The mesh signature read the way an agent reads it: real kubectl against the served, derived cluster."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubectl_env import KUBECTL, run_kubectl
from test_mesh_fixtures import NS, manifests, run

from atlas_sre.sim.api.serve import SimServer

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]
Kubectl = Callable[..., subprocess.CompletedProcess[str]]


def _subset_missing() -> list[dict[str, Any]]:
    return manifests() + [
        {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
         "metadata": {"name": "backend", "namespace": NS},
         "spec": {"hosts": ["backend"], "http": [{"route": [{"destination": {"host": "backend", "subset": "v2"}}]}]}},
        {"apiVersion": "networking.istio.io/v1", "kind": "DestinationRule",
         "metadata": {"name": "backend", "namespace": NS},
         "spec": {"host": "backend", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}},
    ]


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    home: Path = tmp_path_factory.mktemp("mesh-kubectl")
    with SimServer(run(_subset_missing()), namespace=NS) as server:
        def call(*args: str) -> subprocess.CompletedProcess[str]:
            return run_kubectl(server.kubeconfig_path, *args, env_home=home)
        yield call


def test_pods_show_two_ready_containers(kubectl: Kubectl) -> None:
    out = kubectl("get", "pods", "-n", NS, "--no-headers")
    assert out.returncode == 0, out.stderr
    rows = [line.split() for line in out.stdout.splitlines()]
    assert rows and all(row[1] == "2/2" and row[2] == "Running" for row in rows)


def test_callers_proxy_log_shows_nc(kubectl: Kubectl) -> None:
    out = kubectl("logs", "deploy/frontend-v1", "-c", "istio-proxy", "-n", NS, "--tail=40")
    assert out.returncode == 0, out.stderr
    assert '"GET /api/items HTTP/1.1" 503 NC cluster_not_found - "-" 0 0 0 - "-" "Go-http-client/1.1"' in out.stdout
    app = kubectl("logs", "deploy/frontend-v1", "-n", NS, "--tail=20")  # the default container is the app
    assert "ERROR [frontend] call to backend failed: 503" in app.stdout


def test_mesh_config_is_readable(kubectl: Kubectl) -> None:
    out = kubectl("get", "virtualservices,destinationrules", "-A", "-o", "yaml")
    assert out.returncode == 0, out.stderr
    assert "subset: v2" in out.stdout and "name: v1" in out.stdout
    svc = kubectl("get", "svc", "istio-ingressgateway", "-n", "istio-system", "--no-headers")
    assert svc.returncode == 0 and "LoadBalancer" in svc.stdout
