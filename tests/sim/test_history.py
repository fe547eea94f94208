"""A scenario's past: a stalled rollout whose old pods keep serving (`spec.history`), and an old
restart on a pod that is fine now (`registry[].episodes`); served to the real kubectl."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kubectl_env import KUBECTL, run_kubectl

from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.scenarios.loader import ScenarioError, load_text
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.engine import derive

NOW = "2026-01-01T12:00:00Z"
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
SCENARIO = """\
apiVersion: atlas-sre/v1
kind: Scenario
metadata: {name: history-test}
spec:
  seed: 5
  clock: {start: "2026-11-26T04:00:00Z", faultAt: "2026-11-26T09:20:00Z", observeAt: "2026-11-26T10:00:00Z"}
  incident: {summary: "checkout release 1.9.0 does not finish rolling out"}
  registry:
    example.io/checkout:1.8.2:
      listen: [{port: 8080}]
      health: {path: /healthz}
    example.io/checkout:1.9.0:
      listen: [{port: 8080}]
      health: {path: /healthz}
      requires: [{env: PAYMENTS_URL, log: "panic: PAYMENTS_URL is required", exitCode: 2}]
    example.io/catalog:1.4.0:
      listen: [{port: 8080}]
      health: {path: /healthz}
      usage: {memoryMi: 200}
      episodes: [{at: "2026-11-26T06:10:00Z", memoryMi: 700}]
  manifests:
    - {apiVersion: v1, kind: Namespace, metadata: {name: shop}}
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: checkout, namespace: shop, labels: {app: checkout}}
      spec:
        replicas: 4
        selector: {matchLabels: {app: checkout}}
        template:
          metadata: {labels: {app: checkout}}
          spec:
            containers:
              - name: checkout
                image: "example.io/checkout:1.9.0"
                readinessProbe: {httpGet: {path: /healthz, port: 8080}}
    - apiVersion: apps/v1
      kind: Deployment
      metadata: {name: catalog, namespace: shop, labels: {app: catalog}}
      spec:
        replicas: 1
        selector: {matchLabels: {app: catalog}}
        template:
          metadata: {labels: {app: catalog}}
          spec:
            containers:
              - name: catalog
                image: example.io/catalog:1.4.0
                resources: {limits: {memory: 512Mi}}
                readinessProbe: {httpGet: {path: /healthz, port: 8080}}
  history:
    - target: shop/Deployment/checkout
      at: "2026-11-26T09:20:00Z"
      previous: {spec: {template: {spec: {containers: [{name: checkout, image: "example.io/checkout:1.8.2"}]}}}}
"""


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    if KUBECTL is None:
        pytest.skip("kubectl is not installed")
    state = derive(to_sim_spec(load_text(SCENARIO), parse_time(NOW)))
    home: Path = tmp_path_factory.mktemp("history")
    with SimServer(state, namespace="shop") as server:
        yield lambda *args: run_kubectl(server.kubeconfig_path, *args, env_home=home)


def test_history_targets_must_exist() -> None:
    bad = SCENARIO.replace("target: shop/Deployment/checkout", "target: shop/Deployment/nothing")
    with pytest.raises(ScenarioError, match="history\\[0\\].target shop/Deployment/nothing matches no object"):
        load_text(bad)
    with pytest.raises(ScenarioError, match="expected namespace/Kind/name"):
        load_text(SCENARIO.replace("target: shop/Deployment/checkout", "target: checkout"))


@pytest.mark.kubectl
def test_stalled_rollout_keeps_old_pods_serving(served: Kubectl) -> None:
    rs = [line.split() for line in served("get", "rs", "-n", "shop", "--no-headers", "-o",
                                          "custom-columns=NAME:.metadata.name,REV:.metadata.annotations.deployment"
                                          "\\.kubernetes\\.io/revision,DESIRED:.spec.replicas,READY:.status.readyReplicas,"
                                          "IMAGE:.spec.template.spec.containers[0].image").stdout.splitlines()]
    by_image = {r[4]: r for r in rs if r[0].startswith("checkout-")}
    # maxSurge 1, maxUnavailable 1: the new ReplicaSet stops at 2 unready pods, the old one keeps 3 ready
    assert by_image["example.io/checkout:1.8.2"][1:4] == ["1", "3", "3"]
    assert by_image["example.io/checkout:1.9.0"][1:4] == ["2", "2", "<none>"]
    deploy = served("get", "deploy", "-n", "shop", "checkout", "--no-headers").stdout.split()
    assert deploy[1:4] == ["3/4", "2", "3"]  # READY, UP-TO-DATE, AVAILABLE
    status = served("rollout", "status", "deploy/checkout", "-n", "shop", "--watch=false")
    assert status.returncode != 0
    assert 'deployment "checkout" exceeded its progress deadline' in status.stderr
    describe = served("describe", "deploy", "-n", "shop", "checkout").stdout
    assert "Progressing    False   ProgressDeadlineExceeded" in describe
    events = served("events", "-n", "shop", "--for", "deploy/checkout").stdout
    new, old = by_image["example.io/checkout:1.9.0"][0], by_image["example.io/checkout:1.8.2"][0]
    for step in (f"Scaled up replica set {new} from 0 to 1", f"Scaled down replica set {old} from 4 to 3",
                 f"Scaled up replica set {new} from 1 to 2"):
        assert step in events
    endpoints = served("get", "endpoints", "-n", "shop").stdout  # no Service: none expected
    assert "checkout" not in endpoints
    pods = [line.split() for line in served("get", "pods", "-n", "shop", "--no-headers").stdout.splitlines()
            if line.startswith("checkout-")]
    assert sorted(p[2] for p in pods).count("Running") == 3
    assert sum(1 for p in pods if p[2] in ("CrashLoopBackOff", "Error")) == 2


@pytest.mark.kubectl
def test_old_restart_reads_hours_ago_and_the_pod_is_fine(served: Kubectl) -> None:
    [pod] = [line.split() for line in served("get", "pods", "-n", "shop", "--no-headers").stdout.splitlines()
             if line.startswith("catalog-")]
    assert pod[1:3] == ["1/1", "Running"]
    assert pod[3:6] == ["1", "(3h50m", "ago)"]
    last = served("get", "pod", "-n", "shop", pod[0], "-o",
                  "jsonpath={.status.containerStatuses[0].lastState.terminated.reason} "
                  "{.status.containerStatuses[0].lastState.terminated.exitCode} "
                  "{.status.containerStatuses[0].lastState.terminated.finishedAt}").stdout.split()
    assert last == ["OOMKilled", "137", "2026-01-01T08:10:00Z"]
    warnings = served("get", "events", "-n", "shop", "--field-selector", f"involvedObject.name={pod[0]}").stdout
    assert "BackOff" not in warnings and "OOM" not in warnings  # nothing current to warn about
