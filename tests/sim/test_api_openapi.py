"""`kubectl explain` prints the real Kubernetes and Istio field docs; writes still reach the server.

The schemas come from `sim/api/openapi/schemas.json.gz` (Kubernetes 1.32, Istio 1.24.2); the texts
asserted here are the published ones, so a regenerated file that lost them fails these tests.
"""

from __future__ import annotations

import hashlib
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kubectl_env import KUBECTL, NS, Kubectl, ok, sample_state

from atlas_sre.sim.api.openapi import documents
from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.resources import RESOURCES

pytestmark = [pytest.mark.kubectl, pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")]


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(sample_state(), namespace=NS) as server:
        yield server




def test_explain_a_core_field_prints_the_field_then_the_type_docs(kubectl: Kubectl) -> None:
    out = ok(kubectl("explain", "pod.spec.containers.readinessProbe"))
    assert out.startswith("KIND:       Pod\nVERSION:    v1\n\nFIELD: readinessProbe <Probe>\n")
    text = " ".join(out.split())
    assert "Periodic probe of container service readiness. Container will be removed from service endpoints" in text
    assert "Probe describes a health check to be performed against a container" in text
    assert "  httpGet\t<HTTPGetAction>\n    HTTPGet specifies an HTTP GET request to perform.\n" in out
    assert "  failureThreshold\t<integer>\n" in out


def test_explain_enum_fields_list_their_values(kubectl: Kubectl) -> None:
    out = ok(kubectl("explain", "deployment.spec.strategy"))
    assert "GROUP:      apps\nKIND:       Deployment\nVERSION:    v1\n" in out
    assert "  type\t<string>\n  enum: Recreate, RollingUpdate\n" in out
    assert "  rollingUpdate\t<RollingUpdateDeployment>\n" in out
    assert "- `\"Recreate\"` Kill all existing pods before creating new ones." in out
    policy = ok(kubectl("explain", "pod.spec.containers.imagePullPolicy"))
    assert "FIELD: imagePullPolicy <string>\nENUM:\n    Always\n    IfNotPresent\n    Never\n" in policy


def test_explain_istio_fields(kubectl: Kubectl) -> None:
    retries = ok(kubectl("explain", "virtualservice.spec.http.retries"))
    assert retries.startswith("GROUP:      networking.istio.io\nKIND:       VirtualService\nVERSION:    v1\n")
    assert "DESCRIPTION:\n    Retry policy for HTTP requests.\n" in retries
    assert "  perTryTimeout\t<string>\n    Timeout per attempt for a given request, including the initial" in retries
    assert "  attempts\t<integer>\n    Number of retries to be allowed for a given request.\n" in retries
    pool = ok(kubectl("explain", "destinationrule.spec.trafficPolicy.connectionPool"))
    assert "  http\t<Object>\n    HTTP connection pool settings.\n" in pool
    assert "  tcp\t<Object>\n    Settings common to both HTTP and TCP upstream connections.\n" in pool
    spec = ok(kubectl("explain", "vs.spec"))
    assert "Configuration affecting label/content routing, sni routing, etc." in spec
    tls_mode = ok(kubectl("explain", "dr.spec.trafficPolicy.tls.mode"))
    assert "ENUM:\n    DISABLE\n    SIMPLE\n    MUTUAL\n    ISTIO_MUTUAL\n" in tls_mode
    older = ok(kubectl("explain", "virtualservices", "--api-version=networking.istio.io/v1beta1"))
    assert "VERSION:    v1beta1\n" in older and "  metadata\t<ObjectMeta>\n" in older


def test_explain_recursive(kubectl: Kubectl) -> None:
    out = ok(kubectl("explain", "deployment.spec.strategy", "--recursive"))
    assert out.endswith("FIELDS:\n  rollingUpdate\t<RollingUpdateDeployment>\n    maxSurge\t<IntOrString>\n"
                        "    maxUnavailable\t<IntOrString>\n  type\t<string>\n  enum: Recreate, RollingUpdate\n\n")
    http = ok(kubectl("explain", "vs.spec.http", "--recursive"))
    assert "  retries\t<Object>\n    attempts\t<integer>\n    perTryTimeout\t<string>\n" in http


def test_explain_with_the_openapi_v2_renderer(kubectl: Kubectl) -> None:
    out = ok(kubectl("explain", "pod.spec.containers.readinessProbe", "--output=plaintext-openapiv2"))
    assert out.startswith("KIND:     Pod\nVERSION:  v1\n\nRESOURCE: readinessProbe <Object>\n")
    assert "Periodic probe of container service readiness" in out and "   tcpSocket\t<Object>\n" in out
    istio = ok(kubectl("explain", "virtualservice.spec.http.retries", "--output=plaintext-openapiv2"))
    assert "VERSION:  networking.istio.io/v1\n" in istio and "Retry policy for HTTP requests." in istio


def test_every_served_kind_has_what_explain_looks_up() -> None:
    """For each kind and version: an operation under its path names the GVK, and a schema carries it."""
    for rt in RESOURCES:
        if rt.group == "metrics.k8s.io":
            continue  # an aggregated API: metrics-server's schemas are not packaged
        for version in rt.versions:
            gv = f"api/{version}" if not rt.group else f"apis/{rt.group}/{version}"
            doc = json.loads(documents.built("v3")["documents"][gv])
            gvk = {"group": rt.group, "version": version, "kind": rt.kind}
            ops = [op for path, item in doc["paths"].items() if f"/{rt.plural}" in path for op in item.values()]
            assert gvk in [op["x-kubernetes-group-version-kind"] for op in ops], gvk
            schemas = [s for s in doc["components"]["schemas"].values()
                       if gvk in (s.get("x-kubernetes-group-version-kind") or [])]
            assert schemas and "metadata" in schemas[0]["properties"], gvk


@pytest.mark.parametrize(("resource", "api_version", "kind"), [
    ("nodes", "v1", "Node"), ("componentstatuses", "v1", "ComponentStatus"),
    ("selfsubjectreviews", "authentication.k8s.io/v1", "SelfSubjectReview"),  # create-only: found by its POST
    ("events", "events.k8s.io/v1", "Event"), ("hpa", "autoscaling/v1", "HorizontalPodAutoscaler"),
    ("envoyfilters", "networking.istio.io/v1alpha3", "EnvoyFilter"),
    ("peerauthentications", "security.istio.io/v1beta1", "PeerAuthentication"),
    ("telemetries", "telemetry.istio.io/v1alpha1", "Telemetry"),
])
def test_kinds_across_groups_are_explained(kubectl: Kubectl, resource: str, api_version: str, kind: str) -> None:
    out = ok(kubectl("explain", resource, f"--api-version={api_version}"))
    assert f"KIND:       {kind}\nVERSION:    {api_version.split('/')[-1]}\n" in out
    assert "FIELDS:\n" in out and "  metadata\t<ObjectMeta>" in out


def test_writes_still_reach_the_server_and_dry_runs_print(kubectl: Kubectl, tmp_path: Path) -> None:
    created = ok(kubectl("create", "deployment", "x", "--image=nginx", "--dry-run=client", "-o", "yaml"))
    assert "kind: Deployment" in created and "image: nginx" in created
    manifest = tmp_path / "web.yaml"
    manifest.write_text(ok(kubectl("get", "deployment", "web", "-o", "yaml")))
    assert ok(kubectl("apply", "-f", str(manifest), "--dry-run=client")) == "deployment.apps/web configured (dry run)\n"
    denied = kubectl("apply", "-f", str(manifest))
    assert denied.returncode == 1
    assert 'cannot patch resource "deployments" in API group "apps"' in denied.stderr
    vs = tmp_path / "vs.yaml"
    vs.write_text(ok(kubectl("get", "vs", "web", "-o", "yaml")))
    assert "cannot update resource \"virtualservices\"" in kubectl("replace", "-f", str(vs)).stderr


def _get(sim: SimServer, path: str, accept: str) -> tuple[int, str, bytes]:
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", url.path + path, headers={"Accept": accept})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, resp.getheader("Content-Type") or "", body


def _fields(buf: bytes) -> list[tuple[int, bytes]]:
    """Length-delimited protobuf fields of one message (all the Document layers below use)."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        if key & 7 == 0:
            _, i = _varint(buf, i)
            continue
        assert key & 7 == 2, key
        size, i = _varint(buf, i)
        out.append((key >> 3, buf[i:i + size]))
        i += size
    return out


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        byte = buf[i]
        n |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return n, i


def test_openapi_v2_is_protobuf_for_kubectl_and_json_otherwise(sim: SimServer) -> None:
    code, ctype, body = _get(sim, "/openapi/v2", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf")
    assert code == 200 and ctype == "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
    doc = dict(_fields(body))
    assert doc[1] == b"2.0"
    named = {dict(_fields(entry))[1].decode(): dict(_fields(entry))[2] for _, entry in _fields(doc[9])}
    assert "io.k8s.api.core.v1.Pod" in named and "io.istio.networking.v1.VirtualService" in named
    extensions = [dict(_fields(v)) for k, v in _fields(named["io.k8s.api.core.v1.Pod"]) if k == 31]
    gvk = next(json.loads(dict(_fields(e[2]))[2]) for e in extensions if e[1] == b"x-kubernetes-group-version-kind")
    assert gvk == [{"group": "", "kind": "Pod", "version": "v1"}]
    code, ctype, body = _get(sim, "/openapi/v2", "application/json")
    swagger = json.loads(body)
    assert ctype == "application/json" and swagger["swagger"] == "2.0"
    probe = swagger["definitions"]["io.k8s.api.core.v1.Container"]["properties"]["readinessProbe"]
    assert probe["$ref"] == "#/definitions/io.k8s.api.core.v1.Probe"


def test_v3_documents_are_built_once_and_hashed(sim: SimServer) -> None:
    root = json.loads(_get(sim, "/openapi/v3", "application/json")[2])
    url = root["paths"]["apis/networking.istio.io/v1"]["serverRelativeURL"]
    body = _get(sim, url, "application/json")[2]
    assert url.endswith("?hash=" + hashlib.sha512(body).hexdigest().upper())  # kubectl's cache key
    built = documents.built("v3")["documents"]["apis/networking.istio.io/v1"]
    served = documents.OpenAPI().get(["openapi", "v3", "apis", "networking.istio.io", "v1"])
    assert body == built and served is not None and served[0] is built  # one build per process
    doc = json.loads(body)
    vs = doc["components"]["schemas"]["io.istio.networking.v1.VirtualService"]
    assert vs["x-kubernetes-group-version-kind"] == [
        {"group": "networking.istio.io", "kind": "VirtualService", "version": "v1"}]
    assert vs["properties"]["metadata"]["allOf"] == [
        {"$ref": "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"}]
    assert "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta" in doc["components"]["schemas"]


def test_python_client_reads_alongside_openapi(sim: SimServer) -> None:
    kubernetes = pytest.importorskip("kubernetes")
    documents.built("v3")
    api = kubernetes.config.new_client_from_config(config_file=str(sim.kubeconfig_path))
    assert len(kubernetes.client.CoreV1Api(api).list_namespaced_pod(NS).items) == 3
    custom = kubernetes.client.CustomObjectsApi(api)
    listed = custom.list_namespaced_custom_object("networking.istio.io", "v1", NS, "virtualservices")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["web"]
