"""The official `kubernetes` Python client reads the simulated cluster unchanged."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from kubectl_env import NS, sample_state

from atlas_sre.sim.api.serve import SimServer

kubernetes = pytest.importorskip("kubernetes")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with SimServer(sample_state(), namespace=NS) as server:
        yield kubernetes.config.new_client_from_config(config_file=str(server.kubeconfig_path))


def test_kubeconfig_context_and_core_lists(client: Any) -> None:
    core = kubernetes.client.CoreV1Api(client)
    pods = core.list_namespaced_pod(NS)
    assert [p.metadata.name for p in pods.items] == [
        "web-5d9c7b8f6c-abcde", "web-5d9c7b8f6c-crash", "web-5d9c7b8f6c-pullx"]
    assert pods.items[1].status.container_statuses[0].state.waiting.reason == "CrashLoopBackOff"
    assert pods.items[1].status.container_statuses[0].last_state.terminated.exit_code == 1
    assert core.list_node().items[0].status.allocatable["cpu"] == "4"
    selected = core.list_namespaced_pod(NS, label_selector="app=web", field_selector="status.phase=Pending")
    assert [p.metadata.name for p in selected.items] == ["web-5d9c7b8f6c-pullx"]


def test_logs_and_log_errors(client: Any) -> None:
    core = kubernetes.client.CoreV1Api(client)
    assert core.read_namespaced_pod_log("web-5d9c7b8f6c-abcde", NS, container="web", tail_lines=1) == \
        "INFO request 4 served 200\n"
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.read_namespaced_pod_log("web-5d9c7b8f6c-pullx", NS, container="web")
    assert err.value.status == 400 and "trying and failing to pull image" in err.value.body


def test_events_by_field_selector(client: Any) -> None:
    core = kubernetes.client.CoreV1Api(client)
    events = core.list_namespaced_event(NS, field_selector="involvedObject.name=web-5d9c7b8f6c-crash,type=Warning")
    assert [(e.reason, e.count) for e in events.items] == [("BackOff", 31)]


def test_apps_custom_objects_and_version(client: Any) -> None:
    deploy = kubernetes.client.AppsV1Api(client).read_namespaced_deployment("web", NS)
    assert deploy.spec.replicas == 3 and deploy.status.ready_replicas == 1
    custom = kubernetes.client.CustomObjectsApi(client)
    vs = custom.list_namespaced_custom_object("networking.istio.io", "v1", NS, "virtualservices")
    assert vs["items"][0]["spec"]["http"][0]["route"][0]["destination"]["subset"] == "v2"
    pa = custom.get_namespaced_custom_object("security.istio.io", "v1", NS, "peerauthentications", "default")
    assert pa["spec"]["mtls"]["mode"] == "STRICT"
    assert kubernetes.client.VersionApi(client).get_code().git_version.startswith("v1.32.")


def test_writes_raise_forbidden(client: Any) -> None:
    core = kubernetes.client.CoreV1Api(client)
    with pytest.raises(kubernetes.client.ApiException) as err:
        core.delete_namespaced_pod("web-5d9c7b8f6c-crash", NS)
    assert err.value.status == 403 and "read-only" in err.value.body
