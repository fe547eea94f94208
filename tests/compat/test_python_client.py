"""The official `kubernetes` Python client against served scenarios: list, read, logs, watch, paging.

Agents built on client-go-style libraries (HolmesGPT toolsets, informers, kr8s, lightkube) use
these calls rather than kubectl, so each asserts on the values a real API server would return.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest
from compat_corpus import scenario_aliases
from compat_serving import FEATURE_PROPERTY, Clusters

kubernetes = pytest.importorskip("kubernetes")
SCENARIOS = scenario_aliases()
CRASH, MESH = SCENARIOS["crash"], SCENARIOS["mesh"]
DB_URL = "postgres://checkout:s3cr3t@postgres.shop:5432/orders"


def api(clusters: Clusters, scenario: str) -> Any:
    """An ApiClient for the served scenario, built from its kubeconfig as a user would."""
    return kubernetes.config.new_client_from_config(config_file=str(clusters.get(scenario).server.kubeconfig_path))


def by_prefix(items: list[Any], prefix: str) -> list[Any]:
    return [i for i in items if i.metadata.name.startswith(prefix)]


def test_list_pods_shows_the_crash_loop(clusters: Clusters) -> None:
    core = kubernetes.client.CoreV1Api(api(clusters, CRASH))
    pods = core.list_namespaced_pod("shop").items
    checkout = by_prefix(pods, "checkout-")
    assert len(checkout) == 2 and len(by_prefix(pods, "frontend-")) == 2
    status = checkout[0].status.container_statuses[0]
    assert status.state.waiting.reason == "CrashLoopBackOff" and status.restart_count > 0
    assert status.last_state.terminated.exit_code == 2 and status.last_state.terminated.reason == "Error"
    assert checkout[0].metadata.owner_references[0].kind == "ReplicaSet"
    running = core.list_namespaced_pod("shop", field_selector="status.phase=Running", label_selector="app=redis").items
    assert [p.spec.containers[0].image for p in running] == ["docker.io/library/redis:7.2"]


def test_read_deployment_service_and_endpoints(clusters: Clusters) -> None:
    client = api(clusters, CRASH)
    deploy = kubernetes.client.AppsV1Api(client).read_namespaced_deployment("checkout", "shop")
    assert deploy.spec.replicas == 2 and deploy.status.unavailable_replicas == 2 and not deploy.status.ready_replicas
    core = kubernetes.client.CoreV1Api(client)
    svc = core.read_namespaced_service("checkout", "shop")
    assert svc.spec.cluster_ip.startswith("10.96.") and svc.spec.ports[0].port == 8080
    assert svc.spec.selector == {"app": "checkout"}
    ready = core.read_namespaced_endpoints("frontend", "shop").subsets[0].addresses
    assert len(ready) == 2 and all(a.ip.startswith("10.244.") for a in ready)
    nodes = core.list_node().items
    assert {n.metadata.name for n in nodes} >= {"worker-1", "worker-2"}
    assert all(n.status.node_info.kubelet_version.startswith("v1.32.") for n in nodes)


def test_secret_data_is_served_base64(clusters: Clusters, record_property: Any) -> None:
    record_property(FEATURE_PROPERTY, "secrets")
    secret = kubernetes.client.CoreV1Api(api(clusters, CRASH)).read_namespaced_secret("checkout-db", "shop")
    assert secret.data is not None, "data=None: the API must serve stringData merged into base64 data"
    assert base64.b64decode(secret.data["url"]).decode() == DB_URL
    assert secret.string_data is None and secret.type == "Opaque"


def test_read_pod_log_with_flags(clusters: Clusters) -> None:
    core = kubernetes.client.CoreV1Api(api(clusters, CRASH))
    pod = by_prefix(core.list_namespaced_pod("shop").items, "checkout-")[0].metadata.name
    previous = core.read_namespaced_pod_log(pod, "shop", container="checkout", previous=True)
    assert previous.splitlines()[-1] == "panic: config: required key DATABASE_URL missing value"
    frontend = by_prefix(core.list_namespaced_pod("shop").items, "frontend-")[0].metadata.name
    tail = core.read_namespaced_pod_log(frontend, "shop", tail_lines=2, timestamps=True)
    lines = tail.splitlines()
    assert len(lines) == 2 and all(line[:4].isdigit() and line[10] == "T" for line in lines)
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.read_namespaced_pod_log(frontend, "shop", container="nope")
    assert err.value.status == 400


def test_custom_objects_for_istio(clusters: Clusters) -> None:
    custom = kubernetes.client.CustomObjectsApi(api(clusters, MESH))
    vs = custom.get_namespaced_custom_object("networking.istio.io", "v1", "shop", "virtualservices", "reviews")
    assert [r["destination"]["subset"] for r in vs["spec"]["http"][0]["route"]] == ["v1", "v3"]
    dr = custom.list_namespaced_custom_object("networking.istio.io", "v1", "shop", "destinationrules")
    assert dr["kind"] == "DestinationRuleList"
    assert [s["name"] for s in dr["items"][0]["spec"]["subsets"]] == ["v1", "v2"]
    gateways = custom.list_cluster_custom_object("networking.istio.io", "v1", "gateways")
    assert [g["metadata"]["name"] for g in gateways["items"]] == ["shop-gateway"]
    beta = custom.list_namespaced_custom_object("networking.istio.io", "v1beta1", "shop", "virtualservices")
    assert beta["apiVersion"] == "networking.istio.io/v1beta1" and len(beta["items"]) == 2


@pytest.mark.timeout(60)
def test_watch_stream_sends_added_and_ends_at_timeout(clusters: Clusters, record_property: Any) -> None:
    record_property(FEATURE_PROPERTY, "watch")
    core = kubernetes.client.CoreV1Api(api(clusters, CRASH))
    names = {p.metadata.name for p in core.list_namespaced_pod("shop").items}
    started = time.monotonic()
    events = list(kubernetes.watch.Watch().stream(core.list_namespaced_pod, "shop", timeout_seconds=2,
                                                  _request_timeout=20))
    assert {e["type"] for e in events} == {"ADDED"}
    assert {e["object"].metadata.name for e in events} == names
    assert all(isinstance(e["object"], kubernetes.client.V1Pod) for e in events)
    assert time.monotonic() - started < 15, "the server must close the watch at timeoutSeconds"


@pytest.mark.timeout(60)
def test_watch_from_resource_version_is_quiet(clusters: Clusters, record_property: Any) -> None:
    record_property(FEATURE_PROPERTY, "watch")
    core = kubernetes.client.CoreV1Api(api(clusters, CRASH))
    listed = core.list_namespaced_pod("shop")
    events = list(kubernetes.watch.Watch().stream(core.list_namespaced_pod, "shop", timeout_seconds=2,
                                                  resource_version=listed.metadata.resource_version,
                                                  _request_timeout=20))
    assert [e["type"] for e in events if e["type"] != "BOOKMARK"] == []


def test_list_pages_with_limit_and_continue(clusters: Clusters, record_property: Any) -> None:
    record_property(FEATURE_PROPERTY, "pagination")
    core = kubernetes.client.CoreV1Api(api(clusters, MESH))
    everything = [p.metadata.name for p in core.list_pod_for_all_namespaces().items]
    first = core.list_pod_for_all_namespaces(limit=3)
    assert len(first.items) == 3 and first.metadata._continue
    assert first.metadata.remaining_item_count == len(everything) - 3
    paged, token = [p.metadata.name for p in first.items], first.metadata._continue
    while token:
        page = core.list_pod_for_all_namespaces(limit=3, _continue=token)
        assert len(page.items) <= 3
        paged += [p.metadata.name for p in page.items]
        token = page.metadata._continue
    assert paged == everything


def test_events_and_version(clusters: Clusters) -> None:
    client = api(clusters, CRASH)
    events = kubernetes.client.CoreV1Api(client).list_namespaced_event("shop", field_selector="type=Warning")
    backoff = [e for e in events.items if e.reason == "BackOff"]
    assert len(backoff) == 2 and all(e.involved_object.kind == "Pod" and e.count > 1 for e in backoff)
    assert kubernetes.client.VersionApi(client).get_code().git_version.startswith("v1.32.")
