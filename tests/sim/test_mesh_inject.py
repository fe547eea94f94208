"""Sidecar injection and the control plane, as a real Istio install would leave the cluster."""

from __future__ import annotations

import json
from datetime import timedelta

from test_mesh_fixtures import FAULT, NS, edit, lines, manifests, pods, run

from atlas_sre.sim.engine import default_stages
from atlas_sre.sim.mesh.inject import wants_sidecar
from atlas_sre.sim.mesh.istio import PROXY_IMAGE
from atlas_sre.sim.state import Change


def test_injected_pod_matches_the_webhooks_mutation() -> None:
    state = run()
    pod = pods(state, "backend")[0]
    spec, md = pod["spec"], pod["metadata"]
    assert [c["name"] for c in spec["initContainers"]] == ["istio-init"]
    proxy = spec["containers"][1]
    assert proxy["name"] == "istio-proxy" and proxy["image"] == "docker.io/istio/proxyv2:1.24.2"
    assert proxy["ports"] == [{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}]
    assert proxy["readinessProbe"]["httpGet"] == {"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"}
    assert proxy["resources"] == {"limits": {"cpu": "2", "memory": "1Gi"},
                                  "requests": {"cpu": "100m", "memory": "128Mi"}}
    env = {e["name"]: e.get("value") for e in proxy["env"]}
    assert env["ISTIO_META_WORKLOAD_NAME"] == "backend-v1"
    assert env["ISTIO_META_OWNER"] == "kubernetes://apis/apps/v1/namespaces/shop/deployments/backend-v1"
    assert json.loads(env["ISTIO_META_POD_PORTS"]) == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert md["labels"]["security.istio.io/tlsMode"] == "istio"
    assert md["labels"]["service.istio.io/canonical-name"] == "backend"
    assert md["labels"]["service.istio.io/canonical-revision"] == "v1"
    assert md["annotations"]["kubectl.kubernetes.io/default-container"] == "backend"
    status = json.loads(md["annotations"]["sidecar.istio.io/status"])
    assert status["containers"] == ["istio-proxy"] and status["revision"] == "default"
    assert {v["name"] for v in spec["volumes"]} >= set(status["volumes"])


def test_injected_pods_run_both_containers_and_the_init_completes() -> None:
    state = run()
    pod = pods(state, "frontend")[0]
    statuses = {c["name"]: c for c in pod["status"]["containerStatuses"]}
    assert statuses["istio-proxy"]["ready"] is True and "running" in statuses["istio-proxy"]["state"]
    init = pod["status"]["initContainerStatuses"][0]
    assert init["name"] == "istio-init" and init["state"]["terminated"]["reason"] == "Completed"
    assert PROXY_IMAGE in state.extras["registry"]
    init_log = lines(state, "frontend", "istio-init")
    assert init_log[-1] == "COMMIT" and "-A ISTIO_OUTPUT -j ISTIO_REDIRECT" in init_log
    startup = [t for t in lines(state, "frontend", "istio-proxy") if not t.startswith("[")]
    assert startup[-1].endswith("\tinfo\tEnvoy proxy is ready")
    assert any("type=sidecar id=frontend-v1-" in t and ".shop domain=shop.svc.cluster.local" in t for t in startup)


def test_control_plane_is_installed_when_the_mesh_is_used() -> None:
    state = run()
    deployments = {d["metadata"]["name"] for d in state.find("Deployment", "istio-system")}
    assert deployments == {"istiod", "istio-ingressgateway"}
    svc = next(s for s in state.find("Service", "istio-system") if s["metadata"]["name"] == "istio-ingressgateway")
    assert svc["spec"]["type"] == "LoadBalancer"
    assert [(p["port"], p["targetPort"]) for p in svc["spec"]["ports"]] == [(15021, 15021), (80, 8080), (443, 8443)]
    assert [c["name"] for c in pods(state, "istio-ingressgateway", "istio-system")[0]["spec"]["containers"]] == [
        "istio-proxy"]
    assert state.get("ConfigMap", NS, "istio-ca-root-cert") is not None
    plain = [m for m in manifests() if not m["apiVersion"].startswith("networking.istio.io")]
    plain[0] = {**plain[0], "metadata": {"name": NS}}
    bare = run(plain, traffic={"entrypoints": []})
    assert not bare.find("Deployment", "istio-system")
    assert [c["name"] for c in pods(bare, "frontend")[0]["spec"]["containers"]] == ["frontend"]
    assert bare.extras["alerts"] == []


def test_injection_policy() -> None:
    enabled, rev = {"istio-injection": "enabled"}, {"istio.io/rev": "default"}
    assert wants_sidecar(enabled, {}, {}, {"default"})
    assert not wants_sidecar(enabled, {"sidecar.istio.io/inject": "false"}, {}, {"default"})
    assert not wants_sidecar(enabled, {}, {"sidecar.istio.io/inject": "false"}, {"default"})
    assert wants_sidecar(rev, {}, {}, {"default"})
    assert not wants_sidecar({"istio.io/rev": "canary"}, {}, {}, {"default"})
    assert wants_sidecar({}, {"sidecar.istio.io/inject": "true"}, {}, {"default"})
    assert not wants_sidecar({}, {}, {"sidecar.istio.io/inject": "true"}, {"default"})  # annotation alone: no webhook
    assert not wants_sidecar({"istio-injection": "disabled"}, {"sidecar.istio.io/inject": "true"}, {}, {"default"})


def test_pod_opting_out_runs_alone() -> None:
    objs = edit(manifests(), "Deployment", "db-v1", lambda d: d["spec"]["template"]["metadata"].setdefault(
        "annotations", {}).update({"sidecar.istio.io/inject": "false"}))
    state = run(objs)
    assert [c["name"] for c in pods(state, "db")[0]["spec"]["containers"]] == ["db"]
    assert state.extras["mesh_entrypoints"][0]["codes"] == {"200": 10.0}  # PERMISSIVE accepts plaintext


def test_namespace_label_removed_later_keeps_existing_sidecars() -> None:
    objs = edit(manifests(), "Namespace", NS, lambda n: n["metadata"].update(labels={}))
    previous = {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": NS, "labels": {"istio-injection": "enabled"}}}
    state = run(objs, history={f"Namespace/{NS}": Change(at=FAULT, previous=previous)})
    assert [c["name"] for c in pods(state, "backend")[0]["spec"]["containers"]] == ["backend", "istio-proxy"]
    never = run(objs, history={f"Namespace/{NS}": Change(at=FAULT - timedelta(hours=3), previous=previous)})
    assert [c["name"] for c in pods(never, "backend")[0]["spec"]["containers"]] == ["backend"]


def test_stages_are_inserted_by_name() -> None:
    # The engine owns the order: the mesh stages sit after the status rollup and last.
    names = [s.__name__ for s in default_stages()]
    assert names == ["materialize", "run_controllers", "schedule", "kubelet_stage", "mark_lost_pods",
                     "reconcile_endpoints", "rollup", "mesh_traffic", "reconcile_hpa", "rollup_node_usage",
                     "mesh_alerts"]
