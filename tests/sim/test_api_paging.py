"""`limit` and `continue`: lists in chunks, through real kubectl, the Python client and raw HTTP."""

from __future__ import annotations

import http.client
import json
import subprocess
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from kubectl_env import KUBECTL, NS, run_kubectl, sample_state

from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.state import ClusterState

kubernetes = pytest.importorskip("kubernetes")
needs_kubectl = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
Kubectl = Callable[..., subprocess.CompletedProcess[str]]
TABLE = ("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,"
         "application/json")
EXTRA = ["ops/batch-0", "ops/batch-1", "zeta/api-0"]  # pods in two more namespaces


def cluster() -> ClusterState:
    """The sample cluster and three more pods, so a cluster-wide list crosses namespaces."""
    state = sample_state()
    template = next(o for o in state.objects if o["kind"] == "Pod")
    for key in EXTRA:
        ns, name = key.split("/")
        pod = json.loads(json.dumps(template))
        pod["metadata"].update(name=name, namespace=ns, uid=f"uid-{ns}-{name}", labels={"app": name.split("-")[0]})
        state.objects.append(pod)
    return state


ALL = sorted(EXTRA + [f"{NS}/web-5d9c7b8f6c-{s}" for s in ("abcde", "crash", "pullx")])


@pytest.fixture(scope="module")
def sim() -> Iterator[SimServer]:
    with SimServer(cluster(), namespace=NS) as server:
        yield server


def get(sim: SimServer, path: str, accept: str = "application/json") -> tuple[int, Any]:
    url = urlsplit(sim.url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=5)
    conn.request("GET", url.path + path, headers={"Accept": accept})
    resp = conn.getresponse()
    body = json.loads(resp.read())
    conn.close()
    return resp.status, body


def names(doc: dict[str, Any]) -> list[str]:
    return [f"{i['metadata']['namespace']}/{i['metadata']['name']}" for i in doc["items"]]


def test_limit_and_continue_page_through_a_cluster_wide_list(sim: SimServer) -> None:
    code, first = get(sim, "/api/v1/pods?limit=2")
    assert code == 200 and names(first) == ALL[:2]
    meta = first["metadata"]
    assert meta["remainingItemCount"] == 4 and meta["continue"]
    assert list(meta) == ["resourceVersion", "continue", "remainingItemCount"]
    seen, token = names(first), meta["continue"]
    while token:
        code, page = get(sim, f"/api/v1/pods?limit=2&continue={quote(token)}")
        assert code == 200 and page["metadata"]["resourceVersion"] == meta["resourceVersion"]
        seen += names(page)
        token = page["metadata"].get("continue")
    assert seen == ALL
    assert "continue" not in page["metadata"] and "remainingItemCount" not in page["metadata"]


def test_namespaced_pages_selectors_and_the_watch_cache_case(sim: SimServer) -> None:
    code, page = get(sim, f"/api/v1/namespaces/{NS}/pods?limit=1")
    assert names(page) == [f"{NS}/web-5d9c7b8f6c-abcde"] and page["metadata"]["remainingItemCount"] == 2
    code, rest = get(sim, f"/api/v1/namespaces/{NS}/pods?limit=5&continue={quote(page['metadata']['continue'])}")
    assert names(rest) == [f"{NS}/web-5d9c7b8f6c-crash", f"{NS}/web-5d9c7b8f6c-pullx"]
    code, selected = get(sim, "/api/v1/pods?limit=1&labelSelector=app%3Dbatch")
    assert names(selected) == ["ops/batch-0"] and "continue" in selected["metadata"]
    assert "remainingItemCount" not in selected["metadata"]  # etcd cannot count a filtered remainder
    code, whole = get(sim, "/api/v1/pods?limit=2&resourceVersion=0")
    assert names(whole) == ALL and "continue" not in whole["metadata"]  # rv=0 lists come whole from the cache
    code, exact = get(sim, "/api/v1/pods?limit=6")
    assert names(exact) == ALL and "continue" not in exact["metadata"]


def test_bad_and_stale_continue_tokens(sim: SimServer) -> None:
    code, status = get(sim, "/api/v1/pods?limit=1&continue=bad")
    assert code == 400 and status["message"].startswith("invalid continue token: continue key is not valid: ")
    stale = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MSwic3RhcnQiOiJ4XHUwMDAwIn0"  # rv 1
    code, status = get(sim, f"/api/v1/pods?limit=1&continue={stale}")
    assert code == 410 and status["reason"] == "Expired"
    assert status["message"].startswith("The provided continue parameter is too old to display a consistent list")
    token = get(sim, "/api/v1/pods?limit=1")[1]["metadata"]["continue"]
    code, status = get(sim, f"/api/v1/pods?limit=1&continue={quote(token)}&resourceVersion=5")
    assert code == 400 and "specifying resource version is not allowed when using continue" in status["message"]


def test_tables_page_too(sim: SimServer) -> None:
    code, table = get(sim, "/api/v1/pods?limit=4", accept=TABLE)
    assert code == 200 and table["kind"] == "Table"
    assert [r["cells"][0] for r in table["rows"]] == [k.split("/")[1] for k in ALL[:4]]
    assert table["metadata"]["remainingItemCount"] == 2
    code, rest = get(sim, f"/api/v1/pods?limit=4&continue={quote(table['metadata']['continue'])}", accept=TABLE)
    assert [r["cells"][0] for r in rest["rows"]] == [k.split("/")[1] for k in ALL[4:]]
    assert "continue" not in rest["metadata"] and rest["columnDefinitions"][0]["name"] == "Name"


@needs_kubectl
def test_kubectl_chunk_size_pages_through_every_pod(sim: SimServer, tmp_path_factory: pytest.TempPathFactory) -> None:
    home = tmp_path_factory.mktemp("kube-home")

    def kubectl(*args: str) -> subprocess.CompletedProcess[str]:
        return run_kubectl(sim.kubeconfig_path, *args, env_home=home)

    whole = kubectl("get", "pods", "-A")
    chunked = kubectl("get", "pods", "-A", "--chunk-size=2", "-v=6")
    assert whole.returncode == 0 and chunked.returncode == 0, chunked.stderr
    assert chunked.stdout == whole.stdout
    rows = [line.split()[:2] for line in chunked.stdout.splitlines()[1:]]
    assert ["/".join(r) for r in rows] == ALL
    requests = [line for line in chunked.stderr.splitlines() if "GET" in line and "/pods?" in line]
    assert len(requests) == 3 and all("limit=2" in r for r in requests)
    assert sum("continue=" in r for r in requests) == 2
    names_only = kubectl("get", "pods", "-A", "--chunk-size=4", "-o", "name")
    assert names_only.stdout.split() == [f"pod/{k.split('/')[1]}" for k in ALL]


def test_python_client_pages_with_limit_and_continue(sim: SimServer) -> None:
    client = kubernetes.config.new_client_from_config(config_file=str(sim.kubeconfig_path))
    core = kubernetes.client.CoreV1Api(client)
    seen, token, remaining = [], None, []
    while True:
        page = core.list_pod_for_all_namespaces(limit=2, _continue=token)
        seen += [f"{p.metadata.namespace}/{p.metadata.name}" for p in page.items]
        remaining.append(page.metadata.remaining_item_count)
        token = page.metadata._continue
        if not token:
            break
    assert seen == ALL and remaining == [4, 2, None]
