"""The pieces every real cluster has, read with the real kubectl: the control-plane node and its
static pods, node Leases, bootstrap RBAC, ControllerRevisions, Istio's webhooks and istiod's logs,
and start-up lines for app images that declare none (issue 13, item 6)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kubectl_env import KUBECTL, run_kubectl

from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.clock import parse_time
from atlas_sre.sim.state import Change, ClusterState
from conftest import APP_IMAGE, FAULT, OBSERVE, deployment, derive_state, get, make_spec, node, of_kind, server

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
CP = "kind-control-plane"
TAINT = "1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }"
DB_V1, DB_V2 = "example.io/db:1.0", "example.io/db:2.0"


def _statefulset(image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": "db", "namespace": "shop", "labels": {"app": "db"}},
            "spec": {"replicas": 1, "serviceName": "db", "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}},
                                  "spec": {"containers": [{"name": "db", "image": image,
                                                           "ports": [{"containerPort": 5432}]}]}}}}


def _manifests() -> list[dict[str, Any]]:
    shop = {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "shop", "labels": {"istio-injection": "enabled"}}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "shop"},
           "spec": {"selector": {"app": "web"}, "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    return [shop, node("kind-worker"), node("kind-worker2"), deployment("web", replicas=2), svc,
            deployment("huge", replicas=1, resources={"requests": {"cpu": "64"}}), _statefulset(DB_V2)]


def _state() -> ClusterState:
    registry = {APP_IMAGE: server(), DB_V1: server(5432), DB_V2: server(5432)}
    history = {"shop/StatefulSet/db": Change(FAULT, _statefulset(DB_V1)),
               "shop/Service/web": Change(OBSERVE - timedelta(minutes=10), None)}
    return derive_state(make_spec(_manifests(), registry, history=history))


@pytest.fixture(scope="module")
def cluster() -> ClusterState:
    return _state()


@pytest.fixture(scope="module")
def kubectl(cluster: ClusterState, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    home: Path = tmp_path_factory.mktemp("pieces")
    with SimServer(cluster, namespace="shop") as sim:
        def run(*args: str) -> subprocess.CompletedProcess[str]:
            result = run_kubectl(sim.kubeconfig_path, *args, env_home=home)
            assert result.returncode == 0, result.stderr
            return result

        yield run


def test_control_plane_node_is_named_like_kind_and_tainted(kubectl: Kubectl) -> None:
    rows = [line.split() for line in kubectl("get", "nodes", "--no-headers").stdout.splitlines()]
    assert [(r[0], r[1], r[2]) for r in rows] == [(CP, "Ready", "control-plane"), ("kind-worker", "Ready", "<none>"),
                                                  ("kind-worker2", "Ready", "<none>")]
    described = kubectl("describe", "node", CP).stdout
    assert "Taints:             node-role.kubernetes.io/control-plane:NoSchedule" in described
    assert "node-role.kubernetes.io/control-plane=" in described


def test_describe_node_shows_the_kubelet_lease(kubectl: Kubectl, cluster: ClusterState) -> None:
    described = kubectl("describe", "node", "kind-worker").stdout
    assert "Failed to get lease" not in described
    assert "Lease:\n  HolderIdentity:  kind-worker\n  AcquireTime:     <unset>\n  RenewTime:" in described
    lease = get(cluster, "Lease", "kube-node-lease", "kind-worker")
    renewed = parse_time(lease["spec"]["renewTime"]) - cluster.clock.shift
    assert lease["spec"]["leaseDurationSeconds"] == 40
    assert timedelta(0) <= cluster.clock.observe_at - renewed < timedelta(seconds=10)  # renewed every 10 s
    assert lease["metadata"]["ownerReferences"][0]["kind"] == "Node"
    assert "generation" not in lease["metadata"]


def test_get_leases_lists_heartbeats_and_leader_locks(kubectl: Kubectl) -> None:
    out = kubectl("get", "leases", "-A").stdout
    assert out.splitlines()[0].split() == ["NAMESPACE", "NAME", "HOLDER", "AGE"]
    rows = {tuple(line.split()[:3]) for line in out.splitlines()[1:]}
    for name in (CP, "kind-worker", "kind-worker2"):
        assert ("kube-node-lease", name, name) in rows
    holders = {r[1]: r[2] for r in rows if r[0] == "kube-system"}
    assert holders["kube-scheduler"].startswith(f"{CP}_")
    assert holders["kube-controller-manager"].startswith(f"{CP}_")
    assert any(name.startswith("apiserver-") for name in holders)


def test_static_pods_run_on_the_control_plane_node_owned_by_it(kubectl: Kubectl) -> None:
    rows = {r[0]: r for r in (line.split() for line in
                              kubectl("get", "pods", "-n", "kube-system", "-o", "wide", "--no-headers")
                              .stdout.splitlines())}
    for component in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        row = rows[f"{component}-{CP}"]
        assert row[1:3] == ["1/1", "Running"] and row[6] == CP and row[5] == "172.18.0.4"  # hostNetwork: node IP
    assert sum(1 for name in rows if name.startswith("kube-proxy-")) == 3  # the DaemonSet tolerates every taint
    described = kubectl("describe", "pod", "-n", "kube-system", f"kube-apiserver-{CP}").stdout
    assert f"Controlled By:  Node/{CP}" in described
    assert "Priority Class Name:  system-node-critical" in described
    assert "Liveness:     http-get https://172.18.0.4:6443/livez" in described
    assert "kube-api-access" not in described  # mirror pods get no service-account token
    etcd = kubectl("logs", "-n", "kube-system", f"etcd-{CP}").stdout
    assert '"msg":"starting an etcd server"' in etcd and f'"name":"{CP}"' in etcd


def test_workloads_stay_off_the_control_plane_and_the_scheduler_counts_it(kubectl: Kubectl,
                                                                          cluster: ClusterState) -> None:
    assert all(p["spec"].get("nodeName") != CP for p in of_kind(cluster, "Pod", "shop"))
    huge = next(line for line in kubectl("get", "pods", "--no-headers").stdout.splitlines()
                if line.startswith("huge-"))
    events = kubectl("events", "--for", f"pod/{huge.split()[0]}").stdout
    assert f"0/3 nodes are available: {TAINT}, 2 Insufficient cpu." in events


def test_bootstrap_rbac_is_listed(kubectl: Kubectl) -> None:
    roles = {line.split()[0] for line in kubectl("get", "clusterroles", "--no-headers").stdout.splitlines()}
    assert {"cluster-admin", "admin", "edit", "view", "system:node", "system:kube-scheduler",
            "system:controller:deployment-controller", "istiod-clusterrole-istio-system"} <= roles
    binding = kubectl("get", "clusterrolebinding", "cluster-admin", "-o", "wide").stdout.splitlines()
    assert binding[1].split()[:2] == ["cluster-admin", "ClusterRole/cluster-admin"]
    assert "system:masters" in binding[1]
    view = kubectl("get", "clusterrole", "view", "-o", "jsonpath={.aggregationRule.clusterRoleSelectors[0]"
                   ".matchLabels}").stdout
    assert "rbac.authorization.k8s.io/aggregate-to-view" in view
    rb = kubectl("get", "rolebindings", "-n", "kube-system", "--no-headers").stdout
    assert "system::leader-locking-kube-scheduler" in rb


def test_controller_revisions_back_rollout_history(kubectl: Kubectl) -> None:
    revs = [line.split() for line in kubectl("get", "controllerrevisions", "-n", "kube-system",
                                             "--no-headers").stdout.splitlines()]
    assert [(r[1], r[2]) for r in revs if r[0].startswith("kube-proxy-")] == [("daemonset.apps/kube-proxy", "1")]
    history = kubectl("rollout", "history", "ds/kube-proxy", "-n", "kube-system").stdout
    assert "REVISION  CHANGE-CAUSE\n1         <none>" in history
    sts = kubectl("rollout", "history", "sts/db").stdout
    assert "REVISION  CHANGE-CAUSE\n1         <none>\n2         <none>" in sts
    second = kubectl("rollout", "history", "sts/db", "--revision=2").stdout
    assert DB_V2 in second and DB_V1 not in second
    pod_rev = kubectl("get", "pod", "db-0", "-o", "jsonpath={.metadata.labels.controller-revision-hash}").stdout
    names = kubectl("get", "controllerrevisions", "-o", "name").stdout.split()
    assert f"controllerrevision.apps/{pod_rev}" in names


def test_istio_webhook_configurations(kubectl: Kubectl) -> None:
    mutating = kubectl("get", "mutatingwebhookconfigurations").stdout.splitlines()
    assert mutating[0].split() == ["NAME", "WEBHOOKS", "AGE"] and mutating[1].split()[:2] == [
        "istio-sidecar-injector", "4"]
    names = kubectl("get", "mutatingwebhookconfiguration", "istio-sidecar-injector", "-o",
                    "jsonpath={.webhooks[*].name}").stdout.split()
    assert "namespace.sidecar-injector.istio.io" in names
    validating = kubectl("get", "validatingwebhookconfigurations", "--no-headers").stdout.split()
    assert validating[:2] == ["istio-validator-istio-system", "1"]
    resources = kubectl("api-resources", "--api-group=admissionregistration.k8s.io", "--no-headers").stdout
    assert "mutatingwebhookconfigurations" in resources and "validatingwebhookconfigurations" in resources


def test_istiod_logs_its_startup_connections_and_pushes(kubectl: Kubectl, cluster: ClusterState) -> None:
    logs = kubectl("logs", "-n", "istio-system", "deploy/istiod").stdout
    assert "\tinfo\tmesh configuration: accessLogFile: /dev/stdout\n" in logs
    assert "marking server ready" in logs
    web = next(p["metadata"]["name"] for p in of_kind(cluster, "Pod", "shop") if p["metadata"]["name"]
               .startswith("web-"))
    assert f"\tinfo\tads\tADS: new connection for node:{web}.shop-1\n" in logs
    assert f"\tinfo\tads\tCDS: PUSH request for node:{web}.shop resources:" in logs
    services = len(of_kind(cluster, "Service"))
    assert ("\tinfo\tads\tPush debounce stable[2] 1 for config ServiceEntry/shop/web.shop.svc.cluster.local: "
            in logs)
    proxies = sum(1 for p in of_kind(cluster, "Pod") for c in p["status"].get("containerStatuses") or []
                  if c["name"] == "istio-proxy" and "running" in c["state"])
    assert f"\tinfo\tads\tXDS: Pushing Services:{services} ConnectedEndpoints:{proxies} Version:" in logs


def test_apps_without_log_templates_still_log_their_start(kubectl: Kubectl) -> None:
    web = next(line.split()[0] for line in kubectl("get", "pods", "--no-headers").stdout.splitlines()
               if line.startswith("web-"))
    assert kubectl("logs", web, "-c", "app").stdout == ("Starting app version 1.0\n"
                                                       "HTTP server listening on 0.0.0.0:8080\n")


def test_a_kubelet_that_stopped_posting_stopped_renewing() -> None:
    lost = node("kind-worker2", conditions=[{"type": "Ready", "status": "Unknown"}])
    history = {"Node/kind-worker2": Change(FAULT, node("kind-worker2"))}
    state = derive_state(make_spec([node("kind-worker"), lost], history=history))
    renew = get(state, "Lease", "kube-node-lease", "kind-worker2")["spec"]["renewTime"]
    ready = next(c for c in get(state, "Node", None, "kind-worker2")["status"]["conditions"] if c["type"] == "Ready")
    assert renew.startswith(ready["lastHeartbeatTime"][:-1]) and ready["status"] == "Unknown"
    assert renew < state.clock.iso_micro(state.clock.observe_at - timedelta(minutes=5))
