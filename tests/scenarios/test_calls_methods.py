"""`calls[].method`, per-path `routes` and self-driven workers, read through real kubectl logs."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atlas_sre.scenarios.catalog import load
from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.sim.api import serve
from atlas_sre.sim.engine import derive
from atlas_sre.sim.images import Address, Call, ImageBehaviour

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))
import kubectl_env as kube

pytestmark = pytest.mark.skipif(kube.KUBECTL is None, reason="kubectl is not installed")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, Any]]:
    state = derive(to_sim_spec(load("mesh-retry-per-try-timeout")))
    with serve.SimServer(state, namespace="shop") as sim:
        yield sim, tmp_path_factory.mktemp("home"), state


def _logs(cluster: tuple[Any, Path, Any], app: str, container: str) -> list[str]:
    return kube.app_logs(*cluster, app, container)


def _requests(lines: list[str]) -> set[str]:
    return {m.group(1) for t in lines if (m := re.match(r'^\[[^]]+\] "([A-Z]+ \S+) HTTP/1\.1"', t))}


def test_each_served_path_makes_its_own_calls_with_its_own_method(cluster: Any) -> None:
    storefront = _requests(_logs(cluster, "storefront", "istio-proxy"))
    # inbound: what users send; outbound: POST /checkout → POST checkout, GET / → GET catalog only
    assert {"GET /", "POST /checkout", "POST /api/checkout", "GET /api/products"} <= storefront
    assert "GET /api/checkout" not in storefront and "POST /api/products" not in storefront
    assert _requests(_logs(cluster, "catalog", "istio-proxy")) == {"GET /api/products"}
    assert _requests(_logs(cluster, "payments", "istio-proxy")) == {"POST /v1/charges"}
    assert any(t.startswith("POST /api/checkout 200 ") for t in _logs(cluster, "checkout", "checkout"))


def test_a_self_driven_worker_writes_its_own_outbound_and_app_lines() -> None:
    scenario = load("mesh-retry-per-try-timeout")
    scenario.spec.registry["example.io/shop/reconciler:1.0.0"] = ImageBehaviour(
        latencyMs=20, calls=[Call(name="payments", address=Address(default="payments:8080"), path="/v1/settlements",
                                  method="PUT")],
        logs={"startup": ["reconciler started"], "request": "reconcile run {method} {path} -> {status}"})
    scenario.spec.manifests.append(
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "reconciler", "namespace": "shop"},
         "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "reconciler"}},
                  "template": {"metadata": {"labels": {"app": "reconciler"}},
                               "spec": {"containers": [{"name": "reconciler",
                                                        "image": "example.io/shop/reconciler:1.0.0"}]}}}})
    scenario.spec.traffic["entrypoints"].append({"source": "shop/reconciler", "path": "/run", "rps": 1})
    state = derive(to_sim_spec(scenario))
    [pod] = [p["metadata"]["name"] for p in state.find("Pod", "shop")
             if p["metadata"]["name"].startswith("reconciler-")]
    app = [x.text for k, v in state.logs.items() if k.pod == pod and k.container == "reconciler" for x in v]
    proxy = [x.text for k, v in state.logs.items() if k.pod == pod and k.container == "istio-proxy" for x in v]
    assert "reconcile run GET /run -> 200" in app
    assert any('"PUT /v1/settlements HTTP/1.1" 200 - via_upstream' in t and "outbound|8080||payments" in t
               for t in proxy)
