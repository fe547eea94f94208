"""Events read as a real cluster's: the kubelet's full sequences, real names and uids, events.k8s.io.

What survives is what the kubelet's event spam filter (25 per pod, then one per 5 minutes) and
the apiserver's one-hour event TTL leave: a loop younger than the TTL keeps its whole sequence
(Pulling / Failed / ErrImagePull / BackOff / ImagePullBackOff; Pulled / Created / Started /
BackOff); one older than the TTL keeps only the series still being admitted, as on a real cluster.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from kubectl_env import run_kubectl

from atlas_sre.sim.api.serve import SimServer
from atlas_sre.sim.clock import SimClock, parse_time
from atlas_sre.sim.images import ImageBehaviour
from atlas_sre.sim.state import SimSpec
from conftest import ANCHOR, APP_IMAGE, OBSERVE, deployment, derive_state, make_spec, namespace, node, server

kubectl_only = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")

MISSING = "example.io/shop/catalog:9.9.9"
CRASHER = "example.io/shop/worker:2.0"
REGISTRY = {
    APP_IMAGE: server(),
    CRASHER: ImageBehaviour.model_validate(
        {"requires": [{"env": "QUEUE_URL", "log": "FATAL QUEUE_URL is not set", "exitCode": 2}]}),
}


def _manifests() -> list[dict[str, Any]]:
    return [namespace("shop"), node("worker-1"),
            deployment("catalog", replicas=1, image=MISSING),
            deployment("worker", replicas=1, image=CRASHER)]


def _pod_events(state: Any, prefix: str) -> list[dict[str, Any]]:
    return [o for o in state.objects if o.get("kind") == "Event"
            and o["involvedObject"].get("name", "").startswith(prefix) and o["involvedObject"]["kind"] == "Pod"]


def _by_message(events: list[dict[str, Any]]) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {(e["type"], e["reason"], e["message"]): e for e in events}


@pytest.fixture(scope="module")
def state() -> Any:
    return derive_state(make_spec(_manifests(), REGISTRY))


@pytest.fixture(scope="module")
def served(state: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimServer, Path]]:
    with SimServer(state, namespace="shop") as sim:
        yield sim, tmp_path_factory.mktemp("home")


def test_image_pull_failure_has_the_kubelets_whole_sequence(state: Any) -> None:
    events = _pod_events(state, "catalog-")
    found = _by_message(events)
    ref = f"{MISSING}"
    expected = [
        ("Normal", "Pulling", f'Pulling image "{ref}"'),
        ("Warning", "Failed", f'Failed to pull image "{ref}": rpc error: code = NotFound desc = failed to pull '
                              f'and unpack image "{ref}": failed to resolve reference "{ref}": {ref}: not found'),
        ("Warning", "Failed", "Error: ErrImagePull"),
        ("Normal", "BackOff", f'Back-off pulling image "{ref}"'),
        ("Warning", "Failed", "Error: ImagePullBackOff"),
    ]
    for key in expected:
        assert key in found, (key, sorted(found))
    pod_created = parse_time(next(o for o in state.objects if o.get("kind") == "Pod"
                                  and o["metadata"]["name"].startswith("catalog-"))["metadata"]["creationTimestamp"])
    observed = state.clock.now
    for e in events:
        first, last = parse_time(e["firstTimestamp"]), parse_time(e["lastTimestamp"])
        assert pod_created <= first <= last <= observed, e
        assert e["count"] >= 1 and e["source"]["component"] in ("kubelet", "default-scheduler")
    # the back-off keeps counting (and being admitted) long after the first pulls
    backoff = found[expected[3]]
    assert backoff["count"] > found[expected[0]]["count"]
    assert parse_time(backoff["lastTimestamp"]) > parse_time(found[expected[0]]["lastTimestamp"])


def test_crash_loop_has_pulled_created_started_and_backoff(state: Any) -> None:
    found = _by_message(_pod_events(state, "worker-"))
    pod = next(o for o in state.objects if o.get("kind") == "Pod" and o["metadata"]["name"].startswith("worker-"))
    label = f"{pod['metadata']['name']}_shop({pod['metadata']['uid']})"
    for key in [("Normal", "Created", "Created container: app"), ("Normal", "Started", "Started container app"),
                ("Warning", "BackOff", f"Back-off restarting failed container app in pod {label}")]:
        assert key in found, (key, sorted(found))
    assert any(r == "Pulled" or r == "Pulling" for _, r, _ in found)
    assert found[("Normal", "Started", "Started container app")]["count"] >= 2


def test_names_are_object_dot_hex_nanos_and_uids_are_uuids(state: Any) -> None:
    events = [o for o in state.objects if o.get("kind") == "Event"]
    assert events
    names = [e["metadata"]["name"] for e in events]
    assert len(set(names)) == len(names)
    for e in events:
        obj, _, suffix = e["metadata"]["name"].rpartition(".")
        assert obj == e["involvedObject"]["name"] and re.fullmatch(r"[0-9a-f]{16}", suffix), e["metadata"]["name"]
        first = parse_time(e["firstTimestamp"]).timestamp()
        assert int(suffix, 16) // 1_000_000_000 == int(first)  # UnixNano of the first occurrence
        assert uuid.UUID(e["metadata"]["uid"]).version == 5


def test_identities_are_deterministic_and_uids_ignore_the_anchor(state: Any) -> None:
    again = derive_state(make_spec(_manifests(), REGISTRY))
    ids = [(e["metadata"]["name"], e["metadata"]["uid"]) for e in state.objects if e.get("kind") == "Event"]
    assert ids == [(e["metadata"]["name"], e["metadata"]["uid"]) for e in again.objects if e.get("kind") == "Event"]
    spec = make_spec(_manifests(), REGISTRY)
    spec.clock = spec.clock.anchored(ANCHOR + timedelta(days=3))
    shifted = [e for e in derive_state(spec).objects if e.get("kind") == "Event"]
    assert [e["metadata"]["uid"] for e in shifted] == [uid for _, uid in ids]
    assert all(a["metadata"]["name"] != name for a, (name, _) in zip(shifted, ids, strict=True))


def test_a_loop_older_than_the_event_ttl_keeps_only_what_is_still_admitted() -> None:
    """Two hours in, the burst and every pull it admitted have expired; BackOff still lands every 5 minutes."""
    start = OBSERVE - timedelta(hours=2)
    spec = SimSpec(manifests=_manifests(), registry=REGISTRY, seed=1, history={},
                   clock=SimClock(start, start, OBSERVE, ANCHOR))
    state = derive_state(spec)
    catalog = _pod_events(state, "catalog-")
    reasons = {(e["type"], e["reason"]) for e in catalog}
    assert ("Normal", "BackOff") in reasons
    backoff = next(e for e in catalog if e["reason"] == "BackOff")
    assert backoff["count"] > 500  # counted before the filter: every sync of two hours
    assert parse_time(backoff["firstTimestamp"]) < state.clock.now - timedelta(hours=1)
    assert state.clock.now - parse_time(backoff["lastTimestamp"]) <= timedelta(minutes=5, seconds=13)
    pod = next(o for o in state.objects if o.get("kind") == "Pod" and o["metadata"]["name"].startswith("catalog-"))
    waiting = pod["status"]["containerStatuses"][0]["state"]["waiting"]
    assert waiting["reason"] == "ImagePullBackOff" and "not found" in waiting["message"]  # the reason stays visible


@kubectl_only
def test_kubectl_finds_warnings_by_type(served: tuple[SimServer, Path]) -> None:
    sim, home = served
    table = run_kubectl(sim.kubeconfig_path, "get", "events", "--field-selector", "type=Warning", env_home=home).stdout
    lines = table.splitlines()
    assert lines[0].split() == ["LAST", "SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"]
    assert all(" Warning " in line for line in lines[1:])
    assert any("Error: ErrImagePull" in line for line in lines)
    assert any("Error: ImagePullBackOff" in line for line in lines)
    assert any("Back-off restarting failed container app" in line for line in lines)
    events = run_kubectl(sim.kubeconfig_path, "events", "--types=Warning", env_home=home).stdout
    assert "Failed to pull image" in events and "Normal" not in events
    pod = next(line.split()[0] for line in run_kubectl(sim.kubeconfig_path, "get", "pods", env_home=home)
               .stdout.splitlines() if line.startswith("catalog-"))
    described = run_kubectl(sim.kubeconfig_path, "describe", "pod", pod, env_home=home).stdout
    block = described.split("Events:")[1]
    assert re.search(r"Normal\s+Pulling\s+\S+( \(x\d+ over \S+\))?\s+kubelet\s+Pulling image", block), block
    assert re.search(r"Warning\s+Failed\s+.*kubelet\s+Error: ErrImagePull", block), block
    assert re.search(r"Normal\s+BackOff\s+\S+ \(x\d+ over \S+\)\s+kubelet\s+Back-off pulling image", block), block


@kubectl_only
def test_events_v1_view_as_a_real_apiserver_converts_it(served: tuple[SimServer, Path]) -> None:
    """The apiserver's core→events.k8s.io conversion leaves `eventTime` unset for events a legacy
    recorder (kubelet, controllers) created: it is serialized as `null`, as on a real cluster."""
    sim, home = served
    out = run_kubectl(sim.kubeconfig_path, "get", "events.v1.events.k8s.io", "-o", "json", env_home=home).stdout
    items = json.loads(out)["items"]
    assert items
    for e in items:
        assert e["apiVersion"] == "events.k8s.io/v1"
        assert "eventTime" in e and e["eventTime"] is None
        assert e["deprecatedFirstTimestamp"] and e["deprecatedLastTimestamp"] and e["deprecatedCount"] >= 1
        assert e["regarding"]["kind"] and e["note"]
    kubernetes = pytest.importorskip("kubernetes")
    core = kubernetes.client.CoreV1Api(kubernetes.config.new_client_from_config(config_file=str(sim.kubeconfig_path)))
    warnings = core.list_namespaced_event("shop", field_selector="type=Warning").items
    assert warnings and all(e.type == "Warning" and e.event_time is None for e in warnings)
    assert {e.reason for e in warnings} >= {"Failed", "BackOff"}
