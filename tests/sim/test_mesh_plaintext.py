"""Callers stopped before the destination: plaintext into STRICT mTLS, and a caller's own sidecar black hole.

STRICT: the destination's inbound listener has no filter chain for plaintext, logs
`"- - -" 0 NR filter_chain_not_found` and closes; the caller outside the mesh reads a reset.
Errors made by the caller's own proxy are alerted on the caller, not on a destination that saw nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubectl_env as kube
import pytest
from test_mesh_fixtures import IP, STAMP

from atlas_sre.scenarios.catalog import load
from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.sim.api import serve
from atlas_sre.sim.engine import derive

pytestmark = pytest.mark.skipif(kube.KUBECTL is None, reason="kubectl is not installed")

NO_CHAIN = re.compile(rf'^{STAMP} "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - '
                      rf'{IP}:8080 {IP}:\d+ - -$')


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, Any]]:
    state = derive(to_sim_spec(load("mesh-strict-mtls-plaintext-worker")))
    with serve.SimServer(state, namespace="billing") as sim:
        yield sim, tmp_path_factory.mktemp("home"), state


def _kubectl(cluster: tuple[Any, Path, Any], *args: str) -> str:
    got = kube.run_kubectl(cluster[0].kubeconfig_path, *args, env_home=cluster[1])
    assert got.returncode == 0, got.stderr
    return got.stdout


def _pods(cluster: tuple[Any, Path, Any], ns: str, app: str) -> list[str]:
    return [p["metadata"]["name"] for p in cluster[2].find("Pod", ns) if p["metadata"]["name"].startswith(app + "-")]


def test_server_sidecar_logs_filter_chain_not_found(cluster: Any) -> None:
    lines = [t for pod in _pods(cluster, "billing", "ledger")
             for t in _kubectl(cluster, "logs", "-n", "billing", pod, "-c", "istio-proxy").splitlines()]
    assert any(NO_CHAIN.match(t) for t in lines)
    # the in-mesh caller's mTLS requests are still served
    assert any('"GET /v1/balance HTTP/1.1" 200 - via_upstream' in t and "inbound|8080||" in t for t in lines)


def test_plaintext_worker_reads_connection_resets(cluster: Any) -> None:
    [pod] = _pods(cluster, "batch", "invoice-sync")
    containers = _kubectl(cluster, "get", "pod", "-n", "batch", pod, "-o", "jsonpath={.spec.containers[*].name}")
    assert containers == "invoice-sync"  # no sidecar: the namespace is not injected
    app = _kubectl(cluster, "logs", "-n", "batch", pod).splitlines()
    reset = re.compile(r'ERROR invoice-sync: posting invoice to ledger failed: Post "http://ledger\.billing:8080/'
                       rf'v1/invoices": read tcp {IP}:\d+->10\.96\.\d+\.\d+:8080: read: connection reset by peer')
    assert any(reset.fullmatch(t) for t in app)
    assert "INFO invoice-sync: batch processed status=500 duration=41ms" in app


def test_errors_made_by_the_callers_own_sidecar_are_alerted_on_the_caller() -> None:
    state = derive(to_sim_spec(load("mesh-sidecar-blocks-caller-alert")))
    fired = {(a["alertname"], a["service"]) for a in state.extras["alerts"]}
    assert ("HighRequestErrorRate", "storefront") in fired
    assert not [f for f in fired if f[1] == "reviews"]  # reviews received nothing and is not blamed
    series = [m for m in state.extras["mesh_metrics"] if m["response_code"] == 502 and m["reporter"] == "source"
              and m["source_workload"] == "storefront"]
    assert series and {m["destination_service_name"] for m in series} == {"BlackHoleCluster"}
