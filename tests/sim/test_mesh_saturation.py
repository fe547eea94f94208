"""Saturation: load above what the CPU limit can serve queues, times out and is refused; below it nothing changes."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubectl_env as kube
import pytest
from test_mesh_fixtures import STAMP

from atlas_sre.scenarios.catalog import load
from atlas_sre.scenarios.compile import to_sim_spec
from atlas_sre.sim.api import serve
from atlas_sre.sim.engine import derive

pytestmark = pytest.mark.skipif(kube.KUBECTL is None, reason="kubectl is not installed")

SCENARIO = "mesh-saturated-search-hpa-maxed"


def _state(rps: float | None = None) -> Any:
    scenario = load(SCENARIO)
    if rps is not None:
        scenario = copy.deepcopy(scenario)
        scenario.spec.traffic["entrypoints"][0]["rps"] = rps
    return derive(to_sim_spec(scenario))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Path, Any]]:
    state = _state()
    with serve.SimServer(state, namespace="travel") as sim:
        yield sim, tmp_path_factory.mktemp("home"), state


def _kubectl(cluster: tuple[Any, Path, Any], *args: str) -> str:
    sim, home, _ = cluster
    got = kube.run_kubectl(sim.kubeconfig_path, *args, env_home=home)
    assert got.returncode == 0, got.stderr
    return got.stdout


def _logs(cluster: tuple[Any, Path, Any], app: str, container: str) -> list[str]:
    out: list[str] = []
    for pod in cluster[2].find("Pod", "travel"):
        if pod["metadata"]["name"].startswith(app + "-"):
            out += _kubectl(cluster, "logs", pod["metadata"]["name"], "-c", container, "--tail=500").splitlines()
    return out


def test_queued_requests_time_out_at_the_callers_route_timeout(cluster: Any) -> None:
    ut = re.compile(rf'^{STAMP} "GET /api/search HTTP/1\.1" 504 UT response_timeout - "-" 0 24 2000 - ')
    assert any(ut.match(t) for t in _logs(cluster, "frontend", "istio-proxy"))
    assert 'level=warn caller=search.go:88 msg="search backend failed" status=504 flags=UT' in \
        _logs(cluster, "frontend", "frontend")


def test_the_saturated_server_refuses_the_excess_and_queues_the_rest(cluster: Any) -> None:
    proxy = _logs(cluster, "search", "istio-proxy")
    assert any(re.match(rf'^{STAMP} "GET /api/search HTTP/1\.1" 503 - via_upstream - "-" 0 19 \d ', t) for t in proxy)
    app = _logs(cluster, "search", "search")
    assert "search: GET /api/search -> 503 in 1ms" in app
    slow = [int(m.group(1)) for t in app if (m := re.fullmatch(r"search: GET /api/search -> 200 in (\d+)ms", t))]
    assert slow and min(slow) > 2000  # queueing latency, far above the image's 45 ms


def test_top_shows_the_containers_pinned_at_their_cpu_limit_and_the_hpa_maxed_out(cluster: Any) -> None:
    top = _kubectl(cluster, "top", "pods", "-n", "travel", "--containers")
    rows = [r.split() for r in top.splitlines() if r.startswith("search-")]
    assert rows and all(r[2] == "300m" for r in rows if r[1] == "search")
    hpa = _kubectl(cluster, "get", "hpa", "search", "-n", "travel")
    m = re.search(r"search\s+Deployment/search\s+cpu: (\d+)%/70%\s+2\s+3\s+3\s", hpa)
    assert m and int(m.group(1)) > 100, hpa  # sidecar included: (300m + proxy) / (200m + 100m)
    names = {a["alertname"] for a in cluster[2].extras["alerts"]}
    assert {"KubeHpaMaxedOut", "HighRequestLatency", "HighRequestErrorRate"} <= names


def test_below_capacity_latency_and_errors_stay_as_before() -> None:
    calm = _state(rps=20)  # ~150m per pod: under the 300m limit
    [entry] = calm.extras["mesh_entrypoints"]
    assert entry["codes"] == {"200": 20.0} and entry["p99_ms"] < 100
    assert not [a for a in calm.extras["alerts"] if a["alertname"].startswith("HighRequest")]
