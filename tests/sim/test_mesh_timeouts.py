"""Route retries with `perTryTimeout` shorter than the service's latency: per-try resets, retry trace, 504 UT.

The latency comes from the model (the image's own time plus its dependency's), never from a script:
the same route without the retry policy answers 200, and a policy whose `retryOn` does not cover
timeouts gives one try only.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubectl_env as kube
import pytest
from test_mesh_fixtures import IP, NS, STAMP, UUID, access, entry_codes, manifests, registry, run

from atlas_sre.scenarios.catalog import load
from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.sim.api import serve
from atlas_sre.sim.engine import derive

pytestmark = pytest.mark.skipif(kube.KUBECTL is None, reason="kubectl is not installed")

SCENARIO = "mesh-retry-per-try-timeout"
EXHAUSTED = re.compile(
    rf'^{STAMP} "POST /api/checkout HTTP/1\.1" 504 URX,UT upstream_per_try_timeout - "-" 0 24 (\d+) - "-" '
    rf'"Go-http-client/1\.1" "{UUID}" "checkout:8080" "{IP}:8080" '
    rf'outbound\|8080\|\|checkout\.shop\.svc\.cluster\.local {IP}:\d+ {IP}:8080 {IP}:\d+ - checkout$')
RESET_TRY = re.compile(
    rf'^{STAMP} "POST /api/checkout HTTP/1\.1" 0 DC downstream_remote_disconnect - "-" 0 0 200 - "-" '
    rf'"Go-http-client/1\.1" "{UUID}" "checkout:8080" "{IP}:8080" inbound\|8080\|\| 127\.0\.0\.6:\d+ {IP}:8080 '
    rf'{IP}:\d+ outbound_\.8080_\._\.checkout\.shop\.svc\.cluster\.local default$')


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, Any]]:
    state = derive(to_sim_spec(load(SCENARIO)))
    with serve.SimServer(state, namespace="shop") as sim:
        yield sim, tmp_path_factory.mktemp("home"), state


def _logs(cluster: tuple[Any, Path, Any], app: str, container: str) -> list[str]:
    return kube.app_logs(*cluster, app, container)


def test_each_try_is_reset_at_the_per_try_timeout_and_the_caller_sees_504_urx_ut(cluster: Any) -> None:
    caller = [m for m in map(EXHAUSTED.match, _logs(cluster, "storefront", "istio-proxy")) if m]
    assert caller, "no exhausted per-try timeout in the storefront's sidecar"
    # four tries of 200 ms plus three back-offs: the retry trace is in the duration
    assert all(4 * 200 <= int(m.group(1)) <= 4 * 200 + 3 * 40 for m in caller)
    server = [t for t in _logs(cluster, "checkout", "istio-proxy") if RESET_TRY.match(t)]
    assert server, "checkout's sidecar does not log the reset tries"
    app = _logs(cluster, "storefront", "storefront")
    assert 'level=error msg="upstream call failed" upstream=checkout status="504" body="upstream request timeout"' \
        in app
    assert any("method=POST path=/checkout status=502" in t for t in app)
    assert any("method=GET path=/ status=200" in t for t in app)  # browsing does not touch checkout


def test_server_sees_one_request_per_try() -> None:
    state = derive(to_sim_spec(load(SCENARIO)))
    rows = [m for m in state.extras["mesh_metrics"] if m["destination_service_name"] == "checkout"]
    sent = sum(r["rate"] for r in rows if r["reporter"] == "source")
    tried = sum(r["rate"] for r in rows if r["reporter"] == "destination")
    assert sent == pytest.approx(4.0) and tried == pytest.approx(16.0)  # 4 rps, 4 tries each


def _vs(retries: dict[str, Any] | None, timeout: str | None = None) -> dict[str, Any]:
    rule: dict[str, Any] = {"route": [{"destination": {"host": "backend"}}]}
    if retries is not None:
        rule["retries"] = retries
    if timeout:
        rule["timeout"] = timeout
    return {"apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
            "metadata": {"name": "backend", "namespace": NS}, "spec": {"hosts": ["backend"], "http": [rule]}}


def test_without_the_per_try_timeout_the_slow_backend_still_answers_200() -> None:
    slow = registry(db_latency=500)
    assert entry_codes(run(manifests() + [_vs({"attempts": 3})], reg=slow)) == {"200": 10.0}


def test_retry_on_without_timeout_conditions_gives_a_single_try() -> None:
    state = run(manifests() + [_vs({"attempts": 3, "perTryTimeout": "100ms", "retryOn": "connect-failure"})],
                reg=registry(db_latency=500))
    lines = [t for t in access(state, "frontend") if '"GET /api/items' in t]
    assert lines and all(" 504 UT upstream_per_try_timeout - " in t and ' 0 24 100 - "-" ' in t for t in lines)


def test_route_timeout_bounds_all_tries() -> None:
    state = run(manifests() + [_vs({"attempts": 5, "perTryTimeout": "100ms", "retryOn": "5xx"}, timeout="300ms")],
                reg=registry(db_latency=500))
    lines = [t for t in access(state, "frontend") if '"GET /api/items' in t]
    assert lines and all(" 504 UT response_timeout - " in t and ' 0 24 300 - "-" ' in t for t in lines)
    dc = [t for t in access(state, "backend") if " 0 DC downstream_remote_disconnect " in t]
    assert dc  # the tries that started before the deadline reached the backend
