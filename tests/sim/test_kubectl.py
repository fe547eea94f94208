"""Real kubectl against the simulated API: what an agent would type, and what it would read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest
from kubectl_env import ANCHOR, KUBECTL, NS, Kubectl, ok, run_kubectl, sample_state

from atlas_sre.sim.api.serve import SimServer

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]
CRASH, PULL = "web-5d9c7b8f6c-crash", "web-5d9c7b8f6c-pullx"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    # anchored on the wall clock, so kubectl's own "(x31 over 40m)" arithmetic reads true
    with SimServer(sample_state(datetime.now(timezone.utc).replace(microsecond=0)), namespace=NS) as server:
        yield server




def test_get_pods_prints_the_server_table(kubectl: Kubectl) -> None:
    lines = ok(kubectl("get", "pods")).splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert rows[CRASH][1:4] == ["1/2", "CrashLoopBackOff", "7"] and rows[CRASH][4] == "(2m"
    assert rows[PULL][2] == "ImagePullBackOff"
    wide = ok(kubectl("get", "pods", "-o", "wide")).splitlines()
    assert "NODE" in wide[0] and "10.244.0.10" in wide[1] and "worker-1" in wide[1]
    assert ok(kubectl("get", "pods", "-A")).splitlines()[1].split()[0] == NS


def test_selectors_sorting_and_output_formats(kubectl: Kubectl) -> None:
    assert ok(kubectl("get", "pods", "-l", "app=web", "--field-selector", "status.phase=Pending", "-o", "name")) == \
        f"pod/{PULL}\n"
    assert ok(kubectl("get", "pods", "-l", "app!=web")) == ""
    names = ok(kubectl("get", "pods", "--sort-by=.metadata.creationTimestamp", "-o", "name")).split()
    assert names == [f"pod/web-5d9c7b8f6c-{s}" for s in ("abcde", "crash", "pullx")]
    doc = json.loads(ok(kubectl("get", "pods", "-o", "json")))
    assert doc["kind"] == "List" and doc["items"][0]["kind"] == "Pod" and doc["items"][0]["apiVersion"] == "v1"
    assert "kind: Pod" in ok(kubectl("get", "pod", CRASH, "-o", "yaml"))
    assert ok(kubectl("get", "pods", "-o", "jsonpath={.items[*].status.phase}")) == "Running Running Pending"
    cols = ok(kubectl("get", "pods", "-o", "custom-columns=NAME:.metadata.name,NODE:.spec.nodeName")).splitlines()
    assert cols[1].split() == ["web-5d9c7b8f6c-abcde", "worker-1"]


def test_get_all_and_many_kinds(kubectl: Kubectl) -> None:
    out = ok(kubectl("get", "all"))
    for name in ("pod/web-5d9c7b8f6c-abcde", "service/web", "deployment.apps/web", "replicaset.apps/web-5d9c7b8f6c",
                 "horizontalpodautoscaler.autoscaling/web"):
        assert name in out
    out = ok(kubectl("get", "deploy,rs,svc,ep,events,nodes,ns,cm,secrets,pvc,hpa,netpol,quota"))
    for name in ("endpoints/web", "10.244.0.10:8080", "node/worker-1", "namespace/shop", "configmap/web-config",
                 "secret/web-secret", "persistentvolumeclaim/data", "networkpolicy.networking.k8s.io/deny-all",
                 "resourcequota/compute", "Back-off restarting failed container"):
        assert name in out


def test_istio_short_names_resolve_through_discovery(kubectl: Kubectl) -> None:
    out = ok(kubectl("get", "vs,dr,gw,pa,ap", "-A"))
    for name in ("virtualservice.networking.istio.io/web", "destinationrule.networking.istio.io/web",
                 "gateway.networking.istio.io/shop-gw", "peerauthentication.security.istio.io/default",
                 "authorizationpolicy.security.istio.io/deny-web", "STRICT", '["web"]'):
        assert name in out
    docs = ok(kubectl("get", "vs,dr,gw,pa,ap", "-A", "-o", "yaml"))
    assert "subset: v2" in docs and "mode: STRICT" in docs and "apiVersion: networking.istio.io/v1" in docs
    assert "virtualservices.networking.istio.io" in ok(kubectl("get", "crd"))


def test_describe_pod_deploy_svc_vs(kubectl: Kubectl) -> None:
    pod = ok(kubectl("describe", "pod", CRASH))
    assert "Reason:       CrashLoopBackOff" in pod and "Exit Code:    1" in pod
    assert "Events:" in pod and "(x31 over 40m)" in pod and "Back-off restarting failed container" in pod
    deploy = ok(kubectl("describe", "deploy", "web"))
    assert "NewReplicaSet:     web-5d9c7b8f6c (3/3 replicas created)" in deploy and "ScalingReplicaSet" in deploy
    svc = ok(kubectl("describe", "svc", "web"))
    assert "Endpoints:         10.244.0.10:8080" in svc
    vs = ok(kubectl("describe", "vs", "web"))
    assert "Kind:         VirtualService" in vs and "Subset:  v2" in vs


def test_logs(kubectl: Kubectl) -> None:
    assert ok(kubectl("logs", "web-5d9c7b8f6c-abcde", "--tail=1")) == "INFO request 4 served 200\n"
    assert "GET /health" in ok(kubectl("logs", "web-5d9c7b8f6c-abcde", "-c", "istio-proxy"))
    assert ok(kubectl("logs", CRASH, "--previous")).endswith("FATAL missing env DATABASE_URL\n")
    stamped = ok(kubectl("logs", CRASH, "--previous", "--timestamps")).splitlines()[0]
    assert stamped.endswith("Z starting web") and stamped[:4].isdigit()
    assert ok(kubectl("logs", "web-5d9c7b8f6c-abcde", "--since=150s")).count("\n") == 2
    result = kubectl("logs", "deploy/web")
    assert result.returncode == 0 and "INFO request 0" in result.stdout
    pulling = kubectl("logs", PULL)
    assert pulling.returncode == 1 and pulling.stderr.strip() == (
        f'Error from server (BadRequest): container "web" in pod "{PULL}" is waiting to start: '
        "trying and failing to pull image")
    # follow must not hang: the helper's subprocess timeout fails the test if it does
    assert ok(kubectl("logs", "web-5d9c7b8f6c-abcde", "-f", "--tail=1")) == "INFO request 4 served 200\n"


def test_top(kubectl: Kubectl) -> None:
    pods = ok(kubectl("top", "pods")).splitlines()
    assert pods[1].split() == ["web-5d9c7b8f6c-abcde", "125m", "240Mi"]
    nodes = ok(kubectl("top", "nodes")).splitlines()
    assert nodes[1].split()[:3] == ["worker-1", "900m", "22%"]


def test_api_resources_and_explain(kubectl: Kubectl) -> None:
    table = ok(kubectl("api-resources"))
    assert any(line.split()[:3] == ["virtualservices", "vs", "networking.istio.io/v1"] for line in table.splitlines())
    explain = ok(kubectl("explain", "pods"))  # real schemas (tests/sim/test_api_openapi.py has the details)
    assert explain.startswith("KIND:       Pod\nVERSION:    v1\n") and "Pod is a collection of containers" in explain


@pytest.mark.parametrize("args", [
    ("delete", "pod", CRASH),
    ("scale", "deploy/web", "--replicas=1"),
    ("label", "pod", CRASH, "x=y"),
    ("rollout", "restart", "deploy/web"),
    ("exec", CRASH, "--", "ls"),
    ("cordon", "worker-1"),
])
def test_writes_are_forbidden(kubectl: Kubectl, args: tuple[str, ...]) -> None:
    result = kubectl(*args)
    assert result.returncode != 0 or "forbidden" in result.stderr
    assert "forbidden: User \"atlas-sre-agent\" cannot" in result.stderr
    assert "the simulated cluster is read-only" in result.stderr


def test_apply_and_edit_reach_the_server_and_are_forbidden(kubectl: Kubectl, tmp_path: Path) -> None:
    manifest = tmp_path / "cm.yaml"
    manifest.write_text(f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: new, namespace: {NS}}}\n")
    applied = kubectl("apply", "-f", str(manifest))
    assert applied.returncode == 1 and applied.stderr.startswith("Error from server (Forbidden)")
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/LOG_LEVEL: info/LOG_LEVEL: debug/' \"$1\"\n")
    editor.chmod(0o755)
    edited = kubectl("edit", "cm", "web-config", extra_env={"KUBE_EDITOR": str(editor), "TMPDIR": str(tmp_path)})
    assert edited.returncode == 1 and 'configmaps "web-config" is forbidden' in edited.stderr


def test_watch_prints_the_list_and_ends_with_the_request_timeout(kubectl: Kubectl) -> None:
    # a static cluster: the list, then nothing until kubectl's own timeout ends the watch (test_api_watch.py)
    result = kubectl("get", "pods", "-w", "--request-timeout=2s")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.splitlines()[0].split()[:2] == ["NAME", "READY"] and result.stdout.count(CRASH) == 1


def test_not_found_and_auth(kubectl: Kubectl) -> None:
    assert kubectl("get", "pod", "nope").stderr.strip() == 'Error from server (NotFound): pods "nope" not found'
    assert kubectl("get", "vs", "nope").stderr.strip() == \
        'Error from server (NotFound): virtualservices.networking.istio.io "nope" not found'
    assert ok(kubectl("auth", "can-i", "list", "pods")) == "yes\n"
    assert kubectl("auth", "can-i", "delete", "pods").stdout.startswith("no")


def test_same_state_twice_gives_identical_json(tmp_path: Path) -> None:
    outputs = []
    for i in range(2):
        with SimServer(sample_state(ANCHOR), namespace=NS) as server:
            outputs.append(ok(run_kubectl(server.kubeconfig_path, "get", "pods", "-o", "json",
                                          env_home=tmp_path / f"h{i}")))
    assert outputs[0] == outputs[1] and json.loads(outputs[0])["items"]
