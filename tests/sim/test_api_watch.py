"""Watch on the static simulated cluster: real kubectl, the official Python client, and the raw stream.

What a real apiserver sends a watcher of an unchanging cluster: the current objects as ADDED when
no resourceVersion is given, nothing from the list's resourceVersion on, 410 for an older one,
bookmarks when asked, and a clean end at timeoutSeconds or when the client goes away.
"""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

import pytest
from kubectl_env import KUBECTL, NS, Kubectl, sample_state

from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.state import ClusterState

kubernetes = pytest.importorskip("kubernetes")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
PODS = ["web-5d9c7b8f6c-abcde", "web-5d9c7b8f6c-crash", "web-5d9c7b8f6c-pullx"]
TABLE = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
         "application/json")


def _deployment(name: str, replicas: int, available: int) -> dict[str, Any]:
    """A Deployment whose status the controller has observed (generation 1)."""
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": NS, "uid": f"uid-deployment-{name}", "generation": 1,
                         "resourceVersion": "1100", "creationTimestamp": "2026-11-26T08:00:00Z",
                         "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": f"example.io/{name}:1"}]}}},
            "status": {"observedGeneration": 1, "replicas": available, "updatedReplicas": available,
                       "readyReplicas": available, "availableReplicas": available}}


def cluster() -> ClusterState:
    """The sample cluster plus a healthy Deployment (`api`) and one scaled to 0 pods (`idle`)."""
    state = sample_state(datetime.now(timezone.utc).replace(microsecond=0))
    state.objects += [_deployment("api", 2, 2), _deployment("idle", 0, 0)]
    return state


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(cluster(), namespace=NS) as server:
        yield server



@pytest.fixture(scope="module")
def client(sim: SimServer) -> Any:
    return kubernetes.config.new_client_from_config(config_file=str(sim.kubeconfig_path))


def stream(sim: SimServer, path: str, accept: str = "application/json") -> tuple[dict[str, str], list[dict], float]:
    """GET a watch and read it to its end: (headers, events, seconds it stayed open)."""
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=15)
    start = time.monotonic()
    conn.request("GET", url.path + path, headers={"Accept": accept})
    resp = conn.getresponse()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    body = resp.read()
    elapsed = time.monotonic() - start
    conn.close()
    assert resp.status == 200, body
    return headers, [json.loads(line) for line in body.splitlines() if line.strip()], elapsed


def rv_of_list(sim: SimServer, path: str) -> str:
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request("GET", url.path + path)
    rv = json.loads(conn.getresponse().read())["metadata"]["resourceVersion"]
    conn.close()
    return str(rv)


# ---- the raw stream -------------------------------------------------------------------------------

def test_watch_without_resource_version_streams_current_objects_then_ends(sim: SimServer) -> None:
    headers, events, elapsed = stream(sim, f"/api/v1/namespaces/{NS}/pods?watch=true&timeoutSeconds=1")
    assert headers["transfer-encoding"] == "chunked" and headers["content-type"] == "application/json"
    assert "content-length" not in headers
    assert [e["type"] for e in events] == ["ADDED"] * 3
    assert [e["object"]["metadata"]["name"] for e in events] == PODS
    crash = events[1]["object"]
    assert crash["kind"] == "Pod" and crash["apiVersion"] == "v1"  # watch objects carry their type, unlike list items
    assert crash["status"]["containerStatuses"][0]["state"]["waiting"]["reason"] == "CrashLoopBackOff"
    assert 0.9 <= elapsed < 5
    zero = stream(sim, f"/api/v1/namespaces/{NS}/pods?watch=1&resourceVersion=0&timeoutSeconds=1")[1]
    assert [e["object"]["metadata"]["name"] for e in zero] == PODS


