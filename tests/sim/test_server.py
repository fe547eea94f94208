"""The API server over HTTP (no kubectl): discovery, lists, Tables, errors, the path prefix."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from kubectl_env import ANCHOR, NS, sample_state

from atlas_sre.sim.api.routes import Router
from atlas_sre.sim.api.serve import SimServer, episode_id

TABLE = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
         "application/json")
CRDS = "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(sample_state(), namespace=NS) as server:
        yield server


def request(sim: SimServer, path: str, *, method: str = "GET", accept: str = "application/json",
            body: bytes | None = None, prefix: bool = True) -> tuple[int, dict[str, str], bytes]:
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request(method, (url.path if prefix else "") + path, body=body, headers={"Accept": accept})
    resp = conn.getresponse()
    data = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, data


def get_json(sim: SimServer, path: str, **kw: Any) -> tuple[int, Any]:
    code, _, body = request(sim, path, **kw)
    return code, json.loads(body)


def test_version_and_health(sim: SimServer) -> None:
    code, version = get_json(sim, "/version")
    assert code == 200 and version["gitVersion"].startswith("v1.32.") and version["platform"] == "linux/amd64"
    for probe in ("/healthz", "/readyz", "/livez"):
        assert request(sim, probe)[2] == b"ok"


def test_legacy_discovery_lists_groups_and_resources(sim: SimServer) -> None:
    assert get_json(sim, "/api")[1]["versions"] == ["v1"]
    groups = {g["name"]: g for g in get_json(sim, "/apis")[1]["groups"]}
    assert groups["networking.istio.io"]["preferredVersion"]["version"] == "v1"
    assert [v["version"] for v in groups["autoscaling"]["versions"]] == ["v2", "v1"]
    assert "metrics.k8s.io" in groups
    core = {r["name"]: r for r in get_json(sim, "/api/v1")[1]["resources"]}
    assert core["pods"]["shortNames"] == ["po"] and core["pods"]["categories"] == ["all"]
    assert core["pods/log"]["verbs"] == ["get"]
    assert core["nodes"]["namespaced"] is False
    istio = {r["name"]: r for r in get_json(sim, "/apis/networking.istio.io/v1")[1]["resources"]}
    assert istio["virtualservices"]["shortNames"] == ["vs"]
    assert istio["virtualservices"]["categories"] == ["istio-io", "networking-istio-io"]
    apps = {r["name"]: r for r in get_json(sim, "/apis/apps/v1")[1]["resources"]}
    assert apps["deployments/scale"]["group"] == "autoscaling" and apps["deployments/scale"]["kind"] == "Scale"


def test_plain_list_has_list_kind_and_items_without_kind(sim: SimServer) -> None:
    code, pods = get_json(sim, f"/api/v1/namespaces/{NS}/pods")
    assert code == 200 and pods["kind"] == "PodList" and pods["apiVersion"] == "v1"
    assert pods["metadata"]["resourceVersion"]
    assert [p["metadata"]["name"] for p in pods["items"]] == [
        "web-5d9c7b8f6c-abcde", "web-5d9c7b8f6c-crash", "web-5d9c7b8f6c-pullx"]
    assert "kind" not in pods["items"][0]
    vs = get_json(sim, f"/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices")[1]
    assert vs["items"][0]["kind"] == "VirtualService"  # custom resources keep kind in lists


def test_other_served_versions_rewrite_api_version(sim: SimServer) -> None:
    vs = get_json(sim, f"/apis/networking.istio.io/v1alpha3/namespaces/{NS}/virtualservices/web")[1]
    assert vs["apiVersion"] == "networking.istio.io/v1alpha3" and vs["spec"]["hosts"] == ["web"]
    hpa = get_json(sim, f"/apis/autoscaling/v1/namespaces/{NS}/horizontalpodautoscalers/web")[1]
    assert hpa["apiVersion"] == "autoscaling/v1"


def test_cluster_wide_list_and_cluster_scoped_get(sim: SimServer) -> None:
    assert len(get_json(sim, "/api/v1/pods")[1]["items"]) == 3
    assert get_json(sim, "/api/v1/namespaces/other/pods")[1]["items"] == []
    assert get_json(sim, "/api/v1/nodes/worker-1")[1]["metadata"]["name"] == "worker-1"
    assert get_json(sim, f"/api/v1/namespaces/{NS}")[1]["kind"] == "Namespace"


def test_selectors_filter_lists(sim: SimServer) -> None:
    path = f"/api/v1/namespaces/{NS}/events?fieldSelector=involvedObject.uid%3Duid-pod-web-5d9c7b8f6c-crash"
    assert [e["reason"] for e in get_json(sim, path)[1]["items"]] == ["BackOff"]
    path = "/apis/discovery.k8s.io/v1/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Dweb"
    assert len(get_json(sim, path)[1]["items"]) == 1
    code, status = get_json(sim, "/api/v1/pods?labelSelector=app+in+(web")
    assert code == 400 and status["kind"] == "Status" and "unable to parse requirement" in status["message"]


def test_table_list_single_and_empty(sim: SimServer) -> None:
    code, headers, body = request(sim, f"/api/v1/namespaces/{NS}/pods", accept=TABLE)
    table = json.loads(body)
    assert code == 200 and "as=Table" in headers["content-type"]
    assert table["kind"] == "Table"
    assert [c["name"] for c in table["columnDefinitions"]][:3] == ["Name", "Ready", "Status"]
    assert table["rows"][1]["cells"][2] == "CrashLoopBackOff"
    assert table["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    one = get_json(sim, f"/api/v1/namespaces/{NS}/pods/web-5d9c7b8f6c-pullx", accept=TABLE)[1]
    assert len(one["rows"]) == 1 and one["rows"][0]["cells"][2] == "ImagePullBackOff"
    empty = get_json(sim, "/api/v1/namespaces/nowhere/pods", accept=TABLE)[1]
    assert empty["rows"] == [] and empty["columnDefinitions"]
    full = get_json(sim, f"/api/v1/namespaces/{NS}/pods?includeObject=Object", accept=TABLE)[1]
    assert full["rows"][0]["object"]["spec"]["nodeName"] == "worker-1"
    v1beta1 = get_json(sim, "/api/v1/nodes", accept="application/json;as=Table;v=v1beta1;g=meta.k8s.io")[1]
    assert v1beta1["apiVersion"] == "meta.k8s.io/v1beta1"


def test_crd_tables_use_printer_columns(sim: SimServer) -> None:
    table = get_json(sim, f"/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices", accept=TABLE)[1]
    assert [c["name"] for c in table["columnDefinitions"]] == ["Name", "Gateways", "Hosts", "Age"]
    assert table["rows"][0]["cells"][2] == '["web"]' and table["rows"][0]["cells"][3] == "40m"


def test_crd_objects_describe_the_istio_kinds(sim: SimServer) -> None:
    crd = get_json(sim, f"{CRDS}/virtualservices.networking.istio.io")[1]
    assert crd["spec"]["names"]["shortNames"] == ["vs"]
    assert [v["name"] for v in crd["spec"]["versions"]] == ["v1", "v1alpha3", "v1beta1"]
    assert [c["name"] for c in crd["spec"]["versions"][0]["additionalPrinterColumns"]] == ["Gateways", "Hosts", "Age"]
    gw = get_json(sim, f"{CRDS}/gateways.networking.istio.io")[1]
    assert "additionalPrinterColumns" not in gw["spec"]["versions"][0]


def test_not_found_messages_are_group_qualified(sim: SimServer) -> None:
    code, status = get_json(sim, f"/api/v1/namespaces/{NS}/pods/x")
    assert code == 404 and status["message"] == 'pods "x" not found' and status["reason"] == "NotFound"
    assert get_json(sim, f"/apis/apps/v1/namespaces/{NS}/deployments/x")[1]["message"] == \
        'deployments.apps "x" not found'
    vs = get_json(sim, f"/apis/networking.istio.io/v1/namespaces/{NS}/virtualservices/x")[1]
    assert vs["message"] == 'virtualservices.networking.istio.io "x" not found'
    code, status = get_json(sim, f"/api/v1/namespaces/{NS}/pods/web-5d9c7b8f6c-crash/eviction")
    assert code == 405 and status["reason"] == "MethodNotAllowed"
    scale = get_json(sim, f"/apis/apps/v1/namespaces/{NS}/deployments/web/scale")[1]
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 3 and scale["status"]["selector"] == "app=web"
    for path in ("/api/v1/foos", "/apis/nope.io/v1", "/openapi/v4", "/api/v1/pods/x"):
        code, status = get_json(sim, path)
        assert code == 404 and status["kind"] == "Status", path
    # outside /api, /apis and the discovery URLs, RBAC answers first: a read-only user gets 403, not 404
    assert get_json(sim, "/nothing/here")[1]["message"] == \
        'forbidden: User "atlas-sre-agent" cannot get path "/nothing/here"'


@pytest.mark.parametrize(("method", "path", "message"), [
    ("DELETE", f"/api/v1/namespaces/{NS}/pods/x",
     f'pods "x" is forbidden: User "atlas-sre-agent" cannot delete resource "pods" in API group "" '
     f'in the namespace "{NS}": the simulated cluster is read-only'),
    ("PATCH", f"/apis/apps/v1/namespaces/{NS}/deployments/web/scale",
     f'deployments.apps "web" is forbidden: User "atlas-sre-agent" cannot patch resource "deployments/scale" '
     f'in API group "apps" in the namespace "{NS}": the simulated cluster is read-only'),
    ("POST", f"/api/v1/namespaces/{NS}/configmaps",
     f'configmaps is forbidden: User "atlas-sre-agent" cannot create resource "configmaps" in API group "" '
     f'in the namespace "{NS}": the simulated cluster is read-only'),
    ("PUT", "/api/v1/nodes/worker-1",
     'nodes "worker-1" is forbidden: User "atlas-sre-agent" cannot update resource "nodes" in API group "" '
     'at the cluster scope: the simulated cluster is read-only'),
    ("DELETE", f"/api/v1/namespaces/{NS}/pods",
     f'pods is forbidden: User "atlas-sre-agent" cannot deletecollection resource "pods" in API group "" '
     f'in the namespace "{NS}": the simulated cluster is read-only'),
])
def test_every_write_is_forbidden(sim: SimServer, method: str, path: str, message: str) -> None:
    code, status = get_json(sim, path, method=method, body=b'{"kind":"ConfigMap"}')
    assert code == 403 and status["reason"] == "Forbidden" and status["message"] == message


def test_watch_streams_events(sim: SimServer) -> None:
    # more in tests/sim/test_api_watch.py; a watch from before the served resourceVersion is expired
    code, headers, body = request(sim, f"/api/v1/namespaces/{NS}/pods?watch=true&resourceVersion=1")
    assert code == 200 and headers["transfer-encoding"] == "chunked"
    assert json.loads(body)["object"]["reason"] == "Expired"
    code, _, body = request(sim, "/api/v1/watch/pods?timeoutSeconds=1")
    assert [json.loads(line)["type"] for line in body.splitlines()] == ["ADDED"] * 3


def test_trailing_slashes_prefix_and_foreign_prefix(sim: SimServer) -> None:
    assert get_json(sim, "/version/")[0] == 200
    assert get_json(sim, "/api/")[1]["kind"] == "APIVersions"
    assert get_json(sim, "/version", prefix=False)[0] == 200  # the bare URL works too
    assert get_json(sim, "/clusters/another-episode/version", prefix=False)[0] == 404


def test_replies_carry_content_length_and_keep_alive(sim: SimServer) -> None:
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    for path in ("/api/v1/pods", "/api/v1/pods/missing", "/healthz"):
        conn.request("GET", url.path + path)
        resp = conn.getresponse()
        body = resp.read()
        assert int(resp.getheader("Content-Length")) == len(body)
    conn.request("DELETE", url.path + "/api/v1/namespaces/shop/pods/x", body=b"x" * 5000)
    denied = conn.getresponse()
    assert denied.status == 403 and json.loads(denied.read())["reason"] == "Forbidden"
    conn.request("GET", url.path + "/version")  # the same connection still parses after a body
    assert json.loads(conn.getresponse().read())["major"] == "1"
    conn.close()


def test_handler_exception_becomes_a_500_status(sim: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: Any, **_kw: Any) -> None:
        raise RuntimeError("kaboom")

    monkeypatch.setattr(Router, "_read", boom)
    code, status = get_json(sim, "/api/v1/pods?labelSelector=never-cached")  # GET answers are cached
    assert code == 500 and status["reason"] == "InternalError" and "kaboom" in status["message"]


def test_metrics_api_serves_pod_and_node_metrics(sim: SimServer) -> None:
    pods = get_json(sim, f"/apis/metrics.k8s.io/v1beta1/namespaces/{NS}/pods")[1]
    assert pods["kind"] == "PodMetricsList"
    usage = {c["name"]: c["usage"] for c in pods["items"][0]["containers"]}
    assert usage["web"] == {"cpu": "120000000n", "memory": "204800Ki"}
    assert pods["items"][0]["metadata"]["labels"]["app"] == "web"
    node = get_json(sim, "/apis/metrics.k8s.io/v1beta1/nodes/worker-1")[1]
    assert node["usage"] == {"cpu": "900000000n", "memory": "3072000Ki"} and node["window"] == "30s"


def test_events_api_group_converts_core_events(sim: SimServer) -> None:
    events = get_json(sim, f"/apis/events.k8s.io/v1/namespaces/{NS}/events?fieldSelector=regarding.kind%3DPod")[1]
    assert {e["note"][:8] for e in events["items"]} == {"Back-off", "Failed t"}
    assert events["items"][0]["deprecatedCount"] == 31 and events["items"][0]["regarding"]["kind"] == "Pod"


def test_openapi_v3_declares_field_validation_only(sim: SimServer) -> None:
    root = get_json(sim, "/openapi/v3")[1]
    url = root["paths"]["api/v1"]["serverRelativeURL"]
    doc = get_json(sim, url.split("?")[0])[1]
    patch = doc["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"]["patch"]
    assert patch["parameters"][0]["name"] == "fieldValidation"
    assert patch["x-kubernetes-group-version-kind"] == {"group": "", "version": "v1", "kind": "Pod"}


def test_access_reviews_answer_read_only_rules(sim: SimServer) -> None:
    path = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"
    for verb, allowed in (("list", True), ("delete", False)):
        body = json.dumps({"spec": {"resourceAttributes": {"verb": verb, "resource": "pods"}}}).encode()
        code, review = get_json(sim, path, method="POST", body=body)
        assert code == 201 and review["status"]["allowed"] is allowed


def test_same_state_serves_byte_identical_answers() -> None:
    bodies = []
    for _ in range(2):
        with SimServer(sample_state(ANCHOR)) as server:
            paths = ("/api/v1/pods", "/apis/networking.istio.io/v1/virtualservices")
            bodies.append([request(server, p)[2] for p in paths])
            assert server.url.endswith(f"/clusters/{episode_id(server.state)}")
    assert bodies[0] == bodies[1]
