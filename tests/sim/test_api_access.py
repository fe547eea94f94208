"""Who the agent is and what its read-only role may do: `auth whoami`, `auth can-i`, proxy, `/metrics`,
and the deprecated `componentstatuses`, as a real apiserver answers a read-only user."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from kubectl_env import KUBECTL, NS, Kubectl, sample_state

from atlas_sre.sim.api.serve import SimServer

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
USER = "atlas-sre-agent"


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(sample_state(), namespace=NS) as server:
        yield server



def call(sim: SimServer, method: str, path: str, body: bytes | None = None) -> tuple[int, dict[str, str], Any]:
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request(method, url.path + path, body=body, headers={"Accept": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    headers = {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return resp.status, headers, json.loads(data)


def test_auth_whoami(kubectl: Kubectl, sim: SimServer) -> None:
    result = kubectl("auth", "whoami")
    assert result.returncode == 0, result.stderr
    assert [line.split(None, 1) for line in result.stdout.splitlines()] == [
        ["ATTRIBUTE", "VALUE"], ["Username", USER], ["Groups", "[system:authenticated]"]]
    code, _, review = call(sim, "POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", b"{}")
    assert code == 201 and review["kind"] == "SelfSubjectReview"
    assert review["status"]["userInfo"] == {"username": USER, "groups": ["system:authenticated"]}
    assert review["metadata"]["creationTimestamp"].endswith("Z")
    code, _, denied = call(sim, "POST", "/apis/authentication.k8s.io/v1/tokenreviews", b"{}")
    assert code == 403 and denied["reason"] == "Forbidden"


def test_componentstatuses_are_healthy_and_deprecated(kubectl: Kubectl, sim: SimServer) -> None:
    result = kubectl("get", "componentstatuses")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "Warning: v1 ComponentStatus is deprecated in v1.19+\n"
    rows = [line.split() for line in result.stdout.splitlines()]
    assert rows[0] == ["NAME", "STATUS", "MESSAGE", "ERROR"]
    assert sorted(rows[1:]) == [["controller-manager", "Healthy", "ok"], ["etcd-0", "Healthy", "ok"],
                                ["scheduler", "Healthy", "ok"]]
    code, headers, one = call(sim, "GET", "/api/v1/componentstatuses/etcd-0")
    assert code == 200 and headers["warning"] == '299 - "v1 ComponentStatus is deprecated in v1.19+"'
    assert one["conditions"] == [{"type": "Healthy", "status": "True", "message": "ok"}]
    assert kubectl("get", "cs", "etcd-0", "-o", "jsonpath={.conditions[0].type}").stdout == "Healthy"


@pytest.mark.parametrize(("path", "message"), [
    ("/metrics", f'forbidden: User "{USER}" cannot get path "/metrics"'),
    ("/", f'forbidden: User "{USER}" cannot get path "/"'),
    (f"/api/v1/namespaces/{NS}/pods/web-5d9c7b8f6c-abcde/proxy/",
     f'pods "web-5d9c7b8f6c-abcde" is forbidden: User "{USER}" cannot get resource "pods/proxy" in API group "" '
     f'in the namespace "{NS}"'),
    (f"/api/v1/namespaces/{NS}/services/web:http/proxy/health",
     f'services "web:http" is forbidden: User "{USER}" cannot get resource "services/proxy" in API group "" '
     f'in the namespace "{NS}"'),
    ("/api/v1/nodes/worker-1/proxy/metrics/cadvisor",
     f'nodes "worker-1" is forbidden: User "{USER}" cannot get resource "nodes/proxy" in API group "" '
     'at the cluster scope'),
])
def test_what_a_read_only_role_lacks_is_forbidden(kubectl: Kubectl, path: str, message: str) -> None:
    result = kubectl("get", "--raw", path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == f"Error from server (Forbidden): {message}\n"


def test_proxy_writes_are_authorised_by_method(sim: SimServer) -> None:
    code, _, status = call(sim, "POST", f"/api/v1/namespaces/{NS}/pods/web-5d9c7b8f6c-abcde/proxy/api", b"{}")
    assert code == 403 and 'cannot create resource "pods/proxy"' in status["message"]
    assert not status["message"].endswith("read-only")  # RBAC's wording: no authorizer reason


def test_can_i_agrees_with_what_the_server_enforces(kubectl: Kubectl) -> None:
    def can_i(*args: str) -> str:
        return kubectl("auth", "can-i", *args).stdout.strip()

    assert can_i("get", "pods") == "yes" and can_i("watch", "deployments.apps") == "yes"
    assert can_i("get", "pods", "--subresource=log") == "yes"
    assert can_i("get", "pods", "--subresource=proxy") == "no"
    assert can_i("get", "/metrics") == "no" and can_i("get", "/api/v1") == "yes"
    assert can_i("create", "selfsubjectreviews.authentication.k8s.io") == "yes"
    assert can_i("delete", "pods") == "no - the simulated cluster is read-only"
    listed = kubectl("auth", "can-i", "--list").stdout.splitlines()
    rows = {line.split()[0]: line.split("]", 2)[-1].strip() for line in listed[1:] if not line.startswith(" ")}
    assert rows["pods"] == rows["pods/log"] == rows["deployments.apps"] == "[get list watch]"
    assert rows["selfsubjectaccessreviews.authorization.k8s.io"] == "[create]"
    assert "pods/proxy" not in rows and "pods/exec" not in rows and "*.*" not in rows
    assert any("[/version]" in line for line in listed) and not any("/metrics" in line for line in listed)