def test_watch_from_the_list_resource_version_sends_nothing_new(sim: SimServer) -> None:
    rv = rv_of_list(sim, f"/api/v1/namespaces/{NS}/pods")
    assert stream(sim, f"/api/v1/namespaces/{NS}/pods?watch=true&resourceVersion={rv}&timeoutSeconds=1")[1] == []
    later = str(int(rv) + 50)
    assert stream(sim, f"/api/v1/pods?watch=true&resourceVersion={later}&timeoutSeconds=1")[1] == []


def test_bookmarks_carry_the_current_resource_version(sim: SimServer) -> None:
    rv = rv_of_list(sim, "/api/v1/pods")
    events = stream(sim, f"/api/v1/pods?watch=true&resourceVersion={rv}&allowWatchBookmarks=true&timeoutSeconds=3")[1]
    assert events == [{"type": "BOOKMARK", "object": {"kind": "Pod", "apiVersion": "v1",
                                                      "metadata": {"resourceVersion": rv, "creationTimestamp": None}}}]


def test_send_initial_events_ends_with_the_initial_events_end_bookmark(sim: SimServer) -> None:
    events = stream(sim, f"/api/v1/namespaces/{NS}/pods?watch=true&sendInitialEvents=true&allowWatchBookmarks=true"
                         "&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")[1]
    assert [e["type"] for e in events] == ["ADDED", "ADDED", "ADDED", "BOOKMARK"]
    end = events[-1]["object"]["metadata"]
    assert end["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert end["resourceVersion"] == rv_of_list(sim, f"/api/v1/namespaces/{NS}/pods")


def test_a_resource_version_older_than_the_cache_is_expired(sim: SimServer) -> None:
    rv = rv_of_list(sim, "/api/v1/pods")
    events, elapsed = stream(sim, "/api/v1/pods?watch=true&resourceVersion=5&timeoutSeconds=30")[1:]
    assert events == [{"type": "ERROR", "object": {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f"too old resource version: 5 ({rv})", "reason": "Expired", "code": 410}}]
    assert elapsed < 5  # the stream ends with the error, not at the timeout


def test_invalid_watch_options_are_refused_before_streaming(sim: SimServer) -> None:
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request("GET", url.path + "/api/v1/pods?watch=true&sendInitialEvents=true")
    resp = conn.getresponse()
    status = json.loads(resp.read())
    assert resp.status == 422 and status["reason"] == "Invalid"
    assert status["message"] == ('ListOptions.meta.k8s.io "" is invalid: resourceVersionMatch: Forbidden: '
                                 "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")
    conn.request("GET", url.path + "/apis/metrics.k8s.io/v1beta1/pods?watch=true")
    resp = conn.getresponse()
    assert resp.status == 405 and json.loads(resp.read())["reason"] == "MethodNotAllowed"  # metrics-server: no watch
    conn.close()


def test_selectors_kinds_and_scopes(sim: SimServer) -> None:
    by_field = stream(sim, f"/api/v1/namespaces/{NS}/pods?watch=true&timeoutSeconds=1"
                           "&fieldSelector=metadata.name%3Dweb-5d9c7b8f6c-crash")[1]
    assert [e["object"]["metadata"]["name"] for e in by_field] == ["web-5d9c7b8f6c-crash"]
    by_label = stream(sim, "/apis/apps/v1/deployments?watch=true&timeoutSeconds=1"
                           "&labelSelector=app%20in%20(api,idle)")[1]
    assert [(e["object"]["kind"], e["object"]["metadata"]["name"]) for e in by_label] == \
        [("Deployment", "api"), ("Deployment", "idle")]
    vs = stream(sim, f"/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices?watch=true&timeoutSeconds=1")[1]
    assert vs[0]["object"]["apiVersion"] == "networking.istio.io/v1"
    assert vs[0]["object"]["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v2"
    warnings = stream(sim, f"/apis/events.k8s.io/v1/namespaces/{NS}/events?watch=true&timeoutSeconds=1"
                           "&fieldSelector=type%3DWarning")[1]
    assert sorted(e["object"]["reason"] for e in warnings) == ["BackOff", "Failed"]
    assert warnings[0]["object"]["apiVersion"] == "events.k8s.io/v1" and "note" in warnings[0]["object"]
    nodes = stream(sim, "/api/v1/nodes?watch=true&timeoutSeconds=1")[1]
    assert [e["object"]["metadata"]["name"] for e in nodes] == ["worker-1"]
    legacy = stream(sim, f"/api/v1/watch/namespaces/{NS}/pods/web-5d9c7b8f6c-pullx?timeoutSeconds=1")[1]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in legacy] == [("ADDED", "web-5d9c7b8f6c-pullx")]


def test_table_watch_sends_one_row_tables_headers_first(sim: SimServer) -> None:
    events = stream(sim, f"/api/v1/namespaces/{NS}/pods?watch=true&timeoutSeconds=1", accept=TABLE)[1]
    tables = [e["object"] for e in events]
    assert [t["kind"] for t in tables] == ["Table"] * 3 and all(len(t["rows"]) == 1 for t in tables)
    assert [c["name"] for c in tables[0]["columnDefinitions"]][:5] == ["Name", "Ready", "Status", "Restarts", "Age"]
    assert tables[1]["columnDefinitions"] is None and tables[2]["columnDefinitions"] is None
    assert tables[1]["rows"][0]["cells"][:3] == ["web-5d9c7b8f6c-crash", "1/2", "CrashLoopBackOff"]
    assert tables[1]["rows"][0]["object"]["kind"] == "PartialObjectMetadata"


def test_an_open_watch_blocks_nobody_and_ends_when_the_client_leaves(sim: SimServer) -> None:
    url = urlsplit(sim.url)
    connections = sim._server.connections  # type: ignore[union-attr]
    deadline = time.monotonic() + 5  # earlier tests' streams (timeoutSeconds=1, or a client gone) may still close
    while connections.watching() and time.monotonic() < deadline:
        time.sleep(0.05)
    before = connections.watching()
    assert before == 0
    watcher = socket.create_connection((url.hostname, url.port), timeout=5)
    watcher.sendall(f"GET {url.path}/api/v1/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    head = watcher.recv(65536)
    assert head.startswith(b"HTTP/1.1 200") and b"Transfer-Encoding: chunked" in head
    started = time.monotonic()
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request("GET", url.path + "/version")
    assert json.loads(conn.getresponse().read())["gitVersion"].startswith("v1.32.")
    conn.close()
    assert time.monotonic() - started < 3  # answered beside the open watch (a blocked server never answers)
    assert connections.watching() == before + 1  # the watch is still streaming
    watcher.close()
    deadline = time.monotonic() + 5
    while connections.watching() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections.watching() == before  # the stream ended when its client left


def test_stopping_the_server_ends_open_watches() -> None:
    server = SimServer(sample_state(), namespace=NS).start()
    url = urlsplit(server.url)
    watcher = socket.create_connection((url.hostname, url.port), timeout=5)
    watcher.sendall(f"GET {url.path}/api/v1/pods?watch=true HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert watcher.recv(65536).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    server.stop()
    rest = b""
    while chunk := watcher.recv(65536):
        rest += chunk
    assert time.monotonic() - started < 5  # the stream ended (EOF) with the server, not at its 1800 s timeout
    watcher.close()


# ---- real kubectl -------------------------------------------------------------------------------

@needs_kubectl
def test_kubectl_get_w_prints_the_list_and_ends_at_the_request_timeout(kubectl: Kubectl) -> None:
    started = time.monotonic()
    result = kubectl("get", "pods", "-w", "--request-timeout=3s")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    assert [line.split()[0] for line in lines[1:]] == PODS  # the list once: nothing changed while watching
    assert result.stderr == ""
    assert 2.5 < time.monotonic() - started < 10


@needs_kubectl
def test_kubectl_get_events_watch(kubectl: Kubectl) -> None:
    result = kubectl("get", "events", "--watch", "--request-timeout=3s")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert "Back-off restarting failed container web" in result.stdout
    assert result.stdout.count("ScalingReplicaSet") == 1


@needs_kubectl
def test_kubectl_get_one_object_w_reads_the_synthetic_added_event(kubectl: Kubectl) -> None:
    result = kubectl("get", "pod", "web-5d9c7b8f6c-crash", "-w", "--output-watch-events", "--request-timeout=2s")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0][:2] == ["EVENT", "NAME"] and [r[:2] for r in rows[1:]] == [["ADDED", "web-5d9c7b8f6c-crash"]]


@needs_kubectl
def test_kubectl_rollout_status(kubectl: Kubectl) -> None:
    healthy = kubectl("rollout", "status", "deploy/api", "--timeout=5s")
    assert healthy.returncode == 0, healthy.stderr
    assert healthy.stdout == 'deployment "api" successfully rolled out\n'
    started = time.monotonic()
    stuck = kubectl("rollout", "status", "deploy/web", "--timeout=3s")
    assert stuck.returncode == 1
    assert stuck.stdout == 'Waiting for deployment "web" rollout to finish: 1 of 3 updated replicas are available...\n'
    assert stuck.stderr == "error: timed out waiting for the condition\n"
    assert 2.5 < time.monotonic() - started < 10


@needs_kubectl
def test_kubectl_wait(kubectl: Kubectl) -> None:
    met = kubectl("wait", "--for=condition=Ready", "pod/web-5d9c7b8f6c-abcde", "--timeout=3s")
    assert (met.returncode, met.stdout) == (0, "pod/web-5d9c7b8f6c-abcde condition met\n")
    unmet = kubectl("wait", "--for=condition=Ready", "pod/web-5d9c7b8f6c-crash", "--timeout=3s")
    assert unmet.returncode == 1
    assert unmet.stderr == "error: timed out waiting for the condition on pods/web-5d9c7b8f6c-crash\n"


@needs_kubectl
def test_kubectl_logs_of_a_deployment_without_pods_waits_for_one(kubectl: Kubectl) -> None:
    result = kubectl("logs", "deploy/idle", "--pod-running-timeout=2s")
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == "error: timed out waiting for the condition\n"


# ---- the official Python client ----------------------------------------------------------------

def test_python_client_watch_stream_returns_the_pods_and_ends(client: Any) -> None:
    core = kubernetes.client.CoreV1Api(client)
    started = time.monotonic()
    events = list(kubernetes.watch.Watch().stream(core.list_namespaced_pod, NS, timeout_seconds=2))
    assert 1.5 < time.monotonic() - started < 6
    assert [(e["type"], e["object"].metadata.name) for e in events] == [("ADDED", p) for p in PODS]
    assert events[2]["object"].status.container_statuses[0].state.waiting.reason == "ImagePullBackOff"


def test_python_client_watch_from_the_list_and_from_the_past(client: Any) -> None:
    core = kubernetes.client.CoreV1Api(client)
    listed = core.list_pod_for_all_namespaces()
    rv = listed.metadata.resource_version
    events = list(kubernetes.watch.Watch().stream(core.list_pod_for_all_namespaces, resource_version=rv,
                                                  allow_watch_bookmarks=True, timeout_seconds=2))
    assert [(e["type"], e["raw_object"]["metadata"]["resourceVersion"]) for e in events] == [("BOOKMARK", rv)]
    with pytest.raises(kubernetes.client.ApiException) as err:
        list(kubernetes.watch.Watch().stream(core.list_pod_for_all_namespaces, resource_version="5",
                                             timeout_seconds=2))
    assert err.value.status == 410 and "too old resource version" in str(err.value.reason)


def test_python_client_watches_custom_objects(client: Any) -> None:
    custom = kubernetes.client.CustomObjectsApi(client)
    events = list(kubernetes.watch.Watch().stream(custom.list_namespaced_custom_object, "security.istio.io", "v1",
                                                  NS, "peerauthentications", timeout_seconds=1))
    assert [(e["type"], e["object"]["spec"]["mtls"]["mode"]) for e in events] == [("ADDED", "STRICT")]
