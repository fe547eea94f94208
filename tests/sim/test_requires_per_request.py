"""`requires[].onFail: request`: a bad credential found only when used. The pod stays Running and
Ready; every request it serves fails with the requirement's status and logs its line."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubectl_env import KUBECTL, run_kubectl

from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.scenarios.loader import load_text
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.engine import derive

NOW = "2026-01-01T12:00:00Z"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
AUTH = 'ERROR authentication failed for user "app": password authentication failed'
SCENARIO = """\
apiVersion: atlas-sre/v1
kind: Scenario
metadata: {name: bad-password}
spec:
  seed: 3
  incident: {summary: "orders answers 500"}
  traffic:
    entrypoints: [{service: shop/orders, port: 8080, path: /orders, rps: 10}]
  registry:
    example.io/orders:2.0:
      listen: [{port: 8080}]
      health: {path: /healthz}
      requires:
        - {env: DB_PASSWORD, equals: "PASSWORD", onFail: request, status: 500,
           log: 'ERROR authentication failed for user "app": password authentication failed'}
      logs:
        startup: ['INFO orders 2.0 listening on :8080']
        request: 'INFO {method} {path} {status} {latencyMs}ms'
  manifests:
    - {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {istio-injection: enabled}}}
    - {apiVersion: v1, kind: Secret, metadata: {name: orders-db, namespace: shop}, stringData: {password: SECRET}}
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: orders, namespace: shop, labels: {app: orders}}
      spec:
        replicas: 1
        selector: {matchLabels: {app: orders}}
        template:
          metadata: {labels: {app: orders}}
          spec:
            containers:
              - name: orders
                image: example.io/orders:2.0
                ports: [{containerPort: 8080, name: http}]
                env: [{name: DB_PASSWORD, valueFrom: {secretKeyRef: {name: orders-db, key: password}}}]
                readinessProbe: {httpGet: {path: /healthz, port: 8080}}
    - {apiVersion: v1, kind: Service, metadata: {name: orders, namespace: shop},
       spec: {selector: {app: orders}, ports: [{name: http, port: 8080, targetPort: 8080}]}}
"""


def _serve(text: str, home: Path) -> Iterator[Kubectl]:
    state = derive(to_sim_spec(load_text(text), parse_time(NOW)))
    with SimServer(state, namespace="shop") as server:
        yield lambda *args: run_kubectl(server.kubeconfig_path, *args, env_home=home)


@pytest.fixture(scope="module")
def bad(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    yield from _serve(SCENARIO, tmp_path_factory.mktemp("bad"))


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    yield from _serve(SCENARIO.replace("password: SECRET", "password: PASSWORD"), tmp_path_factory.mktemp("good"))


def _pod(kubectl: Kubectl) -> list[str]:
    [row] = [line.split() for line in kubectl("get", "pods", "-n", "shop", "--no-headers").stdout.splitlines()
             if line.startswith("orders-")]
    return row


@pytest.mark.kubectl
def test_bad_credential_keeps_the_pod_ready_and_fails_every_request(bad: Kubectl) -> None:
    pod = _pod(bad)
    assert pod[1:4] == ["2/2", "Running", "0"]  # app + istio-proxy, ready, never restarted
    app = bad("logs", "-n", "shop", pod[0], "-c", "orders").stdout.splitlines()
    assert app[0] == "INFO orders 2.0 listening on :8080"
    assert AUTH in app
    served = [line for line in app if line.startswith("INFO GET /orders")]
    assert served and all(" 500 " in line for line in served)
    proxy = bad("logs", "-n", "shop", pod[0], "-c", "istio-proxy").stdout
    inbound = [line for line in proxy.splitlines() if '"GET /orders HTTP/1.1"' in line]
    assert inbound and all('HTTP/1.1" 500 ' in line for line in inbound)
    endpoints = bad("get", "endpoints", "-n", "shop", "orders", "--no-headers").stdout.split()
    assert endpoints[1].endswith(":8080")  # still in the Service: nothing at the pod level shows the fault


@pytest.mark.kubectl
def test_right_credential_serves_200(good: Kubectl) -> None:
    pod = _pod(good)
    app = good("logs", "-n", "shop", pod[0], "-c", "orders").stdout.splitlines()
    assert AUTH not in app
    served = [line for line in app if line.startswith("INFO GET /orders")]
    assert served and all(" 200 " in line for line in served)
